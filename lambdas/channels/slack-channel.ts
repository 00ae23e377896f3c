/**
 * Slack channel: a Block Kit message POSTed to an incoming-webhook URL. The
 * URL is a secret, so in AWS the notifier delivers it.
 */
import { alertUrl } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** A Slack channel as configured. */
export interface SlackChannelConfig extends ChannelBase<'slack'> {
  /** Incoming-webhook URL. */
  readonly url: SecretRef;
}

/** A Slack channel ready to deliver. */
export type SlackChannel = Resolved<SlackChannelConfig>;

/** The `slack` channel type. */
export const slackChannel = defineChannel<SlackChannelConfig>()({
  type: 'slack',
  fields: { url: alertUrl },
  configure: (file) => ({ url: file.url }),
  secrets: { url: 'url' },
  stack: { deliveredBy: 'notifier' },
});
