/**
 * Discord channel: an embed POSTed to a channel webhook
 * (`https://discord.com/api/webhooks/<id>/<token>`). The URL is a secret, so
 * in AWS the notifier delivers it.
 */
import { alertUrl } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** A Discord channel as configured. */
export interface DiscordChannelConfig extends ChannelBase<'discord'> {
  /** Channel webhook URL (it carries the webhook's token). */
  readonly url: SecretRef;
}

/** A Discord channel ready to deliver. */
export type DiscordChannel = Resolved<DiscordChannelConfig>;

/** The `discord` channel type. */
export const discordChannel = defineChannel<DiscordChannelConfig>()({
  type: 'discord',
  fields: { url: alertUrl },
  configure: (file) => ({ url: file.url }),
  secrets: { url: 'url' },
  stack: { deliveredBy: 'notifier' },
});
