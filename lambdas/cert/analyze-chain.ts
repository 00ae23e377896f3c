/**
 * Whole-chain analysis: turns the DER chain a server sent into findings
 * (expiry, trust, path rules, host name, weak crypto, malformed), the way a
 * client would judge it. Pure (no I/O, no clock: `now` is injected) and never throws.
 *
 * Candidate paths come from build-paths.ts, each is judged by the rule table
 * of path-rules.ts, and the path a client would accept (or, when none would,
 * the one that explains the failure best) decides the findings.
 */
import { describeDays, wholeDaysLeft } from '../core/day-count';
import type { ChainCertificate, ExpiryThresholds, Finding, FindingCode, Severity } from '../core/model';
import { buildPaths, type CertPath, END_RANK, MAX_DEPTH, type PathEnd, type PathNode } from './build-paths';
import { hostnameMismatch } from './hostname-match';
import { type ParsedCertificate, parseCertificateCached } from './parse-certificate';
import { describeNode, judgePath, newRuleContext, type RuleContext } from './path-rules';
import type { TrustStore } from './trust-store';

/** Inputs of {@link analyzeChain}. */
export interface AnalyzeOptions {
  /**
   * Host name or IP literal the client asked for (IPv6 without brackets); null judges no name
   * (`certwatch inspect` without `--host`).
   */
  readonly host: string | null;
  readonly now: Date;
  readonly thresholds: ExpiryThresholds;
  readonly trust: TrustStore;
  /**
   * Certificates (DER) fetched from the AIA caIssuers URL of the chain's last
   * certificate (see {@link ChainAnalysis.missingIssuer}). When they complete a
   * path to a trusted anchor, the server omitted an intermediate: INCOMPLETE_CHAIN.
   * Without them an unanchored chain is UNTRUSTED_CHAIN (an unknown root).
   */
  readonly aiaIssuers?: readonly Uint8Array[];
}

/** The issuer a chain lacks, and where its certificate says it can be fetched. */
export interface MissingIssuer {
  /** The plain `http://` caIssuers URLs of the certificate whose issuer is missing, as sent. */
  readonly caIssuersUrls: readonly string[];
  /** That certificate's issuer name (display form). */
  readonly issuer: string;
  /** That certificate's position as sent. */
  readonly certIndex: number;
}

/** Result of {@link analyzeChain}. */
export interface ChainAnalysis {
  /** One entry per certificate sent, in the order sent. */
  readonly chain: ChainCertificate[];
  readonly findings: Finding[];
  /** Whole days until the earliest expiry that matters (leaf or path intermediates); negative when expired. */
  readonly daysLeft: number | null;
  /** ISO-8601 of that earliest expiry. */
  readonly notAfter: string | null;
  /**
   * Set when the sent certificates reach no trust anchor and the last one on
   * the best path is not self-signed: its issuer is missing. The AIA fetcher
   * fetches from `caIssuersUrls` and analyses again with `aiaIssuers`.
   */
  readonly missingIssuer: MissingIssuer | null;
}

const MAX_REASONS_PER_CERT = 5;
const MAX_MALFORMED_FINDINGS = 10;
/** How a user trusts a private CA, for the messages that name an unknown root. */
const TRUST_PRIVATE_CA = 'trust.caFiles in the config, or check --ca-file';

function finding(code: FindingCode, severity: Severity, message: string, certIndex?: number | null): Finding {
  return certIndex === undefined || certIndex === null
    ? { code, severity, message }
    : { code, severity, message, certIndex };
}

function label(index: number | null): string {
  if (index === null) return 'trust anchor';
  return index === 0 ? 'certificate 0 (leaf)' : `certificate ${index}`;
}

function isValidAt(cert: ParsedCertificate, now: number): boolean {
  return (
    cert.notBefore !== null &&
    cert.notAfter !== null &&
    cert.notBefore.getTime() <= now &&
    now <= cert.notAfter.getTime()
  );
}

function daysUntil(date: Date, now: Date): number {
  return wholeDaysLeft(date.getTime(), now.getTime());
}

// ---------------------------------------------------------------------------
// Choosing the path a client would accept
// ---------------------------------------------------------------------------

/**
 * Certificates whose expiry matters: the leaf, every non-anchor on the path, and an
 * anchor only once it is outside its validity: then clients (Go) refuse the path.
 */ function expiryNodes(path: CertPath, now: number): PathNode[] {
  return path.nodes.filter((n, i) => i === 0 || !n.anchor || !isValidAt(n.cert, now));
}

function earliestExpiry(path: CertPath, now: number): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const n of expiryNodes(path, now)) {
    const t = n.cert.notAfter?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (t < earliest) earliest = t;
  }
  return earliest;
}

/** A path and what it breaks. */
interface JudgedPath {
  readonly path: CertPath;
  readonly ruleFindings: Finding[];
}

