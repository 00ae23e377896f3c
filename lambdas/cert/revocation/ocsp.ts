/**
 * OCSP (RFC 6960) without a PKI library: the request for one certificate (a CertID of SHA-1 hashes
 * of the issuer's name and key, and the serial), and the judgement of a response, fetched or
 * stapled: its status, the BasicOCSPResponse signature (by the issuer itself, or by a responder
 * certificate the issuer issued for id-kp-OCSPSigning), the CertID and the thisUpdate/nextUpdate
 * window. Pure (the clock is injected) and total: whatever arrives, the answer is a verdict,
 * "unknown" with a reason when the response cannot be relied upon.
 */
import { X509Certificate } from 'node:crypto';
import { HASH_ALGORITHMS } from '../oid-names';
import {
  childrenOf,
  contentOf,
  DerTag,
  elementAt,
  elementBytes,
  integerHexAt,
  isContextTag,
  listOf,
  oidAt,
  type Tlv,
  timeAt,
} from './der-view';
import { type AlgorithmId, digest, reasonAt, splitSigned, verifySignature } from './revocation-der';
import { type CertificateIds, keyHash } from './revocation-sources';
import { judgeWindow, type RevocationVerdict } from './revocation-verdict';

const OID_BASIC_OCSP_RESPONSE = '1.3.6.1.5.5.7.48.1.1';
export const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** SingleResponses examined in one response: a responder answers for the certificates asked about. */
const MAX_SINGLE_RESPONSES = 64;
/** Responder certificates tried from one response. */
const MAX_RESPONDER_CERTS = 4;
/** Elements read from any other list in a response (fields, extensions): a few in real ones. */
const MAX_FIELDS = 16;

const OCSP_RESPONSE_STATUS: readonly (string | undefined)[] = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  undefined,
  'sigRequired',
  'unauthorized',
];

/** The certificate asked about, and its issuer. */
export interface OcspSubject {
  readonly ids: CertificateIds;
  readonly issuer: X509Certificate;
}

/** One DER element: `tag`, a definite length, and `content`. */
function der(tag: number, ...content: Uint8Array[]): Buffer {
  const length = content.reduce((n, part) => n + part.length, 0);
  const lengthBytes: number[] = [];
  for (let rest = length; rest > 0x7f; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256);
  const header =
    length > 0x7f
      ? [tag, 0x80 | (lengthBytes.length + 1), Math.floor(length / 256 ** lengthBytes.length), ...lengthBytes]
      : [tag, length];
  return Buffer.concat([Buffer.from(header), ...content]);
}

/** The DER of the SHA-1 (1.3.14.3.2.26) AlgorithmIdentifier, with the NULL parameters RFC 6960 requests carry. */
const SHA1_ALGORITHM = der(
  DerTag.SEQUENCE,
  Buffer.from([0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a]),
  der(DerTag.NULL),
);

/** The DER OCSPRequest for one certificate (no nonce: responses stay cacheable, as RFC 5019 profiles). */
export function buildOcspRequest(subject: OcspSubject): Buffer | null {
  const hashes = issuerHashes(subject, 'sha1');
  if (hashes === null) return null;
  const certId = der(
    DerTag.SEQUENCE,
    SHA1_ALGORITHM,
    der(DerTag.OCTET_STRING, hashes.name),
    der(DerTag.OCTET_STRING, hashes.key),
    der(DerTag.INTEGER, subject.ids.serialBytes),
  );
  // OCSPRequest { TBSRequest { requestList SEQUENCE OF Request { reqCert } } }
  return der(DerTag.SEQUENCE, der(DerTag.SEQUENCE, der(DerTag.SEQUENCE, der(DerTag.SEQUENCE, certId))));
}

/** A CertID's issuer hashes under one digest, and the issuer name they were made from. */
interface IssuerHashes {
  readonly nameDer: Buffer;
  readonly name: Buffer;
  readonly key: Buffer;
}

/**
 * Issuer hashes per issuer and digest (so at most one entry per digest OCSP names): every leaf of a
 * CA names its issuer with the same bytes, so a 1,000-leaf run hashes the CA's name and key once,
 * not for each request and again for each answer.
 */
