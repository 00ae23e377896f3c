/**
 * Child process of `npm run bench:scale`: one dispatcher invocation, alone in a process whose old
 * generation is capped as Lambda caps it, for its time and peak memory. Two kinds, as deployed:
 * - `plan`: the scheduled invocation. Reads the dispatch plan file, records the run with its shards
 *   (`startRun`) and sends one message per shard through `SqsJsonQueue` to the loopback SQS stand-in.
 * - `shard`: one dispatch-shard invocation. Reads that shard's gzip member of the inventory file
 *   through the handler's reader, then `dispatchShard` against the seeded table: sync of its key
 *   ranges, DNS (stubbed, or `resolveAddresses` asking the given DNS server, as the handler's default
 *   resolver does), its checks recorded, sent through `SqsCheckQueue` to the stand-in.
 * Prints one JSON line with the phases' seconds and the peak RSS (VmHWM) and heap, in MB.
 *
 * Usage: node --import tsx bench/dispatch-memory.ts '<json: ChildArgs>'
 */
import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readDispatchPlanFile, readInventoryFile } from '../lambdas/handlers/runtime/inventory-file';
import type { CheckMessage, CheckQueue } from '../lambdas/pipeline/check-message';
import { type DispatchShardMessage, dispatchShard, startRun } from '../lambdas/pipeline/dispatch-run';
import { resolveAddresses } from '../lambdas/probe/resolve-addresses';
import { SqsCheckQueue, SqsJsonQueue } from '../lambdas/queue/sqs-check-queue';
import { createDocumentClient } from '../lambdas/store/dynamodb-client';
import { DynamoDbStateStore } from '../lambdas/store/dynamodb-state-store';

/** What the bench hands the child (one JSON argument). */
export type ChildArgs = {
  readonly dynamo: string;
  readonly table: string;
  readonly sqs: string;
  readonly nowMs: number;
  readonly planFile: string;
} & (
  | { readonly kind: 'plan' }
  | {
      readonly kind: 'shard';
      readonly inventoryFile: string;
      readonly shard: number;
      readonly runId: string;
      readonly dispatchedAt: string;
      /** Ask this DNS server (`ip:port`); absent: a stub answers at once. */
      readonly dnsServer?: string;
    }
);

/** Counts what goes through `queue` and notes when the first message went. */
class TimedQueue implements CheckQueue {
  sent = 0;
  firstSendAt: number | null = null;
  constructor(private readonly queue: CheckQueue) {}
  async sendAll(messages: readonly CheckMessage[]): Promise<void> {
    this.firstSendAt ??= performance.now();
    await this.queue.sendAll(messages);
    this.sent += messages.length;
  }
}

function peakRssMb(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024;
}

/** host-0001234.example resolves to the address the bench seeded for endpoint 1234. */
export function seededAddress(host: string): string {
  const i = Number(/host-(\d+)\./.exec(host)?.[1] ?? 0);
  return `198.51.${(i >> 8) & 255}.${i & 255}`;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  const clients = createDocumentClient(args.dynamo);
  const store = new DynamoDbStateStore({ client: clients.documentClient, tableName: args.table });
  const sqsClient = new SQSClient({
    region: 'us-east-1',
    endpoint: args.sqs,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const now = () => new Date(args.nowMs);
  const started = performance.now();
  const plan = readDispatchPlanFile(args.planFile);
  try {
    if (args.kind === 'plan') {
      const shardQueue = new SqsJsonQueue<DispatchShardMessage>({
        client: sqsClient,
        queueUrl: `${args.sqs}/123456789012/certwatch-dispatch`,
      });
      const { runId, startedAt } = await startRun({ store, now }, plan.shards);
      await shardQueue.sendAll(
        plan.shards.map((_, shard) => ({ v: 1 as const, runId, shard, dispatchedAt: startedAt })),
      );
      console.log(
        JSON.stringify({
          runId,
          startedAt,
          shards: plan.shards.length,
          seconds: (performance.now() - started) / 1000,
          peakRssMb: peakRssMb(),
          heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
        }),
      );
      return;
    }
    const shard = plan.shards[args.shard];
    if (shard === undefined) throw new Error(`no shard ${args.shard} in the plan`);
    const endpoints = await readInventoryFile(args.inventoryFile, undefined, shard);
    const loaded = performance.now();
    const sqs = new SqsCheckQueue({
      client: sqsClient,
      queueUrl: `${args.sqs}/123456789012/certwatch-checks`,
    });
    const queue = new TimedQueue(sqs);
    const { dnsServer } = args;
    const result = await dispatchShard(
      {
        store,
        queue,
        now,
        resolve:
          dnsServer === undefined
            ? async (host) => ({ addresses: [seededAddress(host)] })
            : async (host, timeoutMs) => {
                const r = await resolveAddresses(host, { timeoutMs, dnsServers: [dnsServer] });
                return r.ok ? { addresses: r.addresses.map((a) => a.address) } : { error: r.error.message };
              },
      },
      {
        runId: args.runId,
        dispatchedAt: args.dispatchedAt,
        index: args.shard,
        segments: shard.segments,
        endpoints,
      },
    );
    const ended = performance.now();
    console.log(
      JSON.stringify({
        shard: args.shard,
        endpoints: endpoints.length,
        expected: result.expected,
        dnsFailures: result.dnsFailures,
        unchanged: result.inventory.unchanged,
        messages: queue.sent,
        sqsBatchCalls: sqs.batchCalls,
        loadSeconds: (loaded - started) / 1000,
        secondsToFirstMessage: ((queue.firstSendAt ?? ended) - loaded) / 1000,
        secondsSending: (ended - (queue.firstSendAt ?? ended)) / 1000,
        seconds: (ended - started) / 1000,
        peakRssMb: peakRssMb(),
        heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
      }),
    );
  } finally {
    clients.destroy();
    sqsClient.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
