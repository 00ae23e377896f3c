/**
 * Microsoft Teams channel: an Adaptive Card POSTed to a Workflows webhook
 * URL. The URL is a secret, so in AWS the notifier delivers it.
 */
import { alertUrl } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** A Teams channel as configured. */
export interface TeamsChannelConfig extends ChannelBase<'teams'> {
  /** Workflows webhook URL. */
  readonly url: SecretRef;
}

/** A Teams channel ready to deliver. */
export type TeamsChannel = Resolved<TeamsChannelConfig>;

/** The `teams` channel type. */
export const teamsChannel = defineChannel<TeamsChannelConfig>()({
  type: 'teams',
  fields: { url: alertUrl },
  configure: (file) => ({ url: file.url }),
  secrets: { url: 'url' },
  stack: { deliveredBy: 'notifier' },
});
