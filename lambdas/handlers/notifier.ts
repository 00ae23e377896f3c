/**
 * Notifier Lambda (SNS subscription on the alert topic): delivers each alert
 * to the chat channels (Slack, Teams, signed webhooks). Channel URLs and
 * secrets come from Secrets Manager, resolved once per execution environment.
 */
import type { SNSEvent } from 'aws-lambda';
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
import { deliverAlerts } from '../notify/deliver-alerts';
import { createNotifier, type Notifier } from '../notify/notifiers';
import { parseSnsAlertEnvelope } from '../notify/parse-sns-envelope';
import { jsonEnv } from './runtime/env';
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
  throw new d.DecodeFailure(`expected a string, number, boolean or null, got ${typeof value}`);
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
let notifiers: Promise<Notifier[]> | undefined;

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
    channels.map((c) => createNotifier(c, {})),
  );
  notifiers.catch(() => {
    notifiers = undefined;
  });
  return notifiers;
}

export async function handler(event: SNSEvent): Promise<void> {
  const targets = await getNotifiers();
  for (const record of event.Records) {
    const alert = parseSnsAlertEnvelope(record.Sns.Message);
    if (!alert) {
      log.error('SNS message is not a certwatch alert', { messageId: record.Sns.MessageId });
      emitMetrics([{ name: MetricNames.DeliveryFailures, value: 1 }]);
      continue;
    }
    const results = await deliverAlerts([alert], targets);
    const failed = results.filter((r) => !r.ok);
    // A failed delivery is logged with the whole alert (nothing is lost) and counted; the alarm pages ops.
    if (failed.length > 0) log.error('alert delivery failed', { alert, failed });
    else log.info('alert delivered', { alertId: alert.id, channels: results.map((r) => r.channel) });
    emitMetrics([{ name: MetricNames.DeliveryFailures, value: failed.length }]);
  }
}
