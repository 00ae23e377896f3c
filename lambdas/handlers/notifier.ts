/**
 * Notifier Lambda (SNS subscription on the alert topic): delivers each alert
 * to the channels with secrets (chat, signed webhooks, PagerDuty, Opsgenie,
 * and the ticket channels, whose incident → ticket mapping it keeps in the
 * state table). Channel URLs and
 * secrets come from Secrets Manager, resolved once per execution environment.
 *
 * SNS hands a message to Lambda at least once, and Lambda may run an event
 * twice, so each (alert, chat channel) delivery is claimed, sent and marked in
 * its own delivery record (`pipeline/outbox-delivery.ts`, keyed by the channel's
 * name), as the checker does for the topic: a redelivered or concurrent
 * duplicate event sends nothing the channel already accepted, and nothing
 * another invocation is still sending.
 *
 * A delivery still owed after the invocation (its send failed, it waits for its
 * retry time, or another invocation still held it when time ran out) makes the
 * invocation fail. Lambda then runs the whole event again, twice, one and then
 * two minutes later; the channels already settled are skipped, the owed ones
 * sent again. An event that fails every retry goes to the notifier's
 * dead-letter queue, whose alarm pages, and its records stay in the table.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SNSEvent } from 'aws-lambda';
import * as d from '../core/decode';
import { MetricNames } from '../core/metric-names';
import {
  CHANNEL_TYPES,
  type ChannelType,
  type NotifierChannelWith,
  secretFields,
  withSecretValues,
} from '../channels/registry';
import type { Channel } from '../core/model';
import { severity } from '../core/model-decoders';
import { DEFAULT_SEND_TIMEOUT_MS, deliverAlerts, routesTo } from '../notify/deliver-alerts';
import { createNotifier, type Notifier } from '../notify/notifiers';
import { parseSnsAlertEnvelope } from '../notify/parse-sns-envelope';
import {
  type AlertPass,
  type AlertSink,
  DEFAULT_OUTBOX_LEASE_MS,
  deliverAlertAwaitingHolders,
} from '../pipeline/outbox-delivery';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore } from '../store/dynamodb-state-store';
import { jsonEnv, numberEnv, requiredEnv } from './runtime/env';
import { resolveSecret, type SecretReference, secretReference } from './runtime/secrets';
import { createLogger, emitMetrics } from './runtime/telemetry';

/** A channel the notifier delivers, as the stack passes it: secret references instead of values. */
export type ChannelEnv = NotifierChannelWith<SecretReference>;

/** The channel types the notifier delivers, read from the channel registry. */
const NOTIFIER_TYPES = (Object.keys(CHANNEL_TYPES) as ChannelType[]).filter(
  (type) => CHANNEL_TYPES[type].stack.deliveredBy === 'notifier',
);
const channelBase = { name: d.string, type: d.oneOf(NOTIFIER_TYPES), minSeverity: severity };
const settingValue = d.optional((value: unknown) => {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  // A list of strings: a ticket channel's labels.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new d.DecodeFailure(
    `expected a string, number, boolean, list of strings or null, got ${typeof value}`,
  );
});

/**
 * One channel as the stack passes it; its fields come from its type's module in the channel
 * registry. Every secret field the module declares must be there, as a Secrets Manager
 * reference (null when optional and unset); its other keys are plain values the stack copied
 * from the validated config.
 */
const channelEnvDecoders = Object.fromEntries(
  NOTIFIER_TYPES.map((type) => {
    const module = CHANNEL_TYPES[type];
    const own = Object.keys(module.fields).map((key) => [
      key,
      Object.hasOwn(module.secrets, key) ? d.nullable(secretReference) : settingValue,
    ]);
    return [type, d.object({ ...channelBase, ...Object.fromEntries(own) })];
  }),
) as Record<ChannelType, d.Decoder<unknown>>;

const channelEnvDecoder: d.Decoder<ChannelEnv> = (value) => {
  const { type } = d.object(channelBase)(value);
  return channelEnvDecoders[type](value) as ChannelEnv;
};

const log = createLogger('notifier');
const channelEnv = jsonEnv('CHANNELS', d.array(channelEnvDecoder), []);
const store = new DynamoDbStateStore({
  client: createDocumentClient().documentClient,
  tableName: requiredEnv('TABLE_NAME'),
  historyTtlDays: numberEnv('HISTORY_TTL_DAYS', 90),
});
let notifiers: Promise<Notifier[]> | undefined;

/**
 * How long a failed delivery is left alone: less than Lambda's first retry of the event (one
 * minute later), so that each retry sends it again; a longer `Retry-After` still counts.
 */
