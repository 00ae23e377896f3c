/**
 * The runtime side of a channel type: the {@link Notifier} port every
 * `<type>-notifier.ts` implements, and what the notifiers share. Nothing here
 * loads the config schema, so the checker Lambda can create notifiers without
 * bundling it.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Alert, DeliveryResult } from '../core/model';
import { type PostJsonOptions, type PostResult, postJson } from '../notify/http-delivery';
import type { Channel } from './registry';

/** Delivers alerts to one channel. `send` resolves with the outcome and never rejects. */
export interface Notifier {
  readonly channel: Channel;
  send(alert: Alert): Promise<DeliveryResult>;
}

/** What the notifiers need from the composition root. */
export interface NotifierDeps {
  /** Required for `sns` channels. The SDK retries by itself, so the notifier does not. */
  readonly sns?: SNSClient;
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

function fromPost(channel: Channel, alert: Alert, r: PostResult): DeliveryResult {
  return {
    channel: channel.name,
    alertId: alert.id,
    ok: r.ok,
    attempts: r.attempts,
    error: r.ok ? null : r.error,
  };
}

/** A notifier that POSTs each alert, rendered by `render`, to `url` (with retries, see `postJson`). */
export function httpNotifier(
  channel: Channel,
  render: (alert: Alert) => { body: string; headers?: Record<string, string> },
  deps: NotifierDeps,
  url: string,
): Notifier {
  return {
    channel,
    async send(alert) {
      try {
        const { body, headers } = render(alert);
        const result = await postJson(url, body, {
          ...deps.http,
          headers: { ...deps.http?.headers, ...headers },
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