const issuerHashCache = new WeakMap<X509Certificate, Map<string, IssuerHashes>>();

/** A CertID's issuer hashes under one digest: of the issuer's name (as the certificate names it) and of its key. */
function issuerHashes({ issuer, ids }: OcspSubject, hash: string): IssuerHashes | null {
  let byHash = issuerHashCache.get(issuer);
  const known = byHash?.get(hash);
  if (known?.nameDer.equals(ids.issuerName)) return known;
  const key = keyHash(issuer.publicKey, hash);
  if (key === null) return null;
  const hashes = { nameDer: ids.issuerName, name: digest(hash, ids.issuerName), key };
  if (byHash === undefined) {
    byHash = new Map();
    issuerHashCache.set(issuer, byHash);
  }
  byHash.set(hash, hashes);
  return hashes;
}

/** Whether the SingleResponse CertID `certId` names `subject`, whatever hash the responder chose. */
function certIdMatches(buf: Buffer, certId: Tlv | undefined, subject: OcspSubject): boolean {
  // CertID { hashAlgorithm AlgorithmIdentifier, issuerNameHash, issuerKeyHash, serialNumber }
  const [algorithm, nameHash, keyHashNode, serial] =
    certId?.tag === DerTag.SEQUENCE ? listOf(buf, certId, 4) : [];
  if (integerHexAt(buf, serial) !== subject.ids.serialHex) return false;
  if (nameHash?.tag !== DerTag.OCTET_STRING || keyHashNode?.tag !== DerTag.OCTET_STRING) return false;
  const oid = algorithm?.tag === DerTag.SEQUENCE ? oidAt(buf, listOf(buf, algorithm, 1)[0]) : null;
  const hash = oid === null ? undefined : HASH_ALGORITHMS.get(oid);
  if (hash === undefined) return false;
  const hashes = issuerHashes(subject, hash);
  return (
    hashes !== null &&
    contentOf(buf, nameHash).equals(hashes.name) &&
    contentOf(buf, keyHashNode).equals(hashes.key)
  );
}

interface SingleResponse {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt: Date | null;
  readonly reason: string | null;
  readonly thisUpdate: Date | null;
  readonly nextUpdate: Date | null;
}

function readSingle(buf: Buffer, fields: readonly Tlv[]): SingleResponse {
  // SingleResponse { certID, certStatus, thisUpdate, nextUpdate [0] EXPLICIT OPTIONAL, singleExtensions [1] OPTIONAL }
  const [, certStatus, thisUpdate, ...rest] = fields;
  const nextUpdate = timeAt(
    buf,
    listOf(
      buf,
      rest.find((n) => isContextTag(n, 0)),
      1,
    )[0],
  );
  const base = { thisUpdate: timeAt(buf, thisUpdate), nextUpdate, revokedAt: null, reason: null };
  if (isContextTag(certStatus, 0)) return { ...base, status: 'good' };
  if (isContextTag(certStatus, 1)) {
    // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
    const [time, reason] = listOf(buf, certStatus, MAX_FIELDS);
    return {
      ...base,
      status: 'revoked',
      revokedAt: timeAt(buf, time),
      reason: reasonAt(buf, listOf(buf, isContextTag(reason, 0) ? reason : undefined, 1)[0]),
    };
  }
  return { ...base, status: 'unknown' };
}

/** A responder certificate sent in a response, and whether the issuer asked about issued it. */
interface CheckedResponder {
  readonly cert: X509Certificate;
  readonly issuedByIssuer: boolean;
}

/**
 * Responder certificates already parsed and checked against an issuer, by the SHA-256 of their
 * DER: a CA's delegated responder signs every answer for weeks, so a 1,000-leaf run parses and
 * verifies it once, not once per answer. Keyed weakly by the issuer (parsed once per process).
 */
const checkedResponders = new WeakMap<X509Certificate, Map<string, CheckedResponder>>();
/** Responder certificates remembered per issuer (the first seen): a CA rotates a few at a time, and its parsed certificate lives no longer than a run's cache of certificates. */
const MAX_RESPONDERS_PER_ISSUER = 8;

