/**
 * `npm run bench:cost`: what certwatch costs a month, from measured units.
 *
 * Runs real cycles — dispatcher → checker → watchdog, the same pipeline functions the Lambdas run —
 * against DynamoDB Local and the loopback AWS stand-in (SQS), over a farm of loopback TLS endpoints
 * of which a few percent fail (tarpits that time out, closed ports, truncated certificates). It
 * counts DynamoDB read and write units (`ReturnConsumedCapacity: TOTAL`, which DynamoDB Local reports
 * as AWS would), SQS requests, SNS publishes, Lambda invocations and their measured durations, then
 * multiplies them by one dated price table ({@link PRICES}) for 1,000, 100,000 and 1,000,000
 * endpoints at 4 runs a day. Run 1 is a first run (every state, index and history row is new);
 * the last run is the steady state that the monthly figures use.
 *
 * Usage: npm run bench:cost -- [--endpoints 200] [--runs 3] [--network-ms 150] [--write-docs]
 *   --write-docs  replaces the table in docs/performance.md between `<!-- bench:cost -->` and `<!-- /bench:cost -->`
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadTrustStore } from '../lambdas/cert/trust-store';
import { mapWithConcurrency } from '../lambdas/core/concurrency';
import { BUILTIN_DEFAULTS } from '../lambdas/config/certwatch-config';
import { METRIC_CADENCE, type MetricCadence, MetricNames } from '../lambdas/core/metric-names';
import { ADDRESSES_PER_ENDPOINT, planCheckerConcurrency } from '../lambdas/core/run-capacity';
import { CheckCounts, logCheckProcessed } from '../lambdas/handlers/runtime/check-telemetry';
import { createLogger } from '../lambdas/handlers/runtime/telemetry';
import type { Alert, DeliveryResult, Endpoint } from '../lambdas/core/model';
import type { CheckMessage } from '../lambdas/pipeline/check-message';
import { CompletionBatch } from '../lambdas/pipeline/completion-batch';
import { dispatchRun } from '../lambdas/pipeline/dispatch-run';
import { type ProcessCheckOutcome, processCheck } from '../lambdas/pipeline/process-check';
import { scheduleIntervalMs } from '../lambdas/core/schedule-interval';
import { MAINTENANCE_TICK_EXPRESSION } from '../lambdas/pipeline/maintenance-event';
import { runMaintenanceTick } from '../lambdas/pipeline/maintenance-tick';
import { runWatchdog } from '../lambdas/pipeline/watchdog';
import { SqsCheckQueue } from '../lambdas/queue/sqs-check-queue';
import { gatherReport } from '../lambdas/report/report-data';
import { createDocumentClient } from '../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../lambdas/store/dynamodb-state-store';
import { FUNCTION_ARCHITECTURE } from '../lib/certwatch-function';
import { CHECKER_MEMORY_MB, CHECKER_SYSTEM_LOG_LEVEL, DISPATCHER_MEMORY_MB } from '../lib/check-pipeline';
import { MONITOR_ALARMS } from '../lib/monitor-alarms';
import { DISPATCH_SHARD_LIMITS } from '../lambdas/pipeline/dispatch-plan';
import { WATCHDOG_MEMORY_MB } from '../lib/watchdog';
import { startDynamoDbLocal } from '../test/support/dynamodb-local';
import { startFakeAws } from '../test/support/fake-aws';
import { meterCapacity } from './capacity-meter';

/**
 * us-east-1 list prices, on demand, as of 2026-12-02 (DynamoDB on-demand after the November 2024
 * reduction). Change them here only, with the date.
 */
export const PRICES = {
  date: '2026-12-02',
  region: 'us-east-1',
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoStorageGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  /** Per GB-second, by instruction set (the first price tier). */
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6,
  snsPublish: 0.5 / 1e6,
  /** Per metric-month (the first 10,000), prorated by the hour: a metric is billed only for the hours it is sent in. */
  customMetricMonth: 0.3,
  hoursPerMonth: 730,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  kmsKeyMonth: 1,
  secretMonth: 0.4,
  logsIngestGb: 0.5,
  s3Put: 0.005 / 1000,
} as const;

/** Lambda memory (GB) as lib/ sets it. */
const MEMORY_GB = {
  checker: CHECKER_MEMORY_MB / 1024,
  dispatcher: DISPATCHER_MEMORY_MB / 1024,
  watchdog: WATCHDOG_MEMORY_MB / 1024,
} as const;
const LAMBDA_GB_SECOND =
  PRICES.lambdaGbSecond[FUNCTION_ARCHITECTURE.name as keyof typeof PRICES.lambdaGbSecond];
