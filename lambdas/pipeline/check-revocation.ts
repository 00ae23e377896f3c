/**
 * The revocation step of a check: once the chain is received (its requests travel while the chain
 * is judged), ask what the CA says about the leaf (the stapled OCSP response, then the CRL, then the
 * OCSP responder) and about each intermediate that names a source, within what is left of the
 * address's deadline. Adds REVOKED,
 * MUST_STAPLE_MISSING and REVOCATION_UNKNOWN findings and classifies the status again. Never throws.
 */
import { classifyStatus } from '../cert/classify-status';
import { issuedBy } from '../cert/certificate-signature';
import { type ParsedCertificate, parseCertificateCached } from '../cert/parse-certificate';
import { judgeCrl } from '../cert/revocation/crl';
import { buildOcspRequest, judgeOcspResponse, type OcspSubject } from '../cert/revocation/ocsp';
import {
  type CertificateIds,
  type RevocationSources,
  revocationFactsOf,
} from '../cert/revocation/revocation-sources';
import type { RevocationVerdict } from '../cert/revocation/revocation-verdict';
import type { TrustStore } from '../cert/trust-store';
import {
  type CheckResult,
  DEFAULT_REVOCATION_MODE,
  type ExpiryThresholds,
  type Finding,
  type ProbeOutcome,
  type RevocationMode,
} from '../core/model';
import type { RevocationFetcher } from '../probe/fetch-revocation';
import { monotonicMs } from '../probe/monotonic-clock';

/** Inputs of {@link checkRevocation}. */
export interface RevocationStepOptions {
  /** @default 'check' */
  readonly mode?: RevocationMode;
  readonly trust: TrustStore;
  readonly thresholds: ExpiryThresholds;
  /** The check's clock: freshness is judged at this time. */
  readonly now: Date;
  /** What is left of the address's deadline, in ms. */
  readonly budgetMs: number;
  /** Fetches OCSP answers and CRLs; null judges the staple alone. */
  readonly fetcher: RevocationFetcher | null;
}

/** Certificates above the leaf whose revocation is asked about: real paths have one or two intermediates. */
const MAX_INTERMEDIATES = 3;
/** Reasons quoted in one REVOCATION_UNKNOWN message. */
const MAX_REASONS = 3;
/** Longest reason quoted. */
const MAX_REASON_LENGTH = 240;
/** Least time one fetch is given when several sources remain. */
const MIN_FETCH_MS = 1_000;

/** A verdict and who gave it. */
type Answer = { readonly verdict: RevocationVerdict; readonly source: string };

/** One certificate to ask about: its bytes, its place in the chain as sent, and its issuer. */
interface Subject {
  readonly cert: ParsedCertificate;
  readonly index: number;
  readonly issuer: ParsedCertificate;
  readonly sources: RevocationSources;
  readonly ocsp: OcspSubject | null;
}

function label(index: number): string {
  return index === 0 ? 'certificate 0 (leaf)' : `certificate ${index}`;
}

function shorten(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text;
}

/** What a certificate says about its revocation, read once per parsed certificate (those are cached per process). */
const factsCache = new WeakMap<
  ParsedCertificate,
  { sources: RevocationSources; ids: CertificateIds | null }
>();

function factsOf(cert: ParsedCertificate): { sources: RevocationSources; ids: CertificateIds | null } {
  let facts = factsCache.get(cert);
  if (facts === undefined) {
    facts = revocationFactsOf(cert.der);
    factsCache.set(cert, facts);
  }
  return facts;
}

/** The issuer of `cert` among the certificates sent and the anchors: the name matches and the signature verifies. */
function issuerOf(cert: ParsedCertificate, sent: readonly ParsedCertificate[], trust: TrustStore) {
  if (cert.x509 === null || cert.issuerKey === null || cert.issuerKey === cert.subjectKey) return null;
  const candidates = [
    ...sent.filter((c) => c.subjectKey === cert.issuerKey),
    ...trust.findBySubject(cert.issuerKey),
  ].slice(0, 8);
  // The same question path building asks of the same pair, answered once (issuedBy is cached).
  return candidates.find((candidate) => candidate !== cert && issuedBy(cert, candidate)) ?? null;
}

