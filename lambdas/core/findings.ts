/**
 * The finding registry: every fact certwatch keeps about a finding code, in one
 * table. The code list, the connection codes, the codes the probe reports, the
 * alert policy's problem codes, the status rules and the alert labels and next
 * steps are all derived from it. A new code is one row here (plus its docs/findings.md row
 * and the code that raises it); a row with a field missing does not compile.
 *
 * Pure types and constants only: no SDK, no node:tls, no process.env.
 */
import type { Severity } from './model';

/**
 * What a finding is about.
 * - `expiry`: the validity period (expired, expiring, not yet valid).
 * - `trust`, `hostname`, `crypto`, `malformed`: what clients reject the certificate for.
 * - `connectivity`: no certificate could be obtained from the address.
 * - `revocation`: what the CA says about a certificate it issued (OCSP, CRL, stapling).
 * - `consistency`: the addresses of one host disagree. It is none of the above: every single
 *   certificate may be fine; what is wrong is that a stale node still serves an old one.
 * - `monitor`: certwatch itself failed.
 * - `info`: worth knowing, never a fault.
 */
export type FindingCategory =
  | 'expiry'
  | 'trust'
  | 'hostname'
  | 'crypto'
  | 'malformed'
  | 'connectivity'
  | 'consistency'
  | 'revocation'
  | 'monitor'
  | 'info';

/**
 * Which rule of the alert policy alerts on a finding.
 * - `problem`: `evaluateCheck`'s problem rule: once when it appears at warning or worse,
 *   'resolved' when it clears.
 * - `failure`: the check obtained no certificate; the failure streak alerts, and its
 *   unreachable alert names this finding and its next step.
 * - `expiry`: the days-left thresholds alert; the finding explains them but does not trigger them.
 * - `divergence`: `evaluateDivergence`, across the addresses of an endpoint, not `evaluateCheck`.
 *   None of the others fits: it is decided per endpoint from stored states, not per check.
 * - `none`: never alerts by itself.
 */
export type AlertClass = 'problem' | 'failure' | 'expiry' | 'divergence' | 'none';

/** What a "what to do next" line may name. */
export interface ActionSubject {
  readonly host: string;
  readonly port: number;
  /** Expiry date of the certificate concerned, ready to print (`YYYY-MM-DD` or "an unknown date"). */
  readonly expiryDate: string;
}

/** Everything certwatch knows about one finding code. */
export interface FindingFacts {
  readonly category: FindingCategory;
  /** Severity it is normally raised with; expiring certificates turn critical inside the critical window. */
  readonly defaultSeverity: Severity;
  /** Which policy rule alerts on it. */
  readonly alerts: AlertClass;
  /** The probe reports it (`ProbeError.code`), before any certificate analysis. */
  readonly fromProbe: boolean;
  /** The certificate concerned is past its notAfter: the address's status is `expired`. */
  readonly expired: boolean;
  /** Short human label for alert texts, e.g. "incomplete chain". */
  readonly label: string;
  /** The "what to do next" line of an alert about it. */
  readonly action: (subject: ActionSubject) => string;
}

const renewNow = ({ host, expiryDate }: ActionSubject) =>
  `Renew the certificate for ${host} now (it expired on ${expiryDate}) and deploy it to every address`;
const renewBefore = ({ host, expiryDate }: ActionSubject) =>
  `Renew the certificate for ${host} before ${expiryDate} and deploy it to every address`;
const checkReachable = ({ port }: ActionSubject) =>
  `Check that the server is up and port ${port} is reachable from the monitor`;

/**
 * The registry. Its key order is the contract order of `FINDING_CODES` (JSON output and docs):
 * append new codes at the end. Codes are a public contract: never renamed or removed.
 */
