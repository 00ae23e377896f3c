/**
 * Checker Lambda (SQS): one address check per record, reported as partial
 * batch failures so only a failing record is retried (and, after three
 * receives, lands in the DLQ, which pages).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { TrustStores } from '../cert/trust-store';
import { mapWithConcurrency } from '../core/concurrency';
import { MetricDimensions, MetricNames } from '../core/metric-names';
import * as d from '../core/decode';
import type { Alert, SnsChannel, TrustProfile } from '../core/model';
import { severity, trustProfile } from '../core/model-decoders';
import type { Notifier } from '../channels/channel-notifier';
import { snsNotifier } from '../channels/sns-notifier';
import { deliverAlerts, routesTo } from '../notify/deliver-alerts';
import { parseCheckMessage } from '../pipeline/check-message';
import { type AlertSink, processCheck } from '../pipeline/process-check';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { ConfigurationError, jsonEnv, numberEnv, optionalEnv, requiredEnv } from './runtime/env';
import { resolveSecret } from './runtime/secrets';
import { canaryFailureAlert, detectorBrokenMark } from '../canary/canary-alert';
import { type CanaryEvent, isCanaryEvent } from '../canary/canary-event';
import { type CanaryReport, runCanary } from '../canary/run-canary';
import { CompletionBatch } from '../pipeline/completion-batch';
import { recheckEndpoints } from '../pipeline/dispatch-run';
import { isMaintenanceEvent, type MaintenanceEvent } from '../pipeline/maintenance-event';
import { runMaintenanceTick } from '../pipeline/maintenance-tick';
import { SqsCheckQueue } from '../queue/sqs-check-queue';
import { clientKeyReader } from '../core/secret-ref';
import { CheckCounts, logCheckProcessed } from './runtime/check-telemetry';
import { createLogger, emitMetrics } from './runtime/telemetry';

const log = createLogger('checker');
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
  historyTtlDays: numberEnv('HISTORY_TTL_DAYS', 90),
});
// Each profile's store is built when a check first needs it; endpoints without one use the system roots.
const trustStores = new TrustStores(loadTrustProfiles(optionalEnv('TRUST_FILE')));
const sns = new SNSClient({});
// Opt-in (checker.perEndpointMetrics): the dashboard's expiry table reads the "check processed" log lines instead.
const perEndpointMetrics = optionalEnv('PER_ENDPOINT_METRICS') === 'true';
// The topic's name in delivery records: a ':' no configured channel name may hold, so a chat
// channel (whose records the notifier keys by its own name) can never share this record.
const ALERT_TOPIC = 'stack:alert-topic';
// Every alert goes to the stack's topic (email, SMS and the chat notifier subscribe there);
// extra SNS channels from the config get what routes to them. The SNS notifier is imported
// directly, not through the channel registry: the checker publishes to topics only, and the chat
// renderers and HTTP delivery would only weigh on the cold start of every scaled-out batch.
const topicNotifier = snsNotifier(
  { type: 'sns', name: ALERT_TOPIC, topicArn: requiredEnv('ALERT_TOPIC_ARN'), minSeverity: 'info' },
  { sns },
);
const snsChannels = d.array(d.object({ name: d.string, topicArn: d.string, minSeverity: severity }));
const extraNotifiers = jsonEnv('SNS_CHANNELS', snsChannels, []).map((c) =>
  snsNotifier({ type: 'sns', ...c } satisfies SnsChannel, { sns }),
);

// The checker publishes to SNS only (20 s per publish): a send deadline well inside the Lambda's timeout (≥ 60 s).
const SEND_TIMEOUT_MS = 25_000;
/**
 * Reads an endpoint's client key (`clientKey: secretsmanager:ID[#field]`) through the cached
 * Secrets Manager lookup; the stack grants the checker exactly those secrets. Synth refuses
 * `env:` keys, so anything else is a deployment error, named here.
 */
const clientKey = clientKeyReader(async (ref, field) => {
  if (ref.kind !== 'secretsmanager')
    throw new ConfigurationError(
      `${field}: only secretsmanager: references can be read by the deployed checker`,
    );
  return resolveSecret(
    { secretArn: ref.id, ...(ref.jsonKey === undefined ? {} : { jsonKey: ref.jsonKey }) },
    field,
  );
});
const allNotifiers = [topicNotifier, ...extraNotifiers];
/** Every alert goes to the topic, whatever its channel names; the extra topics by routing. */
const routed = (alert: Alert, notifier: Notifier) => notifier === topicNotifier || routesTo(alert, notifier);

