/**
 * What a certificate says about its own revocation: where its CA answers OCSP (authorityInfoAccess),
 * where its CRLs are (cRLDistributionPoints), whether it demands a stapled OCSP response (TLS Feature
 * status_request, "must-staple"), and the identifiers an OCSP CertID is built from. Pure; never throws.
 */
import type { KeyObject } from 'node:crypto';
import { readTlv } from '../der-reader';
import {
  type Asn1,
  bytesOf,
  children,
  decodeDer,
  derOf,
  digest,
  isContext,
  isUniversal,
  oidOf,
  SEQUENCE_TYPE,
  Tag,
} from './revocation-der';

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

/** The TBSCertificate's fields, the optional version skipped; null when unreadable. */
function tbsFields(der: Uint8Array): Asn1[] | null {
  const cert = decodeDer(der);
  if (typeof cert === 'string') return null;
  const tbs = children(cert)[0];
  if (!isUniversal(tbs, SEQUENCE_TYPE)) return null;
  const fields = children(tbs);
  return isContext(fields[0], 0) ? fields.slice(1) : fields;
}

/** Plain http URLs only: OCSP and CRLs are signed, and fetching them over TLS would need the very check being made. */
function fetchable(url: string): boolean {
  return url.length <= MAX_URL_LENGTH && /^http:\/\/[\x21-\x7e]+$/i.test(url);
}

/** Each extension's OID and decoded value. */
function extensionsOf(fields: readonly Asn1[]): Map<string, Asn1> {
  const out = new Map<string, Asn1>();
  const wrapper = fields.find((f) => isContext(f, 3));
  for (const ext of children(children(wrapper)[0])) {
    const parts = children(ext);
    const oid = oidOf(parts[0]);
    const value = parts.find((p) => isUniversal(p, Tag.OCTET_STRING));
    if (oid === null || value === undefined || out.has(oid)) continue;
    const decoded = decodeDer(Buffer.from(bytesOf(value), 'latin1'));
    if (typeof decoded !== 'string') out.set(oid, decoded);
  }
  return out;
}

function uriOf(name: Asn1 | undefined): string | null {
  return isContext(name, 6) && !name?.constructed ? bytesOf(name) : null;
}

function ocspUrlsOf(aia: Asn1 | undefined): string[] {
  const urls: string[] = [];
  for (const ad of children(aia)) {
    const [method, location] = children(ad);
    const url = oidOf(method) === OID_OCSP ? uriOf(location) : null;
    if (url !== null && fetchable(url) && !urls.includes(url)) urls.push(url);
  }
  return urls.slice(0, MAX_SOURCE_URLS);
}

function crlUrlsOf(points: Asn1 | undefined): string[] {
  const urls: string[] = [];
  for (const point of children(points)) {
    // distributionPoint [0] { fullName [0] GeneralNames }; a DP naming a cRLIssuer [2] is an indirect CRL, not followed.
    const parts = children(point);
    if (parts.some((p) => isContext(p, 2))) continue;
    const name = children(parts.find((p) => isContext(p, 0))).find((p) => isContext(p, 0));
    for (const general of children(name)) {
      const url = uriOf(general);
      if (url !== null && fetchable(url) && !urls.includes(url)) urls.push(url);
    }
  }
  return urls.slice(0, MAX_SOURCE_URLS);
}

function mustStapleOf(feature: Asn1 | undefined): boolean {
  return children(feature).some(
    (n) => isUniversal(n, Tag.INTEGER) && bytesOf(n) === String.fromCharCode(TLS_FEATURE_STATUS_REQUEST),
  );
}

function sourcesOf(fields: readonly Asn1[]): RevocationSources {
  const ext = extensionsOf(fields);
  return {
    ocspUrls: ocspUrlsOf(ext.get(OID_AUTHORITY_INFO_ACCESS)),
    crlUrls: crlUrlsOf(ext.get(OID_CRL_DISTRIBUTION_POINTS)),
    mustStaple: mustStapleOf(ext.get(OID_TLS_FEATURE)),
  };
}

function idsOf(fields: readonly Asn1[]): CertificateIds | null {
  // serial, signature, issuer, validity, subject
  const [serial, , issuer, , subject] = fields;
  if (!isUniversal(serial, Tag.INTEGER) || !isUniversal(issuer, SEQUENCE_TYPE)) return null;
  if (!isUniversal(subject, SEQUENCE_TYPE)) return null;
  const serialBytes = Buffer.from(bytesOf(serial), 'latin1');
  if (serialBytes.length === 0) return null;
  const serialHex = serialBytes
    .toString('hex')
    .toUpperCase()
    .replace(/^(00)+(?=..)/, '');
  return { serialHex, serialBytes, issuerName: derOf(issuer!), subjectName: derOf(subject!) };
}

/** What `der` (a certificate) says about its revocation, and its ids, from one read. Never throws. */
export function revocationFactsOf(der: Uint8Array): {
  readonly sources: RevocationSources;
  readonly ids: CertificateIds | null;
} {
  try {
    const fields = tbsFields(der);
    if (fields === null) return { sources: NO_SOURCES, ids: null };
    return { sources: sourcesOf(fields), ids: idsOf(fields) };
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
