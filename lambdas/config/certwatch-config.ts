/**
 * The validated config: what `parseConfig` returns. Durations are in
 * milliseconds, defaults are filled in, endpoint targets are canonical, and
 * secret values are still references (see `secret-ref.ts`).
 */
import type { ChannelConfig } from '../channels/registry';
import {
  DEFAULT_REVOCATION_MODE,
  type ProbeSettings,
  type RevocationMode,
  type Severity,
  SYSTEM_TRUST_PROFILE,
  type TrustProfile,
} from '../core/model';
import type { MaintenanceWindow } from '../core/maintenance';
import type { SecretRef } from './secret-ref';

/** Alert policy and probe settings; `defaults` holds them all, an endpoint may override any. */
export interface PolicySettings {
  /** Days-to-expiry thresholds, highest first; each alerts once per certificate. */
  readonly thresholdsDays: readonly number[];
  /** Days before expiry that make the status warning. */
  readonly warnDays: number;
  /** Days before expiry that make the status critical (≤ warnDays). */
  readonly criticalDays: number;
  /** Probe deadline per address, ms. */
  readonly timeoutMs: number;
  /** Failed checks in a row before an unreachable alert. */
  readonly failuresBeforeAlert: number;
  /** Reminder interval while critical, expired or unreachable, ms. */
  readonly renotifyIntervalMs: number;
  /**
   * The anchors chains are judged against (`trust:`), with the CA files read. An endpoint's
   * `trust` replaces `defaults.trust` as a whole: keys it leaves out take the built-in
   * defaults (no CA files, system roots trusted), not those of `defaults.trust`.
   */
  readonly trust: TrustProfile;
  /**
   * HTTP CONNECT proxy the probe tunnels through (`proxy:`, as `http://host:port`); null connects
   * directly. An endpoint's `proxy: false` turns a default proxy off.
   */
  readonly proxy: string | null;
  /** Whether revocation is checked (`revocation: check|require|off`, see RevocationMode). */
  readonly revocation: RevocationMode;
}

/**
 * How one endpoint is reached, as configured: its protocol (`protocol:` or the scheme of a URL
 * `host`), the address it is checked at (`address:`), the SNI (`sni:`) and its client certificate.
 */
export type EndpointProbeConfig = Pick<
  ProbeSettings,
  'protocol' | 'address' | 'connectPort' | 'servername' | 'clientCertificate'
>;

/** The `vpc:` section: the subnets and security groups the checker and the dispatcher run in. */
export interface VpcConfig {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** The `maintenance:` section. */
export interface MaintenanceConfig {
  /** Default lead time of a window's reminder, ms. @default 24 h */
  readonly leadTimeMs: number;
  /** Longest silence `certwatch silence add` accepts, ms. @default 30 days */
  readonly maxSilenceMs: number;
  /** Windows declared in the file (times as instants, `source: 'config'`). */
  readonly windows: readonly MaintenanceWindow[];
}

/** The `defaults` section. */
export interface ConfigDefaults extends PolicySettings {
  /** How long check history is kept, days (DynamoDB TTL). */
  readonly historyTtlDays: number;
}

/** One entry of `endpoints`, as configured (use `resolveEndpoints` for the merged inventory). */
export interface EndpointConfig {
  /** Canonical `host:port` (the inventory key). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Display name as configured; null means "use the id". */
  readonly name: string | null;
  readonly owner: string | null;
  readonly tags: readonly string[];
  /** Channel names; empty means every channel. */
  readonly channels: readonly string[];
  /** Only the settings this endpoint overrides. */
  readonly overrides: Partial<PolicySettings>;
  /** How it is reached; fields it does not configure are absent. */
  readonly probe: EndpointProbeConfig;
}

/** A channel as configured; secrets are references until `resolveChannels` (each type's shape: lambdas/channels). */
export type { ChannelConfig } from '../channels/registry';

/** A subscription to the AWS stack's alert topic. */
export interface SubscriptionConfig {
  /** SNS protocol. */
  readonly protocol: 'email' | 'sms';
  /** Email address or E.164 phone number. */
  readonly endpoint: string;
  /** Alerts below this severity are filtered out (SNS filter policy on the severity attribute). @default 'info' */
  readonly minSeverity: Severity;
}

/** 1-based position in the config file. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** The validated config file. */
export interface CertwatchConfig {
  /** The file name as given, for messages. */
  readonly source: string;
  /** EventBridge Scheduler expression. @default 'rate(6 hours)' */
  readonly schedule: string;
  /** IANA zone for cron schedules. @default 'UTC' */
  readonly timezone: string;
  readonly defaults: ConfigDefaults;
  readonly checker: {
    /** Maximum concurrent checks (checker Lambdas in AWS, probes locally). @default 10 */
    readonly concurrency: number;
    /**
     * Whether the file set `concurrency`. When it did not, the deployment derives the checker
     * concurrency from the inventory and the schedule instead of using the local default.
     */
    readonly concurrencyGiven: boolean;
    /**
     * Emit the per-endpoint `DaysToExpiry` metric. Each endpoint is one CloudWatch
     * custom metric ($0.30 per endpoint per month); the dashboard reads the check logs without it.
     * @default false
     */
    readonly perEndpointMetrics: boolean;
  };
  /**
   * Run the checker and the dispatcher in these subnets (`vpc:`), to reach private addresses and
   * names; null runs them outside any VPC.
   */
  readonly vpc: VpcConfig | null;
  /**
   * Deploy the CloudWatch dashboard: $3 a month (free if it is one of the account's first 3 dashboards),
   * more than the rest of the stack's fixed cost. The alarms and metrics are there either way.
   * @default false
   */
  readonly dashboard: boolean;
  /** Dead man's switch pinged after each complete run; null when not configured. */
  readonly heartbeatUrl: SecretRef | null;
  readonly channels: readonly ChannelConfig[];
  readonly subscriptions: readonly SubscriptionConfig[];
  readonly endpoints: readonly EndpointConfig[];
  /** The `maintenance:` section: windows declared in the file, and the limits of the maintenance commands. */
  readonly maintenance: MaintenanceConfig;
  /** Positions of the fields that hold secret references (e.g. `channels[1].url`), for errors raised when resolving them. */
  readonly locations: Readonly<Record<string, SourcePosition>>;
}

/** The values used when the config leaves a setting out. */
export const BUILTIN_DEFAULTS = {
  schedule: 'rate(6 hours)',
  timezone: 'UTC',
  defaults: {
    thresholdsDays: [30, 14, 7, 3, 1],
    warnDays: 30,
    criticalDays: 7,
    timeoutMs: 10_000,
    failuresBeforeAlert: 2,
    renotifyIntervalMs: 86_400_000,
    trust: SYSTEM_TRUST_PROFILE,
    proxy: null,
    revocation: DEFAULT_REVOCATION_MODE,
    historyTtlDays: 90,
  } satisfies ConfigDefaults,
  concurrency: 10,
  minSeverity: 'info' as Severity,
} as const;
