/**
 * From the validated config to what the pipeline uses: the endpoint inventory
 * with defaults merged in, and delivery channels with their secret references
 * resolved (from the environment locally, from Secrets Manager in AWS).
 */
import { secretFields, withSecretValues } from '../channels/registry';
import {
  type Channel,
  DEFAULT_REVOCATION_MODE,
  type Endpoint,
  SYSTEM_TRUST_PROFILE,
  type TrustProfile,
} from '../core/model';
import type { CertwatchConfig } from './certwatch-config';
import { ConfigError, type ConfigIssue } from './config-error';
import { checkAlertUrl } from './schema-fields';
import { formatSecretRef, type SecretRef, type SecretResolver } from './secret-ref';

/**
 * The inventory: each endpoint with the defaults merged into its policy; the name defaults to the
 * id. An endpoint judged against other anchors than the system roots names its trust profile
 * (see {@link resolveTrustProfiles}); one trusting the system roots alone carries no `trust` key.
 * How it is reached (protocol, address, SNI, proxy, client certificate) are its probe settings,
 * present only when configured.
 */
export function resolveEndpoints(config: CertwatchConfig): Endpoint[] {
  const d = config.defaults;
  return config.endpoints.map((e) => {
    const o = e.overrides;
    const trust = o.trust ?? d.trust;
    const proxy = o.proxy === undefined ? d.proxy : o.proxy;
    const revocation = o.revocation ?? d.revocation;
    return {
      id: e.id,
      host: e.host,
      port: e.port,
      name: e.name ?? e.id,
      owner: e.owner,
      tags: e.tags,
      channels: e.channels,
      policy: {
        thresholdsDays: o.thresholdsDays ?? d.thresholdsDays,
        expiry: { warnDays: o.warnDays ?? d.warnDays, criticalDays: o.criticalDays ?? d.criticalDays },
        failuresBeforeAlert: o.failuresBeforeAlert ?? d.failuresBeforeAlert,
        renotifyIntervalMs: o.renotifyIntervalMs ?? d.renotifyIntervalMs,
      },
      timeoutMs: o.timeoutMs ?? d.timeoutMs,
      ...(trust.id === SYSTEM_TRUST_PROFILE.id ? {} : { trust: trust.id }),
      ...e.probe,
      ...(proxy === null ? {} : { proxy }),
      // Like trust: an endpoint at the default carries no key.
      ...(revocation === DEFAULT_REVOCATION_MODE ? {} : { revocation }),
    };
  });
}

/**
 * The trust profiles the endpoints name (each once, in endpoint order): what a checker must be
 * given for the inventory of {@link resolveEndpoints}. The system roots need no profile.
 */
export function resolveTrustProfiles(config: CertwatchConfig): TrustProfile[] {
  const profiles = new Map<string, TrustProfile>();
  for (const e of config.endpoints) {
    const trust = e.overrides.trust ?? config.defaults.trust;
    if (trust.id !== SYSTEM_TRUST_PROFILE.id) profiles.set(trust.id, trust);
  }
  return [...profiles.values()];
}

/**
 * Every configured channel with its URL and secret resolved through `resolver`.
 * URLs are checked again once resolved (https, or http on loopback), without
 * echoing a resolved value: webhook URLs are secrets themselves.
 * @throws ConfigError naming each field (with its position) that could not be resolved.
 */
export async function resolveChannels(config: CertwatchConfig, resolver: SecretResolver): Promise<Channel[]> {
  const issues: ConfigIssue[] = [];
  const resolve = resolving(config, resolver, issues);
  const channels = await Promise.all(
    config.channels.map(async (c, i): Promise<Channel | null> => {
      // One secret after the other, each reported on its own: a failed url does not hide a failed key.
      const values: Record<string, string | null> = {};
      let complete = true;
      for (const { field, use, value } of secretFields(c)) {
        if (value === null) {
          values[field] = null;
          continue;
        }
        values[field] = await resolve(value, `channels[${i}].${field}`, use === 'url');
        if (values[field] === null) complete = false;
      }
      return complete ? withSecretValues(c, values) : null;
    }),
  );
  if (issues.length > 0) throw new ConfigError(issues);
  return channels.filter((c): c is Channel => c !== null);
}

/**
 * The heartbeat URL resolved through `resolver`, or null when none is configured.
 * @throws ConfigError when it cannot be resolved or is not an acceptable URL.
 */
export async function resolveHeartbeatUrl(
  config: CertwatchConfig,
  resolver: SecretResolver,
): Promise<string | null> {
  if (config.heartbeatUrl === null) return null;
  const issues: ConfigIssue[] = [];
  const url = await resolving(config, resolver, issues)(config.heartbeatUrl, 'heartbeatUrl', true);
  if (issues.length > 0) throw new ConfigError(issues);
  return url;
}

/** A resolve function that records failures as issues (with the field's position) and returns null for them. */
function resolving(config: CertwatchConfig, resolver: SecretResolver, issues: ConfigIssue[]) {
  return async (ref: SecretRef, field: string, isUrl: boolean): Promise<string | null> => {
    const at = config.locations[field];
    const report = (message: string) =>
      issues.push({
        source: config.source,
        line: at?.line ?? null,
        column: at?.column ?? null,
        path: field,
        message,
      });
    let value: string;
    try {
      value = await resolver(ref, field);
    } catch (error) {
      if (error instanceof ConfigError) for (const issue of error.issues) report(issue.message);
      else
        report(
          `cannot resolve ${formatSecretRef(ref)}: ${error instanceof Error ? error.message : String(error)}`,
        );
      return null;
    }
    if (isUrl && ref.kind !== 'literal') {
      const problem = checkAlertUrl(value.trim());
      if (problem !== null) {
        report(`the value of ${formatSecretRef(ref)}: ${problem}`);
        return null;
      }
    }
    return isUrl ? value.trim() : value;
  };
}
