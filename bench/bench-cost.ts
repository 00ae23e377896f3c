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
import { MetricNames } from '../lambdas/core/metric-names';
import type { Alert, DeliveryResult, Endpoint } from '../lambdas/core/model';
import type { CheckMessage } from '../lambdas/pipeline/check-message';
import { CompletionBatch } from '../lambdas/pipeline/completion-batch';
import { dispatchRun } from '../lambdas/pipeline/dispatch-run';
import { type ProcessCheckOutcome, processCheck } from '../lambdas/pipeline/process-check';
import { runWatchdog } from '../lambdas/pipeline/watchdog';
import { SqsCheckQueue } from '../lambdas/queue/sqs-check-queue';
import { gatherReport } from '../lambdas/report/report-data';
import { createDocumentClient } from '../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../lambdas/store/dynamodb-state-store';
import { MONITOR_ALARMS } from '../lib/monitor-alarms';
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
  lambdaGbSecond: 0.0000166667,
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6,
  snsPublish: 0.5 / 1e6,
  customMetricMonth: 0.3,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  kmsKeyMonth: 1,
  secretMonth: 0.4,
  logsIngestGb: 0.5,
  s3Put: 0.005 / 1000,
} as const;

/** Lambda memory (GB) as lib/ sets it: checker 512 MB, dispatcher and watchdog 1024 MB. */
const MEMORY_GB = { checker: 0.5, dispatcher: 1, watchdog: 1 } as const;
const RUNS_PER_MONTH = 4 * 30.4;
const TICKS_PER_MONTH = 4 * 24 * 30.4;
/** Lambda's SQS event source long-polls with ~5 pollers, one ReceiveMessage per 20 s each, even when idle. */
const IDLE_POLLS_PER_MONTH = 5 * 3 * 60 * 24 * 30.4;
/** Assumed log bytes per check: the checker's one `check processed` line plus its share of START/END/REPORT. */
const LOG_BYTES_PER_CHECK = 450;
const SIZES = [1_000, 100_000, 1_000_000] as const;
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
const TIMEOUT_MS = 5_000;

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

