/**
 * certwatch domain model: the contracts shared by the probe, the certificate
 * analysis, the alert policy, the state store, the notifiers, the CLI and the
 * Lambda handlers.
 *
 * Pure types and constants only: no SDK, no node:tls, no process.env.
 */

import type { FindingCode, ProbeErrorCode } from './findings';
import type { SuppressionRef } from './maintenance';

export type { SuppressionRef, SuppressorKind } from './maintenance';

// Finding codes and their facts live in the finding registry; re-exported here for the model's users.
export {
  CONNECTION_FINDING_CODES,
  FINDING_CODES,
  type FindingCode,
  type ProbeErrorCode,
} from './findings';

export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  /** One human sentence. May quote untrusted certificate text; notifiers escape it. */
  readonly message: string;
  /** Index into the chain (0 = leaf) the finding is about, when it is about one certificate. */
  readonly certIndex?: number;
}

/** Status of one checked address, worst first: expired > critical/error > warning > ok. */
export type Status = 'ok' | 'warning' | 'critical' | 'expired' | 'error';

export const STATUS_RANK: Record<Status, number> = { ok: 0, warning: 1, critical: 2, error: 3, expired: 4 };

/** A parsed `host[:port]`. */
export interface Target {
  /** Host name (lower-case, no trailing dot) or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** Canonical display form: `host:port`, `[v6]:port`. */
  readonly id: string;
}

/** What the TLS probe observed at one address. It never throws; failures are data. */
export interface ProbeOutcome {
  readonly host: string;
  readonly port: number;
  /** The IP address connected to; null when DNS failed. */
  readonly address: string | null;
  /** SNI sent; null for IP-literal targets. */
  readonly servername: string | null;
  /** The chain exactly as sent by the server, leaf first, raw DER. Empty when none was obtained. */
  readonly chainDer: readonly Uint8Array[];
  /** e.g. "TLSv1.3"; null when the handshake did not complete. */
  readonly protocol: string | null;
  /** e.g. "TLS_AES_256_GCM_SHA384"; null when the handshake did not complete. */
  readonly cipher: string | null;
  /** Set when no certificate could be obtained (or the connection failed after it was). */
  readonly error: ProbeError | null;
  readonly durationMs: number;
  /** The OCSP response the server stapled (DER), unverified; absent or null when none was sent. */
  readonly ocspStaple?: Uint8Array | null;
}

/** Why the probe obtained no certificate (or, for mutual TLS, why the handshake ended after it did). */
export interface ProbeError {
  /** A finding code the registry marks `fromProbe`. */
  readonly code: ProbeErrorCode;
  readonly message: string;
}

/** One certificate of the chain as reported in JSON output and state. */
export interface ChainCertificate {
  readonly subject: string;
  readonly issuer: string;
  /** ISO-8601, or null when unreadable. */
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly serialNumber: string | null;
  /** Upper-case hex, colon-free, of SHA-256 over the DER. Always present. */
  readonly fingerprintSha256: string;
  /** 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'unknown' */
  readonly keyType: string;
  readonly keyBits: number | null;
  /** e.g. 'sha256WithRSAEncryption', 'ecdsa-with-SHA256', or an OID when unknown. */
  readonly signatureAlgorithm: string | null;
  readonly selfSigned: boolean;
}

/** Thresholds that turn days-left into a status. */
export interface ExpiryThresholds {
  /** Days before expiry that make the status `warning`. Default 30. */
  readonly warnDays: number;
  /** Days before expiry that make the status `critical`. Default 7. */
  readonly criticalDays: number;
}

/** The analysed result for one address: the unit the CLI prints and the policy consumes. */
export interface CheckResult {
  /** The target as given (`host:port` canonical id). */
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly address: string | null;
  readonly servername: string | null;
  readonly status: Status;
  /** Whole days (floor) until the earliest expiry that matters; negative when expired; null if unknown. */
  readonly daysLeft: number | null;
  /** ISO-8601 of the earliest expiry that matters; null if unknown. */
  readonly notAfter: string | null;
  readonly findings: readonly Finding[];
  readonly chain: readonly ChainCertificate[];
  readonly protocol: string | null;
  readonly cipher: string | null;
  /**
   * How the connection reached TLS: the target's scheme or configured protocol (`smtp`, `ldap`,
   * `tls` for a plain `host:port`, see {@link PROBE_PROTOCOLS}). Absent in results written before it existed.
   */
  readonly scheme?: ProbeProtocolName;
  readonly durationMs: number;
  /** ISO-8601 time the check started. */
  readonly checkedAt: string;
}

