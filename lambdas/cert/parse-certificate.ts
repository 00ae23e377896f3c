/**
 * Tolerant certificate parsing: reads every field it can from DER exactly as a
 * server sent it and records precisely what is broken, without ever throwing.
 *
 * Two readers cooperate. node-forge's strict ASN.1 reader decodes each
 * TBSCertificate field on its own, so a broken extension does not hide the
 * validity dates. node:crypto's X509Certificate (OpenSSL) supplies keys and
 * signature verification; its verdict on malformed input is not trusted (it
 * accepts trailing junk, and its messages are vague), so structure is judged here.
 *
 * This module owns the public entry points, the outer Certificate structure and
 * the assembly of the result; each field's content is read by the module that
 * owns it: der-walk (tolerant DER reading), certificate-tbs (TBSCertificate
 * layout), certificate-names, certificate-validity, certificate-extensions,
 * certificate-keys, certificate-signature, certificate-fingerprint and
 * quote-untrusted (rendering untrusted text).
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import type { ChainCertificate } from '../core/model';
import { fingerprintOf } from './certificate-fingerprint';
import {
  type ExtensionFacts,
  emptyExtensionFacts,
  type KeyUsageBit,
  type NameConstraints,
} from './certificate-extensions';
import { hasExplicitCurve, keyFactsOf, loadPublicKey } from './certificate-keys';
import { fallbackName, type ParsedName, parseName } from './certificate-names';
import {
  type AlgorithmFacts,
  checkSignatureValue,
  readOuterAlgorithm,
  signatureAlgorithm,
  signatureVerifies,
} from './certificate-signature';
import { emptyTbsFacts, locateSubject, type TbsFacts, walkTbs } from './certificate-tbs';
import { openSslValidity, type Validity } from './certificate-validity';
import { hexTag, readTlv, type Tlv } from './der-reader';
import { addReason, decode, DerTag, type Walk } from './der-walk';
import type { Asn1 } from './forge-asn1';

export { fingerprintOf } from './certificate-fingerprint';

/** Everything the chain analysis needs from one certificate. Immutable. */
export interface ParsedCertificate {
  /** The exact bytes that were parsed. */
  readonly der: Uint8Array;
  /** The JSON-facing summary (model.ts). */
  readonly info: ChainCertificate;
  /** OpenSSL's view, for verification; null when OpenSSL rejected the bytes. */
  readonly x509: X509Certificate | null;
  readonly publicKey: KeyObject | null;
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
  /** subjectAltName dNSName entries, lower-cased. */
  readonly dnsNames: readonly string[];
  /** subjectAltName iPAddress entries in canonical text form (see formatIp). */
  readonly ipAddresses: readonly string[];
  /** Whether a subjectAltName extension is present (RFC 6125: then the CN is ignored). */
  readonly hasSubjectAltName: boolean;
  /** Subject commonName values, most significant last. */
  readonly commonNames: readonly string[];
  readonly isCa: boolean;
  /** X.509 version: 1, 2 or 3 (an invalid version field is reported as malformed and read as 1). */
  readonly version: number;
  /** A basicConstraints extension is present. */
  readonly hasBasicConstraints: boolean;
  /** basicConstraints pathLenConstraint; null when absent. */
  readonly pathLen: number | null;
  /** keyUsage bits; null when the extension is absent (or unreadable, which is reported as malformed). */
  readonly keyUsage: readonly KeyUsageBit[] | null;
  /** extendedKeyUsage purposes (dotted OIDs); null when absent. */
  readonly extKeyUsage: readonly string[] | null;
  /** nameConstraints (DNS and IP subtrees); null when absent. */
  readonly nameConstraints: NameConstraints | null;
  /** subjectKeyIdentifier and authorityKeyIdentifier keyIdentifier, hex; null when absent. */
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
  /** Critical extensions not understood: a path through this certificate fails (RFC 5280 §4.2). */
  readonly unknownCriticalExtensions: readonly string[];
  /** An EC key whose curve is spelled out rather than named. */
  readonly explicitCurve: boolean;
  /** authorityInfoAccess caIssuers URLs (sanitised). */
  readonly caIssuers: readonly string[];
  /** The caIssuers URLs that are plain `http://` URLs, as sent, for the AIA fetcher. */
  readonly caIssuersFetchable: readonly string[];
  /** Normalised subject/issuer names for issuer lookup; null when unreadable. */
  readonly subjectKey: string | null;
  readonly issuerKey: string | null;
  /** The subjectPublicKeyInfo bytes as a map key; null when unreadable. */
  readonly spkiKey: string | null;
  /** Digest behind the signature (sha256, sha1, md5 …); null when intrinsic or unknown. */
  readonly signatureHash: string | null;
  /**
   * Precise reasons the certificate is malformed; empty when it is well-formed.
   * Unknown critical extensions are not among them (see `unknownCriticalExtensions`).
   */
  readonly malformed: readonly string[];
}

