/**
 * `npm run bench:scale`: the watchdog and the dispatcher at 100,000 (default) or 1,000,000 address
 * states on DynamoDB Local (in memory; a JVM with a bigger heap beyond 200,000), DNS stubbed.
 *
 * Seeds one endpoint and one address state per address with BatchWriteItem (25 items a call, a
 * bounded number of calls in flight), the items exactly as the store writes them (plus the expiry
 * index, and the failing index for the 3% that fail), and a run whose every check completed. Then it
 * measures, each with wall time, read units (`ReturnConsumedCapacity`) and RSS:
 * - the watchdog tick that judges that complete run (and the bounded report it publishes);
 * - an idle tick (nothing to judge: what runs every 15 minutes);
 * - the judging tick of a run one shard short (it lists that shard);
 * - the whole dispatch in this process (certwatch run's path, the shards 4 at a time; up to 200,000);
 * - the deployed dispatch, each invocation alone in a child process capped as Lambda caps it
 *   (bench/dispatch-memory.ts), for its time and peak RSS against the dispatcher's timeout and memory:
 *   the planning invocation, then a sample of dispatch-shard invocations, reading the bundle as the
 *   stack writes it and sending through the SQS clients to the loopback SQS stand-in
 *   (test/support/fake-aws.ts); each shard once with DNS stubbed and once asking a loopback DNS server
 *   (bench/loopback-dns.ts: 20 ms a answer, 1% NXDOMAIN, 1% never answered).
 *
 * Usage: npm run bench:scale -- [--addresses 100000] [--shard-samples 4]
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../lambdas/core/concurrency';
import { type AddressState, addressKey, type Endpoint } from '../lambdas/core/model';
import type { CheckMessage, CheckQueue } from '../lambdas/pipeline/check-message';
import { dispatchRun } from '../lambdas/pipeline/dispatch-run';
import { runWatchdog } from '../lambdas/pipeline/watchdog';
import { gatherReport } from '../lambdas/report/report-data';
import { createDocumentClient } from '../lambdas/store/dynamodb-client';
import {
  DynamoDbStateStore,
  endpointHash,
  ensureTable,
  itemKeys,
} from '../lambdas/store/dynamodb-state-store';
import { daysBucket } from '../lambdas/store/run-shards';
import { dynamoDbLocalDir, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { startFakeAws } from '../test/support/fake-aws';
import { makeEndpoint, makeState } from '../test/support/dynamodb-store-fixtures';
import { DISPATCHER_MEMORY_MB, DISPATCHER_TIMEOUT, dispatchBundle } from '../lib/check-pipeline';
import { DISPATCH_SHARD_LIMITS } from '../lambdas/pipeline/dispatch-plan';
import { meterCapacity } from './capacity-meter';
import type { ChildArgs } from './dispatch-memory';
import { startLoopbackDns } from './loopback-dns';

const { values } = parseArgs({
  options: {
    addresses: { type: 'string', default: '100000' },
    // Dispatch-shard invocations measured, evenly spread over the plan.
    'shard-samples': { type: 'string', default: '4' },
  },
});
const N = Number(values.addresses);
const TABLE = 'certwatch-scale';
const HOUR = 3_600_000;
/** Above this many addresses the whole dispatch is not repeated in the bench's own process. */
const IN_PROCESS_MAX = 200_000;
/** Latency of every answer of the loopback DNS server. */
const DNS_LATENCY_MS = 20;
const DISPATCHER_TIMEOUT_S = DISPATCHER_TIMEOUT.toSeconds();

const num = (n: number | undefined, digits: number) => (n ?? Number.NaN).toFixed(digits);
const pct = (part: number | undefined, whole: number) =>
  `${Math.round(((part ?? Number.NaN) / whole) * 100)}%`;

