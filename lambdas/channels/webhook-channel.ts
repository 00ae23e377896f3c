/**
 * Generic webhook channel: the alert as versioned JSON, POSTed to a URL and
 * signed with HMAC-SHA256 when a key is set (contract in
 * lambdas/notify/render-webhook.ts). The URL and the key are secrets, so in
 * AWS the notifier delivers it.
 */
import { alertUrl, field, invalid, secretRef } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { DEFAULT_SIGNATURE_HEADER } from '../notify/render-webhook';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** A webhook channel as configured. */
export interface WebhookChannelConfig extends ChannelBase<'webhook'> {
  readonly url: SecretRef;
  /** HMAC-SHA256 key; null sends unsigned. */
  readonly secret: SecretRef | null;
  /** Header carrying `sha256=<hex>` of the body. @default 'X-Certwatch-Signature' */
  readonly signatureHeader: string;
}

/** A webhook channel ready to deliver. */
export type WebhookChannel = Resolved<WebhookChannelConfig>;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const headerName = field((v) =>
  typeof v === 'string' && HEADER_NAME.test(v) ? v : invalid('an HTTP header name', v),
);

/** The `webhook` channel type. */
export const webhookChannel = defineChannel<WebhookChannelConfig>()({
  type: 'webhook',
  fields: {
    url: alertUrl,
    secret: secretRef('a signing key').optional(),
    signatureHeader: headerName.optional(),
  },
  configure: (file) => ({
    url: file.url,
    secret: file.secret ?? null,
    signatureHeader: file.signatureHeader ?? DEFAULT_SIGNATURE_HEADER,
  }),
  secrets: { url: 'url', secret: 'key' },
  stack: { deliveredBy: 'notifier' },
});