/**
 * The path to report: one that reaches an anchor before one that does not;
 * then the fewest broken rules (a client takes a path that holds when there
 * is one); then sent before fetched certificates; then all certificates valid
 * now; then the latest earliest expiry; then the shortest.
 */
function choosePath(paths: readonly CertPath[], now: number, context: RuleContext): JudgedPath {
  const scored = paths.map((path) => {
    const ruleFindings = judgePath(path, context);
    const invalid = path.nodes.filter((n) => !isValidAt(n.cert, now)).length;
    return {
      judged: { path, ruleFindings },
      rank: END_RANK[path.end],
      broken: ruleFindings.length + invalid + unknownCriticalCount(path),
      fetched: path.nodes.filter((n) => n.fetched).length,
      allValid: invalid === 0,
      earliest: earliestExpiry(path, now),
    };
  });
  scored.sort(
    (a, b) =>
      a.rank - b.rank ||
      a.broken - b.broken ||
      a.fetched - b.fetched ||
      Number(b.allValid) - Number(a.allValid) ||
      b.earliest - a.earliest ||
      a.judged.path.nodes.length - b.judged.path.nodes.length,
  );
  return scored[0]!.judged;
}

function unknownCriticalCount(path: CertPath): number {
  return path.nodes.reduce((n, node) => n + node.cert.unknownCriticalExtensions.length, 0);
}

// ---------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------

/**
 * Structural problems of every sent certificate, plus the unknown critical
 * extensions of those on the path: a stray certificate's are no client's concern.
 */
function malformedFindings(sent: readonly ParsedCertificate[], path: CertPath): Finding[] {
  const onPath = new Set(path.nodes.map((n) => n.sentIndex));
  const out: Finding[] = [];
  let unreported = 0;
  sent.forEach((cert, i) => {
    const unknown = onPath.has(i)
      ? cert.unknownCriticalExtensions.map((oid) => `unknown critical extension ${oid}`)
      : [];
    const reasons = [...cert.malformed, ...unknown];
    if (reasons.length === 0) return;
    // A hostile server can send hundreds of broken certificates; results must stay small enough to store.
    if (out.length >= MAX_MALFORMED_FINDINGS) {
      unreported++;
      return;
    }
    const shown = reasons.slice(0, MAX_REASONS_PER_CERT);
    const more = reasons.length - shown.length;
    const subject = cert.subjectKey === null ? '' : ` (${cert.info.subject})`;
    const message = `${label(i)}${subject} is malformed: ${shown.join('; ')}${more > 0 ? `; +${more} more` : ''}`;
    out.push(finding('MALFORMED_CERTIFICATE', 'critical', message, i));
  });
  if (unreported > 0) {
    out.push(
      finding('MALFORMED_CERTIFICATE', 'critical', `${unreported} more malformed certificates in the chain`),
    );
  }
  // A fetched issuer on the path is judged like a sent one.
  for (const node of path.nodes) {
    if (!node.fetched || node.cert.unknownCriticalExtensions.length === 0) continue;
    const oids = node.cert.unknownCriticalExtensions.slice(0, MAX_REASONS_PER_CERT);
    out.push(
      finding(
        'MALFORMED_CERTIFICATE',
        'critical',
        `${describeNode(node)} is malformed: ${oids.map((oid) => `unknown critical extension ${oid}`).join('; ')}`,
      ),
    );
  }
  return out;
}

function expiryFindings(path: CertPath, opts: AnalyzeOptions): Finding[] {
  const out: Finding[] = [];
  const { now, thresholds } = opts;
  for (const node of expiryNodes(path, now.getTime())) {
    const { notBefore, notAfter } = node.cert;
    const isLeaf = node.sentIndex === 0;
    const who = isLeaf ? 'certificate' : `chain ${describeNode(node)}`;
    if (notAfter && now.getTime() > notAfter.getTime()) {
      out.push(
        finding(
          isLeaf ? 'EXPIRED' : 'CHAIN_CERT_EXPIRED',
          'critical',
          `${who} expired on ${notAfter.toISOString()} (${describeDays(daysUntil(notAfter, now))})`,
          node.sentIndex,
        ),
      );
    } else if (notBefore && now.getTime() < notBefore.getTime()) {
      out.push(
        finding(
          'NOT_YET_VALID',
          'critical',
          `${who} is not valid before ${notBefore.toISOString()}`,
          node.sentIndex,
        ),
      );
    } else if (notAfter) {
      const days = daysUntil(notAfter, now);
      if (days <= thresholds.warnDays) {
        out.push(
          finding(
            isLeaf ? 'EXPIRES_SOON' : 'CHAIN_CERT_EXPIRES_SOON',
            days <= thresholds.criticalDays ? 'critical' : 'warning',
            `${who} expires on ${notAfter.toISOString()} (${describeDays(days)})`,
            node.sentIndex,
          ),
        );
      }
    }
  }
  return out;
}

