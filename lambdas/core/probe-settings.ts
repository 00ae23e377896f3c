/**
 * Reading {@link ProbeSettings} out of the objects that carry them (an Endpoint, the
 * check options) and resolving their defaults, in one place. Pure.
 */
import { isIpLiteral } from './ip-address';
import { DEFAULT_PROBE_PROTOCOL, type ProbeProtocolName, type ProbeSettings } from './model';

/** Every field of ProbeSettings: a field added there without a line here does not compile. */
const PROBE_SETTING_FIELDS = {
  timeoutMs: true,
  protocol: true,
  servername: true,
  address: true,
  connectPort: true,
  proxy: true,
  clientCertificate: true,
} as const satisfies Record<keyof ProbeSettings, true>;

/**
 * The probe settings of `source` (an Endpoint, check options, ...) and nothing else, so they
 * can be handed on whole without copying field by field or leaking unrelated fields.
 * Fields `source` leaves undefined stay absent.
 */
export function probeSettingsOf(source: ProbeSettings): ProbeSettings {
  const settings: Partial<Record<keyof ProbeSettings, unknown>> = {};
  for (const field of Object.keys(PROBE_SETTING_FIELDS) as (keyof ProbeSettings)[]) {
    if (source[field] !== undefined) settings[field] = source[field];
  }
  return settings as ProbeSettings;
}

/** The SNI the probe sends for `host`: the configured one, else the host name; none for an IP literal. */
export function servernameFor(host: string, settings: Pick<ProbeSettings, 'servername'> = {}): string | null {
  if (settings.servername !== undefined) return settings.servername;
  return isIpLiteral(host) ? null : host;
}

/** The protocol spoken before the TLS handshake. */
export function protocolOf(settings: Pick<ProbeSettings, 'protocol'>): ProbeProtocolName {
  return settings.protocol ?? DEFAULT_PROBE_PROTOCOL;
}
