/**
 * Delivery of the `discord` channel type: the embed POSTed to the webhook URL with `wait=true`,
 * so Discord answers only once the message exists (or says why it does not) instead of
 * accepting it for later.
 */
import { renderDiscordMessage } from '../notify/render-discord';
import { httpNotifier, type NotifierFactory } from './channel-notifier';
import type { DiscordChannel } from './discord-channel';

/** `url` with `wait=true` set; an unreadable URL is left for the HTTP delivery to refuse. */
export function discordWaitUrl(url: string): string {
  try {
    const u = new URL(url);
    u.searchParams.set('wait', 'true');
    return u.href;
  } catch {
    return url;
  }
}

export const discordNotifier: NotifierFactory<DiscordChannel> = (channel, deps) =>
  httpNotifier(
    channel,
    (alert) => ({ body: JSON.stringify(renderDiscordMessage(alert)) }),
    deps,
    discordWaitUrl(channel.url),
  );