/** Worst status of several results (for exit codes and summaries). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'ok';
  for (const s of statuses) if (STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
  return worst;
}

/** Nagios plugin exit code for a worst status. */
export function nagiosExitCode(status: Status): 0 | 1 | 2 {
  if (status === 'ok') return 0;
  if (status === 'warning') return 1;
  return 2;
}

// ---------------------------------------------------------------------------
// Inventory, state and alerts
// ---------------------------------------------------------------------------

/** Alert thresholds and timing, resolved per endpoint (defaults merged with overrides). */
export interface AlertPolicyConfig {
  /** Days-to-expiry thresholds that each alert once per certificate fingerprint, e.g. [30, 14, 7, 3, 1]. */
  readonly thresholdsDays: readonly number[];
  /** Status thresholds for warning / critical. */
  readonly expiry: ExpiryThresholds;
  /** Connection/handshake failures in a row before an error alert. Default 2. */
  readonly failuresBeforeAlert: number;
  /** Re-notify interval while critical or expired, in milliseconds. Default 24 h. */
  readonly renotifyIntervalMs: number;
}

/**
 * What the probe can speak before the TLS handshake, by name (the scheme of a target URL and the
 * `protocol:` of an endpoint), with the port each implies when a target gives none and how TLS
 * starts. The probe's implementations (lambdas/probe/protocol-registry.ts) are keyed by these
 * names, so a name without an implementation does not compile.
 */
export const PROBE_PROTOCOLS = {
  /** Implicit TLS on any port: the handshake starts as soon as TCP is up. The protocol of a plain `host[:port]`. */
  tls: { defaultPort: 443, startsTls: 'implicit TLS' },
  https: { defaultPort: 443, startsTls: 'implicit TLS' },
  smtps: { defaultPort: 465, startsTls: 'implicit TLS' },
  smtp: { defaultPort: 25, startsTls: 'EHLO, then STARTTLS' },
  submission: { defaultPort: 587, startsTls: 'EHLO, then STARTTLS' },
  imaps: { defaultPort: 993, startsTls: 'implicit TLS' },
  imap: { defaultPort: 143, startsTls: 'STARTTLS' },
  pop3s: { defaultPort: 995, startsTls: 'implicit TLS' },
  pop3: { defaultPort: 110, startsTls: 'STLS' },
  ftp: { defaultPort: 21, startsTls: 'AUTH TLS' },
  ldaps: { defaultPort: 636, startsTls: 'implicit TLS' },
  ldap: { defaultPort: 389, startsTls: 'the StartTLS extended operation' },
  postgres: { defaultPort: 5432, startsTls: 'SSLRequest' },
  mysql: { defaultPort: 3306, startsTls: 'SSL request in the handshake response' },
  xmpp: { defaultPort: 5222, startsTls: 'client STARTTLS' },
  'xmpp-server': { defaultPort: 5269, startsTls: 'server STARTTLS' },
} as const satisfies Record<string, { readonly defaultPort: number; readonly startsTls: string }>;

export type ProbeProtocolName = keyof typeof PROBE_PROTOCOLS;

/** Every protocol name, in table order (for messages and decoders). */
export const PROBE_PROTOCOL_NAMES = Object.keys(PROBE_PROTOCOLS) as [
  ProbeProtocolName,
  ...ProbeProtocolName[],
];

/** Whether `name` is a protocol the probe speaks (own keys only: `constructor` is not one). */
export function isProbeProtocolName(name: string): name is ProbeProtocolName {
  return Object.hasOwn(PROBE_PROTOCOLS, name);
}

/** The protocol of an endpoint that names none. */
export const DEFAULT_PROBE_PROTOCOL: ProbeProtocolName = 'tls';

/**
 * How one endpoint is probed. One object carries it from the config (an {@link Endpoint} is one)
 * and the CLI through the check pipeline to the probe of each address: every option type on that
 * path extends it rather than copying its fields (see `probeSettingsOf`).
 */
