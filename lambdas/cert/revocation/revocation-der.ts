/**
 * The DER reading the revocation parsers share: splitting a signed structure into the exact bytes
 * that were signed, the algorithm and the signature, read in place (so a signature is checked over
 * the bytes as received, never over a re-encoding), forge's ASN.1 reader for the fields of what is
 * read once per CA (a CRL, a certificate's extensions), and signature verification with
 * node:crypto. Everything here is total: a problem is a string, never a throw.
 */
import { createHash, type KeyObject, constants, verify } from 'node:crypto';
import { readTlv } from '../der-reader';
import { bytesOf, children, isContext, isUniversal, oidOf, SEQUENCE_TYPE } from '../der-walk';
import { type Asn1, forge } from '../forge-asn1';
import { HASH_ALGORITHMS, RSASSA_PSS_OID, SIGNATURE_ALGORITHMS } from '../oid-names';
import { childrenOf, elementAt, isContextTag, oidAt, type Tlv } from './der-view';

export { bytesOf, children, isContext, isUniversal, oidOf, SEQUENCE_TYPE };
export type { Asn1 };

/** forge's typings omit the options-object overload of fromDer. */
const laxFromDer = forge.asn1.fromDer as unknown as (
  bytes: string,
  options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
) => Asn1;

/** forge's tag numbers of the universal types read here. */
export const Tag = {
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  OID: 6,
  ENUMERATED: 10,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
} as const;

/** Decodes one DER element (lenient about trailing bytes and odd encodings); a reason when it cannot. */
export function decodeDer(der: Uint8Array): Asn1 | string {
  try {
    const text = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    return laxFromDer(text, { strict: false, parseAllBytes: false, decodeBitStrings: false });
  } catch (error) {
    return `not DER (${error instanceof Error ? error.message : String(error)})`;
  }
}

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
  if (tlv.tag !== 0x30) return 'not a SEQUENCE';
  const parts = childrenOf(buf, tlv, 1);
  if (typeof parts === 'string') return `not DER (${parts})`;
  return { oid: oidAt(buf, parts[0]), der: buf.subarray(tlv.start, tlv.end) };
}

/** The digest named in RSASSA-PSS parameters ([0] hashAlgorithm, default SHA-1) of the AlgorithmIdentifier `der`. */
function pssHash(der: Buffer): string {
  const outer = elementAt(der, 0, der.length);
  const [, params] = typeof outer === 'string' ? [] : asList(childrenOf(der, outer, 2));
  const hashAlg = asList(childrenOf(der, params, 4)).find((n) => isContextTag(n, 0));
  const oid = oidAt(der, asList(childrenOf(der, asList(childrenOf(der, hashAlg, 1))[0], 1))[0]);
  return (oid && HASH_ALGORITHMS.get(oid)) || 'sha1';
}

/** Children read, or none when they could not be. */
function asList(children: Tlv[] | string): Tlv[] {
  return typeof children === 'string' ? [] : children;
}

/** An INTEGER's content bytes as upper-case hex without sign padding: the form serials are compared in. */
export function integerHex(node: Asn1 | undefined): string | null {
  if (!isUniversal(node, Tag.INTEGER)) return null;
  const hex = Buffer.from(bytesOf(node), 'latin1').toString('hex').toUpperCase();
  if (hex === '') return null;
  return hex.replace(/^(00)+(?=..)/, '');
}

/** A UTCTime or GeneralizedTime; null when it is neither or unreadable. */
export function timeOf(node: Asn1 | undefined): Date | null {
  try {
    let date: Date;
    if (isUniversal(node, Tag.GENERALIZED_TIME)) date = forge.asn1.generalizedTimeToDate(bytesOf(node));
    else if (isUniversal(node, Tag.UTC_TIME)) date = forge.asn1.utcTimeToDate(bytesOf(node));
    else return null;
    return Number.isNaN(date.getTime()) ? null : date;
  } catch {
    return null;
  }
}

/** The DER of a decoded node (forge re-encodes what it parsed); used for names and keys only. */
export function derOf(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'latin1');
}

/** Digest names the CertID hash algorithms map to. */
export function hashNameOf(algorithm: Asn1 | undefined): string | null {
  const oid = oidOf(children(algorithm)[0]);
  return oid === null ? null : (HASH_ALGORITHMS.get(oid) ?? null);
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

/** The name of a CRLReason ENUMERATED node; null when absent or unreadable. */
export function reasonOf(node: Asn1 | undefined): string | null {
  if (!isUniversal(node, Tag.ENUMERATED)) return null;
  const bytes = Buffer.from(bytesOf(node), 'latin1');
  if (bytes.length !== 1) return null;
  return CRL_REASONS[bytes[0]!] ?? `reason ${bytes[0]}`;
}
