/**
 * Google Chat channel: a cards v2 message POSTed to a space's incoming
 * webhook. The webhook URL carries its key and token as query parameters, so
 * the whole URL is the secret, and in AWS the notifier delivers it.
 */
import { alertUrl } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** A Google Chat channel as configured. */
export interface GoogleChatChannelConfig extends ChannelBase<'googlechat'> {
  /** Incoming-webhook URL (`https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…`). */
  readonly url: SecretRef;
}

/** A Google Chat channel ready to deliver. */
export type GoogleChatChannel = Resolved<GoogleChatChannelConfig>;

/** The `googlechat` channel type. */
export const googleChatChannel = defineChannel<GoogleChatChannelConfig>()({
  type: 'googlechat',
  fields: { url: alertUrl },
  configure: (file) => ({ url: file.url }),
  secrets: { url: 'url' },
  stack: { deliveredBy: 'notifier' },
});
