/**
 * Dispatcher Lambda (EventBridge Scheduler): syncs the inventory bundled with
 * the function, records the run and enqueues one check per address.
 */
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricNames } from '../core/metric-names';
import type { Endpoint } from '../core/model';
import { dispatchRun } from '../pipeline/dispatch-run';
import { SqsCheckQueue } from '../queue/sqs-check-queue';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { requiredEnv } from './runtime/env';
import { readInventoryFile } from './runtime/inventory-file';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('dispatcher');
// Read once per cold start, as a stream (bench:scale's million endpoints: 5 MB of gzip, 62 MB of text).
const loading = readInventoryFile(join(__dirname, requiredEnv('CONFIG_FILE')));
// A bad file fails the cold start's first invocation, not an unhandled rejection before it.
loading.catch(() => {});
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
});
const queue = new SqsCheckQueue({ client: new SQSClient({}), queueUrl: requiredEnv('QUEUE_URL') });

export async function handler(_event: unknown): Promise<{ runId: string; expected: number }> {
  const started = Date.now();
  const endpoints: readonly Endpoint[] = await loading;
  // Each message carries the maintenance windows and silences covering its endpoint (one read per run).
  const result = await dispatchRun(
    { store, queue, now: () => new Date(), suppressions: store.suppressions() },
    endpoints,
  );
  log.info('run dispatched', {
    runId: result.runId,
    endpoints: result.endpoints,
    expected: result.expected,
    dnsFailures: result.dnsFailures,
    inventory: result.inventory,
    sqsBatchCalls: queue.batchCalls,
    durationMs: Date.now() - started,
  });
  emitMetrics([
    { name: MetricNames.DispatchSucceeded, value: 1 },
    { name: MetricNames.ChecksDispatched, value: result.expected },
  ]);
  return { runId: result.runId, expected: result.expected };
}
