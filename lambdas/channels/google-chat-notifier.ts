/** Delivery of the `googlechat` channel type: the cards v2 message POSTed to the webhook URL. */
import { renderGoogleChatMessage } from '../notify/render-google-chat';
import { httpNotifier, type NotifierFactory } from './channel-notifier';
import type { GoogleChatChannel } from './google-chat-channel';

export const googleChatNotifier: NotifierFactory<GoogleChatChannel> = (channel, deps) =>
  httpNotifier(
    channel,
    (alert) => ({ body: JSON.stringify(renderGoogleChatMessage(alert)) }),
    deps,
    channel.url,
  );