const REGISTRY = {
  EXPIRED: {
    category: 'expiry',
    defaultSeverity: 'critical',
    alerts: 'expiry',
    fromProbe: false,
    expired: true,
    label: 'expired',
    action: renewNow,
  },
  EXPIRES_SOON: {
    category: 'expiry',
    defaultSeverity: 'warning',
    alerts: 'expiry',
    fromProbe: false,
    expired: false,
    label: 'expires soon',
    action: renewBefore,
  },
  NOT_YET_VALID: {
    category: 'expiry',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'certificate not yet valid',
    action: () =>
      "Check the server clock and the certificate's start date, or deploy a currently valid certificate",
  },
  // Chain expiry moves `daysLeft` (the earliest expiry that matters), so the threshold alert says it.
  CHAIN_CERT_EXPIRED: {
    category: 'expiry',
    defaultSeverity: 'critical',
    alerts: 'expiry',
    fromProbe: false,
    expired: true,
    label: 'chain cert expired',
    action: renewNow,
  },
  CHAIN_CERT_EXPIRES_SOON: {
    category: 'expiry',
    defaultSeverity: 'warning',
    alerts: 'expiry',
    fromProbe: false,
    expired: false,
    label: 'chain cert expires soon',
    action: renewBefore,
  },
  HOSTNAME_MISMATCH: {
    category: 'hostname',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'hostname mismatch',
    action: ({ host }) => `Serve a certificate whose subject alternative names include ${host}`,
  },
  SELF_SIGNED: {
    category: 'trust',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'self-signed certificate',
    action: () => 'Replace the self-signed certificate with one issued by a trusted CA',
  },
  UNTRUSTED_CHAIN: {
    category: 'trust',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'untrusted chain',
    action: () =>
      'Serve a certificate chain that leads to a trusted root CA; for a private CA, trust its root (trust.caFiles in the config, or check --ca-file)',
  },
  INCOMPLETE_CHAIN: {
    category: 'trust',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'incomplete chain',
    action: () => 'Install the missing intermediate certificate named in the finding on the server',
  },
  MALFORMED_CERTIFICATE: {
    category: 'malformed',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'malformed certificate',
    action: () => 'Reissue the certificate: the server sends one that cannot be parsed',
  },
  WEAK_KEY: {
    category: 'crypto',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'weak key',
    action: () => 'Reissue the certificate with at least a 2048-bit RSA or a 256-bit EC key',
  },
  WEAK_SIGNATURE: {
    category: 'crypto',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'weak signature algorithm',
    action: () => 'Reissue the certificate with a SHA-256 (or stronger) signature',
  },
  CONNECTION_REFUSED: {
    category: 'connectivity',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: true,
    expired: false,
    label: 'connection refused',
    action: checkReachable,
  },
  TIMEOUT: {
    category: 'connectivity',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: true,
    expired: false,
    label: 'timeout',
    action: checkReachable,
  },
  HANDSHAKE_FAILED: {
    category: 'connectivity',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: true,
    expired: false,
    label: 'handshake failed',
    action: ({ host, port }) => `Check the TLS configuration of ${host}:${port} (protocols, ciphers, SNI)`,
  },
  DNS_ERROR: {
    category: 'connectivity',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: true,
    expired: false,
    label: 'dns error',
    action: ({ host }) => `Check that ${host} resolves in DNS from the monitor`,
  },
  NOT_TLS: {
    category: 'connectivity',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: true,
    expired: false,
    label: 'not tls',
    action: ({ host, port }) => `Check that port ${port} on ${host} serves TLS`,
  },
  // Added by certwatch beyond the original contract.
  DIVERGENT_CERTIFICATES: {
    category: 'consistency',
    defaultSeverity: 'warning',
    alerts: 'divergence',
    fromProbe: false,
    expired: false,
    label: 'divergent certificates',
    action: ({ host }) =>
      `Find the node that serves the older certificate and deploy the current certificate for ${host} to it`,
  },
  // A bug in certwatch, never a server's doing: the check obtained nothing, so it counts as a failure.
  CHECK_FAILED: {
    category: 'monitor',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: false,
    expired: false,
    label: 'check failed',
    action: () => 'certwatch itself failed: check the checker logs and report the bug',
  },
  // Mutual TLS: the server's own certificate was read and judged; requiring a client one is no fault.
  CLIENT_CERT_REQUIRED: {
    category: 'info',
    defaultSeverity: 'info',
    alerts: 'none',
    fromProbe: true,
    expired: false,
    label: 'client cert required',
    action: () => 'No action needed',
  },
  // Path validation (issue 8): what RFC 5280 clients (Chromium, NSS, Go, rustls) reject besides trust and names.
  NAME_CONSTRAINTS_VIOLATED: {
    category: 'trust',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'name constraints violated',
    action: ({ host }) =>
      `Reissue the certificate for ${host} with only names its CA's name constraints permit, or from a CA that may issue for them`,
  },
  INVALID_KEY_USAGE: {
    category: 'trust',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'invalid key usage',
    action: ({ host }) =>
      `Reissue the certificate for ${host} with extendedKeyUsage serverAuth and keyUsage digitalSignature, from a CA allowed to issue TLS server certificates`,
  },
  INVALID_CA_CERTIFICATE: {
    category: 'trust',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'invalid CA certificate',
    action: () =>
      'Serve the chain your CA publishes: every issuer must be a v3 CA certificate (basicConstraints cA, keyCertSign) within its pathLenConstraint',
  },
  // The plaintext exchange before TLS (SMTP STARTTLS, LDAP StartTLS, SSLRequest, ...) did not lead to TLS.
  STARTTLS_FAILED: {
    category: 'connectivity',
    defaultSeverity: 'critical',
    alerts: 'failure',
    fromProbe: true,
    expired: false,
    label: 'starttls failed',
    action: ({ host, port }) =>
      `Check that ${host}:${port} speaks the configured protocol and offers TLS (STARTTLS enabled, a certificate installed), or configure the protocol it does speak`,
  },
  // Revocation. A revoked certificate is as dead as an expired one: a problem, so it
  // alerts on first sight, critical, whatever failuresBeforeAlert says (that counts failed checks only).
  REVOKED: {
    category: 'revocation',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'certificate revoked',
    action: ({ host }) =>
      `Replace the revoked certificate for ${host} with a newly issued one now, on every address`,
  },
  MUST_STAPLE_MISSING: {
    category: 'revocation',
    defaultSeverity: 'critical',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'OCSP staple missing',
    action: ({ host }) =>
      `Enable OCSP stapling on the server for ${host} (the certificate demands it), or reissue it without the must-staple extension`,
  },
  // Raised at info under `revocation: check` (never a fault) and at warning under `revocation: require`,
  // where it alerts as a problem: the default severity is the one it is a fault with.
  REVOCATION_UNKNOWN: {
    category: 'revocation',
    defaultSeverity: 'warning',
    alerts: 'problem',
    fromProbe: false,
    expired: false,
    label: 'revocation status unknown',
    action: () =>
      "Check that the monitor can reach the CA's OCSP responder and CRL (plain HTTP), or staple OCSP on the server",
  },
} as const satisfies Record<string, FindingFacts>;

