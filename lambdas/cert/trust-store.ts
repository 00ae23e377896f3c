/**
 * Trust anchors for chain analysis: Node's bundled Mozilla roots plus any
 * extra CA certificates (`--ca-file`), indexed by subject for issuer lookup.
 */
import { rootCertificates } from 'node:tls';
import { type ParsedCertificate, parseCertificate } from './parse-certificate';

/** An extra CA file could not be used. The message names the source and the block. */
export class CaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaFileError';
  }
}

/** Immutable set of trust anchors. Build one per process with {@link loadTrustStore} and share it. */
export class TrustStore {
  private readonly bySubject = new Map<string, ParsedCertificate[]>();
  private readonly fingerprints = new Set<string>();
  /** subject key + SPKI: a sent copy of a root (or a cross-signed twin) stands for the anchor itself. */
  private readonly identities = new Set<string>();
  readonly anchors: readonly ParsedCertificate[];

  constructor(anchors: readonly ParsedCertificate[]) {
    const unique: ParsedCertificate[] = [];
    for (const anchor of anchors) {
      const fp = anchor.info.fingerprintSha256;
      if (this.fingerprints.has(fp) || !anchor.x509 || anchor.subjectKey === null) continue;
      this.fingerprints.add(fp);
      unique.push(anchor);
      const list = this.bySubject.get(anchor.subjectKey);
      if (list) list.push(anchor);
      else this.bySubject.set(anchor.subjectKey, [anchor]);
      if (anchor.spkiKey !== null) this.identities.add(identityKey(anchor.subjectKey, anchor.spkiKey));
    }
    this.anchors = unique;
  }

  get size(): number {
    return this.anchors.length;
  }

  /** Anchors whose subject matches the given (normalised) issuer name. */
  findBySubject(subjectKey: string | null): readonly ParsedCertificate[] {
    return subjectKey === null ? [] : (this.bySubject.get(subjectKey) ?? []);
  }

  /** Whether a certificate is an anchor: the same bytes, or the same subject and public key. */
  isAnchor(cert: ParsedCertificate): boolean {
    if (this.fingerprints.has(cert.info.fingerprintSha256)) return true;
    return (
      cert.subjectKey !== null &&
      cert.spkiKey !== null &&
      this.identities.has(identityKey(cert.subjectKey, cert.spkiKey))
    );
  }
}

function identityKey(subjectKey: string, spkiKey: string): string {
  return `${subjectKey}\u0000${spkiKey}`;
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

let systemAnchors: readonly ParsedCertificate[] | null = null;
let defaultStore: TrustStore | null = null;

/** Node's roots, parsed once per process: ~150 certificates are far too many to parse per check. */
function loadSystemAnchors(): readonly ParsedCertificate[] {
  if (systemAnchors === null) {
    const parsed: ParsedCertificate[] = [];
    for (const pem of rootCertificates) {
      for (const block of pemBlocks(pem)) {
        if (block.der) parsed.push(parseCertificate(block.der, { checkSelfSignature: false }));
      }
    }
    systemAnchors = parsed;
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
