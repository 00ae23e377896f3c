/**
 * Mattermost channel: the Slack-compatible payload POSTed to an incoming
 * webhook (`https://<server>/hooks/<key>`). The URL is a secret, so in AWS
 * the notifier delivers it.
 */
import { alertUrl } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** A Mattermost channel as configured. */
export interface MattermostChannelConfig extends ChannelBase<'mattermost'> {
  /** Incoming-webhook URL. */
  readonly url: SecretRef;
}

/** A Mattermost channel ready to deliver. */
export type MattermostChannel = Resolved<MattermostChannelConfig>;

/** The `mattermost` channel type. */
export const mattermostChannel = defineChannel<MattermostChannelConfig>()({
  type: 'mattermost',
  fields: { url: alertUrl },
  configure: (file) => ({ url: file.url }),
  secrets: { url: 'url' },
  stack: { deliveredBy: 'notifier' },
});