function trustFindings(path: CertPath, sent: readonly ParsedCertificate[]): Finding[] {
  const explained = EXPLAIN_PATH_END[path.end](path, path.nodes[path.nodes.length - 1]!, sent);
  return explained ? [explained] : [];
}

/** Explains why a chain whose chosen path ends this way is not trusted; null when there is nothing to say. */
type PathEndExplanation = (
  path: CertPath,
  last: PathNode,
  sent: readonly ParsedCertificate[],
) => Finding | null;

/** One explanation per way a path can end: adding a PathEnd without one does not compile. */
const EXPLAIN_PATH_END = {
  anchor: explainAnchor,
  // OpenSSL could not read the certificate: it is reported as malformed, and there is nothing to verify.
  unverifiable: () => null,
  root: explainRoot,
  badSignature: (path, last) => {
    const issuer = path.failedIssuer ?? last;
    return untrusted(
      issuer === last
        ? `signature of self-issued ${describeNode(last)} does not verify`
        : `signature of ${describeNode(last)} does not verify with the key of ${describeNode(issuer)}`,
      last,
    );
  },
  issuerMismatch: (path, last) =>
    untrusted(
      `${describeNode(path.failedIssuer ?? last)} has the issuer name of ${describeNode(last)} but cannot have issued it (key identifier, key type or key usage mismatch)`,
      last,
    ),
  unusableIssuer: (path, last) =>
    untrusted(
      `issuer ${describeNode(path.failedIssuer ?? last)} of ${describeNode(last)} could not be parsed, so the chain cannot be verified`,
      last,
    ),
  incomplete: explainIncomplete,
  depth: (_path, last) => untrusted(`no trusted path within ${MAX_DEPTH} certificates`, last),
} satisfies Record<PathEnd, PathEndExplanation>;

function untrusted(message: string, last: PathNode): Finding {
  return finding('UNTRUSTED_CHAIN', 'critical', message, last.sentIndex);
}

/** The last sent certificate before the first fetched one, when the path needed fetched issuers. */
function lastSentBeforeFetched(path: CertPath): PathNode | null {
  const firstFetched = path.nodes.findIndex((n) => n.fetched);
  return firstFetched > 0 ? path.nodes[firstFetched - 1]! : null;
}

/**
 * A trusted path. When it needed certificates fetched from AIA, that is the
 * evidence that the server omitted an intermediate: browsers that fetch it
 * cope, most other clients (curl, Go, Java, rustls, mobile apps) fail.
 */
function explainAnchor(path: CertPath, last: PathNode): Finding | null {
  const sentEnd = lastSentBeforeFetched(path);
  if (!sentEnd) return null;
  const fetched = path.nodes.filter((n) => n.fetched && !n.anchor).map((n) => `"${n.cert.info.subject}"`);
  if (fetched.length === 0) return null;
  const url = sentEnd.cert.caIssuers[0];
  const from = url ? ` from ${url} (authorityInfoAccess caIssuers)` : ' from authorityInfoAccess caIssuers';
  const names = fetched.join(' and ');
  return finding(
    'INCOMPLETE_CHAIN',
    'critical',
    `chain is incomplete: the server does not send the intermediate ${names}, issuer of ${describeNode(sentEnd)}; fetched${from}, it leads to trusted root "${last.cert.info.subject}". Install the missing intermediate ${names} on the server: browsers may fetch it, most other clients fail`,
    sentEnd.sentIndex,
  );
}

/** The path ends in a self-signed root that is not an anchor: the leaf itself, or a root the server sent (or AIA gave). */
function explainRoot(path: CertPath, last: PathNode): Finding {
  if (path.nodes.length === 1) {
    return finding(
      'SELF_SIGNED',
      'critical',
      `certificate is self-signed (${last.cert.info.subject}) and not issued by a trusted CA`,
      0,
    );
  }
  const root = last.fetched ? `${describeNode(last)}, fetched from caIssuers,` : describeNode(last);
  const sentEnd = lastSentBeforeFetched(path) ?? last;
  return finding(
    'UNTRUSTED_CHAIN',
    'critical',
    `chain ends in root ${root} which is not a trusted root; if "${last.cert.info.subject}" is your private CA, trust it (${TRUST_PRIVATE_CA})`,
    sentEnd.sentIndex,
  );
}

/**
 * No issuer was found. Only evidence makes that an omitted intermediate: a
 * sent certificate in the issuer's place that cannot be read (or an AIA
 * fetch, see explainAnchor). Without it, the issuer is an unknown root: say
 * so, name it, and say how to trust a private CA.
 */
