/**
 * Trust anchors for chain analysis: Node's bundled Mozilla roots plus any
 * extra CA certificates (`--ca-file`), indexed by subject for issuer lookup.
 */
import { rootCertificates } from 'node:tls';
import { fingerprintOf, type ParsedCertificate, parseCertificate, subjectKeyOf } from './parse-certificate';

/** An extra CA file could not be used. The message names the source and the block. */
export class CaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaFileError';
  }
}

/** An anchor known by its bytes and subject key; fully parsed only when a chain names its subject. */
interface AnchorEntry {
  readonly der: Uint8Array;
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

  constructor(anchors: readonly (ParsedCertificate | Uint8Array)[]) {
    for (const anchor of anchors) {
      const parsed = anchor instanceof Uint8Array ? null : anchor;
      const der = parsed ? parsed.der : (anchor as Uint8Array);
      const fp = parsed ? parsed.info.fingerprintSha256 : fingerprintOf(der);
      const subjectKey = parsed ? parsed.subjectKey : subjectKeyOf(der);
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

function parsedEntry(entry: AnchorEntry): ParsedCertificate {
  entry.parsed ??= parseCertificate(entry.der, { checkSelfSignature: false });
  return entry.parsed;
}

function usable(anchor: ParsedCertificate): boolean {
  return anchor.x509 !== null && anchor.subjectKey !== null;
}

/** Options for {@link loadTrustStore}. */
export interface TrustStoreOptions {
  /** PEM text with one or more CA certificates to trust in addition to (or instead of) the system roots. */
  readonly extraCaPem?: string;
  /** Where `extraCaPem` came from (a path), for error messages. @default 'extra CA PEM' */
  readonly extraCaSource?: string;
  /** Include Node's bundled root certificates. @default true */
  readonly includeSystemRoots?: boolean;
}

let systemAnchors: readonly Uint8Array[] | null = null;
let defaultStore: TrustStore | null = null;

/** Node's roots as DER, decoded once per process (parsing happens lazily, per subject). */
function loadSystemAnchors(): readonly Uint8Array[] {
  if (systemAnchors === null) {
    const ders: Uint8Array[] = [];
    for (const pem of rootCertificates) {
      for (const block of pemBlocks(pem)) {
        if (block.der) ders.push(block.der);
      }
    }
    systemAnchors = ders;
  }
  return systemAnchors;
}

interface PemBlock {
  readonly index: number;
  readonly der: Buffer | null;
  readonly problem: string | null;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let index = 0;
  for (const match of text.matchAll(PEM_BLOCK)) {
    index++;
    const body = (match[1] ?? '').replace(/\s+/g, '');
    if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
      blocks.push({ index, der: null, problem: 'is not valid base64' });
    } else {
      blocks.push({ index, der: Buffer.from(body, 'base64'), problem: null });
    }
  }
  return blocks;
}

function parseExtraCas(pem: string, source: string): ParsedCertificate[] {
  const blocks = pemBlocks(pem);
  const begins = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (begins > blocks.length) {
    throw new CaFileError(`${source}: a "BEGIN CERTIFICATE" block has no matching "END CERTIFICATE" line`);
  }
  if (blocks.length === 0) throw new CaFileError(`${source}: no PEM certificate ("BEGIN CERTIFICATE") found`);
  const parsed: ParsedCertificate[] = [];
  for (const block of blocks) {
    if (!block.der) throw new CaFileError(`${source}: certificate ${block.index} ${block.problem}`);
    const cert = parseCertificate(block.der, { checkSelfSignature: false });
    if (!cert.x509 || cert.subjectKey === null || !cert.publicKey) {
      const reason = cert.malformed.slice(0, 3).join('; ') || 'unparseable';
      throw new CaFileError(`${source}: certificate ${block.index} could not be parsed: ${reason}`);
    }
    parsed.push(cert);
  }
  return parsed;
}

/**
 * Builds a trust store. Without options it returns the shared default store
 * (system roots only). Throws {@link CaFileError} when the extra PEM holds no
 * certificate or a block cannot be parsed.
 */
export function loadTrustStore(options: TrustStoreOptions = {}): TrustStore {
  const includeSystem = options.includeSystemRoots ?? true;
  if (options.extraCaPem === undefined && includeSystem) {
    defaultStore ??= new TrustStore(loadSystemAnchors());
    return defaultStore;
  }
  const extra =
    options.extraCaPem === undefined
      ? []
      : parseExtraCas(options.extraCaPem, options.extraCaSource ?? 'extra CA PEM');
  return new TrustStore([...(includeSystem ? loadSystemAnchors() : []), ...extra]);
}

/** A store of exactly these certificates (DER), for tests and pinned deployments. */
export function trustStoreFromDer(ders: readonly Uint8Array[]): TrustStore {
  return new TrustStore(ders.map((der) => parseCertificate(der, { checkSelfSignature: false })));
}