function checkedResponder(der: Buffer, issuer: X509Certificate): CheckedResponder | null {
  const id = digest('sha256', der).toString('base64');
  let known = checkedResponders.get(issuer);
  const hit = known?.get(id);
  if (hit !== undefined) return hit;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return null;
  }
  let issuedByIssuer = false;
  try {
    issuedByIssuer = cert.verify(issuer.publicKey);
  } catch {
    issuedByIssuer = false;
  }
  const checked = { cert, issuedByIssuer };
  if (known === undefined) {
    known = new Map();
    checkedResponders.set(issuer, known);
  }
  if (known.size < MAX_RESPONDERS_PER_ISSUER) known.set(id, checked);
  return checked;
}

/**
 * Whether the last answer judged about each issuer's certificates was signed by a delegated
 * responder: a CA signs all its answers one way, so the next answer's signature is tried with that
 * signer first, not first with a key that will not verify it (a whole signature check wasted per
 * answer). Only the order changes: what is accepted is the same either way.
 */
const signedByDelegate = new WeakMap<X509Certificate, boolean>();

/** A delegated responder among `certs` that signed `tbs`, or why the one that signed it may not; null when none signed it. */
function delegatedSigner(
  tbs: Buffer,
  algorithm: AlgorithmId,
  signature: Buffer,
  certs: readonly Buffer[],
  issuer: X509Certificate,
  now: Date,
): true | string | null {
  for (const der of certs) {
    const checked = checkedResponder(der, issuer);
    if (checked === null) continue;
    const responder = checked.cert;
    if (verifySignature(tbs, algorithm, signature, responder.publicKey) !== true) continue;
    // A delegated responder (RFC 6960 §4.2.2.2): issued by the CA itself, for OCSP signing, valid now.
    const who = `responder certificate "${responder.subject.replace(/\n/g, ', ')}"`;
    if (!checked.issuedByIssuer) return `the response is signed by ${who}, which the issuer did not issue`;
    if (!(responder.keyUsage ?? []).includes(OID_OCSP_SIGNING)) {
      return `the response is signed by ${who}, which lacks extendedKeyUsage OCSPSigning`;
    }
    const from = Date.parse(responder.validFrom);
    const to = Date.parse(responder.validTo);
    if (!(from <= now.getTime() && now.getTime() <= to)) {
      return `the response is signed by ${who}, which is not valid now`;
    }
    return true;
  }
  return null;
}

/**
 * The signer of a verified response, or why none was found: the issuer's own key, or else the first
 * responder certificate sent whose key verifies the signature, which must be a valid delegate.
 */
function findSigner(
  tbs: Buffer,
  algorithm: AlgorithmId,
  signature: Buffer,
  certs: () => readonly Buffer[],
  subject: OcspSubject,
  now: Date,
): true | string {
  const { issuer } = subject;
  if (signedByDelegate.get(issuer) === true) {
    const delegated = delegatedSigner(tbs, algorithm, signature, certs(), issuer, now);
    if (delegated === true) return true;
    const direct = verifySignature(tbs, algorithm, signature, issuer.publicKey);
    if (direct === true) {
      signedByDelegate.set(issuer, false);
      return true;
    }
    return delegated ?? unverified(direct);
  }
  const direct = verifySignature(tbs, algorithm, signature, issuer.publicKey);
  if (direct === true) return true;
  const delegated = delegatedSigner(tbs, algorithm, signature, certs(), issuer, now);
  if (delegated === true) signedByDelegate.set(issuer, true);
  return delegated ?? unverified(direct);
}

function unverified(direct: string): string {
  return `the response signature does not verify with the issuer's key or a responder certificate (${direct})`;
}

/**
 * Judges an OCSPResponse (DER) about `subject` at `now`. Never throws: an unusable response is
 * `unknown` with the reason.
 */