const sink: AlertSink = {
  channelsFor(alert, only) {
    return allNotifiers
      .filter((n) => routed(alert, n) && (only === null || only.includes(n.channel.name)))
      .map((n) => n.channel.name);
  },
  async deliver(alert: Alert, channels, opts = {}) {
    const targets = allNotifiers.filter(
      (n) => routed(alert, n) && (channels === null || channels.includes(n.channel.name)),
    );
    const options = { ...opts, sendTimeoutMs: SEND_TIMEOUT_MS };
    const results = [];
    // The topic takes the alert with its channel names cleared (its subscribers filter by attributes).
    if (targets.includes(topicNotifier)) {
      results.push(...(await deliverAlerts([{ ...alert, channels: [] }], [topicNotifier], options)));
    }
    results.push(
      ...(await deliverAlerts(
        [alert],
        targets.filter((n) => n !== topicNotifier),
        options,
      )),
    );
    return results;
  },
};

/**
 * The trust profiles bundled beside the handler at synth time (CA certificates are public, and a
 * file has no 4 KB limit as the environment has); none when the config trusts the system roots only.
 */
function loadTrustProfiles(file: string | null): TrustProfile[] {
  if (file === null) return [];
  const path = join(__dirname, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`cannot read the bundled trust profiles ${path}: ${String(error)}`);
  }
  const decoded = d.decode(d.array(trustProfile), parsed);
  if (!decoded.ok) {
    const { field, problem } = decoded.failure;
    throw new ConfigurationError(`bundled trust profiles ${path}: ${field}: ${problem}`);
  }
  return decoded.value;
}

/** The ops topic: where a failed canary pages (the alert topic unless the stack names another). */
const opsNotifier = snsNotifier(
  {
    type: 'sns',
    name: 'ops-topic',
    topicArn: optionalEnv('OPS_TOPIC_ARN') ?? requiredEnv('ALERT_TOPIC_ARN'),
    minSeverity: 'info',
  },
  { sns },
);

/** What a canary invocation returns (the scheduler ignores it; the smoke test reads it). */
export interface CanaryOutcome {
  readonly fixtures: number;
  readonly failures: readonly string[];
  readonly paged: boolean;
  /** The run the failure was recorded on (the newest run), null when none was (passed, no run, or the write failed). */
  readonly markedRun: string | null;
}

/**
 * Runs the canary in this very bundle: known-bad certificates on loopback, through the probe and
 * analysis that judge the endpoints. Emits `CanaryFailures` (its alarm also fires when the canary
 * stops reporting) and pages the ops topic at once on a wrong verdict.
 */
async function canary(event: CanaryEvent): Promise<CanaryOutcome> {
  const now = new Date();
  const report = await runCanary({ now: () => now });
  emitMetrics([{ name: MetricNames.CanaryFailures, value: report.failures.length }]);
  if (report.failures.length === 0) {
    log.info('canary passed', {
      fixtures: report.verdicts.length,
      durationMs: Math.round(report.durationMs),
    });
    return { fixtures: report.verdicts.length, failures: [], paged: false, markedRun: null };
  }
  log.error('canary failed: the detector is broken', { failures: report.failures });
  const alert = canaryFailureAlert(report, event.executionId ?? now.toISOString(), now);
  const sent = await opsNotifier.send(alert);
  // A page that could not be sent fails the invocation: the scheduler retries, the errors alarm fires.
  if (!sent.ok) throw new Error(`canary failed and paging ops failed: ${sent.error}`);
  // After the page, so a store failure cannot hold it back; the watchdog's judgement then fails the run.
  const markedRun = await markRun(report, now);
  return { fixtures: report.verdicts.length, failures: report.failures, paged: true, markedRun };
}

/**
 * Records the failure on the newest run (one conditional update), for the watchdog to judge that
 * run (or the one the dispatcher records next, see `detectorBrokenFor`) failed, and for `status`.
 * A failed write is logged, not thrown: a retried invocation would page again, and the page and
 * the CanaryFailures alarm already say it.
 */
async function markRun(report: CanaryReport, now: Date): Promise<string | null> {
  const mark = detectorBrokenMark(report, now);
  if (mark === null) return null;
  try {
    const runId = await store.markDetectorBroken(mark);
    log.info('canary failure recorded on run', { runId });
    return runId;
  } catch (error) {
    log.error('canary failure not recorded on a run', { error });
    return null;
  }
}

