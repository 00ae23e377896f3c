/**
 * Opsgenie channel: alerts become Opsgenie alerts, created and closed by
 * `alias` (the incident key of core/incident-lifecycle.ts). The API key is a
 * secret, so in AWS the notifier delivers it.
 */
import { apiUrlField, regionField, secretRef } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** The Alert API base URL of each Opsgenie region (requests go to `<base>/v2/alerts…`). */
export const OPSGENIE_API_URLS = {
  us: 'https://api.opsgenie.com',
  eu: 'https://api.eu.opsgenie.com',
} as const;

/** An Opsgenie instance region. */
export type OpsgenieRegion = keyof typeof OPSGENIE_API_URLS;

/** An Opsgenie channel as configured. */
export interface OpsgenieChannelConfig extends ChannelBase<'opsgenie'> {
  /** Key of an API integration (sent as `Authorization: GenieKey <key>`). */
  readonly apiKey: SecretRef;
  /** API base URL, without `/v2`: the region's, or the configured `url`. */
  readonly url: string;
}

/** An Opsgenie channel ready to deliver. */
export type OpsgenieChannel = Resolved<OpsgenieChannelConfig>;

const region = regionField(OPSGENIE_API_URLS);
const apiUrl = apiUrlField({ base: true });

/** The `opsgenie` channel type. */
export const opsgenieChannel = defineChannel<OpsgenieChannelConfig>()({
  type: 'opsgenie',
  fields: {
    apiKey: secretRef('an Opsgenie API integration key'),
    region: region.optional(),
    url: apiUrl.optional(),
  },
  // An explicit URL wins over the region: it is how tests and proxies reach another receiver.
  configure: (file) => ({
    apiKey: file.apiKey,
    url: file.url ?? OPSGENIE_API_URLS[file.region ?? 'us'],
  }),
  secrets: { apiKey: 'key' },
  stack: { deliveredBy: 'notifier' },
});