/** Counts what the dispatcher enqueues without keeping the messages. */
class CountingQueue implements CheckQueue {
  sent = 0;
  async sendAll(messages: readonly CheckMessage[]): Promise<void> {
    this.sent += messages.length;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // Up to 200,000 states fit the test helper's in-memory DynamoDB Local (1 GB heap). Beyond, a JVM of our own
  // with a bigger heap (on disk, DynamoDB Local writes ~500 items/s here: a million states would take hours).
  const dynamo =
    N > 200_000 ? await startBigDynamoDbLocal(Math.ceil(N / 100_000) * 600) : await startDynamoDbLocal();
  const clients = createDocumentClient(dynamo.endpoint);
  const meter = meterCapacity(clients.client);
  const t0 = Date.parse('2030-03-01T00:00:00.000Z');
  const clock = { t: t0 };
  const now = () => new Date(clock.t);
  try {
    await ensureTable(clients.client, TABLE);
    const store = new DynamoDbStateStore({ client: clients.documentClient, tableName: TABLE, now });
    console.log(`scale benchmark: ${N.toLocaleString('en-US')} address states on DynamoDB Local (in memory)`);

    // Seed
    const runId = '20300301T000000000Z-seeded0';
    const endpoints: Endpoint[] = Array.from({ length: N }, (_, i) =>
      makeEndpoint(`host-${String(i).padStart(7, '0')}.example`, { timeoutMs: 10_000 }),
    );
    const address = (i: number) => `198.51.${(i >> 8) & 255}.${i & 255}`;
    const stateOf = (e: Endpoint, i: number): AddressState => {
      const failing = i % 33 === 0;
      const days = 5 + (i % 85);
      return makeState(e, address(i), {
        daysLeft: failing ? null : days,
        notAfter: failing ? null : new Date(t0 + (days + 0.5) * 86_400_000).toISOString(),
        status: failing ? 'error' : days <= 7 ? 'critical' : days <= 30 ? 'warning' : 'ok',
        consecutiveFailures: failing ? 3 : 0,
        failingSince: failing ? new Date(t0 - 20 * HOUR).toISOString() : null,
        lastCheckedAt: new Date(t0).toISOString(),
        lastSuccessAt: new Date(failing ? t0 - 24 * HOUR : t0).toISOString(),
        lastRunId: runId,
      });
    };
    let started = performance.now();
    const chunks: number[] = [];
    for (let i = 0; i < N; i += 6) chunks.push(i);
    let written = 0;
    await mapWithConcurrency(
      chunks,
      16,
      async (from) => {
        const items: Record<string, unknown>[] = [];
        for (let i = from; i < Math.min(N, from + 6); i++) {
          const e = endpoints[i] as Endpoint;
          const s = stateOf(e, i);
          items.push({
            ...itemKeys.endpoint(e.id),
            kind: 'endpoint',
            endpointHash: endpointHash(e),
            endpoint: e,
          });
          items.push({
            ...itemKeys.addressState(s.key),
            kind: 'address',
            endpointId: e.id,
            version: 1,
            state: s,
          });
          items.push({ ...itemKeys.expiry(s.key, s.notAfter), kind: 'expiry', key: s.key });
          if (s.consecutiveFailures > 0) {
            items.push({
              ...itemKeys.failing(s.key),
              kind: 'failing',
              endpointId: e.id,
              lastSuccessAt: s.lastSuccessAt,
              failingSince: s.failingSince,
              lastCheckedAt: s.lastCheckedAt,
              endpointName: s.endpointName,
              siblings: 0,
            });
          }
        }
        let pending = items.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 20) throw new Error('BatchWriteItem kept leaving items unprocessed');
          const out = await clients.documentClient.send(
            new BatchWriteCommand({ RequestItems: { [TABLE]: pending } }),
          );
          pending = (out.UnprocessedItems?.[TABLE] ?? []) as typeof pending;
        }
        written += items.length;
        if (from % 60_000 === 0 && from > 0)
          console.log(`  seeded ${from.toLocaleString('en-US')} addresses…`);
      },
      (error) => {
        throw error;
      },
    );
    const keys = endpoints.map((e, i) => addressKey(e.id, address(i)));
    await store.createRun({ runId, startedAt: new Date(t0).toISOString(), expected: N, addressKeys: keys });
    await completeCounters(runId, keys, (i) => stateOf(endpoints[i] as Endpoint, i).daysLeft, null);
    console.log(
      `  seed: ${written.toLocaleString('en-US')} items in ${((performance.now() - started) / 1000).toFixed(0)} s (BatchWriteItem, 16 in flight)`,
    );