interface RunMeasure {
  checks: number;
  batches: number;
  checkerMs: number;
  dispatcherMs: number;
  dispatch: { read: number; write: number };
  checker: { read: number; write: number; byOp: string };
  sqsRequests: number;
  snsPublishes: number;
  judgeTick: { read: number; write: number; ms: number };
  idleTick: { read: number; write: number; ms: number };
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
      let started = performance.now();
      const dispatched = await dispatchRun({ store, queue, now }, endpoints);
      const dispatcherMs = performance.now() - started;
      const dispatch = meter.totals();
      // Checker: SQS batches of 10, the records of a batch checked at once (as the handler does)
      meter.reset();
      const messages = aws.sent.slice(sentBefore).map((m) => JSON.parse(m.body) as CheckMessage);
      const batches: CheckMessage[][] = [];
      for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
      publishes = 0;
      let checkerMs = 0;
      // Two batches at a time: on this 2-core machine (shared with the farm and DynamoDB Local) more would
      // measure CPU contention rather than a checker's duration.
      await mapWithConcurrency(
        batches,
        2,
        async (batch) => {
          const t0 = performance.now();
          // As the checker handler does with a batch: one counter write for its completions.
          const completions = new CompletionBatch(store);
          const outcomes = await Promise.all(
            batch.map((msg) =>
              processCheck(
                { store, sink, trustFor: () => trust, now, recordCompletion: completions.add },
                msg,
              ),
            ),
          );
          kept.sample ??= outcomes.find((o) => o.result?.status === 'ok' && o.state !== null) ?? null;
          await completions.flush();
          checkerMs += performance.now() - t0;
        },
        (error) => {
          throw error;
        },
      );
      const checker = meter.totals();
      // Watchdog: the tick that judges the run (and publishes the report), then an idle tick
      clock.t += 2 * 3_600_000;
      meter.reset();
      started = performance.now();
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
      started = performance.now();
      await runWatchdog(
        { store, now, page: async () => {} },
        { intervalMs: 6 * 3_600_000, graceMs: 3_600_000 },
      );
      const idleMs = performance.now() - started;
      const idle = meter.totals();
      clock.t += 6 * 3_600_000 - 2 * 3_600_000 - 15 * 60_000;
      const m: RunMeasure = {
        checks: dispatched.expected,
        batches: batches.length,
        checkerMs,
        dispatcherMs,
        dispatch: { read: dispatch.read, write: dispatch.write },
        checker: {
          read: checker.read,
          write: checker.write,
          byOp: [...checker.byOperation]
            .map(([op, r]) => `${op} ${r.calls}×: ${r.write} W ${r.read} R`)
            .join('; '),
        },
        // Send (batched), receive and delete (the event source batches both) per 10 messages
        sqsRequests: 3 * Math.ceil(dispatched.expected / 10),
        snsPublishes: publishes,
        judgeTick: { read: judgeUnits.read - reportRead, write: judgeUnits.write, ms: judgeMs - reportMs },
        idleTick: { read: idle.read, write: idle.write, ms: idleMs },
        report: { read: reportRead, rows: reportRows, ms: reportMs },
      };
      measures.push(m);
      console.log(
        `  run ${run}${run === 1 ? ' (first)' : run === RUNS ? ' (steady)' : ''}: ${m.checks} checks; ` +
          `per check ${(m.checker.write / m.checks).toFixed(2)} WRU, ${(m.checker.read / m.checks).toFixed(2)} RRU ` +
          `[${m.checker.byOp}]; dispatch ${m.dispatch.write} WRU ${m.dispatch.read} RRU ${(m.dispatcherMs / 1000).toFixed(1)} s; ` +
          `checker ${m.batches} batches, ${(m.checkerMs / m.batches).toFixed(0)} ms each; ${m.snsPublishes} alerts; ` +
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

/** The monthly cost lines: variable (grow with endpoints) and fixed (per stack). */
function costLines(steady: RunMeasure): { variable: CostLine[]; fixed: CostLine[] } {
  const perCheck = (x: number) => x / steady.checks;
  // A history row is written at least once a week per address (HISTORY_KEEPALIVE_MS): 1 in 28 checks at 4 runs a day.
  const wruPerCheck = perCheck(steady.checker.write) + historyRowUnits / 28;
  const rruPerCheck = perCheck(steady.checker.read) + perCheck(steady.dispatch.read);
  const checkerGbS = ((steady.checkerMs + NETWORK_MS * steady.batches) / 1000) * MEMORY_GB.checker;
  const checks = (e: number) => e * RUNS_PER_MONTH;
  const failingShare = FAIL_PCT / 100;
  // Per address: its state (~1 KB), its expiry index item, and ~15 history rows kept by the 90-day TTL.
  const storageGb = (e: number) => (e * (1.1 + 15 * 1.6)) / 1024 / 1024;
  const variable: CostLine[] = [
    {
      item: 'DynamoDB writes',
      basis: `${wruPerCheck.toFixed(2)} WRU per check (measured: ${perCheck(steady.checker.write).toFixed(2)} steady, + a ${historyRowUnits}-WRU history row a week)`,
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
      basis: `${((steady.checkerMs / steady.batches) | 0) + NETWORK_MS} ms per batch of 10 (measured + ${NETWORK_MS} ms network) at 512 MB`,
      monthly: (e) =>
        (e / steady.checks) *
        RUNS_PER_MONTH *
        (checkerGbS * PRICES.lambdaGbSecond + steady.batches * PRICES.lambdaRequest),
    },
    {
      item: 'Dispatcher Lambda',
      basis: `${(steady.dispatcherMs / steady.checks).toFixed(2)} ms per endpoint (measured) at 1024 MB`,
      monthly: (e) =>
        RUNS_PER_MONTH *
        (((steady.dispatcherMs / steady.checks) * e) / 1000) *
        MEMORY_GB.dispatcher *
        PRICES.lambdaGbSecond,
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
      basis: `~${LOG_BYTES_PER_CHECK} B per check (assumed)`,
      monthly: (e) => ((checks(e) * LOG_BYTES_PER_CHECK) / 1024 ** 3) * PRICES.logsIngestGb,
    },
  ];
  const fleetMetrics = Object.values(MetricNames).filter((n) => n !== MetricNames.DaysToExpiry).length;
  const watchdogTickUnits = steady.idleTick.read;
  const fixed: CostLine[] = [
    {
      item: 'Alarms',
      basis: `${MONITOR_ALARMS.length} alarms (lib/monitor-alarms.ts)`,
      monthly: () => MONITOR_ALARMS.length * PRICES.alarmMonth,
    },
    {
      item: 'Dashboard',
      basis: '1 dashboard (the first 3 per account are free)',
      monthly: () => PRICES.dashboardMonth,
    },
    {
      item: 'Fleet-wide custom metrics',
      basis: `${fleetMetrics} metrics without a per-endpoint dimension`,
      monthly: () => fleetMetrics * PRICES.customMetricMonth,
    },
    {
      item: 'KMS key, 1 secret',
      basis: 'alert topic key; one webhook secret',
      monthly: () => PRICES.kmsKeyMonth + PRICES.secretMonth,
    },
    {
      item: 'Watchdog',
      basis: `${Math.round(TICKS_PER_MONTH)} ticks of ${watchdogTickUnits} RRU and ${steady.idleTick.ms.toFixed(0)} ms (measured) at 1024 MB; judging ticks ${steady.judgeTick.read} RRU; report ${steady.report.read} RRU for ${steady.report.rows} rows`,
      monthly: () =>
        TICKS_PER_MONTH *
          (watchdogTickUnits * PRICES.dynamoReadUnit +
            (steady.idleTick.ms / 1000) * MEMORY_GB.watchdog * PRICES.lambdaGbSecond +
            PRICES.lambdaRequest) +
        RUNS_PER_MONTH *
          (steady.judgeTick.read * PRICES.dynamoReadUnit +
            (2000 / Math.max(1, steady.report.rows)) * steady.report.read * PRICES.dynamoReadUnit +
            PRICES.s3Put),
    },
    {
      item: 'Run records',
      basis: `${steady.dispatch.write} WRU per run (run item, pointer, 16 counter items)`,
      monthly: () => RUNS_PER_MONTH * steady.dispatch.write * PRICES.dynamoWriteUnit,
    },
    {
      item: 'SQS idle polling',
      basis: 'the event source long-polls with ~5 pollers',
      monthly: () => IDLE_POLLS_PER_MONTH * PRICES.sqsRequest,
    },
  ];
  return { variable, fixed };
}

function money(x: number): string {
  return x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(3)}`;
}

function costTable(first: RunMeasure, steady: RunMeasure): string {
  const { variable, fixed } = costLines(steady);
  const header = `| Item | Basis | ${SIZES.map((e) => `${e.toLocaleString('en-US')} endpoints`).join(' | ')} |`;
  const rule = `| --- | --- | ${SIZES.map(() => '---:').join(' | ')} |`;
  const row = (l: CostLine) =>
    `| ${l.item} | ${l.basis} | ${SIZES.map((e) => money(l.monthly(e))).join(' | ')} |`;
  const sum = (lines: CostLine[], e: number) => lines.reduce((n, l) => n + l.monthly(e), 0);
  const lines = [
    `Monthly cost at 4 runs a day, one address per endpoint, ${PRICES.region} on-demand prices of ${PRICES.date} ` +
      `(DynamoDB after the November 2024 reduction), from \`npm run bench:cost\` (${steady.checks} endpoints, ` +
      `${FAIL_PCT}% failing, measured on DynamoDB Local; the steady run's units).`,
    '',
    header,
    rule,
    ...variable.map(row),
    `| **Variable** | | ${SIZES.map((e) => `**${money(sum(variable, e))}**`).join(' | ')} |`,
    `| **Variable per 1,000 endpoints** | goal ≤ $0.25 | ${SIZES.map((e) => `**${money((sum(variable, e) / e) * 1000)}**`).join(' | ')} |`,
    ...fixed.map(row),
    `| **Fixed per stack** | goal ≤ $5 | ${SIZES.map((e) => `**${money(sum(fixed, e))}**`).join(' | ')} |`,
    `| **Total** | | ${SIZES.map((e) => `**${money(sum(variable, e) + sum(fixed, e))}**`).join(' | ')} |`,
    '',
    `Measured per check: first run ${(first.checker.write / first.checks).toFixed(2)} WRU / ` +
      `${(first.checker.read / first.checks).toFixed(2)} RRU, steady ${(steady.checker.write / steady.checks).toFixed(2)} WRU / ` +
      `${(steady.checker.read / steady.checks).toFixed(2)} RRU (${steady.checker.byOp}). ` +
      'Not counted: the opt-in per-endpoint `DaysToExpiry` metric ($0.30 per endpoint a month), free tiers, data transfer.',
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
