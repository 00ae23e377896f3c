/**
 * Owns the certificate's signature: the outer signatureAlgorithm and
 * signatureValue fields (structure, agreement with the TBSCertificate's copy),
 * the algorithm's name and digest, and verifying a certificate's own signature.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { hexTag, readTlv, type Tlv } from './der-reader';
import { addReason, children, decode, isContext, oidOf, DerTag, type Walk } from './der-walk';
import type { Asn1 } from './forge-asn1';
import { HASH_ALGORITHMS, RSASSA_PSS_OID, SIGNATURE_ALGORITHMS } from './oid-names';

/** A signature algorithm by name, with the digest it signs over. */
export interface AlgorithmFacts {
  readonly name: string;
  /** Digest behind the signature (sha256, sha1, md5 …); null when intrinsic or unknown. */
  readonly hash: string | null;
}

/** Names an AlgorithmIdentifier; an unknown OID is named in dotted form, with no digest. */
export function signatureAlgorithm(algId: Asn1 | null): AlgorithmFacts | null {
  const [oidNode, params] = children(algId ?? undefined);
  const oid = oidOf(oidNode);
  if (!oid) return null;
  const known = SIGNATURE_ALGORITHMS.get(oid);
  if (!known) return { name: oid, hash: null };
  if (oid !== RSASSA_PSS_OID) return known;
  // RSASSA-PSS carries its digest in parameters; absent means the SHA-1 default (RFC 4055).
  const hashParam = children(params).find((p) => isContext(p, 0));
  const hashOid = oidOf(children(children(hashParam)[0])[0]);
  return { name: known.name, hash: hashOid ? (HASH_ALGORITHMS.get(hashOid) ?? null) : 'sha1' };
}

/** The outer signatureAlgorithm field, read; `node` is null when it is not a decodable SEQUENCE. */
export interface OuterAlgorithm {
  readonly tlv: Tlv;
  readonly node: Asn1 | null;
}

/**
 * Reads the outer signatureAlgorithm at `pos` and checks it against the
 * TBSCertificate's `signature` field (`tbsAlgBytes`, when read); null when its
 * header cannot be read at all.
 */
export function readOuterAlgorithm(
  walk: Walk,
  pos: number,
  limit: number,
  tbsAlgBytes: string | null,
): OuterAlgorithm | null {
  const { buf } = walk;
  const tlv = readTlv(buf, pos, limit);
  if (typeof tlv === 'string' || tlv.end > limit) {
    if (!walk.truncated) addReason(walk, 'signatureAlgorithm is unreadable');
    return null;
  }
  const node = tlv.tag === DerTag.SEQUENCE ? decode(walk, tlv, 'signatureAlgorithm') : null;
  if (tlv.tag !== DerTag.SEQUENCE) addReason(walk, `signatureAlgorithm has tag ${hexTag(tlv.tag)}`);
  if (tbsAlgBytes !== null && node && tbsAlgBytes !== buf.toString('latin1', tlv.start, tlv.end)) {
    addReason(walk, 'signature algorithm in TBSCertificate differs from the outer signatureAlgorithm');
  }
  if (node && !oidOf(children(node)[0])) addReason(walk, 'signatureAlgorithm is malformed');
  return { tlv, node };
}

/** Checks the signatureValue BIT STRING at `pos`, the last field of the certificate ending at `limit`. */
export function checkSignatureValue(walk: Walk, pos: number, limit: number): void {
  const { buf } = walk;
  const tlv = readTlv(buf, pos, limit);
  if (typeof tlv === 'string' || tlv.end > limit) {
    if (!walk.truncated) addReason(walk, 'signature is missing or unreadable');
    return;
  }
  if (tlv.tag !== DerTag.BIT_STRING)
    addReason(walk, `signature has tag ${hexTag(tlv.tag)} (expected BIT STRING)`);
  else if (tlv.end - tlv.contentStart < 2 || buf[tlv.contentStart] !== 0) {
    addReason(walk, 'signature BIT STRING is empty or has unused bits');
  }
  if (tlv.end < limit)
    addReason(walk, `${limit - tlv.end} unexpected bytes after the signature inside the certificate`);
}

/** Whether `x509`'s signature verifies with `key`; false when OpenSSL cannot even try. */
export function signatureVerifies(x509: X509Certificate, key: KeyObject): boolean {
  try {
    return x509.verify(key);
  } catch {
    return false;
  }
}

/** What {@link issuedBy} reads of a parsed certificate (parse-certificate.ts's ParsedCertificate). */
interface SignedCertificate {
  readonly info: { readonly fingerprintSha256: string };
  readonly x509: X509Certificate | null;
  readonly publicKey: KeyObject | null;
}

/** Pairs of certificates remembered by {@link issuedBy}; all are forgotten at once when full. */
const ISSUED_BY_LIMIT = 4096;
const issuedByCache = new Map<string, boolean>();

/**
 * Whether `parent`'s key verifies `child`'s signature, checked once per pair of certificates per
 * process: path building and the revocation step ask it of every leaf and its issuer, and the same
 * leaves are checked every run. The answer depends only on the bytes of both, which the key holds.
 */
export function issuedBy(child: SignedCertificate, parent: SignedCertificate): boolean {
  const key = `${child.info.fingerprintSha256}>${parent.info.fingerprintSha256}`;
  const cached = issuedByCache.get(key);
  if (cached !== undefined) return cached;
  const issued =
    child.x509 !== null && parent.publicKey !== null && signatureVerifies(child.x509, parent.publicKey);
  if (issuedByCache.size >= ISSUED_BY_LIMIT) issuedByCache.clear();
  issuedByCache.set(key, issued);
  return issued;
}
