/**
 * Delivery of the `opsgenie` channel type: each incident change of an alert is
 * one Alert API request (create, or close by alias) to the channel's API URL,
 * authenticated with `Authorization: GenieKey <key>`. Opsgenie answers 202 and
 * processes the request asynchronously; 4xx (a bad key, an invalid body) is not
 * retried, 429 and 5xx are.
 */
import { renderOpsgenieRequest } from '../notify/render-opsgenie';
import type { NotifierFactory } from './channel-notifier';
import { incidentNotifier } from './incident-notifier';
import type { OpsgenieChannel } from './opsgenie-channel';

export const opsgenieNotifier: NotifierFactory<OpsgenieChannel> = (channel, deps) =>
  incidentNotifier(
    channel,
    (alert, change) => {
      const request = renderOpsgenieRequest(alert, change);
      return {
        url: `${channel.url}${request.path}`,
        body: JSON.stringify(request.body),
        headers: { authorization: `GenieKey ${channel.apiKey}` },
        label: `${request.action} ${change.key}`,
      };
    },
    deps,
  );
