/**
 * What the revocation parsers share: splitting a signed structure into the exact bytes that were
 * signed, the algorithm and the signature, read in place (so a signature is checked over the bytes
 * as received, never over a re-encoding), signature verification with node:crypto, extensions and
 * distribution point names as certificates and CRLs carry them, and CRLReason names. Everything
 * here is total: a problem is a string, never a throw.
 */
import { createHash, constants, type KeyObject, verify } from 'node:crypto';
import { readTlv } from '../der-reader';
import { HASH_ALGORITHMS, RSASSA_PSS_OID, SIGNATURE_ALGORITHMS } from '../oid-names';
import { childrenOf, DerTag, elementAt, isContextTag, listOf, oidAt, type Tlv } from './der-view';

/** An AlgorithmIdentifier as received: its OID, and its parameters read only when a signature needs them. */
export interface AlgorithmId {
  /** The algorithm's OID; null when unreadable. */
  readonly oid: string | null;
  /** The whole AlgorithmIdentifier's DER (a view into the bytes received). */
  readonly der: Buffer;
}

/** A signed structure (`SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING, ... }`) split as received. */
export interface SignedParts {
  /** The exact bytes of the first element, the ones the signature covers. */
  readonly tbs: Buffer;
  readonly algorithm: AlgorithmId;
  /** The signature value (the BIT STRING without its unused-bits byte). */
  readonly signature: Buffer;
  /** The elements after the signature (e.g. a BasicOCSPResponse's `[0] certs`), as received. */
  readonly rest: Buffer;
}

/** Splits a signed structure with the header reader; a reason when its outline is broken. */
export function splitSigned(der: Uint8Array): SignedParts | string {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const outer = readTlv(buf, 0, buf.length);
  if (typeof outer === 'string') return outer;
  if (outer.tag !== 0x30) return 'it is not a SEQUENCE';
  const limit = Math.min(outer.end, buf.length);
  if (outer.end > buf.length) return `it claims ${outer.end} bytes but ${buf.length} arrived`;
  const tbs = readTlv(buf, outer.contentStart, limit);
  if (typeof tbs === 'string' || tbs.end > limit) return 'its signed part is cut off';
  const alg = readTlv(buf, tbs.end, limit);
  if (typeof alg === 'string' || alg.end > limit) return 'its signature algorithm is cut off';
  const sig = readTlv(buf, alg.end, limit);
  if (typeof sig === 'string' || sig.end > limit || sig.tag !== 0x03) return 'its signature is missing';
  if (sig.end - sig.contentStart < 2 || buf[sig.contentStart] !== 0) return 'its signature BIT STRING is odd';
  const algorithm = algorithmAt(buf, alg);
  if (typeof algorithm === 'string') return `its signature algorithm is ${algorithm}`;
  return {
    tbs: buf.subarray(tbs.start, tbs.end),
    algorithm,
    signature: buf.subarray(sig.contentStart + 1, sig.end),
    rest: buf.subarray(sig.end, limit),
  };
}

/**
 * Whether `signature` over `data` verifies with `key` under the AlgorithmIdentifier `algorithm`;
 * a reason when it does not (or cannot be tried).
 */
export function verifySignature(
  data: Uint8Array,
  algorithm: AlgorithmId,
  signature: Uint8Array,
  key: KeyObject,
): true | string {
  const { oid } = algorithm;
  if (oid === null) return 'the signature algorithm is unreadable';
  const known = SIGNATURE_ALGORITHMS.get(oid);
  if (known === undefined) return `the signature algorithm ${oid} is unknown`;
  try {
    if (oid === RSASSA_PSS_OID) {
      const hash = pssHash(algorithm.der);
      const ok = verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING }, signature);
      return ok || 'the signature does not verify';
    }
    return verify(known.hash, data, key, signature) || 'the signature does not verify';
  } catch (error) {
    return `the signature cannot be checked (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** An AlgorithmIdentifier (`SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`) read in place; a reason when it is not one. */
export function algorithmAt(buf: Buffer, tlv: Tlv): AlgorithmId | string {
  if (tlv.tag !== DerTag.SEQUENCE) return 'not a SEQUENCE';
  return { oid: oidAt(buf, listOf(buf, tlv, 1)[0]), der: buf.subarray(tlv.start, tlv.end) };
}

/** The digest named in RSASSA-PSS parameters ([0] hashAlgorithm, default SHA-1) of the AlgorithmIdentifier `der`. */
function pssHash(der: Buffer): string {
  const outer = elementAt(der, 0, der.length);
  const [, params] = typeof outer === 'string' ? [] : listOf(der, outer, 2);
  const hashAlg = listOf(der, params, 4).find((n) => isContextTag(n, 0));
  const oid = oidAt(der, listOf(der, listOf(der, hashAlg, 1)[0], 1)[0]);
  return (oid && HASH_ALGORITHMS.get(oid)) || 'sha1';
}

export function digest(hash: string, data: Uint8Array): Buffer {
  return createHash(hash).update(data).digest();
}

/** CRLReason (RFC 5280 §5.3.1) names, by code. */
export const CRL_REASONS: readonly (string | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/** The name of a CRLReason ENUMERATED; null when absent or unreadable. */
export function reasonAt(buf: Uint8Array, tlv: Tlv | undefined): string | null {
  if (tlv?.tag !== DerTag.ENUMERATED || tlv.end - tlv.contentStart !== 1) return null;
  const code = buf[tlv.contentStart]!;
  return CRL_REASONS[code] ?? `reason ${code}`;
}

/** A DER BOOLEAN (or an IMPLICIT one) is TRUE. */
export function isTrue(buf: Uint8Array, tlv: Tlv | undefined): boolean {
  return tlv !== undefined && tlv.end - tlv.contentStart === 1 && buf[tlv.contentStart] !== 0;
}

/** One Extension (RFC 5280 §4.1) as read: `value` is the element inside its OCTET STRING (null when empty). */
export interface ExtensionRead {
  readonly oid: string | null;
  readonly critical: boolean;
  readonly value: Tlv | null;
}

/** Reads `Extension { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`; a reason when unreadable. */
export function extensionAt(buf: Buffer, ext: Tlv): ExtensionRead | string {
  const parts = childrenOf(buf, ext, 3);
  if (typeof parts === 'string') return parts;
  const [id, second, third] = parts;
  const critical = second?.tag === DerTag.BOOLEAN && isTrue(buf, second);
  const octets = second?.tag === DerTag.OCTET_STRING ? second : third;
  if (octets?.tag !== DerTag.OCTET_STRING) return 'an extension has no value';
  const value = octets.end > octets.contentStart ? elementAt(buf, octets.contentStart, octets.end) : null;
  if (typeof value === 'string') return `an extension's value is not DER (${value})`;
  return { oid: oidAt(buf, id), critical, value };
}

/**
 * The URIs (GeneralName uniformResourceIdentifier [6]) of a DistributionPointName's fullName [0], at
 * most `max`, as received: a certificate's cRLDistributionPoints and a CRL's issuing distribution
 * point both name their distribution point so. None for nameRelativeToCRLIssuer [1].
 */
export function fullNameUris(buf: Buffer, pointName: Tlv | undefined, max: number): string[] {
  const fullName = listOf(buf, pointName, 1).find((n) => isContextTag(n, 0));
  return listOf(buf, fullName, max)
    .filter((n) => n.tag === 0x86)
    .map((n) => buf.toString('latin1', n.contentStart, n.end));
}
