/**
 * The runtime side of a channel type: the {@link Notifier} port every
 * `<type>-notifier.ts` implements, and what the notifiers share. Nothing here
 * loads the config schema, so the checker Lambda can create notifiers without
 * bundling it.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { TicketStore } from '../core/incident-lifecycle';
import type { Alert, DeliveryResult } from '../core/model';
import { type PostJsonOptions, type PostResult, postJson } from '../notify/http-delivery';
import { IDEMPOTENCY_KEY_HEADER } from '../notify/render-webhook';
import type { Channel } from './registry';
import type { SmtpTransport } from './smtp-notifier';

/** How one send may go, set by whoever records the delivery. */
export interface SendOptions {
  /** Aborts the send: an attempt in flight ends as an unknown outcome and nothing more is tried. */
  readonly signal?: AbortSignal;
  /**
   * Attempts with an unknown outcome this send may make before it stops (see `postJson`);
   * lower than the default for a delivery whose earlier send already had one. @default 2
   */
  readonly maxUnknownOutcomes?: number;
}

/** Delivers alerts to one channel. `send` resolves with the outcome and never rejects. */
export interface Notifier {
  readonly channel: Channel;
  /**
   * The channel keeps incidents open until told to close them (PagerDuty, Opsgenie): alerts that
   * close an incident reach it whatever its `minSeverity`, since they are info and its incidents
   * would otherwise never close. Closing one it never opened changes nothing at the vendor.
   */
  readonly keepsIncidents?: boolean;
  send(alert: Alert, opts?: SendOptions): Promise<DeliveryResult>;
}

/** What the notifiers need from the composition root. */
export interface NotifierDeps {
  /** Required for `sns` channels. The SDK retries by itself, so the notifier does not. */
  readonly sns?: SNSClient;
  /** Required for `smtp` channels (the CLI's `nodemailerTransport`); no Lambda has any. */
  readonly smtp?: SmtpTransport;
  /**
   * Where ticket channels (GitHub, Jira) keep the ticket of each incident: the state store, in the
   * CLI and the notifier Lambda. Without it the markers in the tickets alone find them.
   */
  readonly tickets?: TicketStore;
  /** Overrides for HTTP delivery (timeouts, retries, injected sleep/fetch in tests). */
  readonly http?: Partial<PostJsonOptions>;
  /** Upper bound on one SNS Publish including the SDK's own retries. @default 20000 */
  readonly snsTimeoutMs?: number;
  /** Clock for webhook signature timestamps. @default () => new Date() */
  readonly now?: () => Date;
}

/** Makes the notifier of one channel of type `C`. */
export type NotifierFactory<C extends Channel> = (channel: C, deps: NotifierDeps) => Notifier;

/** A channel that cannot be wired (raised at composition time, not per alert). */
export class NotifierConfigError extends Error {
  override readonly name = 'NotifierConfigError';
}

/** A failed delivery of `alert` to `channel`. */
export function failedDelivery(
  channel: Channel,
  alert: Alert,
  error: string,
  attempts: number,
): DeliveryResult {
  return { channel: channel.name, alertId: alert.id, ok: false, attempts, error };
}

/** The delivery result of a POST; the optional fields only where they say something. */
export function fromPost(channel: Channel, alert: Alert, r: PostResult): DeliveryResult {
  return {
    channel: channel.name,
    alertId: alert.id,
    ok: r.ok,
    attempts: r.attempts,
    error: r.ok ? null : r.error,
    ...(r.unknownAttempts > 0 ? { unknownAttempts: r.unknownAttempts } : {}),
    ...(!r.ok && r.unknownAttempts > 0 ? { maybeDelivered: true } : {}),
    ...(!r.ok && r.retryAfterMs !== null ? { retryAfterMs: r.retryAfterMs } : {}),
  };
}

/**
 * A notifier that POSTs each alert, rendered by `render`, to `url` (with retries, see `postJson`).
 * Every request carries `Idempotency-Key: <alert id>`, so a receiver can drop the extra copy an
 * unknown outcome may cause; a renderer's own headers come on top.
 */
export function httpNotifier(
  channel: Channel,
  render: (alert: Alert) => { body: string; headers?: Record<string, string> },
  deps: NotifierDeps,
  url: string,
): Notifier {
  return {
    channel,
    async send(alert, opts = {}) {
      try {
        const { body, headers } = render(alert);
        const result = await postJson(url, body, {
          ...deps.http,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.maxUnknownOutcomes !== undefined ? { maxUnknownOutcomes: opts.maxUnknownOutcomes } : {}),
          headers: { ...deps.http?.headers, [IDEMPOTENCY_KEY_HEADER]: alert.id, ...headers },
        });
        return fromPost(channel, alert, result);
      } catch (err) {
        // Rendering is pure and postJson never rejects; this only guards against the unforeseen.
        return failedDelivery(
          channel,
          alert,
          `internal error: ${err instanceof Error ? err.message : String(err)}`,
          0,
        );
      }
    },
  };
}
