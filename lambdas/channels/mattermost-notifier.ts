/** Delivery of the `mattermost` channel type: the message and its attachment POSTed to the webhook URL. */
import { renderMattermostMessage } from '../notify/render-mattermost';
import { httpNotifier, type NotifierFactory } from './channel-notifier';
import type { MattermostChannel } from './mattermost-channel';

export const mattermostNotifier: NotifierFactory<MattermostChannel> = (channel, deps) =>
  httpNotifier(
    channel,
    (alert) => ({ body: JSON.stringify(renderMattermostMessage(alert)) }),
    deps,
    channel.url,
  );