/** Options for {@link parseCertificate}. */
export interface ParseOptions {
  /**
   * Verify a self-issued certificate's own signature to decide `selfSigned`.
   * Trust anchors skip it: their signature is never relied upon and it is the
   * slowest step of loading ~150 roots.
   * @default true
   */
  readonly checkSelfSignature?: boolean;
}

/** Parses one certificate as sent. Never throws: problems land in `malformed`. */
export function parseCertificate(der: Uint8Array, options: ParseOptions = {}): ParsedCertificate {
  try {
    return parseWithFingerprint(der, fingerprintOf(der), options);
  } catch (err) {
    return unreadable(der, err);
  }
}

const CACHE_LIMIT = 1024;
/** Least recently used first: Map iteration order is insertion order, and a hit is re-inserted. */
const cache = new Map<string, ParsedCertificate>();

/**
 * {@link parseCertificate} with a bounded per-process cache keyed by fingerprint.
 * Servers share intermediates and addresses share leaves, and OpenSSL's
 * X509Certificate construction (~150 µs) dominates analysis; a cached entry
 * is the same immutable result, so reuse is safe.
 */
export function parseCertificateCached(der: Uint8Array): ParsedCertificate {
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(der);
  } catch {
    return parseCertificate(der);
  }
  const hit = cache.get(fingerprint);
  if (hit) {
    cache.delete(fingerprint);
    cache.set(fingerprint, hit);
    return hit;
  }
  let parsed: ParsedCertificate;
  try {
    // Copy: the caller may reuse its buffer, the cache outlives the call.
    parsed = parseWithFingerprint(Uint8Array.from(der), fingerprint, {});
  } catch (err) {
    return unreadable(der, err);
  }
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(fingerprint, parsed);
  return parsed;
}

/**
 * The normalised subject key of a certificate (as `ParsedCertificate.subjectKey`),
 * computed from the subject Name alone: a DER walk to the field, then the same
 * name normalisation. About a hundredth of a full parse, so a trust store can
 * index ~150 roots at cold start and parse only the anchors a chain names.
 */
export function subjectKeyOf(der: Uint8Array): string | null {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const field = locateSubject(buf);
  return field ? (nameAt(buf, field)?.key ?? null) : null;
}

/**
 * A Name on its own (DER: a CRL's issuer, say), read as a certificate's names are: its matching key
 * (as `ParsedCertificate.issuerKey`) and its display form; null when it is not a readable Name.
 */
export function readName(der: Uint8Array): ParsedName | null {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const field = readTlv(buf, 0, buf.length);
  return typeof field === 'string' || field.end !== buf.length ? null : nameAt(buf, field);
}

function nameAt(buf: Buffer, field: Tlv): ParsedName | null {
  const walk: Walk = { buf, reasons: [], truncated: false };
  const node = decode(walk, field, 'name');
  return node ? parseName(walk, node, 'name') : null;
}

/** Last-resort result when even the defensive walk failed: nothing read, one reason. */
function unreadable(der: Uint8Array, err: unknown): ParsedCertificate {
  let fingerprintSha256: string;
  try {
    fingerprintSha256 = fingerprintOf(der);
  } catch {
    fingerprintSha256 = '0'.repeat(64);
  }
  const tbs = emptyTbsFacts();
  return assemble(
    der,
    fingerprintSha256,
    [couldNotRead(err)],
    tbs,
    emptyExtensionFacts(),
    null,
    null,
    null,
    {},
  );
}