/** The leaf and the intermediates above it, each with its issuer, as far as issuers are found. */
function subjectsOf(sent: readonly ParsedCertificate[], trust: TrustStore): Subject[] {
  const subjects: Subject[] = [];
  let cert = sent[0];
  for (let depth = 0; cert !== undefined && depth <= MAX_INTERMEDIATES; depth++) {
    if (depth > 0 && trust.isAnchor(cert)) break;
    const { sources, ids } = factsOf(cert);
    if (depth > 0 && sources.ocspUrls.length + sources.crlUrls.length === 0) {
      // Nothing to ask about this intermediate: step up by name, sparing a signature check.
      const current: ParsedCertificate = cert;
      cert = sent.find((c) => c !== current && c.subjectKey === current.issuerKey);
      continue;
    }
    const issuer = issuerOf(cert, sent, trust);
    if (issuer === null || issuer.x509 === null) break;
    subjects.push({
      cert,
      index: sent.indexOf(cert),
      issuer,
      sources,
      ocsp: ids === null ? null : { ids, issuer: issuer.x509 },
    });
    if (subjects.some((s) => s.cert === issuer)) break;
    cert = issuer;
  }
  return subjects;
}

/** OCSP requests built, per certificate and issuer: the same leaf is asked about every run. */
const builtRequests = new WeakMap<ParsedCertificate, { issuer: ParsedCertificate; request: Buffer | null }>();

function ocspRequestOf(subject: Subject): Buffer | null {
  const built = builtRequests.get(subject.cert);
  if (built !== undefined && built.issuer === subject.issuer) return built.request;
  const request = subject.ocsp === null ? null : buildOcspRequest(subject.ocsp);
  builtRequests.set(subject.cert, { issuer: subject.issuer, request });
  return request;
}

/** Asks the sources of one certificate in order until one answers good or revoked. */
async function ask(
  subject: Subject,
  staple: Uint8Array | null,
  opts: RevocationStepOptions,
  deadline: number,
): Promise<{ answer: Answer | null; reasons: string[] }> {
  const reasons: string[] = [];
  const { ocsp } = subject;
  if (ocsp === null) return { answer: null, reasons: ['its serial or issuer name is unreadable'] };
  if (staple !== null) {
    const verdict = judgeOcspResponse(staple, ocsp, opts.now);
    if (verdict.status !== 'unknown')
      return { answer: { verdict, source: 'the stapled OCSP response' }, reasons };
    reasons.push(`stapled OCSP response: ${verdict.reason}`);
  }
  const fetcher = opts.fetcher;
  if (fetcher === null) return { answer: null, reasons };
  const ocspSteps = subject.sources.ocspUrls.map((url) => ({ kind: 'ocsp' as const, url }));
  const crlSteps = subject.sources.crlUrls.map((url) => ({ kind: 'crl' as const, url }));
  // The CRL first: one fetch per CA, cached until its nextUpdate, answers for every certificate the
  // CA issued (bench:revocation: 1 request for 1,000 leaves, against 1,000 OCSP requests). The OCSP
  // responder is asked when the CA publishes no CRL or it cannot be had in time.
  const steps = [...crlSteps, ...ocspSteps];
  let request: Buffer | null | undefined;
  for (const [i, step] of steps.entries()) {
    const left = deadline - monotonicMs();
    if (left <= 0) {
      reasons.push('no time left before the deadline');
      break;
    }
    // A slow source leaves time for the next one.
    const timeoutMs = Math.floor(Math.min(left, Math.max(MIN_FETCH_MS, left / (steps.length - i))));
    if (step.kind === 'ocsp') {
      request ??= ocspRequestOf(subject);
      if (request === null) {
        reasons.push('no OCSP request could be built for it');
        break;
      }
      const judge = (body: Uint8Array) => judgeOcspResponse(body, ocsp, opts.now);
      const verdict = await fetcher.ocsp(step.url, request, judge, { timeoutMs });
      if (verdict.status !== 'unknown') {
        return { answer: { verdict, source: `the OCSP responder ${step.url}` }, reasons };
      }
      reasons.push(verdict.reason);
      continue;
    }
    const crl = await fetcher.crl(step.url, { timeoutMs });
    if (typeof crl === 'string') {
      reasons.push(crl);
      continue;
    }
    const issuerKey = subject.issuer.publicKey;
    const signed =
      issuerKey === null
        ? 'the issuer key is unusable'
        : crl.signedBy(issuerKey, subject.issuer.info.fingerprintSha256);
    const verdict = judgeCrl(
      crl.crl,
      {
        serialHex: ocsp.ids.serialHex,
        issuerKey: subject.cert.issuerKey,
        isCa: subject.cert.isCa,
        crlUrls: subject.sources.crlUrls,
      },
      signed,
      opts.now,
    );
    if (verdict.status !== 'unknown') return { answer: { verdict, source: `the CRL ${step.url}` }, reasons };
    reasons.push(`CRL ${step.url}: ${verdict.reason}`);
  }
  return { answer: null, reasons };
}

