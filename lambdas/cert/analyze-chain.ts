/**
 * Whole-chain analysis: turns the DER chain a server sent into findings
 * (expiry, trust, host name, weak crypto, malformed), the way a client would
 * judge it. Pure (no I/O, no clock: `now` is injected) and never throws.
 */
import type { ChainCertificate, ExpiryThresholds, Finding, FindingCode, Severity } from '../core/model';
import { hostnameMismatch } from './hostname-match';
import { WEAK_HASHES } from './oid-names';
import { type ParsedCertificate, parseCertificateCached } from './parse-certificate';
import type { TrustStore } from './trust-store';

/** Inputs of {@link analyzeChain}. */
export interface AnalyzeOptions {
  /** Host name or IP literal the client asked for (IPv6 without brackets). */
  readonly host: string;
  readonly now: Date;
  readonly thresholds: ExpiryThresholds;
  readonly trust: TrustStore;
  /** Certificates fetched from the AIA caIssuers URL of the chain's last certificate. (STAND-IN: declared, unused) */
  readonly aiaIssuers?: readonly Uint8Array[];
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
  /** Set when no trusted path exists and the last certificate is not self-signed. (STAND-IN declaration) */
  readonly missingIssuer?: { readonly caIssuersUrls: readonly string[] } | null;
}

const DAY_MS = 86_400_000;
/** Longest path considered; real chains are 2-4 certificates. */
const MAX_DEPTH = 10;
/** Issuer candidates tried per certificate; more only happens with hostile or broken chains. */
const MAX_CANDIDATES = 8;
/** Signature checks per analysis: bounds the path search on a chain of hundreds of look-alikes. */
const MAX_EDGE_CHECKS = 64;
const MAX_PATHS = 32;
const MAX_REASONS_PER_CERT = 5;
const MAX_MALFORMED_FINDINGS = 10;

type PathEnd =
  | 'anchor'
  | 'root'
  | 'badSignature'
  | 'issuerMismatch'
  | 'unusableIssuer'
  | 'incomplete'
  | 'depth'
  | 'unverifiable';
/** Which dead end explains an untrusted chain best when no path reaches an anchor. */
const END_RANK: Record<PathEnd, number> = {
  anchor: 0,
  root: 1,
  badSignature: 2,
  issuerMismatch: 3,
  unusableIssuer: 4,
  incomplete: 5,
  depth: 6,
  unverifiable: 7,
};

interface PathNode {
  readonly cert: ParsedCertificate;
  /** Position in the chain as sent; null for an anchor taken from the store. */
  readonly sentIndex: number | null;
  readonly anchor: boolean;
}

interface CertPath {
  readonly nodes: readonly PathNode[];
  readonly end: PathEnd;
  /** For badSignature / unusableIssuer: the issuer candidate that failed. */
  readonly failedIssuer?: PathNode;
}

/** How a candidate issuer relates to a certificate. */
type EdgeResult = 'issued' | 'mismatch' | 'badSignature';

// Verification outcomes depend only on the exact bytes of both certificates.
const VERIFY_CACHE_LIMIT = 4096;
const verifyCache = new Map<string, EdgeResult>();

function checkEdge(child: ParsedCertificate, parent: ParsedCertificate): EdgeResult {
  const key = `${child.info.fingerprintSha256}>${parent.info.fingerprintSha256}`;
  const cached = verifyCache.get(key);
  if (cached !== undefined) return cached;
  let result: EdgeResult;
  try {
    if (!child.x509 || !parent.x509 || !parent.publicKey) result = 'mismatch';
    // checkIssued: names, key identifiers and the issuer's keyCertSign usage (OpenSSL X509_check_issued).
    else if (!child.x509.checkIssued(parent.x509)) result = 'mismatch';
    else result = child.x509.verify(parent.publicKey) ? 'issued' : 'badSignature';
  } catch {
    result = 'badSignature';
  }
  if (verifyCache.size >= VERIFY_CACHE_LIMIT) verifyCache.clear();
  verifyCache.set(key, result);
  return result;
}

function label(index: number | null): string {
  if (index === null) return 'trust anchor';
  return index === 0 ? 'certificate 0 (leaf)' : `certificate ${index}`;
}

function describe(node: PathNode): string {
  return `${label(node.sentIndex)} (${node.cert.info.subject})`;
}