/**
 * Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB. CPU time measured here
 * (on one core) stretches by 1,769 / memory in a smaller function; time spent waiting does not.
 */
const FULL_VCPU_MB = 1769;
const RUNS_PER_MONTH = 4 * 30.4;
const TICKS_PER_MONTH = 4 * 24 * 30.4;
/** Ticks of the maintenance schedule a month (MAINTENANCE_TICK_EXPRESSION: every minute). */
const MAINTENANCE_TICKS_PER_MONTH = (24 * 30.4 * 3_600_000) / scheduleIntervalMs(MAINTENANCE_TICK_EXPRESSION);
/** Lambda's SQS event source long-polls with ~5 pollers, one ReceiveMessage per 20 s each, even when idle. */
const IDLE_POLLS_PER_MONTH = 5 * 3 * 60 * 24 * 30.4;
/** Queues a Lambda event source polls: the check queue (checker) and the dispatch-shard queue (dispatcher). */
const POLLED_QUEUES = 2;
/**
 * The dispatcher's wait on DNS, in ms per endpoint: this bench's endpoints are loopback addresses, so
 * its dispatcher resolves nothing. Measured by `npm run bench:scale -- --addresses 1000000` (2026-12-02,
 * load 2.4-5): shards of ~4,810 endpoints asking a loopback DNS server (20 ms an answer, 1% NXDOMAIN,
 * 1% never answered, a 10 s probe timeout) spent 11.3-11.6 s longer on DNS than with DNS stubbed.
 * Waiting, not CPU: not stretched.
 */
const DNS_WAIT_SHARD_MS = 11_400;
const DNS_WAIT_SHARD_ENDPOINTS = 4_810;
const DNS_WAIT_MS_PER_ENDPOINT = DNS_WAIT_SHARD_MS / DNS_WAIT_SHARD_ENDPOINTS;
/** Per dispatch shard and run: its item written twice, its message sent (in batches of 10), received and deleted, one invocation. */
const SHARD_WRITE_UNITS = 2;
const SHARD_SQS_REQUESTS = 0.1 + 2;
/**
 * Lambda's own log records per invocation in the JSON log format (platform.start, platform.report), in bytes:
 * an estimate, as no local host writes them. The checker's own lines are measured.
 */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 700;
const SIZES = [1_000, 100_000, 1_000_000] as const;
/** Checker memory sizes the table compares (the deployed one is CHECKER_MEMORY_MB). */
const CHECKER_SIZES_MB = [128, 256, 512, 1024] as const;
/** Write units of one history row of a real check (measured after the runs). */
let historyRowUnits = 0;

const { values } = parseArgs({
  options: {
    endpoints: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    'network-ms': { type: 'string', default: '150' },
    'fail-pct': { type: 'string', default: '4' },
    'write-docs': { type: 'boolean', default: false },
  },
});
const N = Number(values.endpoints);
const RUNS = Math.max(2, Number(values.runs));
const NETWORK_MS = Number(values['network-ms']);
const FAIL_PCT = Number(values['fail-pct']);
// The default probe deadline: it is how long a dead endpoint (a tarpit) holds its batch.
const TIMEOUT_MS = BUILTIN_DEFAULTS.defaults.timeoutMs;

interface Farm {
  readonly endpoints: { port: number; kind: string }[];
  close(): void;
}

/** Starts bench/endpoint-farm.ts as a child process (its TLS work off this event loop). */
async function startFarm(n: number, tarpitPct: number, malformedPct: number, caOut: string): Promise<Farm> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'endpoint-farm.ts'),
      String(n),
      String(tarpitPct),
      String(malformedPct),
      caOut,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`endpoint farm exited with ${code}`)));
  });
  return {
    endpoints: (JSON.parse(first) as { endpoints: { port: number; kind: string }[] }).endpoints,
    close: () => child.stdin?.end(),
  };
}

function endpointOf(port: number, i: number): Endpoint {
  return {
    id: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    name: `bench endpoint ${i}`,
    owner: null,
    tags: [],
    channels: [],
    timeoutMs: TIMEOUT_MS,
    policy: {
      thresholdsDays: [30, 14, 7, 3, 1],
      expiry: { warnDays: 30, criticalDays: 7 },
      failuresBeforeAlert: 2,
      renotifyIntervalMs: 86_400_000,
    },
  };
}

/** Wall time and CPU time (user + system, this process) of some work, in ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T } & Timing> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { value, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/** How long `t` (measured on one full core) runs in a Lambda function of `memoryMb`, in ms. */
function lambdaMs(t: Timing, memoryMb: number): number {
  const cpu = Math.min(t.cpuMs, t.wallMs);
  return t.wallMs - cpu + cpu * Math.max(1, FULL_VCPU_MB / memoryMb);
}