/** The strict walk, then OpenSSL's parse for keys and verification, then the result. */
function parseWithFingerprint(
  der: Uint8Array,
  fingerprintSha256: string,
  options: ParseOptions,
): ParsedCertificate {
  const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const walk: Walk = { buf, reasons: [], truncated: false };
  const tbs = emptyTbsFacts();
  const extensions = emptyExtensionFacts();
  const outerAlg = walkCertificateSafely(walk, tbs, extensions);
  const x509 = openSslView(buf);
  const publicKey = loadPublicKey(buf, x509, tbs.spkiTlv);
  reportOpenSslDisagreement(walk, x509, publicKey, tbs.spkiTlv);
  return assemble(der, fingerprintSha256, walk.reasons, tbs, extensions, outerAlg, x509, publicKey, options);
}

function walkCertificateSafely(walk: Walk, tbs: TbsFacts, extensions: ExtensionFacts): Asn1 | null {
  try {
    return walkCertificate(walk, tbs, extensions);
  } catch (err) {
    addReason(walk, couldNotRead(err));
    return null;
  }
}

function couldNotRead(err: unknown): string {
  return `certificate could not be read: ${err instanceof Error ? err.message : String(err)}`;
}

function openSslView(buf: Buffer): X509Certificate | null {
  try {
    return buf.length > 0 ? new X509Certificate(buf) : null;
  } catch {
    return null;
  }
}

/** What OpenSSL could not do that the walk did not already explain. */
function reportOpenSslDisagreement(
  walk: Walk,
  x509: X509Certificate | null,
  publicKey: KeyObject | null,
  spkiTlv: Tlv | null,
): void {
  // Without OpenSSL's parse and with other damage, a key failure is a consequence, not news.
  if (!publicKey && (x509 || (spkiTlv && walk.reasons.length === 0))) {
    addReason(walk, 'public key could not be parsed');
  }
  if (!x509 && walk.reasons.length === 0) {
    addReason(walk, 'certificate was rejected by the X.509 parser although its structure reads correctly');
  }
}

/**
 * The result from what was read: the walk's `reasons`, TBSCertificate, extensions
 * and outer signatureAlgorithm, and OpenSSL's view (null where it rejected the bytes).
 */
function assemble(
  der: Uint8Array,
  fingerprintSha256: string,
  reasons: string[],
  tbs: TbsFacts,
  extensions: ExtensionFacts,
  outerAlg: Asn1 | null,
  x509: X509Certificate | null,
  publicKey: KeyObject | null,
  options: ParseOptions,
): ParsedCertificate {
  // OpenSSL read dates that the strict walk could not reach (e.g. BER-encoded lengths): still report them.
  const validity = x509 && !tbs.validityRead ? openSslValidity(x509) : tbs;
  const alg = signatureAlgorithm(outerAlg);
  const { notBefore, notAfter } = validity;
  const info = summarise(fingerprintSha256, tbs, validity, alg, x509, publicKey, options);
  return {
    der,
    info,
    x509,
    publicKey,
    notBefore,
    notAfter,
    dnsNames: Object.freeze(extensions.dnsNames),
    ipAddresses: Object.freeze(extensions.ipAddresses),
    hasSubjectAltName: extensions.hasSubjectAltName,
    commonNames: Object.freeze(tbs.subject?.commonNames ?? []),
    isCa: extensions.isCa,
    version: tbs.version !== null && tbs.version >= 0 && tbs.version <= 2 ? tbs.version + 1 : 1,
    hasBasicConstraints: extensions.hasBasicConstraints,
    pathLen: extensions.pathLen,
    keyUsage: extensions.keyUsage && Object.freeze(extensions.keyUsage),
    extKeyUsage: extensions.extKeyUsage && Object.freeze(extensions.extKeyUsage),
    nameConstraints: extensions.nameConstraints,
    subjectKeyId: extensions.subjectKeyId,
    authorityKeyId: extensions.authorityKeyId,
    unknownCriticalExtensions: Object.freeze(extensions.unknownCritical),
    explicitCurve: hasExplicitCurve(tbs.spki),
    caIssuers: Object.freeze(extensions.caIssuers),
    caIssuersFetchable: Object.freeze(extensions.caIssuersFetchable),
    subjectKey: tbs.subject?.key ?? null,
    issuerKey: tbs.issuer?.key ?? null,
    spkiKey: tbs.spkiKey,
    signatureHash: alg?.hash ?? null,
    malformed: Object.freeze(reasons),
  };
}