export interface ProbeSettings {
  /** One deadline per address, in ms, covering DNS, TCP connect, the protocol step and the TLS handshake. */
  readonly timeoutMs: number;
  /** What is spoken before the TLS handshake. @default 'tls' (nothing: implicit TLS) */
  readonly protocol?: ProbeProtocolName;
  /** SNI to send; null sends none. @default the host name; none for an IP literal (RFC 6066 §3) */
  readonly servername?: string | null;
  /**
   * Connect here instead of to the host's own addresses: an IP literal, or a name resolved in the
   * host's place. The host still names the target (SNI, hostname check, state keys).
   * @default the host's addresses
   */
  readonly address?: string;
  /**
   * Connect to this port instead of the target's (`--connect-to HOST:PORT:ADDR:PORT`); the target's
   * port still names the target (results, state keys).
   * @default the target's port
   */
  readonly connectPort?: number;
  /**
   * HTTP CONNECT proxy the TCP connection is tunnelled through: `http://host[:port]` (port 80 by
   * default, 3128 is common). The proxy exchange counts against `timeoutMs`.
   * @default direct connection
   */
  readonly proxy?: string;
  /**
   * Client certificate for servers that demand mutual TLS: the certificate chain (PEM, leaf first)
   * and a reference to its private key (`env:NAME`, `secretsmanager:ID[#field]` or, locally, a
   * literal PEM), resolved by the host that runs the check, so the key itself never travels with
   * the inventory or the check messages.
   * @default none (a server that demands one yields CLIENT_CERT_REQUIRED)
   */
  readonly clientCertificate?: ClientCertificateSettings;
}

/** A client certificate and where its key is read from (see {@link ProbeSettings.clientCertificate}). */
export interface ClientCertificateSettings {
  /** The certificate chain, PEM, leaf first. Public: it travels as is. */
  readonly certPem: string;
  /** Reference to the private key (`env:NAME`, `secretsmanager:ID[#field]`), never the key itself in AWS. */
  readonly keyRef: string;
}

/**
 * Whether revocation is checked (`revocation:` in the config, `--revocation` on `check`):
 * - `check`: the stapled OCSP response, the OCSP responder and the CRL are asked; a revoked
 *   certificate is REVOKED (critical), and no answer is REVOCATION_UNKNOWN at info (the status stays).
 * - `require`: the same, and no answer (or no source named at all) is REVOCATION_UNKNOWN at warning.
 * - `off`: nothing is fetched and no revocation finding is raised (MUST_STAPLE_MISSING neither).
 */
export const REVOCATION_MODES = ['check', 'require', 'off'] as const;
export type RevocationMode = (typeof REVOCATION_MODES)[number];
export const DEFAULT_REVOCATION_MODE: RevocationMode = 'check';

/**
 * The trust anchors chains are judged against (`trust:` in the config), by content. An endpoint
 * names its profile by id ({@link Endpoint.trust}), so the inventory and the check messages carry
 * only the reference; the CA certificates travel once per process (the checker's bundle, the CLI's config).
 */
export interface TrustProfile {
  /** Content address of `systemRoots` and `caCertificates`; {@link SYSTEM_TRUST_PROFILE}'s id for the system roots alone. */
  readonly id: string;
  /** Whether Node's bundled (Mozilla) root certificates are trusted. */
  readonly systemRoots: boolean;
  /** Further trusted CA certificates: DER in base64, each once, ordered by content. */
  readonly caCertificates: readonly string[];
}

/** The trust of an endpoint that configures none: Node's bundled roots, nothing else. */
export const SYSTEM_TRUST_PROFILE: TrustProfile = Object.freeze({
  id: 'system',
  systemRoots: true,
  caCertificates: Object.freeze([]),
});

/** One monitored endpoint as configured (the inventory); its probe settings are its own fields. */
export interface Endpoint extends ProbeSettings {
  /** Canonical target id, `host:port`. The inventory key. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Display name; defaults to the id. */
  readonly name: string;
  readonly owner: string | null;
  readonly tags: readonly string[];
  /** Names of the channels this endpoint alerts to; empty means all channels. */
  readonly channels: readonly string[];
  readonly policy: AlertPolicyConfig;
  /** Probe timeout for this endpoint in ms (see {@link ProbeSettings.timeoutMs}). */
  readonly timeoutMs: number;
  /**
   * Id of the {@link TrustProfile} its chains are judged against.
   * @default - absent: the system roots alone ({@link SYSTEM_TRUST_PROFILE})
   */
  readonly trust?: string;
  /**
   * Whether revocation is checked (`revocation:`).
   * @default - absent: {@link DEFAULT_REVOCATION_MODE}
   */
  readonly revocation?: RevocationMode;
}

/** Key of one address of one endpoint: `${endpointId}|${address ?? 'dns'}`. */
export function addressKey(endpointId: string, address: string | null): string {
  return `${endpointId}|${address ?? 'dns'}`;
}

