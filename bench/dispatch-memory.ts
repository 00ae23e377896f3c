/**
 * Child process of `npm run bench:scale`: the dispatcher's memory with the whole inventory, measured
 * in a process of its own (the bench process holds its seeded endpoints besides).
 *
 * As the deployed dispatcher does: streams the inventory file (gzip NDJSON, as the stack bundles it)
 * through the handler's reader, and runs `dispatchRun` against the seeded table. DNS is stubbed. With an SQS
 * endpoint (the loopback stand-in, test/support/fake-aws.ts) the messages go through `SqsCheckQueue` as
 * deployed; without, the queue groups them into SendMessageBatch-sized batches without sending them.
 * Prints a JSON line when the inventory is loaded (`loaded`: peak RSS so far), then one with the
 * whole run's peak RSS (VmHWM) and heap, in MB, and the time to the first message (inventory sync,
 * DNS, the run recorded) and of the sending.
 *
 * Usage: node --import tsx bench/dispatch-memory.ts <inventory.ndjson.gz> <dynamodb-endpoint> <table> <now-ms> [sqs-endpoint]
 */
import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readInventoryFile } from '../lambdas/handlers/runtime/inventory-file';
import type { CheckMessage, CheckQueue } from '../lambdas/pipeline/check-message';
import { dispatchRun } from '../lambdas/pipeline/dispatch-run';
import { createDocumentClient } from '../lambdas/store/dynamodb-client';
import { DynamoDbStateStore } from '../lambdas/store/dynamodb-state-store';
import { SqsCheckQueue } from '../lambdas/queue/sqs-check-queue';

/** Batches of 10 as SqsCheckQueue makes them; counts instead of sending. */
class BatchingCountingQueue implements CheckQueue {
  sent = 0;
  async sendAll(messages: readonly CheckMessage[]): Promise<void> {
    const batches: CheckMessage[][] = [];
    for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
    for (const batch of batches) this.sent += batch.length;
  }
}

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

async function main(): Promise<void> {
  const [file, dynamoEndpoint, table, nowMs, sqsEndpoint] = process.argv.slice(2);
  if (!file || !dynamoEndpoint || !table || !nowMs)
    throw new Error('usage: <inventory.ndjson.gz> <endpoint> <table> <now-ms>');
  const loadStarted = performance.now();
  const endpoints = await readInventoryFile(file);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const afterLoad = peakRssMb();
  // Written before the dispatch, so a dispatch that runs out of memory still reports what loading took.
  console.log(
    JSON.stringify({
      loaded: endpoints.length,
      loadSeconds,
      peakRssMbAfterLoad: afterLoad,
      heapUsedMbAfterLoad: process.memoryUsage().heapUsed / 1024 / 1024,
    }),
  );
  const clients = createDocumentClient(dynamoEndpoint);
  const store = new DynamoDbStateStore({ client: clients.documentClient, tableName: table });
  const sqs =
    sqsEndpoint === undefined
      ? null
      : new SqsCheckQueue({
          client: new SQSClient({
            region: 'us-east-1',
            endpoint: sqsEndpoint,
            credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
          }),
          queueUrl: `${sqsEndpoint}/123456789012/certwatch-checks`,
        });
  const queue = new TimedQueue(sqs ?? new BatchingCountingQueue());
  // host-0001234.example resolves to the address the bench seeded for endpoint 1234.
  const addressOf = (host: string) => {
    const i = Number(/host-(\d+)\./.exec(host)?.[1] ?? 0);
    return `198.51.${(i >> 8) & 255}.${i & 255}`;
  };
  const started = performance.now();
  const result = await dispatchRun(
    {
      store,
      queue,
      now: () => new Date(Number(nowMs)),
      resolve: async (host) => ({ addresses: [addressOf(host)] }),
    },
    endpoints,
  );
  const ended = performance.now();
  clients.destroy();
  console.log(
    JSON.stringify({
      endpoints: endpoints.length,
      messages: queue.sent,
      sqsBatchCalls: sqs?.batchCalls ?? null,
      secondsToFirstMessage: ((queue.firstSendAt ?? ended) - started) / 1000,
      secondsSending: (ended - (queue.firstSendAt ?? ended)) / 1000,
      unchanged: result.inventory.unchanged,
      seconds: (ended - started) / 1000,
      loadSeconds,
      peakRssMbAfterLoad: afterLoad,
      peakRssMb: peakRssMb(),
      heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
