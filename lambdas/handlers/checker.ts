/**
 * Checker Lambda (SQS): one address check per record, reported as partial
 * batch failures so only a failing record is retried (and, after three
 * receives, lands in the DLQ, which pages).
 */
import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadTrustStore } from '../cert/trust-store';
import { mapWithConcurrency } from '../core/concurrency';
import { MetricDimensions, MetricNames } from '../core/metric-names';
import * as d from '../core/decode';
import type { Alert, SnsChannel } from '../core/model';
import { severity } from '../core/model-decoders';
import { createNotifier } from '../notify/notifiers';
import { deliverAlerts } from '../notify/deliver-alerts';
import { parseCheckMessage } from '../pipeline/check-message';
import { type AlertSink, processCheck } from '../pipeline/process-check';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { jsonEnv, numberEnv, optionalEnv, requiredEnv } from './runtime/env';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('checker');
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
  historyTtlDays: numberEnv('HISTORY_TTL_DAYS', 90),
});
const trust = loadTrustStore({});
const sns = new SNSClient({});
const perEndpointMetrics = optionalEnv('PER_ENDPOINT_METRICS') !== 'false';
const ALERT_TOPIC = 'alert-topic';
// Every alert goes to the stack's topic (email, SMS and the chat notifier subscribe there);
// extra SNS channels from the config get what routes to them.
const topicNotifier = createNotifier(
  { type: 'sns', name: ALERT_TOPIC, topicArn: requiredEnv('ALERT_TOPIC_ARN'), minSeverity: 'info' },
  { sns },
);
const snsChannels = d.array(d.object({ name: d.string, topicArn: d.string, minSeverity: severity }));
const extraNotifiers = jsonEnv('SNS_CHANNELS', snsChannels, []).map((c) =>
  createNotifier({ type: 'sns', ...c } satisfies SnsChannel, { sns }),
);

const sink: AlertSink = {
  async deliver(alert: Alert, channels) {
    const results = [];
    if (channels === null || channels.includes(ALERT_TOPIC)) {
      results.push(...(await deliverAlerts([{ ...alert, channels: [] }], [topicNotifier])));
    }
    const extras =
      channels === null ? extraNotifiers : extraNotifiers.filter((n) => channels.includes(n.channel.name));
    results.push(...(await deliverAlerts([alert], extras)));
    return results;
  },
};

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: SQSBatchItemFailure[] = [];
  await mapWithConcurrency(
    event.Records,
    10,
    async (record) => {
      const msg = parseCheckMessage(record.body);
      if (typeof msg === 'string') {
        // Retrying cannot fix it; failing it sends it to the DLQ, whose alarm pages.
        log.error('invalid check message', { messageId: record.messageId, reason: msg });
        failures.push({ itemIdentifier: record.messageId });
        return;
      }
      const outcome = await processCheck({ store, sink, trust, now: () => new Date() }, msg);
      const failed = outcome.deliveries.filter((d) => !d.ok);
      log.info('check processed', {
        runId: msg.runId,
        endpointId: msg.endpointId,
        address: msg.address,
        outcome: outcome.status,
        status: outcome.result?.status,
        daysLeft: outcome.result?.daysLeft,
        findings: outcome.result?.findings.map((f) => f.code),
        alerts: outcome.alerts.map((a) => ({ id: a.id, kind: a.kind, severity: a.severity })),
        failedDeliveries: failed,
      });
      const metrics = [
        { name: MetricNames.ChecksCompleted, value: outcome.status === 'checked' ? 1 : 0 },
        { name: MetricNames.AlertsPublished, value: outcome.deliveries.filter((d) => d.ok).length },
        { name: MetricNames.DeliveryFailures, value: failed.length },
      ];
      emitMetrics(metrics);
      const daysLeft = outcome.result?.daysLeft;
      // One custom metric per endpoint ($0.30/month each); the config can turn it off for large inventories.
      if (perEndpointMetrics && daysLeft !== null && daysLeft !== undefined) {
        emitMetrics([{ name: MetricNames.DaysToExpiry, value: daysLeft, unit: 'None' }], {
          [MetricDimensions.Endpoint]: msg.endpointId,
        });
      }
      // Undelivered alerts stay in the state's outbox; a redelivery of this record sends them.
      if (failed.length > 0) failures.push({ itemIdentifier: record.messageId });
    },
    (error, record) => {
      log.error('check failed', { messageId: record.messageId, error });
      failures.push({ itemIdentifier: record.messageId });
    },
  );
  return { batchItemFailures: failures };
}
