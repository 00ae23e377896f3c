/**
 * Notifier Lambda (SNS subscription on the alert topic): delivers each alert
 * to the chat channels (Slack, Teams, signed webhooks). Channel URLs and
 * secrets come from Secrets Manager, resolved once per execution environment.
 */
import type { SNSEvent } from 'aws-lambda';
import * as d from '../core/decode';
import { MetricNames } from '../core/metric-names';
import type { Channel, Severity } from '../core/model';
import { severity } from '../core/model-decoders';
import { deliverAlerts } from '../notify/deliver-alerts';
import { createNotifier, type Notifier } from '../notify/notifiers';
import { parseSnsAlertEnvelope } from '../notify/parse-sns-envelope';
import { jsonEnv } from './runtime/env';
import { resolveSecret, type SecretReference, secretReference } from './runtime/secrets';
import { createLogger, emitMetrics } from './runtime/telemetry';

/** A chat channel as the stack passes it: secret references instead of URLs. */
export interface ChannelEnv {
  readonly name: string;
  readonly type: 'slack' | 'teams' | 'webhook';
  readonly minSeverity: Severity;
  readonly url: SecretReference;
  readonly secret?: SecretReference;
  readonly signatureHeader?: string;
}

const channelEnvDecoder = d.object({
  name: d.string,
  type: d.oneOf(['slack', 'teams', 'webhook']),
  minSeverity: severity,
  url: secretReference,
  secret: d.optional(secretReference),
  signatureHeader: d.optional(d.string),
});
export type ChannelEnvDecoderMatches = d.Assert<d.SameShape<d.Decoded<typeof channelEnvDecoder>, ChannelEnv>>;

const log = createLogger('notifier');
const channelEnv = jsonEnv('CHANNELS', d.array(channelEnvDecoder), []);
let notifiers: Promise<Notifier[]> | undefined;

async function resolveChannel(c: ChannelEnv): Promise<Channel> {
  const url = await resolveSecret(c.url, `channel ${c.name} url`);
  if (c.type === 'webhook') {
    return {
      type: 'webhook',
      name: c.name,
      minSeverity: c.minSeverity,
      url,
      secret: c.secret ? await resolveSecret(c.secret, `channel ${c.name} secret`) : null,
      signatureHeader: c.signatureHeader ?? 'X-Certwatch-Signature',
    };
  }
  return { type: c.type, name: c.name, minSeverity: c.minSeverity, url };
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
