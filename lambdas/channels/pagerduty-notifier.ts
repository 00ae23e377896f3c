/**
 * Delivery of the `pagerduty` channel type: each incident change of an alert is
 * one Events API v2 event (`trigger` or `resolve`), POSTed to the channel's URL.
 * PagerDuty answers 202; 400 (an invalid event) is not retried, 429 and 5xx are.
 */
import { renderPagerDutyEvent } from '../notify/render-pagerduty';
import type { NotifierFactory } from './channel-notifier';
import { incidentNotifier } from './incident-notifier';
import type { PagerDutyChannel } from './pagerduty-channel';

export const pagerDutyNotifier: NotifierFactory<PagerDutyChannel> = (channel, deps) =>
  incidentNotifier(
    channel,
    (alert, change) => {
      const event = renderPagerDutyEvent(alert, change, channel.routingKey);
      return {
        url: channel.url,
        body: JSON.stringify(event),
        label: `${event.event_action} ${event.dedup_key}`,
      };
    },
    deps,
  );