export function judgeOcspResponse(der: Uint8Array, subject: OcspSubject, now: Date): RevocationVerdict {
  try {
    return judgeUnsafe(der, subject, now);
  } catch (error) {
    return { status: 'unknown', reason: `the OCSP response is unreadable (${String(error)})` };
  }
}

function unknown(reason: string): RevocationVerdict {
  return { status: 'unknown', reason };
}

function judgeUnsafe(der: Uint8Array, subject: OcspSubject, now: Date): RevocationVerdict {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  // OCSPResponse { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
  const response = elementAt(buf, 0, buf.length);
  if (typeof response === 'string') return unknown(`the OCSP response is not DER (${response})`);
  const top = childrenOf(buf, response, 2);
  if (typeof top === 'string') return unknown(`the OCSP response is not DER (${top})`);
  const [statusNode, bytesWrapper] = top;
  if (statusNode?.tag !== DerTag.ENUMERATED) return unknown('the OCSP response has no status');
  const code = statusNode.end > statusNode.contentStart ? buf[statusNode.contentStart]! : -1;
  if (code !== 0) {
    return unknown(`the OCSP responder answered ${OCSP_RESPONSE_STATUS[code] ?? `status ${code}`}`);
  }
  // ResponseBytes { responseType OID, response OCTET STRING }
  const [type, body] = listOf(
    buf,
    listOf(buf, isContextTag(bytesWrapper, 0) ? bytesWrapper : undefined, 1)[0],
    2,
  );
  if (oidAt(buf, type) !== OID_BASIC_OCSP_RESPONSE || body?.tag !== DerTag.OCTET_STRING) {
    return unknown('the OCSP response is not a BasicOCSPResponse');
  }
  const basic = splitSigned(contentOf(buf, body));
  if (typeof basic === 'string') return unknown(`the BasicOCSPResponse is unreadable: ${basic}`);
  const tbsBuf = basic.tbs;
  const tbs = elementAt(tbsBuf, 0, tbsBuf.length);
  if (typeof tbs === 'string') return unknown(`the OCSP response data is not DER (${tbs})`);
  // ResponseData { version [0]?, responderID, producedAt, responses, [1] extensions? }
  const fields = childrenOf(tbsBuf, tbs, MAX_FIELDS);
  if (typeof fields === 'string') return unknown(`the OCSP response data is not DER (${fields})`);
  // certs [0] EXPLICIT SEQUENCE OF Certificate, read only when the issuer did not sign itself.
  const certs = (): Buffer[] => {
    const rest = basic.rest;
    const wrapper = rest.length > 0 ? elementAt(rest, 0, rest.length) : null;
    if (wrapper === null || typeof wrapper === 'string' || !isContextTag(wrapper, 0)) return [];
    return listOf(rest, listOf(rest, wrapper, 1)[0], MAX_RESPONDER_CERTS).map((c) => elementBytes(rest, c));
  };
  const signer = findSigner(basic.tbs, basic.algorithm, basic.signature, certs, subject, now);
  if (signer !== true) return unknown(signer);

  const [, , responses] = fields.filter((n) => !isContextTag(n, 0));
  if (responses?.tag !== DerTag.SEQUENCE) return unknown('the OCSP response data holds no responses');
  let match: Tlv[] | undefined;
  for (const single of listOf(tbsBuf, responses, MAX_SINGLE_RESPONSES)) {
    const parts = listOf(tbsBuf, single, MAX_FIELDS);
    if (certIdMatches(tbsBuf, parts[0], subject)) {
      match = parts;
      break;
    }
  }
  if (match === undefined)
    return unknown('the OCSP response does not answer for this certificate (CertID mismatch)');
  const single = readSingle(tbsBuf, match);
  if (single.thisUpdate === null) return unknown('the OCSP response has no readable thisUpdate');
  const window = judgeWindow('the OCSP response', single.thisUpdate, single.nextUpdate, now);
  if (window !== null) return unknown(window);
  if (single.status === 'unknown') return unknown('the OCSP responder does not know the certificate');
  if (single.status === 'good') {
    return { status: 'good', thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  }
  return {
    status: 'revoked',
    revokedAt: single.revokedAt,
    reason: single.reason,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
  };
}