function finding(code: FindingCode, severity: Severity, message: string, certIndex?: number | null): Finding {
  return certIndex === undefined || certIndex === null
    ? { code, severity, message }
    : { code, severity, message, certIndex };
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
  return Math.floor((date.getTime() - now.getTime()) / DAY_MS);
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------
// Path building
// ---------------------------------------------------------------------------

interface SearchState {
  readonly sent: readonly ParsedCertificate[];
  readonly sentBySubject: ReadonlyMap<string, number[]>;
  readonly sentIsAnchor: readonly boolean[];
  readonly trust: TrustStore;
  readonly paths: CertPath[];
  edgeChecks: number;
}

function issuerCandidates(state: SearchState, path: readonly PathNode[]): PathNode[] {
  const current = path[path.length - 1]!.cert;
  const inPath = new Set(path.map((n) => n.cert.info.fingerprintSha256));
  const seen = new Set<string>();
  const out: PathNode[] = [];
  const add = (node: PathNode) => {
    const fp = node.cert.info.fingerprintSha256;
    if (inPath.has(fp) || seen.has(fp) || out.length >= MAX_CANDIDATES) return;
    seen.add(fp);
    out.push(node);
  };
  // Anchors first: a client with the root installed uses it rather than a sent (possibly cross-signed) copy.
  for (const anchor of state.trust.findBySubject(current.issuerKey))
    add({ cert: anchor, sentIndex: null, anchor: true });
  for (const i of state.sentBySubject.get(current.issuerKey ?? '') ?? []) {
    add({ cert: state.sent[i]!, sentIndex: i, anchor: state.sentIsAnchor[i]! });
  }
  return out;
}

function search(state: SearchState, path: PathNode[]): void {
  if (state.paths.length >= MAX_PATHS) return;
  const last = path[path.length - 1]!;
  const cert = last.cert;
  if (last.anchor) {
    state.paths.push({ nodes: [...path], end: 'anchor' });
    return;
  }
  if (!cert.x509 || !cert.publicKey) {
    state.paths.push({ nodes: [...path], end: 'unverifiable' });
    return;
  }
  if (path.length >= MAX_DEPTH) {
    state.paths.push({ nodes: [...path], end: 'depth' });
    return;
  }
  const candidates = issuerCandidates(state, path);
  let extended = false;
  let failed: PathNode | undefined;
  let unusable: PathNode | undefined;
  let mismatched: PathNode | undefined;
  for (const candidate of candidates) {
    if (!candidate.cert.x509 || !candidate.cert.publicKey) {
      unusable ??= candidate;
      continue;
    }
    if (state.edgeChecks >= MAX_EDGE_CHECKS) break;
    state.edgeChecks++;
    const edge = checkEdge(cert, candidate.cert);
    if (edge === 'issued') {
      extended = true;
      path.push(candidate);
      search(state, path);
      path.pop();
    } else if (edge === 'badSignature') {
      failed ??= candidate;
    } else {
      mismatched ??= candidate;
    }
  }
  if (extended) return;
  const selfIssued = cert.subjectKey !== null && cert.subjectKey === cert.issuerKey;
  if (failed) state.paths.push({ nodes: [...path], end: 'badSignature', failedIssuer: failed });
  else if (unusable) state.paths.push({ nodes: [...path], end: 'unusableIssuer', failedIssuer: unusable });
  else if (mismatched)
    state.paths.push({ nodes: [...path], end: 'issuerMismatch', failedIssuer: mismatched });
  else if (selfIssued && cert.info.selfSigned) state.paths.push({ nodes: [...path], end: 'root' });
  else if (selfIssued) state.paths.push({ nodes: [...path], end: 'badSignature', failedIssuer: last });
  else state.paths.push({ nodes: [...path], end: 'incomplete' });
}

/** Certificates whose expiry and crypto matter: the leaf always, then every non-anchor on the path. */
function countedNodes(path: CertPath): PathNode[] {
  return path.nodes.filter((n, i) => i === 0 || !n.anchor);
}

function earliestExpiry(path: CertPath): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const n of countedNodes(path)) {
    const t = n.cert.notAfter?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (t < earliest) earliest = t;
  }
  return earliest;
}

function choosePath(paths: readonly CertPath[], now: number): CertPath {
  const scored = paths.map((path) => ({
    path,
    rank: END_RANK[path.end],
    allValid: path.nodes.every((n) => isValidAt(n.cert, now)),
    earliest: earliestExpiry(path),
  }));
  scored.sort(
    (a, b) =>
      a.rank - b.rank ||
      Number(b.allValid) - Number(a.allValid) ||
      b.earliest - a.earliest ||
      a.path.nodes.length - b.path.nodes.length,
  );
  return scored[0]!.path;
}