const RETRY_HOLD_MS = 30_000;
/** How often a delivery another invocation holds is looked at again. */
const HOLDER_POLL_MS = 1_000;
/** Time kept back from waiting on a holder: a takeover's whole send, and the marks after it. */
const SEND_RESERVE_MS = DEFAULT_SEND_TIMEOUT_MS + 10_000;

/** Some delivery of the event is still owed: Lambda retries the event, and the settled channels are skipped. */
export class DeliveryOwedError extends Error {
  override readonly name = 'DeliveryOwedError';
}

/** The channel with each secret read from Secrets Manager, one after the other (an unset optional one stays null). */
async function resolveChannel(c: ChannelEnv): Promise<Channel> {
  const values: Record<string, string | null> = {};
  for (const { field, value } of secretFields(c)) {
    values[field] = value === null ? null : await resolveSecret(value, `channel ${c.name} ${field}`);
  }
  return withSecretValues(c, values);
}

function getNotifiers(): Promise<Notifier[]> {
  notifiers ??= Promise.all(channelEnv.map(resolveChannel)).then((channels) =>
    // The store keeps the ticket channels' incident → ticket mapping (TICKET# items, which the role may use).
    channels.map((c) => createNotifier(c, { tickets: store })),
  );
  notifiers.catch(() => {
    notifiers = undefined;
  });
  return notifiers;
}

/** The chat channels as a sink: each alert goes to the notifiers it routes to, one record per channel. */
function chatSink(targets: readonly Notifier[]): AlertSink {
  return {
    channelsFor: (alert, only) =>
      targets
        .filter((n) => routesTo(alert, n) && (only === null || only.includes(n.channel.name)))
        .map((n) => n.channel.name),
    deliver: (alert, channels, opts = {}) =>
      deliverAlerts(
        [alert],
        channels === null ? targets : targets.filter((n) => channels.includes(n.channel.name)),
        opts,
      ),
  };
}

export async function handler(
  event: SNSEvent,
  context?: Partial<Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>>,
): Promise<void> {
  const sink = chatSink(await getNotifiers());
  const now = () => new Date();
  const deps = {
    store,
    sink,
    now,
    // One holder per invocation: a concurrent duplicate of this event is another sender.
    holder: `notifier ${context?.awsRequestId ?? randomUUID()}`,
    leaseMs: DEFAULT_OUTBOX_LEASE_MS,
    retryHoldMs: RETRY_HOLD_MS,
  };
  // Without the runtime's clock (a test harness), a held delivery is left to the retry.
  const remainingMs = context?.getRemainingTimeInMillis?.() ?? 0;
  const waitUntil = new Date(now().getTime() + remainingMs - SEND_RESERVE_MS);
  const owed: string[] = [];
  for (const record of event.Records) {
    const alert = parseSnsAlertEnvelope(record.Sns.Message);
    if (!alert) {
      log.error('SNS message is not a certwatch alert', { messageId: record.Sns.MessageId });
      emitMetrics([{ name: MetricNames.DeliveryFailures, value: 1 }]);
      continue;
    }
    let pass: AlertPass;
    try {
      pass = await deliverAlertAwaitingHolders(deps, alert, sink.channelsFor(alert, null), {
        waitUntil,
        pollMs: HOLDER_POLL_MS,
      });
    } catch (error) {
      // The store failed: what this invocation sent is marked where it could be; the retry sends the rest.
      log.error('alert delivery interrupted', { alert, error });
      owed.push(`${alert.id} (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const failed = pass.deliveries.filter((r) => !r.ok);
    const stillOwed = Object.fromEntries(pass.owed);
    // A failed delivery is logged with the whole alert (nothing is lost) and counted; the alarm pages ops.
    if (failed.length > 0) log.error('alert delivery failed', { alert, failed, owed: stillOwed });
    else if (pass.owed.size > 0) log.warn('alert delivery still owed', { alert, owed: stillOwed });
    // `sent` empty: every channel had it already (a redelivered event) or none takes it.
    else log.info('alert delivered', { alertId: alert.id, sent: pass.deliveries.map((r) => r.channel) });
    emitMetrics([{ name: MetricNames.DeliveryFailures, value: failed.length }]);
    for (const [channel, why] of pass.owed) owed.push(`${alert.id} to ${channel} (${why})`);
  }
  if (owed.length > 0) {
    throw new DeliveryOwedError(`deliveries still owed, retried with the event: ${owed.join(', ')}`);
  }
}