function revokedFinding(subject: Subject, answer: Answer): Finding | null {
  const { verdict } = answer;
  if (verdict.status !== 'revoked') return null;
  const when = verdict.revokedAt === null ? 'at an unreadable time' : `on ${verdict.revokedAt.toISOString()}`;
  const why = verdict.reason === null ? 'no reason given' : `reason ${verdict.reason}`;
  return {
    code: 'REVOKED',
    severity: 'critical',
    message: `${label(subject.index)} (${subject.cert.info.subject}) was revoked ${when} (${why}), according to ${answer.source}`,
    certIndex: subject.index,
  };
}

/** The findings of the revocation step for one address. */
async function revocationFindings(
  outcome: ProbeOutcome,
  opts: RevocationStepOptions,
  mode: RevocationMode,
): Promise<Finding[]> {
  const deadline = monotonicMs() + opts.budgetMs;
  const findings: Finding[] = [];
  const staple = outcome.ocspStaple ?? null;
  // Each certificate sent is parsed (or found in the cache by its fingerprint) once per step.
  const sent = outcome.chainDer.map((der) => parseCertificateCached(der));
  const leafSources = factsOf(sent[0]!).sources;
  if (leafSources.mustStaple && staple === null && outcome.error === null) {
    findings.push({
      code: 'MUST_STAPLE_MISSING',
      severity: 'critical',
      message:
        'certificate 0 (leaf) demands a stapled OCSP response (TLS Feature status_request, "must-staple") but the server sent none: Firefox refuses the connection',
      certIndex: 0,
    });
  }
  const unknownSeverity = mode === 'require' ? 'warning' : 'info';
  const subjects = subjectsOf(sent, opts.trust);
  if (subjects[0]?.index !== 0) {
    const named = leafSources.ocspUrls.length + leafSources.crlUrls.length > 0 || staple !== null;
    if (named || mode === 'require') {
      findings.push({
        code: 'REVOCATION_UNKNOWN',
        severity: unknownSeverity,
        message:
          'revocation of certificate 0 (leaf) was not checked: its issuer is not available to verify an answer',
        certIndex: 0,
      });
    }
    return findings;
  }
  for (const subject of subjects) {
    const { sources } = subject;
    const isLeaf = subject.index === 0;
    const hasSource = sources.ocspUrls.length + sources.crlUrls.length > 0 || (isLeaf && staple !== null);
    if (!hasSource) {
      if (isLeaf && mode === 'require') {
        findings.push({
          code: 'REVOCATION_UNKNOWN',
          severity: unknownSeverity,
          message:
            'certificate 0 (leaf) names no OCSP responder and no CRL, and the server stapled no OCSP response',
          certIndex: 0,
        });
      }
      continue;
    }
    const { answer, reasons } = await ask(subject, isLeaf ? staple : null, opts, deadline);
    if (answer !== null) {
      const revoked = revokedFinding(subject, answer);
      if (revoked !== null) findings.push(revoked);
      continue;
    }
    const shown = reasons.slice(0, MAX_REASONS).map(shorten);
    const more = reasons.length - shown.length;
    findings.push({
      code: 'REVOCATION_UNKNOWN',
      severity: unknownSeverity,
      message: `revocation status of ${label(subject.index)} is unknown: ${shown.join('; ') || 'no source answered'}${more > 0 ? `; +${more} more` : ''}`,
      certIndex: subject.index,
    });
  }
  return findings;
}

/**
 * Starts the revocation step for `outcome` now, before the chain is judged, so that its OCSP and
 * CRL requests travel while the analysis runs (the step reads the certificates sent and the trust
 * store, not the analysis). The returned function adds the findings to the judged result and
 * classifies its status again; it returns `result` itself when revocation is off or no
 * certificate was obtained. Neither ever throws or rejects.
 */
export function startRevocationCheck(
  outcome: ProbeOutcome,
  opts: RevocationStepOptions,
): (result: CheckResult) => Promise<CheckResult> {
  const mode = opts.mode ?? DEFAULT_REVOCATION_MODE;
  if (mode === 'off' || outcome.chainDer.length === 0) return async (result) => result;
  const unknown = (error: unknown): Finding[] => [
    {
      code: 'REVOCATION_UNKNOWN',
      severity: mode === 'require' ? 'warning' : 'info',
      message: `revocation was not checked: certwatch failed internally (${String(error)})`,
    },
  ];
  let pending: Promise<Finding[]>;
  try {
    pending = revocationFindings(outcome, opts, mode).catch(unknown);
  } catch (error) {
    pending = Promise.resolve(unknown(error));
  }
  return async (result) => {
    const added = await pending;
    if (result.chain.length === 0 || added.length === 0) return result;
    const findings = [...result.findings, ...added];
    return {
      ...result,
      findings,
      status: classifyStatus(findings, result.daysLeft, opts.thresholds, true),
    };
  };
}