/**
 * Finding codes are a public contract (JSON output, alert attributes, docs).
 * New codes may be added; existing codes are never renamed or removed.
 */
export type FindingCode = keyof typeof REGISTRY;

/** The facts of every finding code. */
export const FINDINGS: { readonly [C in FindingCode]: FindingFacts } = REGISTRY;

/** Every finding code, in contract order. */
export const FINDING_CODES = Object.keys(REGISTRY) as [FindingCode, ...FindingCode[]];

/** The codes whose row matches `Facts`, as a type. */
type CodesWhere<Facts> = { [C in FindingCode]: (typeof REGISTRY)[C] extends Facts ? C : never }[FindingCode];

/** Codes the probe reports in `ProbeError.code`. */
export type ProbeErrorCode = CodesWhere<{ readonly fromProbe: true }>;

/** The codes whose facts pass `test`, in contract order. */
export function findingCodesWhere(test: (facts: FindingFacts) => boolean): FindingCode[] {
  return FINDING_CODES.filter((code) => test(FINDINGS[code]));
}

/** Codes that mean "no certificate could be obtained from this address". */
export const CONNECTION_FINDING_CODES: readonly FindingCode[] = findingCodesWhere(
  (f) => f.category === 'connectivity',
);

/** Codes the probe reports (the runtime twin of `ProbeErrorCode`). */
export const PROBE_ERROR_CODES = findingCodesWhere((f) => f.fromProbe) as readonly ProbeErrorCode[];