interface RunMeasure {
  checks: number;
  batches: number;
  /** The checker batches, one after another (each in its own Lambda invocation in AWS). */
  checker: Timing;
  dispatcher: Timing;
  /** Bytes the checker logs per batch on average: its "check processed" lines and its EMF record. */
  logBytesPerBatch: number;
  dispatch: { read: number; write: number };
  checkerUnits: { read: number; write: number; byOp: string };
  sqsRequests: number;
  snsPublishes: number;
  judgeTick: { read: number; write: number; ms: number };
  idleTick: { read: number; write: number } & Timing;
  /** The scheduler's maintenance tick with nothing to announce (it runs every minute). */
  maintenanceTick: { read: number; write: number } & Timing;
  report: { read: number; rows: number; ms: number };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const caOut = `/tmp/certwatch-bench-cost-ca-${process.pid}.pem`;
  // A few percent failing: 1% tarpits (time out), 1% truncated certificates, the rest of FAIL_PCT closed ports.
  const farm = await startFarm(N, 1, 1, caOut);
  const closedPorts = Math.max(0, Math.round((N * (FAIL_PCT - 2)) / 100));
  const dynamo = await startDynamoDbLocal();
  const aws = await startFakeAws();
  const clients = createDocumentClient(dynamo.endpoint);
  const meter = meterCapacity(clients.client);
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: aws.url,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await ensureTable(clients.client, 'certwatch-cost');
    // Runs start a day into a calendar week, so that the weekly history keepalive (HISTORY_KEEPALIVE_MS) falls
    // in none of them and the steady run is steady; its share is amortised in the table instead.
    const WEEK = 7 * 86_400_000;
    const clock = { t: Math.ceil(Date.now() / WEEK) * WEEK + 86_400_000 };
    const now = () => new Date(clock.t);
    const store = new DynamoDbStateStore({
      client: clients.documentClient,
      tableName: 'certwatch-cost',
      now,
    });
    const trust = loadTrustStore({ includeSystemRoots: false, extraCaPem: readFileSync(caOut, 'utf8') });
    const endpoints = farm.endpoints.map((e, i) => endpointOf(e.port, i));
    // Closed ports: connection refused at once (a decommissioned host).
    for (let i = 0; i < closedPorts; i++) endpoints.push(endpointOf(1 + i, N + i));
    let publishes = 0;
    const sink = {
      channelsFor: () => ['alerts-topic'],
      deliver: async (alert: Alert): Promise<DeliveryResult[]> => {
        publishes++;
        return [{ channel: 'alerts-topic', alertId: alert.id, ok: true, attempts: 1, error: null }];
      },
    };
    console.log(
      `cost benchmark: ${endpoints.length} endpoints (${farm.endpoints.filter((e) => e.kind === 'tarpit').length} tarpits, ` +
        `${farm.endpoints.filter((e) => e.kind === 'malformed').length} truncated certificates, ${closedPorts} closed ports), ` +
        `timeout ${TIMEOUT_MS} ms, ${RUNS} runs 6 h apart; DynamoDB Local, SQS stand-in`,
    );
    const measures: RunMeasure[] = [];
    // A real ok check, kept to measure one history row.
    const kept: { sample: ProcessCheckOutcome | null } = { sample: null };
    for (let run = 1; run <= RUNS; run++) {
      // Dispatcher
      meter.reset();
      const queue = new SqsCheckQueue({ client: sqs, queueUrl: `${aws.url}/123456789012/checks` });
      const sentBefore = aws.sent.length;
      const { value: dispatched, ...dispatcher } = await timed(() =>
        dispatchRun({ store, queue, now }, endpoints),
      );
      const dispatch = meter.totals();
      // Checker: SQS batches of 10, the records of a batch checked at once (as the handler does)
      meter.reset();
      const messages = aws.sent.slice(sentBefore).map((m) => JSON.parse(m.body) as CheckMessage);
      const batches: CheckMessage[][] = [];
      for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
      publishes = 0;
      let logBytes = 0;
      const log = createLogger('checker', (line) => {
        logBytes += Buffer.byteLength(line);
      });
      // One batch at a time, as one Lambda invocation has its process to itself: batches side by side in
      // this process would each be charged the other's CPU time.
      const checker = await timed(() =>
        mapWithConcurrency(
          batches,
          1,
          async (batch) => {
            // As the checker handler does with a batch: one counter write and one EMF record for it all.
            const completions = new CompletionBatch(store);
            const counts = new CheckCounts();
            const outcomes = await Promise.all(
              batch.map(async (msg) => {
                const outcome = await processCheck(
                  { store, sink, trustFor: () => trust, now, recordCompletion: completions.add },
                  msg,
                );
                logCheckProcessed(log, msg, outcome);
                counts.add(outcome);
                return outcome;
              }),
            );
            kept.sample ??= outcomes.find((o) => o.result?.status === 'ok' && o.state !== null) ?? null;
            counts.emit((line) => {
              logBytes += Buffer.byteLength(line);
            });
            await completions.flush();
          },
          (error) => {
            throw error;
          },
        ),
      );
      const checkerUnits = meter.totals();
      // Watchdog: the tick that judges the run (and publishes the report), then an idle tick
      clock.t += 2 * 3_600_000;
      meter.reset();
      const started = performance.now();
      let reportRead = 0;
      let reportRows = 0;
      let reportMs = 0;
      const judged = await runWatchdog(
        {
          store,
          now,
          page: async () => {},
          publishReport: async (at) => {
            const before = meter.totals().read;
            const t0 = performance.now();
            const data = await gatherReport(store, { source: 'bench', now: at, bounded: true });
            reportMs = performance.now() - t0;
            reportRead = meter.totals().read - before;
            reportRows = data.rows.length;
          },
        },
        { intervalMs: 6 * 3_600_000, graceMs: 3_600_000 },
      );
      const judgeMs = performance.now() - started;
      const judgeUnits = meter.totals();
      meter.reset();
      clock.t += 15 * 60_000;
      const idleTiming = await timed(() =>
        runWatchdog({ store, now, page: async () => {} }, { intervalMs: 6 * 3_600_000, graceMs: 3_600_000 }),
      );
      const idle = meter.totals();
      // The maintenance tick the scheduler runs every minute, with no window or silence stored.
      meter.reset();
      const maintenanceTiming = await timed(() =>
        runMaintenanceTick({ store, suppressions: store.suppressions(), sink, now, recheck: async () => {} }),
      );
      const maintenance = meter.totals();
      clock.t += 6 * 3_600_000 - 2 * 3_600_000 - 15 * 60_000;
      const m: RunMeasure = {
        checks: dispatched.expected,
        batches: batches.length,
        checker: { wallMs: checker.wallMs, cpuMs: checker.cpuMs },
        dispatcher,
        logBytesPerBatch: logBytes / batches.length,
        dispatch: { read: dispatch.read, write: dispatch.write },
        checkerUnits: {
          read: checkerUnits.read,
          write: checkerUnits.write,
          byOp: [...checkerUnits.byOperation]
            .map(([op, r]) => `${op} ${r.calls}×: ${r.write} W ${r.read} R`)
            .join('; '),
        },
        // Send (batched), receive and delete (the event source batches both) per 10 messages
        sqsRequests: 3 * Math.ceil(dispatched.expected / 10),
        snsPublishes: publishes,
        judgeTick: { read: judgeUnits.read - reportRead, write: judgeUnits.write, ms: judgeMs - reportMs },
        idleTick: { read: idle.read, write: idle.write, wallMs: idleTiming.wallMs, cpuMs: idleTiming.cpuMs },
        maintenanceTick: {
          read: maintenance.read,
          write: maintenance.write,
          wallMs: maintenanceTiming.wallMs,
          cpuMs: maintenanceTiming.cpuMs,
        },
        report: { read: reportRead, rows: reportRows, ms: reportMs },
      };
      measures.push(m);
      console.log(
        `  run ${run}${run === 1 ? ' (first)' : run === RUNS ? ' (steady)' : ''}: ${m.checks} checks; ` +
          `per check ${(m.checkerUnits.write / m.checks).toFixed(2)} WRU, ${(m.checkerUnits.read / m.checks).toFixed(2)} RRU ` +
          `[${m.checkerUnits.byOp}]; dispatch ${m.dispatch.write} WRU ${m.dispatch.read} RRU ${(m.dispatcher.wallMs / 1000).toFixed(1)} s ` +
          `(CPU ${(m.dispatcher.cpuMs / 1000).toFixed(1)} s); checker ${m.batches} batches, ${(m.checker.wallMs / m.batches).toFixed(0)} ms ` +
          `each (CPU ${(m.checker.cpuMs / m.batches).toFixed(0)} ms), ${(m.logBytesPerBatch / 10).toFixed(0)} log bytes per check; ${m.snsPublishes} alerts; ` +
          `judging tick ${m.judgeTick.read} RRU ${m.judgeTick.write} WRU; idle tick ${m.idleTick.read} RRU; ` +
          `report ${m.report.rows} rows ${m.report.read} RRU; judged ${judged.judged.map((j) => (j.complete ? 'complete' : 'incomplete')).join(',')}`,
      );
    }
    const first = measures[0]!;
    const steady = measures[measures.length - 1]!;
    // One history row of a real result, measured on its own (the weekly keepalive's cost).
    meter.reset();
    const sample = kept.sample;
    if (sample?.result && sample.state) {
      await store.appendHistory(
        { ...sample.result, checkedAt: new Date(clock.t).toISOString() },
        sample.state.endpointId,
      );
    }
    historyRowUnits = meter.totals().write;
    const table = costTable(first, steady);
    console.log(`\n${table}`);
    if (values['write-docs']) writeDocs(table);
  } finally {
    farm.close();
    sqs.destroy();
    clients.destroy();
    await aws.close();
    await dynamo.close();
  }
}