function explainIncomplete(_path: CertPath, last: PathNode, sent: readonly ParsedCertificate[]): Finding {
  const aia = last.cert.caIssuers[0];
  const hint = aia
    ? `; the certificate names its issuer's certificate at ${aia} (authorityInfoAccess caIssuers)`
    : '';
  const issuer = last.cert.info.issuer;
  // A sent certificate whose subject cannot be read may be the issuer, garbled: say so.
  const garbled = sent.findIndex(
    (c, i) =>
      i > 0 && c.malformed.length > 0 && (c.subjectKey === null || c.subjectKey === last.cert.issuerKey),
  );
  if (garbled > 0) {
    return finding(
      'INCOMPLETE_CHAIN',
      'critical',
      `chain is incomplete: the issuer of ${describeNode(last)}, "${issuer}", was not sent in readable form (certificate ${garbled} is malformed) and is not a trusted root${hint}`,
      last.sentIndex,
    );
  }
  return finding(
    'UNTRUSTED_CHAIN',
    'critical',
    `chain is not trusted: the issuer of ${describeNode(last)}, "${issuer}", was not sent by the server and is not a trusted root${hint}. If "${issuer}" is your private CA, trust its root certificate (${TRUST_PRIVATE_CA}); if it is an intermediate, the server must send it`,
    last.sentIndex,
  );
}

/** What the AIA fetcher needs: set when the best path as sent stops at a certificate whose issuer is missing. */
function missingIssuerOf(path: CertPath): MissingIssuer | null {
  const sentEnd = lastSentBeforeFetched(path) ?? (path.end === 'incomplete' ? path.nodes.at(-1)! : null);
  if (!sentEnd || sentEnd.sentIndex === null) return null;
  return {
    caIssuersUrls: sentEnd.cert.caIssuersFetchable,
    issuer: sentEnd.cert.info.issuer,
    certIndex: sentEnd.sentIndex,
  };
}

function hostnameFindings(leaf: ParsedCertificate, host: string): Finding[] {
  // An unreadable leaf is reported as malformed; guessing at its names would only add noise.
  if (!leaf.x509 && leaf.malformed.length > 0) return [];
  const mismatch = hostnameMismatch(leaf, host);
  return mismatch === null ? [] : [finding('HOSTNAME_MISMATCH', 'critical', mismatch, 0)];
}

function analyzeUnsafe(chainDer: readonly Uint8Array[], opts: AnalyzeOptions): ChainAnalysis {
  if (chainDer.length === 0) {
    return {
      chain: [],
      findings: [finding('MALFORMED_CERTIFICATE', 'critical', 'the server sent no certificate')],
      daysLeft: null,
      notAfter: null,
      missingIssuer: null,
    };
  }
  const now = opts.now.getTime();
  const sent = chainDer.map((der) => parseCertificateCached(der));
  const fetched = (opts.aiaIssuers ?? []).map((der) => parseCertificateCached(der));
  const { paths } = buildPaths(sent, opts.trust, fetched);
  const { path, ruleFindings } = choosePath(paths, now, newRuleContext());
  const weak = new Set<FindingCode>(['WEAK_KEY', 'WEAK_SIGNATURE']);
  const findings = [
    ...malformedFindings(sent, path),
    ...expiryFindings(path, opts),
    ...trustFindings(path, sent),
    ...ruleFindings.filter((f) => !weak.has(f.code)),
    ...(opts.host === null ? [] : hostnameFindings(sent[0]!, opts.host)),
    ...ruleFindings.filter((f) => weak.has(f.code)),
  ];
  let earliest: Date | null = null;
  if (sent[0]!.notAfter) {
    for (const node of expiryNodes(path, now)) {
      const t = node.cert.notAfter;
      if (t && (earliest === null || t < earliest)) earliest = t;
    }
  }
  return {
    chain: sent.map((c) => c.info),
    findings,
    daysLeft: earliest ? daysUntil(earliest, opts.now) : null,
    notAfter: earliest ? earliest.toISOString() : null,
    missingIssuer: missingIssuerOf(path),
  };
}

/**
 * Analyses a chain as sent (leaf first). Never throws: an internal failure
 * becomes a MALFORMED_CERTIFICATE finding, so one strange certificate can
 * never stop a check run.
 */
export function analyzeChain(chainDer: readonly Uint8Array[], opts: AnalyzeOptions): ChainAnalysis {
  try {
    return analyzeUnsafe(chainDer, opts);
  } catch (err) {
    const chain = chainDer.map((der) => parseCertificateCached(der).info);
    return {
      chain,
      findings: [
        finding(
          'MALFORMED_CERTIFICATE',
          'critical',
          `certificate chain could not be analysed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      ],
      daysLeft: null,
      notAfter: null,
      missingIssuer: null,
    };
  }
}