/** What a maintenance tick returns (the scheduler ignores it; the smoke test reads it). */
export interface MaintenanceOutcome {
  /** Ids of the announcements sent. */
  readonly announced: readonly string[];
  /** Announcements still owed (a channel failed); the next tick retries them. */
  readonly owed: readonly string[];
  /** Windows whose endpoints were sent to the check queue to be re-checked. */
  readonly rechecked: readonly string[];
}

// The check queue, for the re-check at the end of a maintenance window (absent in stacks deployed before it).
const recheckQueueUrl = optionalEnv('QUEUE_URL');

/**
 * The maintenance tick (`maintenance-tick.ts`): announces what is due through the same sink and
 * delivery records as the checks, and at the end of a window sends its endpoints through the
 * check queue as a run of their own (the inventory itself is left as it is).
 */
async function maintenance(event: MaintenanceEvent): Promise<MaintenanceOutcome> {
  const now = () => new Date();
  const report = await runMaintenanceTick({
    store,
    suppressions: store.suppressions(),
    sink,
    now,
    holder: `maintenance-${event.executionId ?? 'tick'}`,
    recheck: async (endpoints) => {
      if (recheckQueueUrl === null)
        throw new ConfigurationError('QUEUE_URL is not set: cannot re-check after a window');
      const queue = new SqsCheckQueue({ client: new SQSClient({}), queueUrl: recheckQueueUrl });
      await recheckEndpoints({ store, queue, now, suppressions: store.suppressions() }, endpoints);
    },
  });
  const outcome = {
    announced: report.announced.map((a) => a.id),
    owed: report.owed,
    rechecked: report.rechecked,
  };
  if (outcome.announced.length > 0 || outcome.owed.length > 0 || outcome.rechecked.length > 0) {
    log.info('maintenance tick', outcome);
  }
  // An announcement that could not be sent fails the invocation: the scheduler retries, the errors alarm fires.
  if (outcome.owed.length > 0)
    throw new Error(`maintenance announcements not delivered: ${outcome.owed.join(', ')}`);
  return outcome;
}

export function handler(event: SQSEvent): Promise<SQSBatchResponse>;
export function handler(event: CanaryEvent): Promise<CanaryOutcome>;
export function handler(event: MaintenanceEvent): Promise<MaintenanceOutcome>;
export async function handler(
  event: SQSEvent | CanaryEvent | MaintenanceEvent,
): Promise<SQSBatchResponse | CanaryOutcome | MaintenanceOutcome> {
  if (isCanaryEvent(event)) return canary(event);
  if (isMaintenanceEvent(event)) return maintenance(event);
  const failures: SQSBatchItemFailure[] = [];
  // The batch's run counts go out in one counter write per run instead of one per check.
  const completions = new CompletionBatch(store);
  const counts = new CheckCounts();
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
      const outcome = await processCheck(
        {
          store,
          sink,
          trustFor: (endpoint) => trustStores.forEndpoint(endpoint),
          now: () => new Date(),
          clientKey,
          recordCompletion: completions.add,
        },
        msg,
      );
      logCheckProcessed(log, msg, outcome);
      counts.add(outcome);
      const daysLeft = outcome.result?.daysLeft;
      // One custom metric per endpoint ($0.30 per endpoint per month), so only when the config turns it on.
      if (perEndpointMetrics && daysLeft !== null && daysLeft !== undefined) {
        emitMetrics([{ name: MetricNames.DaysToExpiry, value: daysLeft, unit: 'None' }], {
          [MetricDimensions.Endpoint]: msg.endpointId,
        });
      }
      // Alerts still owed stay in the state's outbox; a redelivery of this record retries them.
      // A delivery settled as "maybe delivered" is reported (logged, counted) but never retried.
      if ((outcome.owed?.length ?? 0) > 0) failures.push({ itemIdentifier: record.messageId });
    },
    (error, record) => {
      log.error('check failed', { messageId: record.messageId, error });
      failures.push({ itemIdentifier: record.messageId });
    },
  );
  counts.emit();
  try {
    await completions.flush();
  } catch (error) {
    // The checks themselves are stored: failing the batch would only check them again. The watchdog
    // finds the shard short and recounts it from the states, so a lost count never pages.
    log.error('run counts not written', { error });
  }
  return { batchItemFailures: failures };
}