function buildPath(sent: readonly ParsedCertificate[], trust: TrustStore, now: number): CertPath {
  const sentBySubject = new Map<string, number[]>();
  sent.forEach((cert, i) => {
    if (i === 0 || cert.subjectKey === null) return;
    const list = sentBySubject.get(cert.subjectKey);
    if (list) list.push(i);
    else sentBySubject.set(cert.subjectKey, [i]);
  });
  const state: SearchState = {
    sent,
    sentBySubject,
    sentIsAnchor: sent.map((c) => trust.isAnchor(c)),
    trust,
    paths: [],
    edgeChecks: 0,
  };
  search(state, [{ cert: sent[0]!, sentIndex: 0, anchor: state.sentIsAnchor[0]! }]);
  return choosePath(state.paths, now);
}

// ---------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------

function malformedFindings(sent: readonly ParsedCertificate[]): Finding[] {
  const out: Finding[] = [];
  let unreported = 0;
  sent.forEach((cert, i) => {
    if (cert.malformed.length === 0) return;
    // A hostile server can send hundreds of broken certificates; results must stay small enough to store.
    if (out.length >= MAX_MALFORMED_FINDINGS) {
      unreported++;
      return;
    }
    const shown = cert.malformed.slice(0, MAX_REASONS_PER_CERT);
    const more = cert.malformed.length - shown.length;
    const subject = cert.subjectKey === null ? '' : ` (${cert.info.subject})`;
    const message = `${label(i)}${subject} is malformed: ${shown.join('; ')}${more > 0 ? `; +${more} more` : ''}`;
    out.push(finding('MALFORMED_CERTIFICATE', 'critical', message, i));
  });
  if (unreported > 0) {
    out.push(
      finding('MALFORMED_CERTIFICATE', 'critical', `${unreported} more malformed certificates in the chain`),
    );
  }
  return out;
}

