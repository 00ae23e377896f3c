/**
 * Owns the subject public key: the subjectPublicKeyInfo's structure, loading it
 * as a KeyObject (from OpenSSL's parse or straight from the SPKI bytes), and
 * the key facts shown for it (type and size), from the KeyObject or, when no
 * KeyObject could be made, from the SPKI itself.
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import type { Tlv } from './der-reader';
import {
  addReason,
  bytesOf,
  children,
  isUniversal,
  oidOf,
  SEQUENCE_TYPE,
  DerTag,
  type Walk,
} from './der-walk';
import { type Asn1, forge } from './forge-asn1';
import { CURVE_OIDS, curveBits, KEY_ALGORITHMS, OID_EC_PUBLIC_KEY } from './oid-names';

/** Key type and size as ChainCertificate reports them. */
export interface KeyFacts {
  readonly keyType: string;
  readonly keyBits: number | null;
}

/** Records a reason when a decoded subjectPublicKeyInfo is not `SEQUENCE { AlgorithmIdentifier, BIT STRING }`. */
export function checkSubjectPublicKeyInfo(walk: Walk, spki: Asn1): void {
  const [algId, bits] = children(spki);
  if (
    !isUniversal(algId, SEQUENCE_TYPE) ||
    !isUniversal(bits, DerTag.BIT_STRING) ||
    !oidOf(children(algId)[0])
  ) {
    addReason(walk, 'subjectPublicKeyInfo is malformed');
  }
}

/** The public key: OpenSSL's when it parsed the certificate, else the SPKI bytes loaded alone; null when neither works. */
export function loadPublicKey(
  buf: Buffer,
  x509: X509Certificate | null,
  spkiTlv: Tlv | null,
): KeyObject | null {
  try {
    if (x509) return x509.publicKey;
    if (spkiTlv) {
      return createPublicKey({ key: buf.subarray(spkiTlv.start, spkiTlv.end), format: 'der', type: 'spki' });
    }
  } catch {
    // Unsupported or damaged key: reported by the caller, which knows whether it is news.
  }
  return null;
}

/** Key facts from the loaded key when there is one, else from the decoded SPKI. */
export function keyFactsOf(publicKey: KeyObject | null, spki: Asn1 | null): KeyFacts {
  return publicKey ? keyFactsFromKeyObject(publicKey) : keyFactsFromSpki(spki);
}

export function keyFactsFromKeyObject(key: KeyObject): KeyFacts {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { keyType: 'RSA', keyBits: details.modulusLength ?? null };
    case 'dsa':
      return { keyType: 'DSA', keyBits: details.modulusLength ?? null };
    case 'ec':
      return { keyType: 'EC', keyBits: curveBits(details.namedCurve) };
    case 'ed25519':
      return { keyType: 'Ed25519', keyBits: 256 };
    case 'ed448':
      return { keyType: 'Ed448', keyBits: 456 };
    default:
      return { keyType: 'unknown', keyBits: null };
  }
}

/** Key facts straight from subjectPublicKeyInfo, for when no KeyObject could be made. */
export function keyFactsFromSpki(spki: Asn1 | null): KeyFacts {
  const [algId, bits] = children(spki ?? undefined);
  const [algOid, params] = children(algId);
  const oid = oidOf(algOid);
  const keyType = (oid && KEY_ALGORITHMS.get(oid)) ?? 'unknown';
  let keyBits: number | null = null;
  if (keyType === 'EC') keyBits = CURVE_OIDS.get(oidOf(params) ?? '') ?? null;
  if (keyType === 'Ed25519') keyBits = 256;
  if (keyType === 'RSA') keyBits = rsaModulusBits(bytesOf(bits));
  return { keyType, keyBits };
}

/** Bit length of the modulus in an RSAPublicKey BIT STRING (leading unused-bits byte included); null when unreadable. */
function rsaModulusBits(bitString: string): number | null {
  try {
    const rsa = forge.asn1.fromDer(bitString.slice(1), true);
    const modulus = bytesOf(children(rsa)[0]).replace(/^\x00+/, '');
    return modulus.length > 0 ? (modulus.length - 1) * 8 + (32 - Math.clz32(modulus.charCodeAt(0))) : null;
  } catch {
    return null;
  }
}

/**
 * Whether an EC subjectPublicKeyInfo spells its curve out (specifiedCurve)
 * instead of naming it: RFC 5480 forbids it, and every major TLS client
 * rejects such keys (they were the vector of CVE-2020-0601).
 */
export function hasExplicitCurve(spki: Asn1 | null): boolean {
  const [algId] = children(spki ?? undefined);
  const [algOid, params] = children(algId);
  return oidOf(algOid) === OID_EC_PUBLIC_KEY && params !== undefined && isUniversal(params, SEQUENCE_TYPE);
}
