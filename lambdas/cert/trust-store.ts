/**
 * Trust anchors for chain analysis: Node's bundled Mozilla roots plus any
 * extra CA certificates (`trust.caFiles`, `--ca-file`), indexed by subject for
 * issuer lookup; and the trust profiles that say which anchors judge which endpoint.
 */
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { type Endpoint, SYSTEM_TRUST_PROFILE, type TrustProfile } from '../core/model';
import { isCertificateLabel, isPrivateKeyLabel, PRIVATE_KEY_REFUSAL, pemBlocks } from './certificate-file';
import { fingerprintOf, type ParsedCertificate, parseCertificate, subjectKeyOf } from './parse-certificate';

/** An extra CA file could not be used. The message names the source and the block. */
export class CaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaFileError';
  }
}

/**
 * What was computed ahead of time about Node's bundled roots (`tls.rootCertificates`): the built
 * CLI carries it (lambdas/cli/root-subject-keys.ts), so a short-lived process neither decodes nor
 * fingerprints ~150 roots at start-up, and decodes a root only when a chain names its subject.
 */
export interface SystemRootHints {
  /** SHA-256 (hex) over the PEM texts of `tls.rootCertificates`, in order: the hints hold for exactly those. */
  readonly digest: string;
  /** Per entry of `tls.rootCertificates`: its fingerprint and subject key; null where the store computes them itself. */
  readonly roots: readonly (readonly [fingerprint: string, subjectKey: string] | null)[];
}

/** Hints given by {@link primeSystemRoots}; used when the system anchors are first loaded. */
let systemRootHints: { readonly hints: SystemRootHints; readonly sameRoots: boolean } | null = null;

/**
 * Supplies {@link SystemRootHints}. Hints made for other roots (another Node) are ignored: the
 * roots are then decoded and indexed as without hints. `sameRoots`: the caller knows the hints
 * were made from this very Node (the same binary), so they are used without reading
 * `tls.rootCertificates` (~150 PEM strings) to check their digest.
 */
export function primeSystemRoots(
  hints: SystemRootHints,
  options: { readonly sameRoots?: boolean } = {},
): void {
  systemRootHints = { hints, sameRoots: options.sameRoots === true };
}

/** The SHA-256 (hex) {@link SystemRootHints.digest} names: over these PEM texts, in order. */
export function rootCertificatesDigest(pems: readonly string[]): string {
  const hash = createHash('sha256');
  for (const pem of pems) hash.update(pem);
  return hash.digest('hex');
}

/** An anchor whose fingerprint and subject key are known; its bytes are read when first needed. */
export interface KnownAnchor {
  readonly fingerprint: string;
  readonly subjectKey: string;
  readonly der: () => Uint8Array;
}

/** An anchor known by its bytes and subject key; fully parsed only when a chain names its subject. */
interface AnchorEntry {
  readonly der: Uint8Array | (() => Uint8Array);
  parsed: ParsedCertificate | null;
}

/**
 * Immutable set of trust anchors. Build one per process with {@link loadTrustStore} and share it.
 *
 * Why lazy: fully parsing Node's ~150 bundled roots costs ~100 ms, all of it
 * on a Lambda cold start, while a check only ever consults the anchors whose
 * subject its chain names. The index needs just each root's subject key.
 */
export class TrustStore {
  private readonly bySubject = new Map<string, AnchorEntry[]>();
  private readonly fingerprints = new Set<string>();
  private readonly entries: AnchorEntry[] = [];

  constructor(anchors: readonly (ParsedCertificate | Uint8Array | KnownAnchor)[]) {
    for (const anchor of anchors) {
      let parsed: ParsedCertificate | null = null;
      let der: AnchorEntry['der'];
      let fp: string;
      let subjectKey: string | null;
      if (anchor instanceof Uint8Array) {
        der = anchor;
        fp = fingerprintOf(anchor);
        subjectKey = subjectKeyOf(anchor);
      } else if (isKnownAnchor(anchor)) {
        ({ der, fingerprint: fp, subjectKey } = anchor);
      } else {
        parsed = anchor;
        ({ der, subjectKey } = anchor);
        fp = anchor.info.fingerprintSha256;
      }
      if (this.fingerprints.has(fp) || subjectKey === null || (parsed && !parsed.x509)) continue;
      this.fingerprints.add(fp);
      const entry: AnchorEntry = { der, parsed };
      this.entries.push(entry);
      const list = this.bySubject.get(subjectKey);
      if (list) list.push(entry);
      else this.bySubject.set(subjectKey, [entry]);
    }
  }