function expiryFindings(path: CertPath, opts: AnalyzeOptions): Finding[] {
  const out: Finding[] = [];
  const { now, thresholds } = opts;
  for (const node of countedNodes(path)) {
    const { notBefore, notAfter } = node.cert;
    const isLeaf = node.sentIndex === 0;
    const who = isLeaf ? 'certificate' : `chain ${describe(node)}`;
    if (notAfter && now.getTime() > notAfter.getTime()) {
      const ago = -daysUntil(notAfter, now);
      out.push(
        finding(
          isLeaf ? 'EXPIRED' : 'CHAIN_CERT_EXPIRED',
          'critical',
          `${who} expired on ${notAfter.toISOString()} (${plural(ago, 'day')} ago)`,
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
            `${who} expires on ${notAfter.toISOString()} (in ${plural(days, 'day')})`,
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
  anchor: () => null,
  // OpenSSL could not read the certificate: it is reported as malformed, and there is nothing to verify.
  unverifiable: () => null,
  root: explainRoot,
  badSignature: (path, last) => {
    const issuer = path.failedIssuer ?? last;
    return untrusted(
      issuer === last
        ? `signature of self-issued ${describe(last)} does not verify`
        : `signature of ${describe(last)} does not verify with the key of ${describe(issuer)}`,
      last,
    );
  },
  issuerMismatch: (path, last) =>
    untrusted(
      `${describe(path.failedIssuer ?? last)} has the issuer name of ${describe(last)} but cannot have issued it (key identifier, key type or key usage mismatch)`,
      last,
    ),
  unusableIssuer: (path, last) =>
    untrusted(
      `issuer ${describe(path.failedIssuer ?? last)} of ${describe(last)} could not be parsed, so the chain cannot be verified`,
      last,
    ),
  incomplete: explainIncomplete,
  depth: (_path, last) => untrusted(`no trusted path within ${MAX_DEPTH} certificates`, last),
} satisfies Record<PathEnd, PathEndExplanation>;

function untrusted(message: string, last: PathNode): Finding {
  return finding('UNTRUSTED_CHAIN', 'critical', message, last.sentIndex);
}

/** The path ends in a self-signed root that is not an anchor: the leaf itself, or a root the server sent. */
function explainRoot(path: CertPath, last: PathNode): Finding {
  if (path.nodes.length === 1) {
    return finding(
      'SELF_SIGNED',
      'critical',
      `certificate is self-signed (${last.cert.info.subject}) and not issued by a trusted CA`,
      0,
    );
  }
  return untrusted(`chain ends in root ${describe(last)} which is not a trusted root`, last);
}

/** No issuer was found: say whether it was sent unreadably or not at all, and where the certificate says it is. */
function explainIncomplete(_path: CertPath, last: PathNode, sent: readonly ParsedCertificate[]): Finding {
  const aia = last.cert.caIssuers[0];
  // A sent certificate whose subject cannot be read may be the issuer, garbled: say so.
  const garbled = sent.findIndex(
    (c, i) =>
      i > 0 && c.malformed.length > 0 && (c.subjectKey === null || c.subjectKey === last.cert.issuerKey),
  );
  const sentAs =
    garbled > 0
      ? `was not sent in readable form (certificate ${garbled} is malformed)`
      : 'was not sent by the server';
  const hint = aia
    ? `; the certificate names its issuer's certificate at ${aia} (authorityInfoAccess caIssuers)`
    : '';
  return finding(
    'INCOMPLETE_CHAIN',
    'critical',
    `chain is incomplete: the issuer of ${describe(last)}, "${last.cert.info.issuer}", ${sentAs} and is not a trusted root${hint}`,
    last.sentIndex,
  );
}

function hostnameFindings(leaf: ParsedCertificate, host: string): Finding[] {
  // An unreadable leaf is reported as malformed; guessing at its names would only add noise.
  if (!leaf.x509 && leaf.malformed.length > 0) return [];
  const mismatch = hostnameMismatch(leaf, host);
  return mismatch === null ? [] : [finding('HOSTNAME_MISMATCH', 'critical', mismatch, 0)];
}

function weakCryptoFindings(path: CertPath): Finding[] {
  const out: Finding[] = [];
  for (const node of countedNodes(path)) {
    const { info, signatureHash } = node.cert;
    const who = describe(node);
    const bits = info.keyBits;
    if (info.keyType === 'DSA') {
      out.push(
        finding('WEAK_KEY', 'critical', `${who} has a DSA key (no longer accepted for TLS)`, node.sentIndex),
      );
    } else if (info.keyType === 'RSA' && bits !== null && bits < 2048) {
      out.push(
        finding(
          'WEAK_KEY',
          'critical',
          `${who} has a weak ${bits}-bit RSA key (minimum 2048)`,
          node.sentIndex,
        ),
      );
    } else if (info.keyType === 'EC' && bits !== null && bits < 256) {
      out.push(
        finding('WEAK_KEY', 'critical', `${who} has a weak ${bits}-bit EC key (minimum 256)`, node.sentIndex),
      );
    }
    // A self-signature (anchor or self-signed cert) is never what trust rests on.
    if (signatureHash && WEAK_HASHES.has(signatureHash) && !node.anchor && !info.selfSigned) {
      out.push(
        finding(
          'WEAK_SIGNATURE',
          'critical',
          `${who} is signed with ${info.signatureAlgorithm} (${signatureHash.toUpperCase()} is broken)`,
          node.sentIndex,
        ),
      );
    }
  }
  return out;
}

function analyzeUnsafe(chainDer: readonly Uint8Array[], opts: AnalyzeOptions): ChainAnalysis {
  if (chainDer.length === 0) {
    return {
      chain: [],
      findings: [finding('MALFORMED_CERTIFICATE', 'critical', 'the server sent no certificate')],
      daysLeft: null,
      notAfter: null,
    };
  }
  const sent = chainDer.map((der) => parseCertificateCached(der));
  const path = buildPath(sent, opts.trust, opts.now.getTime());
  const findings = [
    ...malformedFindings(sent),
    ...expiryFindings(path, opts),
    ...trustFindings(path, sent),
    ...hostnameFindings(sent[0]!, opts.host),
    ...weakCryptoFindings(path),
  ];
  let earliest: Date | null = null;
  if (sent[0]!.notAfter) {
    for (const node of countedNodes(path)) {
      const t = node.cert.notAfter;
      if (t && (earliest === null || t < earliest)) earliest = t;
    }
  }
  return {
    chain: sent.map((c) => c.info),
    findings,
    daysLeft: earliest ? daysUntil(earliest, opts.now) : null,
    notAfter: earliest ? earliest.toISOString() : null,
    // STAND-IN until the path-validation branch lands: where the issuer of an incomplete path's end is.
    missingIssuer: path.end === 'incomplete' ? { caIssuersUrls: path.nodes.at(-1)!.cert.caIssuers } : null,
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
    };
  }
}