interface CostLine {
  readonly item: string;
  readonly basis: string;
  readonly monthly: (endpoints: number) => number;
}

/** Average ms one checker invocation takes for a batch of the steady run, in a function of `memoryMb`. */
function checkerBatchMs(steady: RunMeasure, memoryMb: number): number {
  return lambdaMs(
    {
      wallMs: steady.checker.wallMs / steady.batches + NETWORK_MS,
      cpuMs: steady.checker.cpuMs / steady.batches,
    },
    memoryMb,
  );
}

/** Checker cost a month for `endpoints` at `memoryMb`: GB-seconds and requests. */
function checkerMonthly(steady: RunMeasure, memoryMb: number, endpoints: number): number {
  const batches = (endpoints / steady.checks) * steady.batches * RUNS_PER_MONTH;
  return (
    batches *
    ((checkerBatchMs(steady, memoryMb) / 1000) * (memoryMb / 1024) * LAMBDA_GB_SECOND + PRICES.lambdaRequest)
  );
}

/**
 * Hours a month in which a metric of `cadence` is sent. A run's checks take `runMs`; an interval of that
 * length starting at a random minute touches 1 + runMs / 1 h clock hours on average.
 */
function metricHours(cadence: Exclude<MetricCadence, 'endpoint'>, runMs: number): number {
  switch (cadence) {
    case 'tick':
      return PRICES.hoursPerMonth;
    case 'run':
      return RUNS_PER_MONTH;
    case 'checks':
      return RUNS_PER_MONTH * (1 + runMs / 3_600_000);
    default: {
      const unknown: never = cadence;
      throw new Error(`no hours for cadence ${String(unknown)}`);
    }
  }
}

