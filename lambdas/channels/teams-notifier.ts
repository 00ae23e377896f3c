/** Delivery of the `teams` channel type: the Adaptive Card message POSTed to the Workflows URL. */
import { renderTeamsMessage } from '../notify/render-teams';
import { httpNotifier, type NotifierFactory } from './channel-notifier';
import type { TeamsChannel } from './teams-channel';

export const teamsNotifier: NotifierFactory<TeamsChannel> = (channel, deps) =>
  httpNotifier(channel, (alert) => ({ body: JSON.stringify(renderTeamsMessage(alert)) }), deps, channel.url);