    const tick = async (label: string, at: number) => {
      clock.t = at;
      meter.reset();
      let report = { rows: 0, read: 0, ms: 0 };
      const rssBefore = process.memoryUsage().rss;
      const began = performance.now();
      const result = await runWatchdog(
        {
          store,
          now,
          page: async () => {},
          publishReport: async (when) => {
            const r0 = meter.totals().read;
            const b = performance.now();
            const data = await gatherReport(store, { source: 'bench', now: when, bounded: true });
            report = { rows: data.rows.length, read: meter.totals().read - r0, ms: performance.now() - b };
          },
        },
        { intervalMs: 6 * HOUR, graceMs: HOUR },
      );
      const ms = performance.now() - began;
      const units = meter.totals();
      console.log(
        `  ${label}: ${(ms / 1000).toFixed(2)} s, ${units.read.toFixed(1)} RRU (${units.calls} calls) ` +
          `of which report ${report.read.toFixed(1)} RRU for ${report.rows} rows in ${(report.ms / 1000).toFixed(2)} s; ` +
          `judged ${result.judged.map((j) => `${j.complete ? 'complete' : 'incomplete'} ${j.completed}/${j.expected}`).join(', ') || 'nothing'}; ` +
          `stale ${result.stale.length}; soonest ${result.soonestDaysLeft} days; RSS ${mb(process.memoryUsage().rss)} (${mb(process.memoryUsage().rss - rssBefore)} more)`,
      );
    };
    await tick('watchdog tick judging the complete run (+ report)', t0 + 2 * HOUR);
    await tick('watchdog idle tick', t0 + 2 * HOUR + 15 * 60_000);

    // A run one shard short: its checks of shard 0 never completed
    const shortRun = '20300301T060000000Z-seeded1';
    await store.createRun({
      runId: shortRun,
      startedAt: new Date(t0 + 6 * HOUR).toISOString(),
      expected: N,
      addressKeys: keys,
    });
    await completeCounters(shortRun, keys, (i) => stateOf(endpoints[i] as Endpoint, i).daysLeft, 0);
    await tick('watchdog tick judging a run one shard short', t0 + 8 * HOUR);

    // The whole dispatch in this process (certwatch run's path: the shards 4 at a time), DNS stubbed.
    // Skipped beyond IN_PROCESS_MAX: the per-invocation children below measure the deployed path.
    clock.t = t0 + 12 * HOUR;
    if (N <= IN_PROCESS_MAX) {
      meter.reset();
      const queue = new CountingQueue();
      const rssBefore = process.memoryUsage().rss;
      started = performance.now();
      const index = new Map(endpoints.map((e, i) => [e.host, i]));
      const dispatched = await dispatchRun(
        {
          store,
          queue,
          now,
          resolve: async (host) => ({ addresses: [address(index.get(host) ?? 0)] }),
        },
        endpoints,
      );
      const units = meter.totals();
      console.log(
        `  dispatch in one process (${dispatched.shards} shards, 4 at a time): ${((performance.now() - started) / 1000).toFixed(1)} s, inventory =${dispatched.inventory.unchanged} ` +
          `+${dispatched.inventory.added} ~${dispatched.inventory.updated}, ${queue.sent.toLocaleString('en-US')} messages; ` +
          `${units.read.toFixed(0)} RRU, ${units.write} WRU; RSS ${mb(process.memoryUsage().rss)} (${mb(process.memoryUsage().rss - rssBefore)} more)`,
      );
    } else
      console.log(
        `  dispatch in one process: skipped above ${IN_PROCESS_MAX.toLocaleString('en-US')} addresses`,
      );
    console.log(`  peak RSS of this process: ${mb(process.resourceUsage().maxRSS * 1024)}`);