/** How long a run's checks take with the stack's derived checker concurrency, in ms. */
function runMs(steady: RunMeasure, endpoints: number): number {
  const plan = planCheckerConcurrency({
    addresses: endpoints * ADDRESSES_PER_ENDPOINT,
    intervalMs: 6 * 3_600_000,
    probeTimeoutMs: TIMEOUT_MS,
    checksPerInvocation: 10,
  });
  if (!plan.ok) throw new Error(plan.reason);
  const batches = (endpoints / steady.checks) * steady.batches;
  return Math.ceil(batches / plan.concurrency) * checkerBatchMs(steady, CHECKER_MEMORY_MB);
}

/** The monthly cost lines: variable (grow with endpoints), fixed (per stack) and opt-in extras. */
function costLines(steady: RunMeasure): { variable: CostLine[]; fixed: CostLine[]; optIn: CostLine[] } {
  const perCheck = (x: number) => x / steady.checks;
  // A history row is written at least once a week per address (HISTORY_KEEPALIVE_MS): 1 in 28 checks at 4 runs a day.
  const wruPerCheck = perCheck(steady.checkerUnits.write) + historyRowUnits / 28;
  const rruPerCheck = perCheck(steady.checkerUnits.read) + perCheck(steady.dispatch.read);
  const checks = (e: number) => e * RUNS_PER_MONTH;
  const failingShare = FAIL_PCT / 100;
  // Per address: its state (~1 KB), its expiry index item, and ~15 history rows kept by the 90-day TTL.
  const storageGb = (e: number) => (e * (1.1 + 15 * 1.6)) / 1024 / 1024;
  const platformBytes =
    (CHECKER_SYSTEM_LOG_LEVEL as string) === 'INFO' ? PLATFORM_LOG_BYTES_PER_INVOCATION : 0;
  const logBytesPerCheck = (steady.logBytesPerBatch + platformBytes) / (steady.checks / steady.batches);
  const batchMs = checkerBatchMs(steady, CHECKER_MEMORY_MB);
  const dispatcherMsPerEndpoint = lambdaMs(steady.dispatcher, DISPATCHER_MEMORY_MB) / steady.checks;
  const variable: CostLine[] = [
    {
      item: 'DynamoDB writes',
      basis: `${wruPerCheck.toFixed(2)} WRU per check (measured: ${perCheck(steady.checkerUnits.write).toFixed(2)} steady, + a ${historyRowUnits}-WRU history row a week)`,
      monthly: (e) => checks(e) * wruPerCheck * PRICES.dynamoWriteUnit,
    },
    {
      item: 'DynamoDB reads',
      basis: `${rruPerCheck.toFixed(2)} RRU per check (measured)`,
      monthly: (e) => checks(e) * rruPerCheck * PRICES.dynamoReadUnit,
    },
    {
      item: 'Watchdog: failing addresses',
      basis: `per tick, the failing index (${FAIL_PCT}% of addresses, ~200 B each); a failing endpoint of one address needs no other read (of several: one eventually consistent Query, not counted here)`,
      monthly: (e) => Math.ceil((e * failingShare * 200) / 4096) * TICKS_PER_MONTH * PRICES.dynamoReadUnit,
    },
    {
      item: 'DynamoDB storage + PITR',
      basis: 'state + index ~1.1 KB, ~15 history rows of ~1.6 KB per address',
      monthly: (e) => storageGb(e) * (PRICES.dynamoStorageGbMonth + PRICES.dynamoPitrGbMonth),
    },
    {
      item: 'Checker Lambda',
      basis:
        `${batchMs.toFixed(0)} ms per batch of 10 at ${CHECKER_MEMORY_MB} MB ${FUNCTION_ARCHITECTURE.name}: measured ` +
        `${(steady.checker.wallMs / steady.batches).toFixed(0)} ms wall of which ${(steady.checker.cpuMs / steady.batches).toFixed(0)} ms CPU ` +
        `(× ${(FULL_VCPU_MB / CHECKER_MEMORY_MB).toFixed(1)} at this size), + ${NETWORK_MS} ms network`,
      monthly: (e) => checkerMonthly(steady, CHECKER_MEMORY_MB, e),
    },
    {
      item: 'Dispatcher Lambda',
      basis:
        `${(dispatcherMsPerEndpoint + DNS_WAIT_MS_PER_ENDPOINT).toFixed(2)} ms per endpoint at ${DISPATCHER_MEMORY_MB} MB: ` +
        `${dispatcherMsPerEndpoint.toFixed(2)} ms measured (CPU stretched as above), + ${DNS_WAIT_MS_PER_ENDPOINT.toFixed(2)} ms ` +
        `waiting on DNS (bench:scale: 20 ms answers, 1% NXDOMAIN, 1% never answered)`,
      monthly: (e) =>
        RUNS_PER_MONTH *
        (((dispatcherMsPerEndpoint + DNS_WAIT_MS_PER_ENDPOINT) * e) / 1000) *
        MEMORY_GB.dispatcher *
        LAMBDA_GB_SECOND,
    },
    {
      item: 'Dispatch shards',
      basis: `one per ${DISPATCH_SHARD_LIMITS.endpoints.toLocaleString('en-US')} endpoints and run: ${SHARD_WRITE_UNITS} WRU, ${SHARD_SQS_REQUESTS} SQS requests, one invocation`,
      monthly: (e) =>
        RUNS_PER_MONTH *
        Math.ceil(e / DISPATCH_SHARD_LIMITS.endpoints) *
        (SHARD_WRITE_UNITS * PRICES.dynamoWriteUnit +
          SHARD_SQS_REQUESTS * PRICES.sqsRequest +
          PRICES.lambdaRequest),
    },
    {
      item: 'SQS',
      basis: 'send, receive, delete: 3 requests per 10 checks',
      monthly: (e) => (e / steady.checks) * RUNS_PER_MONTH * steady.sqsRequests * PRICES.sqsRequest,
    },
    {
      item: 'SNS alerts',
      basis: `${steady.snsPublishes} publishes in the steady run (each also one notifier invocation)`,
      monthly: (e) =>
        (e / steady.checks) *
        RUNS_PER_MONTH *
        steady.snsPublishes *
        (PRICES.snsPublish + PRICES.lambdaRequest),
    },
    {
      item: 'CloudWatch Logs',
      basis:
        platformBytes > 0
          ? `${logBytesPerCheck.toFixed(0)} B per check: the checker's lines and EMF record (measured) + ~${platformBytes / 10} B of Lambda's per-invocation records`
          : `${logBytesPerCheck.toFixed(0)} B per check: the checker's lines and EMF record (measured); Lambda's own per-invocation records (~${PLATFORM_LOG_BYTES_PER_INVOCATION / 10} B a check) are off (system log level ${CHECKER_SYSTEM_LOG_LEVEL})`,
      monthly: (e) => ((checks(e) * logBytesPerCheck) / 1024 ** 3) * PRICES.logsIngestGb,
    },
  ];
  const fleetMetrics = Object.values(MetricNames).filter((n) => METRIC_CADENCE[n] !== 'endpoint');
  const byCadence = (c: MetricCadence) => fleetMetrics.filter((n) => METRIC_CADENCE[n] === c).length;
  const watchdogTickUnits = steady.idleTick.read;
  const watchdogTickMs = lambdaMs(steady.idleTick, WATCHDOG_MEMORY_MB);
  const maintenanceTickMs = lambdaMs(steady.maintenanceTick, CHECKER_MEMORY_MB);
  /** Windows and silences are two eventually consistent Queries: at least 0.5 RRU each, even when empty. */
  const maintenanceTickUnits = Math.max(steady.maintenanceTick.read, 2 * 0.5);
  const fixed: CostLine[] = [
    {
      item: 'Alarms',
      basis: `${MONITOR_ALARMS.length} alarms (lib/monitor-alarms.ts; 2 of them only with a chat channel)`,
      monthly: () => MONITOR_ALARMS.length * PRICES.alarmMonth,
    },
    {
      item: 'Fleet-wide custom metrics',
      basis:
        `${fleetMetrics.length} metrics, billed for the hours they are sent in (METRIC_CADENCE): ${byCadence('tick')} every ` +
        `watchdog tick, ${byCadence('run')} once per run, ${byCadence('checks')} while a run's checks last`,
      monthly: (e) =>
        fleetMetrics.reduce((sum, n) => {
          const cadence = METRIC_CADENCE[n];
          return cadence === 'endpoint' ? sum : sum + metricHours(cadence, runMs(steady, e));
        }, 0) *
        (PRICES.customMetricMonth / PRICES.hoursPerMonth),
    },
    {
      item: 'KMS key, 1 secret',
      basis:
        'alert topic key (a customer managed key: CloudWatch alarm actions cannot use alias/aws/sns); one webhook secret (only with a channel that has one)',
      monthly: () => PRICES.kmsKeyMonth + PRICES.secretMonth,
    },
    {
      item: 'Watchdog',
      basis: `${Math.round(TICKS_PER_MONTH)} ticks of ${watchdogTickUnits} RRU and ${watchdogTickMs.toFixed(0)} ms at ${WATCHDOG_MEMORY_MB} MB (measured); judging ticks ${steady.judgeTick.read} RRU; report ${steady.report.read} RRU for ${steady.report.rows} rows`,
      monthly: () =>
        TICKS_PER_MONTH *
          (watchdogTickUnits * PRICES.dynamoReadUnit +
            (watchdogTickMs / 1000) * MEMORY_GB.watchdog * LAMBDA_GB_SECOND +
            PRICES.lambdaRequest) +
        RUNS_PER_MONTH *
          (steady.judgeTick.read * PRICES.dynamoReadUnit +
            (2000 / Math.max(1, steady.report.rows)) * steady.report.read * PRICES.dynamoReadUnit +
            PRICES.s3Put),
    },
    {
      item: 'Maintenance tick',
      basis: `${Math.round(MAINTENANCE_TICKS_PER_MONTH)} scheduler invocations of the checker (${MAINTENANCE_TICK_EXPRESSION}) of ${maintenanceTickUnits} RRU and ${maintenanceTickMs.toFixed(0)} ms at ${CHECKER_MEMORY_MB} MB (measured, no window stored; two Queries of an empty partition, which DynamoDB Local reports as 0 RRU and AWS bills at 0.5 RRU or more each); scheduler invocations within its free 14 million`,
      monthly: () =>
        MAINTENANCE_TICKS_PER_MONTH *
        (maintenanceTickUnits * PRICES.dynamoReadUnit +
          steady.maintenanceTick.write * PRICES.dynamoWriteUnit +
          (maintenanceTickMs / 1000) * MEMORY_GB.checker * LAMBDA_GB_SECOND +
          PRICES.lambdaRequest),
    },
    {
      item: 'Run records',
      basis: `${steady.dispatch.write - SHARD_WRITE_UNITS} WRU per run (run item, pointer, 16 counter items; measured, less its one shard's)`,
      monthly: () => RUNS_PER_MONTH * (steady.dispatch.write - SHARD_WRITE_UNITS) * PRICES.dynamoWriteUnit,
    },
    {
      item: 'SQS idle polling',
      basis: `${POLLED_QUEUES} event sources (check queue, dispatch-shard queue) long-poll with ~5 pollers each`,
      monthly: () => POLLED_QUEUES * IDLE_POLLS_PER_MONTH * PRICES.sqsRequest,
    },
  ];
  const optIn: CostLine[] = [
    {
      item: 'Dashboard (`dashboard: true`)',
      basis: "one CloudWatch dashboard; free if it is one of the account's first 3",
      monthly: () => PRICES.dashboardMonth,
    },
    {
      item: 'Per-endpoint metric (`checker.perEndpointMetrics: true`)',
      basis:
        'one `DaysToExpiry` metric per endpoint, sent with its checks (the hours of a run, 4 runs a day), at the first-tier price (beyond 10,000 metrics it falls)',
      monthly: (e) =>
        e * metricHours('checks', runMs(steady, e)) * (PRICES.customMetricMonth / PRICES.hoursPerMonth),
    },
  ];
  return { variable, fixed, optIn };
}

