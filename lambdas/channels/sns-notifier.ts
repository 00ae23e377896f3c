/**
 * Delivery of the `sns` channel type: one SNS Publish per alert, with the SDK's own retries.
 * A publish that got no answer counts as one unknown outcome (the topic may have it).
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { renderSnsPublish } from '../notify/render-sns';
import { failedDelivery, NotifierConfigError, type NotifierFactory } from './channel-notifier';
import type { SnsChannel } from './sns-channel';

export const DEFAULT_SNS_TIMEOUT_MS = 20_000;

function describeSdkError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'AbortError' || err.name === 'TimeoutError')
      return `${err.name}: publish did not complete in time`;
    return `${err.name}: ${err.message}`;
  }
  return String(err);
}

/** @throws NotifierConfigError when `deps.sns` holds no SNS client. */
export const snsNotifier: NotifierFactory<SnsChannel> = (channel, deps) => {
  const client = deps.sns;
  if (!client)
    throw new NotifierConfigError(`channel '${channel.name}' is of type sns but no SNS client was provided`);
  const timeoutMs = deps.snsTimeoutMs ?? DEFAULT_SNS_TIMEOUT_MS;
  return {
    channel,
    async send(alert, opts = {}) {
      try {
        const input = renderSnsPublish(alert, channel.topicArn);
        const deadline = AbortSignal.timeout(timeoutMs);
        const out = await client.send(new PublishCommand(input), {
          abortSignal: opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline,
        });
        return {
          channel: channel.name,
          alertId: alert.id,
          ok: true,
          attempts: out.$metadata?.attempts ?? 1,
          error: null,
        };
      } catch (err) {
        const sdk = err as {
          $fault?: string;
          $metadata?: { attempts?: number; httpStatusCode?: number };
        } | null;
        const attempts = sdk?.$metadata?.attempts ?? 1;
        const failed = failedDelivery(
          channel,
          alert,
          `SNS publish to ${channel.topicArn} failed: ${describeSdkError(err)}`,
          attempts,
        );
        // SNS answered with an error: not published. No answer at all (a timeout, a dropped
        // connection): the publish may have gone through, and a standard topic has no dedup.
        const answered = sdk?.$fault !== undefined || sdk?.$metadata?.httpStatusCode !== undefined;
        return !answered ? { ...failed, unknownAttempts: 1, maybeDelivered: true } : failed;
      }
    },
  };
};
