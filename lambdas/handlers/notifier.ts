/**
 * Notifier Lambda (SNS subscription on the alert topic): delivers each alert
 * to the chat channels (Slack, Teams, signed webhooks). Channel URLs and
 * secrets come from Secrets Manager, resolved once per execution environment.
 */
import { MetricNames } from '../core/metric-names';
import { type NotifierChannelWith, secretFields, withSecretValues } from '../channels/registry';
import type { Channel } from '../core/model';
import { deliverAlerts } from '../notify/deliver-alerts';
import { createNotifier, type Notifier } from '../notify/notifiers';
import { parseSnsAlertEnvelope } from '../notify/parse-sns-envelope';
import { jsonEnv } from './runtime/env';
import { resolveSecret, type SecretReference } from './runtime/secrets';
import { createLogger, emitMetrics } from './runtime/telemetry';

/** A channel the notifier delivers, as the stack passes it: secret references instead of values. */
export type ChannelEnv = NotifierChannelWith<SecretReference>;

interface SnsEvent {
  readonly Records: readonly { readonly Sns: { readonly MessageId: string; readonly Message: string } }[];
}

const log = createLogger('notifier');
const channelEnv = jsonEnv<ChannelEnv[]>('CHANNELS', []);
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

export async function handler(event: SnsEvent): Promise<void> {
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
