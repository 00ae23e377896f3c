/**
 * Combines what the probe observed with the chain analysis into the
 * CheckResult the CLI prints and the alert policy consumes.
 */
import type { CheckResult, ExpiryThresholds, Finding, ProbeOutcome } from '../core/model';
import { analyzeChain, type MissingIssuer } from './analyze-chain';
import { classifyStatus } from './classify-status';
import type { TrustStore } from './trust-store';

/** Inputs of {@link buildCheckResult} besides the probe outcome. */
export interface BuildCheckResultOptions {
  /** Canonical target id (`host:port`). */
  readonly target: string;
  /** When the check started; also the clock for expiry. */
  readonly now: Date;
  readonly thresholds: ExpiryThresholds;
  readonly trust: TrustStore;
  /** Issuer certificates (DER) fetched from the AIA caIssuers URL; see `AnalyzeOptions.aiaIssuers`. */
  readonly aiaIssuers?: readonly Uint8Array[];
  /**
   * The name the leaf must cover; null judges none (`certwatch inspect` without `--host`).
   * @default the probed host (`outcome.host`)
   */
  readonly hostname?: string | null;
}

/** A check result and what the AIA fetcher needs to know about it. */
export interface CheckResultWithEvidence {
  readonly result: CheckResult;
  /** The chain's missing issuer and where to fetch it; null when nothing is missing (see `ChainAnalysis.missingIssuer`). */
  readonly missingIssuer: MissingIssuer | null;
}

/**
 * Never throws. A probe error without certificates gives status `error` with
 * that error as the only finding; a probe error after certificates arrived
 * (e.g. the handshake failed on a malformed one) keeps both the analysis and
 * the error.
 */
export function buildCheckResult(outcome: ProbeOutcome, opts: BuildCheckResultOptions): CheckResult {
  return buildCheckResultWithEvidence(outcome, opts).result;
}

/**
 * {@link buildCheckResult}, plus the chain's missing issuer: a caller with an
 * AIA fetcher fetches from its `caIssuersUrls` and builds again with `aiaIssuers`.
 */
export function buildCheckResultWithEvidence(
  outcome: ProbeOutcome,
  opts: BuildCheckResultOptions,
): CheckResultWithEvidence {
  const findings: Finding[] = [];
  let chain: CheckResult['chain'] = [];
  let daysLeft: number | null = null;
  let notAfter: string | null = null;
  let missingIssuer: MissingIssuer | null = null;
  const hasCertificate = outcome.chainDer.length > 0;

  if (hasCertificate) {
    const analysis = analyzeChain(outcome.chainDer, {
      host: opts.hostname === undefined ? outcome.host : opts.hostname,
      now: opts.now,
      thresholds: opts.thresholds,
      trust: opts.trust,
      ...(opts.aiaIssuers ? { aiaIssuers: opts.aiaIssuers } : {}),
    });
    missingIssuer = analysis.missingIssuer ?? null;
    findings.push(...analysis.findings);
    ({ chain, daysLeft, notAfter, missingIssuer } = analysis);
  }
  if (outcome.error?.code === 'CLIENT_CERT_REQUIRED' && hasCertificate) {
    // Mutual TLS: not a failure of the server; its certificate alone decides the status.
    findings.push({ code: outcome.error.code, severity: 'info', message: outcome.error.message });
  } else if (outcome.error) {
    findings.push({ code: outcome.error.code, severity: 'critical', message: outcome.error.message });
  } else if (!hasCertificate) {
    findings.push({
      code: 'HANDSHAKE_FAILED',
      severity: 'critical',
      message: 'the server sent no certificate',
    });
  }

  const result: CheckResult = {
    target: opts.target,
    host: outcome.host,
    port: outcome.port,
    address: outcome.address,
    servername: outcome.servername,
    status: classifyStatus(findings, daysLeft, opts.thresholds, hasCertificate),
    daysLeft,
    notAfter,
    findings,
    chain,
    protocol: outcome.protocol,
    cipher: outcome.cipher,
    durationMs: outcome.durationMs,
    checkedAt: opts.now.toISOString(),
  };
  return { result, missingIssuer };
}
