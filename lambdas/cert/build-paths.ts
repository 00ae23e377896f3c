/**
 * Candidate certification paths, built the way clients build them: from the
 * leaf upwards, each issuer found by name among the trust anchors, the
 * certificates the server sent and any fetched from the AIA caIssuers URL,
 * the likeliest first (authorityKeyIdentifier = subjectKeyIdentifier), each
 * link proven by its signature.
 *
 * The search is bounded everywhere (depth, candidates per step, signature
 * checks per analysis, paths kept), so dozens of look-alike issuers or
 * certificates that issue each other cost a few milliseconds, never an
 * exponential walk. Which of the paths a client would accept is decided by
 * the caller, which judges each one (path-rules.ts).
 */
import { issuedBy } from './certificate-signature';
import type { ParsedCertificate } from './parse-certificate';
import type { TrustStore } from './trust-store';

/** Longest path considered; real chains are 2-4 certificates. */
export const MAX_DEPTH = 10;
/** Issuer candidates considered per certificate; more only happens with hostile or broken chains. */
export const MAX_CANDIDATES = 64;
/**
 * Signature checks per analysis, as Go (100): bounds the search on a chain of hundreds of
 * look-alikes to ~15 ms, and still finds an issuer sent after dozens of them, as Go does.
 */
export const MAX_EDGE_CHECKS = 100;
/** Complete or dead-end paths kept for judging. */
export const MAX_PATHS = 32;
/** Certificates fetched from AIA considered; a PKCS#7 bundle rarely holds more than two or three. */
const MAX_FETCHED = 16;

/** Where a certificate on a path came from. */
export type NodeSource = 'sent' | 'anchor' | 'fetched';

/** One certificate on a path. */
export interface PathNode {
  readonly cert: ParsedCertificate;
  /** Position in the chain as sent; null for an anchor from the store or a fetched certificate. */
  readonly sentIndex: number | null;
  /** A trust anchor (from the store, or sent and also in the store): the path ends here. */
  readonly anchor: boolean;
  /** Fetched from an AIA caIssuers URL rather than sent. */
  readonly fetched: boolean;
}

/** How a path ends. */
export type PathEnd =
  | 'anchor'
  | 'root'
  | 'badSignature'
  | 'issuerMismatch'
  | 'unusableIssuer'
  | 'incomplete'
  | 'depth'
  | 'unverifiable';

/** Which dead end explains an untrusted chain best when no path reaches an anchor. */
export const END_RANK: Record<PathEnd, number> = {
  anchor: 0,
  root: 1,
  badSignature: 2,
  issuerMismatch: 3,
  unusableIssuer: 4,
  incomplete: 5,
  depth: 6,
  unverifiable: 7,
};

/** A candidate path, leaf first. */
export interface CertPath {
  readonly nodes: readonly PathNode[];
  readonly end: PathEnd;
  /** For badSignature / issuerMismatch / unusableIssuer: the issuer candidate that failed. */
  readonly failedIssuer?: PathNode;
}

/** What the search was given and what it spent: tests and the bench read `edgeChecks`. */
export interface PathSearch {
  readonly paths: readonly CertPath[];
  /** Signature checks attempted (cached or not), at most {@link MAX_EDGE_CHECKS}. */
  readonly edgeChecks: number;
}

/** 0: the key identifiers match; 1: one is missing; 2: they differ (very likely another key of the same name). */
function keyIdRank(child: ParsedCertificate, candidate: ParsedCertificate): number {
  if (child.authorityKeyId === null || candidate.subjectKeyId === null) return 1;
  return child.authorityKeyId === candidate.subjectKeyId ? 0 : 2;
}

/** Same subject and key: the same CA, even as another certificate (cross-signs), so a path never loops through it. */
function identityOf(cert: ParsedCertificate): string {
  return `${cert.subjectKey}\u0000${cert.spkiKey}`;
}

interface SearchState {
  readonly trust: TrustStore;
  readonly sentBySubject: ReadonlyMap<string, PathNode[]>;
  readonly fetchedBySubject: ReadonlyMap<string, PathNode[]>;
  readonly paths: CertPath[];
  edgeChecks: number;
}

function issuerCandidates(state: SearchState, path: readonly PathNode[]): PathNode[] {
  const current = path[path.length - 1]!.cert;
  const inPath = new Set(path.map((n) => identityOf(n.cert)));
  const seen = new Set<string>();
  const out: PathNode[] = [];
  const add = (node: PathNode) => {
    const fp = node.cert.info.fingerprintSha256;
    if (seen.has(fp) || inPath.has(identityOf(node.cert))) return;
    seen.add(fp);
    out.push(node);
  };
  // Anchors first: a client with the root installed uses it rather than a sent (possibly cross-signed) copy.
  for (const anchor of state.trust.findBySubject(current.issuerKey)) {
    add({ cert: anchor, sentIndex: null, anchor: true, fetched: false });
  }
  for (const node of state.sentBySubject.get(current.issuerKey ?? '') ?? []) add(node);
  for (const node of state.fetchedBySubject.get(current.issuerKey ?? '') ?? []) add(node);
  // Stable: within a key-identifier rank the order above stands.
  return out
    .map((node, i) => ({ node, i, rank: keyIdRank(current, node.cert) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .slice(0, MAX_CANDIDATES)
    .map((c) => c.node);
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
  let extended = false;
  let failed: PathNode | undefined;
  let unusable: PathNode | undefined;
  let mismatched: PathNode | undefined;
  let issuedById = false;
  for (const candidate of issuerCandidates(state, path)) {
    const idRank = keyIdRank(cert, candidate.cert);
    // Once the issuer the key identifiers name has verified, a candidate they rule out is another key.
    if (issuedById && idRank === 2) break;
    if (!candidate.cert.x509 || !candidate.cert.publicKey) {
      unusable ??= candidate;
      continue;
    }
    if (state.edgeChecks >= MAX_EDGE_CHECKS) break;
    state.edgeChecks++;
    if (issuedBy(cert, candidate.cert)) {
      extended = true;
      issuedById ||= idRank === 0;
      path.push(candidate);
      search(state, path);
      path.pop();
    } else if (idRank === 2) {
      mismatched ??= candidate;
    } else {
      failed ??= candidate;
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

function bySubject(nodes: readonly PathNode[]): Map<string, PathNode[]> {
  const map = new Map<string, PathNode[]>();
  for (const node of nodes) {
    const key = node.cert.subjectKey;
    if (key === null) continue;
    const list = map.get(key);
    if (list) list.push(node);
    else map.set(key, [node]);
  }
  return map;
}

/**
 * Every candidate path from `sent[0]` (within the bounds), leaf first. A sent
 * certificate that is also in the store is an anchor where it stands.
 */
export function buildPaths(
  sent: readonly ParsedCertificate[],
  trust: TrustStore,
  fetched: readonly ParsedCertificate[] = [],
): PathSearch {
  const sentNodes = sent.map(
    (cert, i): PathNode => ({ cert, sentIndex: i, anchor: trust.isAnchor(cert), fetched: false }),
  );
  const fetchedNodes = fetched
    .slice(0, MAX_FETCHED)
    .map((cert): PathNode => ({ cert, sentIndex: null, anchor: trust.isAnchor(cert), fetched: true }));
  const state: SearchState = {
    trust,
    sentBySubject: bySubject(sentNodes.slice(1)),
    fetchedBySubject: bySubject(fetchedNodes),
    paths: [],
    edgeChecks: 0,
  };
  search(state, [sentNodes[0]!]);
  return { paths: state.paths, edgeChecks: state.edgeChecks };
}