  /** Every anchor, parsed (parses any not yet parsed). */
  get anchors(): readonly ParsedCertificate[] {
    return this.entries.map(parsedEntry).filter(usable);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Anchors whose subject matches the given (normalised) issuer name. */
  findBySubject(subjectKey: string | null): readonly ParsedCertificate[] {
    if (subjectKey === null) return [];
    return (this.bySubject.get(subjectKey) ?? []).map(parsedEntry).filter(usable);
  }

  /** Whether a certificate is an anchor: the same bytes, or the same subject and public key. */
  isAnchor(cert: ParsedCertificate): boolean {
    if (this.fingerprints.has(cert.info.fingerprintSha256)) return true;
    if (cert.spkiKey === null) return false;
    return this.findBySubject(cert.subjectKey).some((anchor) => anchor.spkiKey === cert.spkiKey);
  }
}

function isKnownAnchor(anchor: ParsedCertificate | KnownAnchor): anchor is KnownAnchor {
  return typeof anchor.der === 'function';
}

function parsedEntry(entry: AnchorEntry): ParsedCertificate {
  entry.parsed ??= parseCertificate(typeof entry.der === 'function' ? entry.der() : entry.der, {
    checkSelfSignature: false,
  });
  return entry.parsed;
}

function usable(anchor: ParsedCertificate): boolean {
  return anchor.x509 !== null && anchor.subjectKey !== null;
}

/** One extra CA file: its text and where it came from (a path, for messages). */
export interface CaFile {
  readonly pem: string;
  /** Names the file in messages. */
  readonly source: string;
}

/** Options for {@link loadTrustStore}. */
export interface TrustStoreOptions {
  /** PEM text with one or more CA certificates to trust in addition to (or instead of) the system roots. */
  readonly extraCaPem?: string;
  /** Where `extraCaPem` came from (a path), for error messages. @default 'extra CA PEM' */
  readonly extraCaSource?: string;
  /** Further CA files (`--ca-file`, repeatable), after `extraCaPem`. @default none */
  readonly caFiles?: readonly CaFile[];
  /** Include Node's bundled root certificates. @default true */
  readonly includeSystemRoots?: boolean;
}

let systemAnchors: readonly (Uint8Array | KnownAnchor)[] | null = null;
let defaultStore: TrustStore | null = null;

/**
 * Node's roots, once per process: as {@link KnownAnchor}s where hints for exactly these roots
 * were primed (each decoded when a chain names its subject), else decoded now (parsing
 * happens lazily, per subject).
 */
function loadSystemAnchors(): readonly (Uint8Array | KnownAnchor)[] {
  systemAnchors ??=
    (systemRootHints && hintedSystemAnchors(systemRootHints)) ?? decodeRoots(rootCertificates);
  return systemAnchors;
}

function decodeRoots(pems: readonly string[]): Uint8Array[] {
  return pems.flatMap((pem) => pemBlocks(pem).flatMap((block) => (block.der ? [block.der] : [])));
}

/** The roots as the hints describe them; null when the hints are not for these roots. */
function hintedSystemAnchors({
  hints,
  sameRoots,
}: {
  readonly hints: SystemRootHints;
  readonly sameRoots: boolean;
}): (Uint8Array | KnownAnchor)[] | null {
  const forTheseRoots =
    sameRoots ||
    (hints.roots.length === rootCertificates.length &&
      hints.digest === rootCertificatesDigest(rootCertificates));
  if (!forTheseRoots) return null;
  const root = (i: number) => decodeRoots(rootCertificates.slice(i, i + 1));
  return hints.roots.flatMap((hint, i): (Uint8Array | KnownAnchor)[] => {
    if (hint === null) return root(i);
    const [fingerprint, subjectKey] = hint;
    return [{ fingerprint, subjectKey, der: () => root(i)[0] ?? new Uint8Array() }];
  });
}

/**
 * The CA certificates of a PEM file, in file order, each parsed and usable as an anchor.
 * @throws CaFileError naming `source`, and the certificate by its position and line: a block
 *   that is not base64, has no END line or does not parse; a file without any certificate; a
 *   private key in the file (refused: a CA file holds certificates only, and the key is never echoed).
 */
export function readCaPem(pem: string, source: string): ParsedCertificate[] {
  const blocks = pemBlocks(pem);
  const key = blocks.find((b) => isPrivateKeyLabel(b.label));
  if (key) {
    throw new CaFileError(
      `${source}: holds a private key ("BEGIN ${key.label}" at line ${key.line}), not only CA certificates; ${PRIVATE_KEY_REFUSAL}`,
    );
  }
  const parsed: ParsedCertificate[] = [];
  let index = 0;
  for (const block of blocks) {
    if (!isCertificateLabel(block.label)) continue;
    index++;
    const where = `${source}: certificate ${index} (line ${block.line})`;
    if (block.der === null) throw new CaFileError(`${where} ${block.problem}`);
    const cert = parseCertificate(block.der, { checkSelfSignature: false });
    if (!cert.x509 || cert.subjectKey === null || !cert.publicKey) {
      const reason = cert.malformed.slice(0, 3).join('; ') || 'unparseable';
      throw new CaFileError(`${where} could not be parsed: ${reason}`);
    }
    parsed.push(cert);
  }
  if (parsed.length === 0) throw new CaFileError(`${source}: no PEM certificate ("BEGIN CERTIFICATE") found`);
  return parsed;
}

/**
 * Builds a trust store. Without options it returns the shared default store
 * (system roots only). Throws {@link CaFileError} when an extra PEM holds no
 * certificate or a block cannot be parsed.
 */
export function loadTrustStore(options: TrustStoreOptions = {}): TrustStore {
  const includeSystem = options.includeSystemRoots ?? true;
  const files: CaFile[] = [
    ...(options.extraCaPem === undefined
      ? []
      : [{ pem: options.extraCaPem, source: options.extraCaSource ?? 'extra CA PEM' }]),
    ...(options.caFiles ?? []),
  ];
  if (files.length === 0 && includeSystem) {
    defaultStore ??= new TrustStore(loadSystemAnchors());
    return defaultStore;
  }
  const extra = files.flatMap((file) => readCaPem(file.pem, file.source));
  return new TrustStore([...(includeSystem ? loadSystemAnchors() : []), ...extra]);
}

/** A store of exactly these certificates (DER), for tests and pinned deployments. */
export function trustStoreFromDer(ders: readonly Uint8Array[]): TrustStore {
  return new TrustStore(ders.map((der) => parseCertificate(der, { checkSelfSignature: false })));
}

// ---------------------------------------------------------------------------
// Trust profiles: which anchors an endpoint is judged against
// ---------------------------------------------------------------------------

/**
 * The profile of `systemRoots` plus these CA certificates, addressed by content: the same
 * certificates (in any order, from any files) and the same `systemRoots` give the same id.
 */
export function trustProfileOf(systemRoots: boolean, caCertificates: readonly Uint8Array[]): TrustProfile {
  const byFingerprint = new Map<string, string>();
  for (const der of caCertificates)
    byFingerprint.set(fingerprintOf(der), Buffer.from(der).toString('base64'));
  if (systemRoots && byFingerprint.size === 0) return SYSTEM_TRUST_PROFILE;
  const fingerprints = [...byFingerprint.keys()].sort();
  const id = createHash('sha256')
    .update(`certwatch trust v1\nsystemRoots=${systemRoots}\n${fingerprints.join('\n')}`)
    .digest('hex')
    .slice(0, 16);
  return { id, systemRoots, caCertificates: fingerprints.map((fp) => byFingerprint.get(fp) as string) };
}

/** An endpoint names a trust profile this process was not given (a checker deployed from another config). */
export class UnknownTrustProfileError extends Error {
  override readonly name = 'UnknownTrustProfileError';
}

/**
 * The trust store of each profile, built on first use and then shared: one per profile per
 * process, however many endpoints use it. Parsing is lazy within a store too (see {@link TrustStore}).
 */
export class TrustStores {
  private readonly profiles = new Map<string, TrustProfile>();
  private readonly stores = new Map<string, TrustStore>();

