/**
 * What a certificate says about its own revocation: where its CA answers OCSP (authorityInfoAccess),
 * where its CRLs are (cRLDistributionPoints), whether it demands a stapled OCSP response (TLS Feature
 * status_request, "must-staple"), and the identifiers an OCSP CertID is built from. Pure; never throws.
 */
import type { KeyObject } from 'node:crypto';
import { readTlv } from '../der-reader';
import {
  contentOf,
  DerTag,
  elementAt,
  elementBytes,
  isContextTag,
  listOf,
  oidAt,
  type Tlv,
} from './der-view';
import { digest, extensionAt, fullNameUris } from './revocation-der';

export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
export const OID_OCSP = '1.3.6.1.5.5.7.48.1';
export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
export const OID_TLS_FEATURE = '1.3.6.1.5.5.7.1.24';
/** TLS Feature value of the status_request extension (RFC 7633): OCSP stapling. */
const TLS_FEATURE_STATUS_REQUEST = 5;
/** URLs of one kind taken from one certificate: real ones name one or two. */
export const MAX_SOURCE_URLS = 4;
/** Longest URL fetched. */
const MAX_URL_LENGTH = 1024;

/** What a certificate says about its revocation. */
export interface RevocationSources {
  /** Plain `http://` OCSP responder URLs (authorityInfoAccess id-ad-ocsp). */
  readonly ocspUrls: readonly string[];
  /** Plain `http://` CRL URLs (cRLDistributionPoints fullName URIs). */
  readonly crlUrls: readonly string[];
  /** The TLS Feature extension lists status_request: clients must see a stapled OCSP response. */
  readonly mustStaple: boolean;
}

/** The fields of a certificate an OCSP request or a CRL lookup needs. */
export interface CertificateIds {
  /** Serial number, upper-case hex without sign padding (see `integerHex`). */
  readonly serialHex: string;
  /** The INTEGER content bytes as encoded, for the OCSP request. */
  readonly serialBytes: Buffer;
  /** The exact DER of the issuer Name field. */
  readonly issuerName: Buffer;
  /** The exact DER of the subject Name field. */
  readonly subjectName: Buffer;
}

const NO_SOURCES: RevocationSources = { ocspUrls: [], crlUrls: [], mustStaple: false };
/** Elements read from any one list of a certificate (fields, extensions, names): real ones hold a dozen at most. */
const MAX_LIST = 64;

/** The TBSCertificate's fields, the optional version skipped; none when unreadable. */
function tbsFields(der: Buffer): Tlv[] {
  const cert = elementAt(der, 0, der.length);
  if (typeof cert === 'string') return [];
  const tbs = listOf(der, cert, 1)[0];
  if (tbs?.tag !== DerTag.SEQUENCE) return [];
  const fields = listOf(der, tbs, MAX_LIST);
  return isContextTag(fields[0], 0) ? fields.slice(1) : fields;
}

/** Plain http URLs only: OCSP and CRLs are signed, and fetching them over TLS would need the very check being made. */
function fetchable(url: string): boolean {
  return url.length <= MAX_URL_LENGTH && /^http:\/\/[\x21-\x7e]+$/i.test(url);
}

/** What a certificate says about its revocation, read from its bytes `der` (every element lies in them). */
function sourcesOf(der: Buffer, fields: readonly Tlv[]): RevocationSources {
  const list = (parent: Tlv | undefined) => listOf(der, parent, MAX_LIST);
  // Each extension's value (the element inside its OCTET STRING), the first of each OID.
  const ext = new Map<string, Tlv>();
  for (const extension of list(list(fields.find((f) => isContextTag(f, 3)))[0])) {
    const read = extensionAt(der, extension);
    if (typeof read !== 'string' && read.oid !== null && read.value !== null && !ext.has(read.oid))
      ext.set(read.oid, read.value);
  }
  const urls: { ocsp: string[]; crl: string[] } = { ocsp: [], crl: [] };
  const add = (kind: 'ocsp' | 'crl', url: string) => {
    if (fetchable(url) && !urls[kind].includes(url)) urls[kind].push(url);
  };
  for (const ad of list(ext.get(OID_AUTHORITY_INFO_ACCESS))) {
    const [method, location] = list(ad);
    // A GeneralName's uniformResourceIdentifier [6].
    if (oidAt(der, method) === OID_OCSP && location?.tag === 0x86) {
      add('ocsp', der.toString('latin1', location.contentStart, location.end));
    }
  }
  for (const point of list(ext.get(OID_CRL_DISTRIBUTION_POINTS))) {
    // distributionPoint [0] DistributionPointName; a DP naming a cRLIssuer [2] is an indirect CRL, not followed.
    const parts = list(point);
    if (parts.some((p) => isContextTag(p, 2))) continue;
    for (const url of fullNameUris(
      der,
      parts.find((p) => isContextTag(p, 0)),
      MAX_LIST,
    ))
      add('crl', url);
  }
  const mustStaple = list(ext.get(OID_TLS_FEATURE)).some(
    (n) =>
      n.tag === DerTag.INTEGER &&
      n.end - n.contentStart === 1 &&
      der[n.contentStart] === TLS_FEATURE_STATUS_REQUEST,
  );
  return {
    ocspUrls: urls.ocsp.slice(0, MAX_SOURCE_URLS),
    crlUrls: urls.crl.slice(0, MAX_SOURCE_URLS),
    mustStaple,
  };
}

