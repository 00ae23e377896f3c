/**
 * Watchdog Lambda (scheduled): judges each run once its deadline has passed
 * (WATCHDOG_GRACE_MS after its start, unless the run recorded its own), pages
 * ops with the endpoints that were not checked, reports stale endpoints, and pings the
 * external heartbeat and writes the HTML report to the report bucket after each complete run.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import * as d from '../core/decode';
import { MetricNames } from '../core/metric-names';
import { createNotifier } from '../notify/notifiers';
import { runWatchdog } from '../pipeline/watchdog';
import { renderReport } from '../report/render-report';
import { gatherReport } from '../report/report-data';
import { REPORT_BUCKET_ENV, REPORT_CONTENT_TYPE, REPORT_OBJECT_KEY } from '../report/report-object';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { jsonEnv, numberEnv, requiredEnv } from './runtime/env';
import { resolveSecret, secretReference } from './runtime/secrets';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('watchdog');
const tableName = requiredEnv('TABLE_NAME');
const store = new DynamoDbStateStore({ client: createDocumentClient().documentClient, tableName });
const reportBucket = requiredEnv(REPORT_BUCKET_ENV);
const s3 = new S3Client({});
const ops = createNotifier(
  { type: 'sns', name: 'ops-topic', topicArn: requiredEnv('OPS_TOPIC_ARN'), minSeverity: 'info' },
  { sns: new SNSClient({}) },
);
const intervalMs = numberEnv('SCHEDULE_INTERVAL_MS', 6 * 3_600_000);
const graceMs = numberEnv('WATCHDOG_GRACE_MS', 15 * 60_000);
const heartbeatRef = jsonEnv('HEARTBEAT', d.nullable(secretReference), null);

async function pingHeartbeat(): Promise<void> {
  if (!heartbeatRef) return;
  const url = await resolveSecret(heartbeatRef, 'heartbeatUrl');
  const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`heartbeat answered HTTP ${res.status}`);
}

/** Writes the report page over the previous one (the bucket keeps old versions for a while). */
async function publishReport(now: Date): Promise<void> {
  // Bounded: the soonest rows from the expiry index, not every state (a 1M-address table is ~1 GB).
  const data = await gatherReport(store, { source: `DynamoDB table ${tableName}`, now, bounded: true });
  await s3.send(
    new PutObjectCommand({
      Bucket: reportBucket,
      Key: REPORT_OBJECT_KEY,
      Body: renderReport(data),
      ContentType: REPORT_CONTENT_TYPE,
      CacheControl: 'no-store',
    }),
  );
  log.info('report written', { bucket: reportBucket, key: REPORT_OBJECT_KEY, rows: data.rows.length });
}

export async function handler(
  _event: unknown,
  context?: { readonly awsRequestId?: string },
): Promise<{ judged: number; stale: number; quietedStale: number; report: boolean }> {
  const report = await runWatchdog(
    {
      store,
      now: () => new Date(),
      // Names this invocation in the judgement claim: of two overlapping invocations one judges each run.
      ...(context?.awsRequestId ? { judge: `watchdog-${context.awsRequestId}` } : {}),
      page: async (alert) => {
        const r = await ops.send(alert);
        if (!r.ok) throw new Error(`paging ops failed: ${r.error}`);
      },
      heartbeat: pingHeartbeat,
      publishReport,
      // A stale endpoint in a running maintenance window (or under a silence) is reported, not paged.
      suppressions: store.suppressions(),
    },
    { intervalMs, graceMs },
  );
  for (const j of report.judged) {
    // A broken detector fails the run; the canary paged it already (and CanaryFailures alarms).
    log[j.verdict === 'complete' ? 'info' : 'error']('run judged', {
      runId: j.runId,
      verdict: j.verdict,
      expected: j.expected,
      completed: j.completed,
      unchecked: j.unchecked.map((e) => e.id),
      ...(j.detectorBroken ? { detectorBroken: j.detectorBroken } : {}),
    });
    emitMetrics([
      { name: MetricNames.RunExpected, value: j.expected },
      { name: MetricNames.RunCompleted, value: j.completed },
      { name: MetricNames.UncheckedAddresses, value: Math.max(j.expected - j.completed, j.unchecked.length) },
    ]);
  }
  if (report.stale.length > 0) log.error('stale endpoints', { stale: report.stale });
  if (report.quietedStale.length > 0) {
    log.info('stale endpoints quieted', {
      quietedStale: report.quietedStale.map((e) => ({
        id: e.id,
        by: e.by.kind,
        window: e.by.name,
        until: e.by.until,
      })),
    });
  }
  // From the run's counter shards: no read of every state, no spread over them.
  const soonest = report.soonestDaysLeft;
  // Every tick: its silence is the "watchdog is down" signal of the StaleEndpoints alarm. The soonest
  // expiry changes only with a run's checks, so it goes out with the run's judgement: CloudWatch bills a
  // custom metric for each hour it is sent in (METRIC_CADENCE).
  emitMetrics([
    { name: MetricNames.StaleEndpoints, value: report.stale.length },
    ...(soonest !== null && report.judged.length > 0
      ? [{ name: MetricNames.SoonestDaysToExpiry, value: soonest, unit: 'None' as const }]
      : []),
  ]);
  // After the metrics: a failed report write fails the invocation (the watchdog-errors alarm), not the judgements.
  if (report.reportError !== null) {
    log.error('report not written', { bucket: reportBucket, error: report.reportError });
    throw new Error(`report not written to s3://${reportBucket}/${REPORT_OBJECT_KEY}: ${report.reportError}`);
  }
  return {
    judged: report.judged.length,
    stale: report.stale.length,
    quietedStale: report.quietedStale.length,
    report: report.reportPublished,
  };
}