  constructor(profiles: readonly TrustProfile[] = []) {
    for (const profile of [SYSTEM_TRUST_PROFILE, ...profiles]) this.profiles.set(profile.id, profile);
  }

  /**
   * The store of profile `id`; undefined means the system roots.
   * @throws UnknownTrustProfileError when this process has no such profile
   */
  get(id: string | undefined): TrustStore {
    const key = id ?? SYSTEM_TRUST_PROFILE.id;
    const cached = this.stores.get(key);
    if (cached) return cached;
    const profile = this.profiles.get(key);
    if (!profile) {
      throw new UnknownTrustProfileError(
        `trust profile ${key} is unknown here (known: ${[...this.profiles.keys()].join(', ')}); was this checker deployed from another config?`,
      );
    }
    const store =
      profile.id === SYSTEM_TRUST_PROFILE.id
        ? loadTrustStore()
        : new TrustStore([
            ...(profile.systemRoots ? loadSystemAnchors() : []),
            ...profile.caCertificates.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))),
          ]);
    this.stores.set(key, store);
    return store;
  }

  /** The store an endpoint's chains are judged against ({@link Endpoint.trust}). */
  forEndpoint(endpoint: Pick<Endpoint, 'trust'>): TrustStore {
    return this.get(endpoint.trust);
  }
}