function idsOf(der: Buffer, fields: readonly Tlv[]): CertificateIds | null {
  // serial, signature, issuer, validity, subject
  const [serial, , issuer, , subject] = fields;
  if (serial?.tag !== DerTag.INTEGER || issuer?.tag !== DerTag.SEQUENCE) return null;
  if (subject?.tag !== DerTag.SEQUENCE) return null;
  // Copies, so the ids do not pin the certificate's bytes.
  const serialBytes = Buffer.from(contentOf(der, serial));
  if (serialBytes.length === 0) return null;
  const serialHex = serialBytes
    .toString('hex')
    .toUpperCase()
    .replace(/^(00)+(?=..)/, '');
  return {
    serialHex,
    serialBytes,
    issuerName: Buffer.from(elementBytes(der, issuer)),
    subjectName: Buffer.from(elementBytes(der, subject)),
  };
}

/** What `der` (a certificate) says about its revocation, and its ids, from one read. Never throws. */
export function revocationFactsOf(der: Uint8Array): {
  readonly sources: RevocationSources;
  readonly ids: CertificateIds | null;
} {
  try {
    const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const fields = tbsFields(buf);
    if (fields.length === 0) return { sources: NO_SOURCES, ids: null };
    return { sources: sourcesOf(buf, fields), ids: idsOf(buf, fields) };
  } catch {
    return { sources: NO_SOURCES, ids: null };
  }
}

/** What `der` (a certificate) says about its revocation; nothing when it cannot be read. */
export function revocationSourcesOf(der: Uint8Array): RevocationSources {
  return revocationFactsOf(der).sources;
}

/** The serial and names of `der` (a certificate); null when they cannot be read. */
export function certificateIdsOf(der: Uint8Array): CertificateIds | null {
  return revocationFactsOf(der).ids;
}

/** The subjectPublicKey bits of a key (the BIT STRING content without the unused-bits byte): what key hashes cover. */
function exportKeyBits(key: KeyObject): Buffer | null {
  try {
    const spki = key.export({ type: 'spki', format: 'der' });
    const outer = readTlv(spki, 0, spki.length);
    if (typeof outer === 'string') return null;
    const alg = readTlv(spki, outer.contentStart, outer.end);
    if (typeof alg === 'string') return null;
    const bits = readTlv(spki, alg.end, outer.end);
    if (typeof bits === 'string' || bits.tag !== 0x03) return null;
    return spki.subarray(bits.contentStart + 1, bits.end);
  } catch {
    return null;
  }
}

/** Key bits per key object: every OCSP answer is matched against its issuer's key, and exporting it costs more than the match. */
const keyBitsCache = new WeakMap<KeyObject, Buffer | null>();

/** The subjectPublicKey bits of a key, read once per key object (do not modify them). */
export function publicKeyBits(key: KeyObject): Buffer | null {
  let bits = keyBitsCache.get(key);
  if (bits === undefined) {
    bits = exportKeyBits(key);
    keyBitsCache.set(key, bits);
  }
  return bits;
}

/** SHA-1 of a key's subjectPublicKey bits: the ResponderID byKey form. */
export function keyHash(key: KeyObject, hash = 'sha1'): Buffer | null {
  const bits = publicKeyBits(key);
  return bits === null ? null : digest(hash, bits);
}
