/**
 * Generic webhook rendering and signing.
 *
 * Request contract (version 1, stable):
 * - `POST`, `Content-Type: application/json; charset=utf-8`
 * - body: `{"version":1,"alert":<Alert>}` (see lambdas/core/model.ts; long
 *   strings are bounded, see {@link CARRIED_ALERT_LIMITS}, and untrusted text
 *   is cleaned by the shared rule set, core/untrusted-text, as every channel shows it)
 * - `X-Certwatch-Timestamp: <unix seconds>`
 * - `<signatureHeader>: sha256=<hex>` (default header `X-Certwatch-Signature`),
 *   present only when the channel has a secret, where
 *   `hex = HMAC-SHA256(secret, "<timestamp>.<raw body bytes>")` in lower-case
 *   hex. Binding the timestamp into the MAC lets receivers reject replays:
 *   check the signature over the exact bytes received (before any JSON
 *   parsing) and that the timestamp is recent — {@link verifyWebhookSignature}
 *   does both.
 * - `Idempotency-Key` and `X-Certwatch-Alert-Id`: the alert id, identical on
 *   every retry and redelivery, so receivers can drop duplicates.
 *
 * The signature is computed once per delivery, so all retries carry the same
 * timestamp; retries finish well within the default 5-minute tolerance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Alert, WebhookChannel } from '../core/model';
import { boundAlert } from './alert-view';

export const WEBHOOK_PAYLOAD_VERSION = 1;
export const DEFAULT_SIGNATURE_HEADER = 'X-Certwatch-Signature';
export const TIMESTAMP_HEADER = 'X-Certwatch-Timestamp';
export const ALERT_ID_HEADER = 'X-Certwatch-Alert-Id';
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Default accepted clock skew / age for {@link verifyWebhookSignature}. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** JSON body of a generic webhook delivery. */
export interface WebhookPayload {
  readonly version: typeof WEBHOOK_PAYLOAD_VERSION;
  readonly alert: Alert;
}

/** A rendered webhook request: the exact body bytes (as a string) and the headers to send with it. */
export interface WebhookRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signWebhookBody(body: string | Uint8Array, secret: string, timestamp: string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`, 'utf8');
  mac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return `sha256=${mac.digest('hex')}`;
}

/** Renders and signs the webhook request for one alert at `nowMs`. */
export function renderWebhookRequest(
  alert: Alert,
  channel: Pick<WebhookChannel, 'secret' | 'signatureHeader'>,
  nowMs: number,
): WebhookRequest {
  const payload: WebhookPayload = { version: WEBHOOK_PAYLOAD_VERSION, alert: boundAlert(alert) };
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(nowMs / 1000));
  const headers: Record<string, string> = {
    [TIMESTAMP_HEADER]: timestamp,
    [IDEMPOTENCY_KEY_HEADER]: payload.alert.id,
    [ALERT_ID_HEADER]: payload.alert.id,
  };
  if (channel.secret !== null) {
    headers[channel.signatureHeader || DEFAULT_SIGNATURE_HEADER] = signWebhookBody(
      body,
      channel.secret,
      timestamp,
    );
  }
  return { body, headers };
}

/** Why a webhook signature was rejected. */
export type WebhookRejection =
  | 'missing-signature'
  | 'malformed-signature'
  | 'missing-timestamp'
  | 'stale-timestamp'
  | 'bad-signature';

export type WebhookVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: WebhookRejection };

/** Request headers as Node (`IncomingHttpHeaders`), fetch (`Headers`) or a plain record present them. */
export type HeaderBag = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(
    headers as Record<string, string | readonly string[] | undefined>,
  )) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(',');
  }
  return undefined;
}

/**
 * Verifies a certwatch webhook request as a receiver should: the timestamp
 * header must be within `toleranceMs` of `nowMs`, and one of the
 * comma-separated `sha256=<hex>` values in the signature header must equal
 * the HMAC over `${timestamp}.${body}` (constant-time comparison). `body` must
 * be the raw bytes received, not re-serialised JSON.
 */
export function verifyWebhookSignature(
  body: string | Uint8Array,
  headers: HeaderBag,
  secret: string,
  nowMs: number,
  toleranceMs: number = DEFAULT_SIGNATURE_TOLERANCE_MS,
  signatureHeader: string = DEFAULT_SIGNATURE_HEADER,
): WebhookVerification {
  const signature = headerValue(headers, signatureHeader);
  if (!signature) return { ok: false, reason: 'missing-signature' };
  const candidates = signature.split(',').map((s) => s.trim());
  if (!candidates.every((c) => /^sha256=[0-9a-f]{64}$/i.test(c)))
    return { ok: false, reason: 'malformed-signature' };
  const timestamp = headerValue(headers, TIMESTAMP_HEADER);
  if (!timestamp || !/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'missing-timestamp' };
  if (Math.abs(nowMs - Number(timestamp) * 1000) > toleranceMs)
    return { ok: false, reason: 'stale-timestamp' };
  const expected = Buffer.from(signWebhookBody(body, secret, timestamp).slice('sha256='.length), 'hex');
  const matches = candidates.some((c) =>
    timingSafeEqual(Buffer.from(c.slice('sha256='.length), 'hex'), expected),
  );
  return matches ? { ok: true } : { ok: false, reason: 'bad-signature' };
}
