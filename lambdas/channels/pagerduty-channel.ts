/**
 * PagerDuty channel: alerts become Events API v2 events. An alert that opens an
 * incident triggers it, a reminder triggers it again under the same
 * `dedup_key` (one incident, not a new one), and a closing alert resolves it
 * (core/incident-lifecycle.ts decides which). The routing key is a secret, so
 * in AWS the notifier delivers it.
 */
import { apiUrlField, regionField, secretRef } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** The Events API v2 endpoint of each PagerDuty service region. */
export const PAGERDUTY_EVENTS_URLS = {
  us: 'https://events.pagerduty.com/v2/enqueue',
  eu: 'https://events.eu.pagerduty.com/v2/enqueue',
} as const;

/** A PagerDuty service region. */
export type PagerDutyRegion = keyof typeof PAGERDUTY_EVENTS_URLS;

/** A PagerDuty channel as configured. */
export interface PagerDutyChannelConfig extends ChannelBase<'pagerduty'> {
  /** Integration key of an Events API v2 integration (on a service or an event orchestration). */
  readonly routingKey: SecretRef;
  /** Where events are sent: the region's Events API URL, or the configured `url`. */
  readonly url: string;
}

/** A PagerDuty channel ready to deliver. */
export type PagerDutyChannel = Resolved<PagerDutyChannelConfig>;

const region = regionField(PAGERDUTY_EVENTS_URLS);
const eventsUrl = apiUrlField();

/** The `pagerduty` channel type. */
export const pagerDutyChannel = defineChannel<PagerDutyChannelConfig>()({
  type: 'pagerduty',
  fields: {
    routingKey: secretRef('a PagerDuty Events API v2 routing key'),
    region: region.optional(),
    url: eventsUrl.optional(),
  },
  // An explicit URL wins over the region: it is how tests and proxies reach another receiver.
  configure: (file) => ({
    routingKey: file.routingKey,
    url: file.url ?? PAGERDUTY_EVENTS_URLS[file.region ?? 'us'],
  }),
  secrets: { routingKey: 'key' },
  stack: { deliveredBy: 'notifier' },
});