function money(x: number): string {
  return x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(3)}`;
}

function costTable(first: RunMeasure, steady: RunMeasure): string {
  const { variable, fixed, optIn } = costLines(steady);
  const header = `| Item | Basis | ${SIZES.map((e) => `${e.toLocaleString('en-US')} endpoints`).join(' | ')} |`;
  const rule = `| --- | --- | ${SIZES.map(() => '---:').join(' | ')} |`;
  const row = (l: CostLine) =>
    `| ${l.item} | ${l.basis} | ${SIZES.map((e) => money(l.monthly(e))).join(' | ')} |`;
  const sum = (lines: CostLine[], e: number) => lines.reduce((n, l) => n + l.monthly(e), 0);
  const lines = [
    `Monthly cost at 4 runs a day, one address per endpoint, ${PRICES.region} on-demand prices of ${PRICES.date} ` +
      `(DynamoDB after the November 2024 reduction; Lambda ${FUNCTION_ARCHITECTURE.name}), from \`npm run bench:cost\` (${steady.checks} endpoints, ` +
      `${FAIL_PCT}% failing, probe deadline ${TIMEOUT_MS / 1000} s, measured on DynamoDB Local; the steady run's units). ` +
      'A stack with one webhook channel; no free tier counted.',
    '',
    header,
    rule,
    ...variable.map(row),
    `| **Variable** | | ${SIZES.map((e) => `**${money(sum(variable, e))}**`).join(' | ')} |`,
    `| **Variable per 1,000 endpoints** | goal ≤ $0.25 | ${SIZES.map((e) => `**${money((sum(variable, e) / e) * 1000)}**`).join(' | ')} |`,
    ...fixed.map(row),
    `| **Fixed per stack** | goal ≤ $5 | ${SIZES.map((e) => `**${money(sum(fixed, e))}**`).join(' | ')} |`,
    `| **Total** | | ${SIZES.map((e) => `**${money(sum(variable, e) + sum(fixed, e))}**`).join(' | ')} |`,
    ...optIn.map((l) => row({ ...l, item: `Opt-in: ${l.item}` })),
    '',
    `Measured per check: first run ${(first.checkerUnits.write / first.checks).toFixed(2)} WRU / ` +
      `${(first.checkerUnits.read / first.checks).toFixed(2)} RRU, steady ${(steady.checkerUnits.write / steady.checks).toFixed(2)} WRU / ` +
      `${(steady.checkerUnits.read / steady.checks).toFixed(2)} RRU (${steady.checkerUnits.byOp}). ` +
      `Checker per 1,000 endpoints a month by memory: ${CHECKER_SIZES_MB.map((mb) => `${mb} MB ${money(checkerMonthly(steady, mb, 1000))}`).join(', ')}. ` +
      'Not counted: free tiers, data transfer, cold starts (a few per run, not per endpoint).',
  ];
  return lines.join('\n');
}

function writeDocs(table: string): void {
  const path = join(__dirname, '..', 'docs', 'performance.md');
  const doc = readFileSync(path, 'utf8');
  const start = '<!-- bench:cost -->';
  const end = '<!-- /bench:cost -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`docs/performance.md has no ${start} … ${end} markers; nothing written`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(path, `${doc.slice(0, a + start.length)}\n${table}\n${doc.slice(b)}`);
  console.log(`wrote the table into ${path}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