    // The deployed dispatch: the bundle as the stack writes it, then each invocation alone in a capped process.
    const bundle = dispatchBundle(endpoints);
    const inventoryFile = join(tmpdir(), `certwatch-scale-inventory-${process.pid}.ndjson.gz`);
    const planFile = join(tmpdir(), `certwatch-scale-plan-${process.pid}.json`);
    writeFileSync(inventoryFile, bundle.inventory);
    writeFileSync(planFile, JSON.stringify(bundle.plan));
    const sizes = bundle.plan.shards.map((s) => s.endpoints);
    console.log(
      `  dispatch bundle: ${(bundle.inventory.length / 1024 / 1024).toFixed(1)} MB of inventory (gzip NDJSON, one member per shard), ` +
        `plan of ${bundle.plan.shards.length} shards (${Math.min(...sizes)}-${Math.max(...sizes)} endpoints each, at most ${DISPATCH_SHARD_LIMITS.endpoints}); ` +
        `the dispatcher's package may unzip to at most 250 MB`,
    );
    // Messages go through the SQS clients to the loopback SQS stand-in, which forgets them as they come.
    const aws = await startFakeAws();
    const forget = setInterval(() => aws.sent.splice(0), 1_000);
    const dns = await startLoopbackDns({
      latencyMs: DNS_LATENCY_MS,
      // 1% of the names NXDOMAIN, 1% never answered, the rest their seeded address after the latency.
      fate: (name) => {
        const i = Number(/host-(\d+)\./.exec(name)?.[1] ?? 0);
        return i % 100 === 1 ? 'nxdomain' : i % 100 === 2 ? 'silent' : { answer: address(i) };
      },
    });
    const base = { dynamo: dynamo.endpoint, table: TABLE, sqs: aws.url, planFile };
    try {
      const plan = await invocation({ ...base, kind: 'plan', nowMs: t0 + 18 * HOUR });
      console.log(
        `  planning invocation: ${num(plan.seconds, 2)} s (run recorded with ${plan.shards} shards, ${plan.shards} messages queued), ` +
          `peak RSS ${num(plan.peakRssMb, 0)} MB: ${pct(plan.seconds, DISPATCHER_TIMEOUT_S)} of the ${DISPATCHER_TIMEOUT_S} s timeout, ` +
          `${pct(plan.peakRssMb, DISPATCHER_MEMORY_MB)} of ${DISPATCHER_MEMORY_MB} MB`,
      );
      const samples = Math.min(bundle.plan.shards.length, Number(values['shard-samples']));
      const picks = [
        ...new Set(
          Array.from({ length: samples }, (_, k) => Math.floor((k * bundle.plan.shards.length) / samples)),
        ),
      ];
      for (const [label, dnsServer] of [
        ['DNS stubbed', undefined],
        [`loopback DNS (${DNS_LATENCY_MS} ms, 1% NXDOMAIN, 1% silent, probe timeout 10 s)`, dns.server],
      ] as const) {
        const rows: Array<Record<string, number>> = [];
        for (const shard of picks) {
          const r = await invocation({
            ...base,
            kind: 'shard',
            nowMs: t0 + 18 * HOUR,
            inventoryFile,
            shard,
            runId: String(plan.runId),
            dispatchedAt: String(plan.startedAt),
            ...(dnsServer === undefined ? {} : { dnsServer }),
          });
          rows.push(r);
          console.log(
            `  shard ${shard} (${r.endpoints} endpoints), ${label}: ${num(r.seconds, 1)} s ` +
              `(load ${num(r.loadSeconds, 2)} s; sync, DNS and record ${num(r.secondsToFirstMessage, 1)} s; ` +
              `send ${num(r.secondsSending, 1)} s, ${r.messages} messages in ${r.sqsBatchCalls} calls; ${r.dnsFailures} DNS failures), ` +
              `peak RSS ${num(r.peakRssMb, 0)} MB`,
          );
        }
        const worst = (k: string) => Math.max(...rows.map((r) => r[k] ?? 0));
        console.log(
          `  per shard invocation, ${label}: at most ${num(worst('seconds'), 1)} s (${pct(worst('seconds'), DISPATCHER_TIMEOUT_S)} of ${DISPATCHER_TIMEOUT_S} s), ` +
            `peak RSS at most ${num(worst('peakRssMb'), 0)} MB (${pct(worst('peakRssMb'), DISPATCHER_MEMORY_MB)} of ${DISPATCHER_MEMORY_MB} MB)`,
        );
      }
      console.log(
        `  loopback DNS: ${dns.stats.queries} queries, ${dns.stats.answered} answered, ${dns.stats.nxdomain} NXDOMAIN, ` +
          `${dns.stats.silent} left unanswered, ${dns.stats.dropped} dropped`,
      );
    } catch (error) {
      console.log(`  dispatcher invocations: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    } finally {
      clearInterval(forget);
      await dns.close();
      await aws.close();
      rmSync(inventoryFile, { force: true });
      rmSync(planFile, { force: true });
    }
  } finally {
    clients.destroy();
    await dynamo.close();
  }

  /** Runs one dispatcher invocation (bench/dispatch-memory.ts) in a capped child process; its JSON line. */
  async function invocation(args: ChildArgs): Promise<Record<string, number>> {
    const child = spawn(
      process.execPath,
      [
        // Lambda's Node.js sizes the old generation from the function's memory; give the child the same ceiling.
        `--max-old-space-size=${Math.floor(DISPATCHER_MEMORY_MB * 0.9)}`,
        '--import',
        'tsx',
        join(__dirname, 'dispatch-memory.ts'),
        JSON.stringify(args),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AWS_REGION: 'us-east-1' } },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const line = out
      .trim()
      .split('\n')
      .find((l) => l.startsWith('{'));
    if (code !== 0 || line === undefined)
      throw new Error(`the ${args.kind} invocation failed within ${DISPATCHER_MEMORY_MB} MB (exit ${code})`);
    return JSON.parse(line) as Record<string, number>;
  }

  /** Adds every check of the run to its counter shards (as the checkers would), except those of `skipShard`. */
  async function completeCounters(
    runId: string,
    keys: readonly string[],
    daysLeft: (i: number) => number | null,
    skipShard: number | null,
  ): Promise<void> {
    const perShard = new Map<number, { completed: number; buckets: Map<string, number> }>();
    keys.forEach((key, i) => {
      const shard = itemKeys.shardOfKey(key);
      if (shard === skipShard) return;
      const row = perShard.get(shard) ?? { completed: 0, buckets: new Map() };
      row.completed++;
      const b = daysBucket(daysLeft(i));
      row.buckets.set(b, (row.buckets.get(b) ?? 0) + 1);
      perShard.set(shard, row);
    });
    for (const [shard, row] of perShard) {
      // Counter item `shard` holds the count of address shard `shard` (`c<nn>`), as checkers' writes would add up.
      const names: Record<string, string> = { '#c': `c${String(shard).padStart(2, '0')}` };
      const vals: Record<string, number> = { ':c': row.completed };
      const adds = ['#c :c'];
      [...row.buckets].forEach(([bucket, count], j) => {
        names[`#b${j}`] = bucket;
        vals[`:b${j}`] = count;
        adds.push(`#b${j} :b${j}`);
      });
      await clients.documentClient.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: itemKeys.runShard(runId, shard),
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: vals,
        }),
      );
    }
  }
}

/** DynamoDB Local in memory with a `heapMb` heap, on a free loopback port; stopped by `close()`. */
async function startBigDynamoDbLocal(heapMb: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const dir = dynamoDbLocalDir();
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      `-Xmx${heapMb}m`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: 'ignore', env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  process.once('exit', () => child.kill('SIGKILL'));
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = createDocumentClient(endpoint);
  try {
    for (let attempt = 0; attempt < 300; attempt++) {
      try {
        await probe.client.send(new ListTablesCommand({ Limit: 1 }));
        return { endpoint, close };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    probe.destroy();
  }
  await close();
  throw new Error(`DynamoDB Local (${heapMb} MB heap) did not answer on port ${port}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
