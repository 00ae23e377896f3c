/**
 * Dispatcher Lambda (EventBridge Scheduler): syncs the inventory bundled with
 * the function, records the run and enqueues one check per address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as d from '../core/decode';
import { MetricNames } from '../core/metric-names';
import type { Endpoint } from '../core/model';
import { endpoint } from '../core/model-decoders';
import { dispatchRun } from '../pipeline/dispatch-run';
import { SqsCheckQueue } from '../queue/sqs-check-queue';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { ConfigurationError, requiredEnv } from './runtime/env';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('dispatcher');
const endpoints = loadEndpoints(requiredEnv('CONFIG_FILE'));
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
});
const queue = new SqsCheckQueue({ client: new SQSClient({}), queueUrl: requiredEnv('QUEUE_URL') });

function loadEndpoints(file: string): Endpoint[] {
  const path = join(__dirname, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`cannot read the bundled inventory ${path}: ${String(error)}`);
  }
  const decoded = d.decode(d.array(endpoint), parsed);
  if (!decoded.ok) {
    const { field, problem } = decoded.failure;
    throw new ConfigurationError(`bundled inventory ${path}: ${field}: ${problem}`);
  }
  return decoded.value;
}

export async function handler(_event: unknown): Promise<{ runId: string; expected: number }> {
  const started = Date.now();
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
