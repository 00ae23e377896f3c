/**
 * certwatch domain model: the contracts shared by the probe, the certificate
 * analysis, the alert policy, the state store, the notifiers, the CLI and the
 * Lambda handlers.
 *
 * Pure types and constants only: no SDK, no node:tls, no process.env.
 */

/**
 * Finding codes are a public contract (JSON output, alert attributes, docs).
 * New codes may be added; existing codes are never renamed or removed.
 */
export const FINDING_CODES = [
  'EXPIRED',
  'EXPIRES_SOON',
  'NOT_YET_VALID',
  'CHAIN_CERT_EXPIRED',
  'CHAIN_CERT_EXPIRES_SOON',
  'HOSTNAME_MISMATCH',
  'SELF_SIGNED',
  'UNTRUSTED_CHAIN',
  'INCOMPLETE_CHAIN',
  'MALFORMED_CERTIFICATE',
  'WEAK_KEY',
  'WEAK_SIGNATURE',
  'CONNECTION_REFUSED',
  'TIMEOUT',
  'HANDSHAKE_FAILED',
  'DNS_ERROR',
  'NOT_TLS',
  // Added by certwatch beyond the original contract.
  'DIVERGENT_CERTIFICATES',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

/** Codes that mean "no certificate could be obtained from this address". */
export const CONNECTION_FINDING_CODES: readonly FindingCode[] = [
  'CONNECTION_REFUSED',
  'TIMEOUT',
  'HANDSHAKE_FAILED',
  'DNS_ERROR',
  'NOT_TLS',
];

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
}

export interface ProbeError {
  readonly code: 'CONNECTION_REFUSED' | 'TIMEOUT' | 'HANDSHAKE_FAILED' | 'DNS_ERROR' | 'NOT_TLS';
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
