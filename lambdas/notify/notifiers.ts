/**
 * Channel adapters: one {@link Notifier} per configured channel. A notifier
 * renders the alert for its channel and delivers it; it never throws — every
 * outcome, good or bad, is a {@link DeliveryResult}.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Alert, Channel, DeliveryResult } from '../core/model';
import { type PostJsonOptions, type PostResult, postJson } from './http-delivery';
import { renderSlackMessage } from './render-slack';
import { renderSnsPublish } from './render-sns';
import { renderTeamsMessage } from './render-teams';
import { renderWebhookRequest } from './render-webhook';

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

/** A channel that cannot be wired (raised at composition time, not per alert). */
export class NotifierConfigError extends Error {
  override readonly name = 'NotifierConfigError';
}

export const DEFAULT_SNS_TIMEOUT_MS = 20_000;

function describeSdkError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'AbortError' || err.name === 'TimeoutError')
      return `${err.name}: publish did not complete in time`;
    return `${err.name}: ${err.message}`;
  }
  return String(err);
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

function failure(channel: Channel, alert: Alert, error: string, attempts: number): DeliveryResult {
  return { channel: channel.name, alertId: alert.id, ok: false, attempts, error };
}

function snsNotifier(channel: Extract<Channel, { type: 'sns' }>, deps: NotifierDeps): Notifier {
  const client = deps.sns;
  if (!client)
    throw new NotifierConfigError(`channel '${channel.name}' is of type sns but no SNS client was provided`);
  const timeoutMs = deps.snsTimeoutMs ?? DEFAULT_SNS_TIMEOUT_MS;
  return {
    channel,
    async send(alert) {
      try {
        const input = renderSnsPublish(alert, channel.topicArn);
        const out = await client.send(new PublishCommand(input), {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
        return {
          channel: channel.name,
          alertId: alert.id,
          ok: true,
          attempts: out.$metadata?.attempts ?? 1,
          error: null,
        };
      } catch (err) {
        const attempts = (err as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts ?? 1;
        return failure(
          channel,
          alert,
          `SNS publish to ${channel.topicArn} failed: ${describeSdkError(err)}`,
          attempts,
        );
      }
    },
  };
}

function httpNotifier(
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
        return failure(
          channel,
          alert,
          `internal error: ${err instanceof Error ? err.message : String(err)}`,
          0,
        );
      }
    },
  };
}

/**
 * The notifier for one channel.
 * @throws NotifierConfigError when an `sns` channel has no `deps.sns` client.
 */
export function createNotifier(channel: Channel, deps: NotifierDeps = {}): Notifier {
  const now = deps.now ?? (() => new Date());
  switch (channel.type) {
    case 'sns':
      return snsNotifier(channel, deps);
    case 'slack':
      return httpNotifier(
        channel,
        (a) => ({ body: JSON.stringify(renderSlackMessage(a)) }),
        deps,
        channel.url,
      );
    case 'teams':
      return httpNotifier(
        channel,
        (a) => ({ body: JSON.stringify(renderTeamsMessage(a)) }),
        deps,
        channel.url,
      );
    case 'webhook':
      return httpNotifier(
        channel,
        (a) => {
          const request = renderWebhookRequest(a, channel, now().getTime());
          return { body: request.body, headers: { ...request.headers } };
        },
        deps,
        channel.url,
      );
    default: {
      const unknown: { type?: unknown; name?: unknown } = channel;
      throw new NotifierConfigError(
        `channel '${String(unknown.name)}' has unsupported type '${String(unknown.type)}'`,
      );
    }
  }
}
