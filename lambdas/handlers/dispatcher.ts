/**
 * Dispatcher Lambda, two entry points in one function:
 * - invoked by EventBridge Scheduler: records the run once, with the dispatch shards of the plan
 *   bundled beside the function, and sends one message per shard to the dispatch-shard queue;
 * - invoked by that queue (batch size 1): dispatches one shard (sync its part of the inventory,
 *   resolve its names, record its checks, enqueue them), reading only that shard's endpoints.
 * Neither's time nor memory grows with the inventory beyond one shard (`dispatch-plan.ts`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricNames } from '../core/metric-names';
import {
  type DispatchShardMessage,
  dispatchShard,
  parseDispatchShardMessage,
  startRun,
} from '../pipeline/dispatch-run';
import { SqsCheckQueue, SqsJsonQueue } from '../queue/sqs-check-queue';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { requiredEnv } from './runtime/env';
import { readDispatchPlanFile, readInventoryFile } from './runtime/inventory-file';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('dispatcher');
const inventoryPath = join(__dirname, requiredEnv('CONFIG_FILE'));
const planPath = join(__dirname, requiredEnv('DISPATCH_PLAN_FILE'));
const plan = readDispatchPlanFile(planPath);
// Which plan a shard message was made from: shards are read by index, so both ends must have the same one.
const planDigest = createHash('sha256').update(readFileSync(planPath)).digest('base64url').slice(0, 16);
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
});
const sqs = new SQSClient({});
const queue = new SqsCheckQueue({ client: sqs, queueUrl: requiredEnv('QUEUE_URL') });
const shardQueue = new SqsJsonQueue<DispatchShardMessage>({
  client: sqs,
  queueUrl: requiredEnv('DISPATCH_QUEUE_URL'),
  noun: 'dispatch shard messages',
});

interface SqsEvent {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

function isSqsEvent(event: unknown): event is SqsEvent {
  return (
    event !== null && typeof event === 'object' && Array.isArray((event as { Records?: unknown }).Records)
  );
}

export async function handler(
  event: unknown,
): Promise<{ runId: string; shards: number } | { batchItemFailures: { itemIdentifier: string }[] }> {
  return isSqsEvent(event) ? dispatchShards(event) : planRun();
}

/** The scheduled invocation: the run is recorded once, then each shard is queued. */
async function planRun(): Promise<{ runId: string; shards: number }> {
  const started = Date.now();
  const { runId, startedAt } = await startRun({ store, now: () => new Date() }, plan.shards);
  await shardQueue.sendAll(
    plan.shards.map((_, shard) => ({
      v: 1 as const,
      runId,
      shard,
      dispatchedAt: startedAt,
      plan: planDigest,
    })),
  );
  log.info('run started', {
    runId,
    shards: plan.shards.length,
    endpoints: plan.shards.reduce((n, s) => n + s.endpoints, 0),
    durationMs: Date.now() - started,
  });
  emitMetrics([{ name: MetricNames.DispatchSucceeded, value: 1 }]);
  return { runId, shards: plan.shards.length };
}

/**
 * Shard invocations (batch size 1): a failed shard is retried by SQS, then parked in the DLQ. When
 * every record failed the invocation fails, so the dispatcher's error alarm sees it at once (a
 * retry waits out the queue's visibility timeout); otherwise the failed ones are reported.
 */
async function dispatchShards(event: SqsEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const started = Date.now();
    const message = parseDispatchShardMessage(record.body);
    const problem =
      typeof message === 'string'
        ? message
        : message.plan !== undefined && message.plan !== planDigest
          ? `made from plan ${message.plan}, the bundled plan is ${planDigest} (a deployment since the run started)`
          : plan.shards[message.shard] === undefined
            ? `no shard ${message.shard} in the bundled plan`
            : null;
    const shard = typeof message === 'string' ? undefined : plan.shards[message.shard];
    if (typeof message === 'string' || shard === undefined || problem !== null) {
      // Not retried: it would fail alike. The shard stays unrecorded, so the watchdog pages the run incomplete.
      log.error('dispatch shard message dropped', { messageId: record.messageId, reason: problem });
      continue;
    }
    try {
      const endpoints = await readInventoryFile(inventoryPath, undefined, shard);
      const result = await dispatchShard(
        { store, queue, now: () => new Date(), suppressions: store.suppressions() },
        {
          runId: message.runId,
          dispatchedAt: message.dispatchedAt,
          index: message.shard,
          segments: shard.segments,
          endpoints,
        },
      );
      log.info('shard dispatched', {
        runId: message.runId,
        shard: message.shard,
        endpoints: result.endpoints,
        expected: result.expected,
        dnsFailures: result.dnsFailures,
        inventory: result.inventory,
        durationMs: Date.now() - started,
      });
      emitMetrics([{ name: MetricNames.ChecksDispatched, value: result.expected }]);
    } catch (error) {
      log.error('dispatch shard failed', {
        runId: message.runId,
        shard: message.shard,
        error: error instanceof Error ? error.message : String(error),
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      if (batchItemFailures.length === event.Records.length) throw error;
    }
  }
  return { batchItemFailures };
}