/** Bookkeeping the alert policy keeps so that it is never silent and never spams. */
export interface AlertBookkeeping {
  /** Leaf fingerprint the thresholds below refer to. */
  readonly fingerprint: string | null;
  /** Thresholds (days) already alerted for that fingerprint. */
  readonly thresholdsSent: readonly number[];
  /** When the last critical/expired notification went out (ISO), for re-notify. */
  readonly lastNotifiedAt: string | null;
  /** Whether an error alert went out for the current failure streak. */
  readonly errorAlerted: boolean;
  /** Problem codes (trust, hostname, connection) alerted and awaiting a resolved notice. */
  readonly openProblems: readonly FindingCode[];
  /** Key of the divergent-certificates condition last alerted for this address's endpoint (sorted fingerprints), null if none. */
  readonly divergenceKey: string | null;
  /**
   * Threshold bookkeeping of the leaf fingerprints served before the current one, newest first (a few at most).
   * An address that alternates between two certificates (two backends behind one IP) then neither announces a
   * renewal on every switch nor repeats threshold alerts. Absent in states written before it existed.
   */
  readonly recentFingerprints?: readonly FingerprintThresholds[];
}

/** Thresholds already alerted for one leaf fingerprint. */
export interface FingerprintThresholds {
  readonly fingerprint: string;
  readonly thresholdsSent: readonly number[];
}

/** The latest state of one address, as stored. */
export interface AddressState {
  readonly key: string;
  readonly endpointId: string;
  readonly endpointName: string;
  readonly host: string;
  readonly port: number;
  readonly address: string | null;
  readonly status: Status;
  readonly daysLeft: number | null;
  readonly notAfter: string | null;
  /** Leaf SHA-256 fingerprint; null when no certificate was obtained. */
  readonly fingerprint: string | null;
  readonly issuer: string | null;
  readonly findings: readonly Finding[];
  readonly lastCheckedAt: string;
  readonly lastSuccessAt: string | null;
  readonly consecutiveFailures: number;
  /** Start of the current failure streak (ISO), null when the last check succeeded. */
  readonly failingSince: string | null;
  readonly alerting: AlertBookkeeping;
  /** Run that produced this state; a redelivered check of the same run is a no-op. */
  readonly lastRunId: string | null;
  /**
   * Alerts decided but not yet settled on every channel (the outbox). The state write that
   * records them decides them, so a crash or a failed channel cannot lose them; each
   * (alert, channel) send is claimed and recorded in its own {@link DeliveryRecord}, so no
   * two senders and no rerun send the same alert to the same channel twice.
   */
  readonly outbox?: AlertOutbox | null;
  /**
   * Set when the address was retired (it left DNS, or this is the DNS-failure state of a host
   * that resolves again): its closing alerts are in the outbox, and the state is deleted once
   * they are delivered. A later check of the address clears it.
   */
  readonly retiredAt?: string | null;
  /**
   * The maintenance window or silence that covered the address at its last check ("in
   * maintenance", "silenced"); null or absent when none did.
   */
  readonly suppressedBy?: SuppressionMark | null;
  /** The latest alerts a window or silence quieted (recorded, not sent), newest last, a few at most. */
  readonly quieted?: readonly QuietedAlert[];
}

/** A suppressor covering an address, and since when. */
export interface SuppressionMark extends SuppressionRef {
  /** First check it covered (ISO). */
  readonly since: string;
  /** First check whose alert it quieted (ISO), null while it quieted none. */
  readonly quietedSince: string | null;
}

/** An alert a maintenance window or silence kept from the channels. */
export interface QuietedAlert {
  readonly id: string;
  readonly kind: AlertKind;
  readonly severity: Severity;
  readonly summary: string;
  /** When it was decided (ISO). */
  readonly at: string;
  readonly by: SuppressionRef;
}

/**
 * Pending alert deliveries of one address. An entry leaves the outbox once every channel it
 * routes to is settled in its delivery record (delivered, maybe delivered, or given up).
 */
export interface AlertOutbox {
  readonly entries: readonly OutboxEntry[];
  /**
   * When the outbox was last written with new alerts (ISO). No longer a lease: each
   * (alert, channel) delivery carries its own claim in its {@link DeliveryRecord}.
   */
  readonly claimedAt: string;
}

