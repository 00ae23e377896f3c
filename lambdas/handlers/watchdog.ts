/**
 * Watchdog Lambda (scheduled): judges each run once its deadline has passed
 * (WATCHDOG_GRACE_MS after its start, unless the run recorded its own), pages
 * ops with the endpoints that were not checked, reports stale endpoints, and pings the
 * external heartbeat after each complete run.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import * as d from '../core/decode';
import { MetricNames } from '../core/metric-names';
import { createNotifier } from '../notify/notifiers';
import { runWatchdog } from '../pipeline/watchdog';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { jsonEnv, numberEnv, requiredEnv } from './runtime/env';
import { resolveSecret, secretReference } from './runtime/secrets';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('watchdog');
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
});
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

export async function handler(
  _event: unknown,
  context?: { readonly awsRequestId?: string },
): Promise<{ judged: number; stale: number }> {
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
    },
    { intervalMs, graceMs },
  );
  for (const j of report.judged) {
    log[j.complete ? 'info' : 'error']('run judged', {
      runId: j.runId,
      expected: j.expected,
      completed: j.completed,
      unchecked: j.unchecked.map((e) => e.id),
    });
    emitMetrics([
      { name: MetricNames.RunExpected, value: j.expected },
      { name: MetricNames.RunCompleted, value: j.completed },
      { name: MetricNames.UncheckedAddresses, value: Math.max(j.expected - j.completed, j.unchecked.length) },
    ]);
  }
  if (report.stale.length > 0) log.error('stale endpoints', { stale: report.stale });
  const states = await store.listAllAddressStates();
  const soonest = Math.min(...states.map((s) => s.state.daysLeft ?? Number.POSITIVE_INFINITY));
  emitMetrics([
    { name: MetricNames.StaleEndpoints, value: report.stale.length },
    ...(Number.isFinite(soonest)
      ? [{ name: MetricNames.SoonestDaysToExpiry, value: soonest, unit: 'None' as const }]
      : []),
  ]);
  return { judged: report.judged.length, stale: report.stale.length };
}
