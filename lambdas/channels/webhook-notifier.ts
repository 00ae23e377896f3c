/** Delivery of the `webhook` channel type: the versioned JSON body, signed once per delivery (every retry carries the same signature). */
import { renderWebhookRequest } from '../notify/render-webhook';
import { httpNotifier, type NotifierFactory } from './channel-notifier';
import type { WebhookChannel } from './webhook-channel';

export const webhookNotifier: NotifierFactory<WebhookChannel> = (channel, deps) => {
  const now = deps.now ?? (() => new Date());
  return httpNotifier(
    channel,
    (alert) => {
      const request = renderWebhookRequest(alert, channel, now().getTime());
      return { body: request.body, headers: { ...request.headers } };
    },
    deps,
    channel.url,
  );
};