export interface OutboxEntry {
  readonly alert: Alert;
  /**
   * Channels this alert is owed on; null = every channel the alert routes to. New entries
   * are always null (each channel's progress lives in its delivery record); a list is only
   * found in states written before delivery records existed, and is honoured.
   */
  readonly channels: readonly string[] | null;
  /** Flushes that attempted this alert and left it unsettled. */
  readonly attempts: number;
  readonly lastError: string | null;
}

export type AlertKind =
  | 'threshold'
  | 'renotify'
  | 'renewed'
  | 'resolved'
  | 'problem'
  | 'error'
  | 'divergent'
  | 'monitor'
  | 'test'
  | 'announcement';

/** One notification, independent of the channel that carries it. */
export interface Alert {
  /** Deterministic id (idempotency key): the same event always gets the same id. */
  readonly id: string;
  readonly kind: AlertKind;
  readonly severity: Severity;
  /** Display name of the endpoint. */
  readonly endpoint: string;
  readonly endpointId: string;
  readonly address: string | null;
  readonly status: Status;
  readonly daysLeft: number | null;
  readonly notAfter: string | null;
  readonly issuer: string | null;
  readonly findings: readonly Finding[];
  /** One line, e.g. "expires in 7 days". Plain text; may contain untrusted text. */
  readonly summary: string;
  /** Longer explanation (e.g. "unreachable for 2 consecutive checks since …"). */
  readonly detail: string;
  /** One line on what to do next. */
  readonly action: string;
  readonly occurredAt: string;
  readonly owner: string | null;
  /** Channel names to deliver to; empty means all. */
  readonly channels: readonly string[];
}

/**
 * Delivery channels, with any `env:`/secret references already resolved. Each
 * channel type is declared by its own module in lambdas/channels and listed in
 * its registry; the names stay importable from the model (types only, so the
 * core loads nothing of it).
 */
export type { Channel } from '../channels/registry';
export type { SlackChannel } from '../channels/slack-channel';
export type { SnsChannel } from '../channels/sns-channel';
export type { TeamsChannel } from '../channels/teams-channel';
export type { WebhookChannel } from '../channels/webhook-channel';

/** Outcome of delivering one alert to one channel. */
export interface DeliveryResult {
  readonly channel: string;
  readonly alertId: string;
  readonly ok: boolean;
  readonly attempts: number;
  /** Error description when not ok. */
  readonly error: string | null;
  /**
   * Attempts whose outcome is unknown: timed out or cut off after the request may have
   * reached the channel. Each may have delivered a copy. Absent = 0.
   */
  readonly unknownAttempts?: number;
  /**
   * Not confirmed, but an attempt's outcome is unknown, so the channel may have the alert
   * ("maybe delivered"). Such a delivery is retried at most once more, with the same
   * Idempotency-Key, never again after that. Absent = false.
   */
  readonly maybeDelivered?: boolean;
  /**
   * The channel asked to be retried later (`Retry-After`) than this send could wait: the
   * delivery is left pending for at least this many ms. Absent = no such request.
   */
  readonly retryAfterMs?: number;
}

/**
 * Where one (alert, channel) delivery stands:
 * - `sending`: claimed by `holder` until `leaseUntil`; a claim whose lease passed was left by a
 *   sender that stopped mid-send (its outcome is unknown) and may be taken over;
 * - `failed`: the last send failed; retried from `retryAt`;
 * - `delivered`: the channel accepted it; never sent again;
 * - `maybe-delivered`: it stopped after two unknown outcomes; never sent again (a third copy could arrive);
 * - `given-up`: failed too many times; reported every time, no longer retried.
 */
export type DeliveryStatus = 'sending' | 'failed' | 'delivered' | 'maybe-delivered' | 'given-up';

/** The record of one (alert, channel) delivery, claimed before each send and written as soon as it ends. */
export interface DeliveryRecord {
  readonly alertId: string;
  readonly channel: string;
  readonly status: DeliveryStatus;
  /** Who holds the claim while `sending`; the last holder otherwise. */
  readonly holder: string;
  /** While `sending`: when the claim may be taken over (ISO). */
  readonly leaseUntil: string | null;
  /** While `failed`: earliest next send (ISO): the retry hold, or later when the channel asked (`Retry-After`). */
  readonly retryAt: string | null;
  /** Sends started (claims taken), including the current one. */
  readonly sends: number;
  /** Attempts whose outcome is unknown, including sends whose sender vanished mid-send. */
  readonly unknownOutcomes: number;
  readonly lastError: string | null;
  /** Last change (ISO); for `delivered`, when the channel accepted it. */
  readonly updatedAt: string;
}