/** The JSON-facing summary (model.ts ChainCertificate). */
function summarise(
  fingerprintSha256: string,
  tbs: TbsFacts,
  { notBefore, notAfter }: Validity,
  alg: AlgorithmFacts | null,
  x509: X509Certificate | null,
  publicKey: KeyObject | null,
  options: ParseOptions,
): ChainCertificate {
  const key = keyFactsOf(publicKey, tbs.spki);
  return {
    subject: tbs.subject?.display ?? fallbackName(x509?.subject),
    issuer: tbs.issuer?.display ?? fallbackName(x509?.issuer),
    notBefore: notBefore?.toISOString() ?? null,
    notAfter: notAfter?.toISOString() ?? null,
    serialNumber: tbs.serial,
    fingerprintSha256,
    keyType: key.keyType,
    keyBits: key.keyBits,
    signatureAlgorithm: alg?.name ?? null,
    selfSigned: isSelfSigned(tbs, x509, publicKey, options),
  };
}

/** Subject and issuer names match and, unless skipped, the certificate's own signature verifies. */
function isSelfSigned(
  tbs: TbsFacts,
  x509: X509Certificate | null,
  publicKey: KeyObject | null,
  options: ParseOptions,
): boolean {
  const subjectKey = tbs.subject?.key ?? null;
  if (subjectKey === null || subjectKey !== (tbs.issuer?.key ?? null)) return false;
  if (!x509 || !publicKey || options.checkSelfSignature === false) return true;
  return signatureVerifies(x509, publicKey);
}

/**
 * Outer Certificate SEQUENCE: header checks, then TBSCertificate, signatureAlgorithm,
 * signatureValue. Returns the decoded outer signatureAlgorithm (null when unreadable).
 */
function walkCertificate(walk: Walk, tbs: TbsFacts, extensions: ExtensionFacts): Asn1 | null {
  const outer = readCertificateHeader(walk);
  if (!outer) return null;
  const limit = Math.min(outer.end, walk.buf.length);
  const tbsTlv = readTbsHeader(walk, outer.contentStart, limit);
  if (!tbsTlv) return null;
  walkTbs(walk, tbsTlv, Math.min(tbsTlv.end, limit), tbs, extensions);
  if (tbsTlv.end >= limit) {
    if (!walk.truncated) addReason(walk, 'signatureAlgorithm and signature are missing');
    return null;
  }
  const algorithm = readOuterAlgorithm(walk, tbsTlv.end, limit, tbs.tbsAlgBytes);
  if (!algorithm) return null;
  checkSignatureValue(walk, algorithm.tlv.end, limit);
  return algorithm.node;
}

/** The Certificate SEQUENCE header; notes truncation and trailing bytes. Null when nothing inside can be read. */
function readCertificateHeader(walk: Walk): Tlv | null {
  const { buf } = walk;
  if (buf.length === 0) {
    addReason(walk, 'empty certificate (0 bytes)');
    return null;
  }
  const outer = readTlv(buf, 0, buf.length);
  if (typeof outer === 'string') {
    addReason(walk, `certificate header is unreadable: ${outer}`);
    return null;
  }
  if (outer.tag !== DerTag.SEQUENCE) {
    addReason(walk, `certificate does not start with a SEQUENCE (tag ${hexTag(outer.tag)})`);
    return null;
  }
  if (outer.end > buf.length) {
    walk.truncated = true;
    addReason(walk, `DER truncated: expected ${outer.end} bytes, got ${buf.length}`);
  } else if (outer.end < buf.length) {
    addReason(walk, `trailing ${buf.length - outer.end} bytes after certificate`);
  }
  return outer;
}

/** The TBSCertificate SEQUENCE header at `pos`; null when it cannot be read as one. */
function readTbsHeader(walk: Walk, pos: number, limit: number): Tlv | null {
  const tbsTlv = readTlv(walk.buf, pos, limit);
  if (typeof tbsTlv === 'string') {
    if (!walk.truncated) addReason(walk, `TBSCertificate header is unreadable: ${tbsTlv}`);
    return null;
  }
  if (tbsTlv.tag !== DerTag.SEQUENCE) {
    addReason(walk, `TBSCertificate is not a SEQUENCE (tag ${hexTag(tbsTlv.tag)})`);
    return null;
  }
  if (tbsTlv.end > limit && !walk.truncated) {
    addReason(
      walk,
      `TBSCertificate claims ${tbsTlv.end - tbsTlv.contentStart} bytes but only ${limit - tbsTlv.contentStart} remain`,
    );
  }
  return tbsTlv;
}
