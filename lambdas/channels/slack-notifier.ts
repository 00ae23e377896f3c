/** Delivery of the `slack` channel type: the Block Kit message POSTed to the webhook URL. */
import { renderSlackMessage } from '../notify/render-slack';
import { httpNotifier, type NotifierFactory } from './channel-notifier';
import type { SlackChannel } from './slack-channel';

export const slackNotifier: NotifierFactory<SlackChannel> = (channel, deps) =>
  httpNotifier(channel, (alert) => ({ body: JSON.stringify(renderSlackMessage(alert)) }), deps, channel.url);
