/**
 * `npm run bench:dispatch`: the dispatcher's work for N endpoints (default
 * 100,000) against DynamoDB Local, with SQS calls counted by a loopback
 * stand-in. Runs the dispatch twice: the first syncs the whole inventory
 * (every endpoint is a write), the second is the steady state (nothing
 * changed). Endpoints are IP literals in TEST-NET-1, so no DNS and no
 * connection is ever made; only the dispatch path is measured.
 *
 * Usage: npm run bench:dispatch -- [--endpoints 100000]
 */
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Endpoint } from '../lambdas/core/model';
import { dispatchRun } from '../lambdas/pipeline/dispatch-run';
import { SqsCheckQueue } from '../lambdas/queue/sqs-check-queue';
import { createDocumentClient } from '../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../lambdas/store/dynamodb-state-store';
import { startDynamoDbLocal } from '../test/support/dynamodb-local';
import { startFakeAws } from '../test/support/fake-aws';

const { values } = parseArgs({ options: { endpoints: { type: 'string', default: '100000' } } });
const N = Number(values.endpoints);

function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => {
    const host = `192.0.2.${(i % 254) + 1}`;
    const port = 1024 + Math.floor(i / 254);
    return {
      id: `${host}:${port}`,
      host,
      port,
      name: `${host}:${port}`,
      owner: null,
      tags: [],
      channels: [],
      timeoutMs: 10_000,
      policy: {
        thresholdsDays: [30, 14, 7, 3, 1],
        expiry: { warnDays: 30, criticalDays: 7 },
        failuresBeforeAlert: 2,
        renotifyIntervalMs: 86_400_000,
      },
    };
  });
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dynamo = await startDynamoDbLocal();
  const aws = await startFakeAws();
  const clients = createDocumentClient(dynamo.endpoint);
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: aws.url,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await ensureTable(clients.client, 'certwatch-bench');
    const store = new DynamoDbStateStore({ client: clients.documentClient, tableName: 'certwatch-bench' });
    const inventory = endpoints(N);
    console.log(
      `dispatch benchmark: ${N} endpoints, DynamoDB Local at ${dynamo.endpoint}, SQS stand-in at ${aws.url}`,
    );
    for (const label of [
      'first run (inventory sync writes every endpoint)',
      'steady state (inventory unchanged)',
    ]) {
      const queue = new SqsCheckQueue({ client: sqs, queueUrl: `${aws.url}/123456789012/checks` });
      const sentBefore = aws.sent.length;
      const started = performance.now();
      const result = await dispatchRun({ store, queue, now: () => new Date() }, inventory);
      const ms = performance.now() - started;
      console.log(
        `  ${label}: ${(ms / 1000).toFixed(1)} s; inventory +${result.inventory.added} ~${result.inventory.updated} ` +
          `=${result.inventory.unchanged}; ${aws.sent.length - sentBefore} messages in ${queue.batchCalls} SendMessageBatch calls`,
      );
    }
    console.log(
      `  peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; dispatcher Lambda timeout: 900 s`,
    );
  } finally {
    sqs.destroy();
    clients.destroy();
    await aws.close();
    await dynamo.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
