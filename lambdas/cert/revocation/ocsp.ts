/**
 * OCSP (RFC 6960) without a PKI library: the request for one certificate (a CertID of SHA-1 hashes
 * of the issuer's name and key, and the serial), and the judgement of a response, fetched or
 * stapled: its status, the BasicOCSPResponse signature (by the issuer itself, or by a responder
 * certificate the issuer issued for id-kp-OCSPSigning), the CertID and the thisUpdate/nextUpdate
 * window. Pure (the clock is injected) and total: whatever arrives, the answer is a verdict,
 * "unknown" with a reason when the response cannot be relied upon.
 */
import { X509Certificate } from 'node:crypto';
import { forge } from '../forge-asn1';
import {
  type Asn1,
  bytesOf,
  children,
  decodeDer,
  digest,
  hashNameOf,
  integerHex,
  isContext,
  isUniversal,
  oidOf,
  reasonOf,
  SEQUENCE_TYPE,
  splitSigned,
  Tag,
  timeOf,
  verifySignature,
} from './revocation-der';
import { type CertificateIds, keyHash, publicKeyBits } from './revocation-sources';
import { judgeWindow, type RevocationVerdict } from './revocation-verdict';

const OID_SHA1 = '1.3.14.3.2.26';
const OID_BASIC_OCSP_RESPONSE = '1.3.6.1.5.5.7.48.1.1';
export const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** SingleResponses examined in one response: a responder answers for the certificates asked about. */
const MAX_SINGLE_RESPONSES = 64;
/** Responder certificates tried from one response. */
const MAX_RESPONDER_CERTS = 4;

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

const { asn1 } = forge;
const seq = (value: Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, value);
const octets = (bytes: Buffer) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('latin1'));

/** The DER OCSPRequest for one certificate (no nonce: responses stay cacheable, as RFC 5019 profiles). */
export function buildOcspRequest(subject: OcspSubject): Buffer | null {
  const issuerKeyHash = keyHash(subject.issuer.publicKey);
  if (issuerKeyHash === null) return null;
  const certId = seq([
    seq([
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_SHA1).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    octets(digest('sha1', subject.ids.issuerName)),
    octets(issuerKeyHash),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, subject.ids.serialBytes.toString('latin1')),
  ]);
  const request = seq([seq([seq([seq([certId])])])]);
  // OCSPRequest { TBSRequest { requestList SEQUENCE OF Request { reqCert } } }
  return Buffer.from(asn1.toDer(request).getBytes(), 'latin1');
}

/** Whether a SingleResponse's CertID names `subject`, whatever hash the responder chose. */
function certIdMatches(certId: Asn1 | undefined, subject: OcspSubject): boolean {
  const [algorithm, nameHash, keyHashNode, serial] = children(certId);
  const hash = hashNameOf(algorithm);
  if (hash === null || integerHex(serial) !== subject.ids.serialHex) return false;
  const bits = publicKeyBits(subject.issuer.publicKey);
  if (bits === null) return false;
  return (
    Buffer.from(bytesOf(nameHash), 'latin1').equals(digest(hash, subject.ids.issuerName)) &&
    Buffer.from(bytesOf(keyHashNode), 'latin1').equals(digest(hash, bits))
  );
}

interface SingleResponse {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt: Date | null;
  readonly reason: string | null;
  readonly thisUpdate: Date | null;
  readonly nextUpdate: Date | null;
}

function readSingle(node: Asn1): SingleResponse {
  const [, certStatus, thisUpdate, ...rest] = children(node);
  const nextUpdate = timeOf(children(rest.find((n) => isContext(n, 0)))[0]);
  const base = { thisUpdate: timeOf(thisUpdate), nextUpdate, revokedAt: null, reason: null };
  if (isContext(certStatus, 0)) return { ...base, status: 'good' };
  if (isContext(certStatus, 1)) {
    // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
    const [time, reason] = children(certStatus);
    return {
      ...base,
      status: 'revoked',
      revokedAt: timeOf(time),
      reason: reasonOf(children(isContext(reason, 0) ? reason : undefined)[0]),
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

function checkedResponder(node: Asn1, issuer: X509Certificate): CheckedResponder | null {
  let der: Buffer;
  try {
    der = Buffer.from(asn1.toDer(node).getBytes(), 'latin1');
  } catch {
    return null;
  }
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

/** The signer of a verified response, or why none was found. */
function findSigner(
  tbs: Buffer,
  algorithm: Asn1,
  signature: Buffer,
  certs: () => readonly Asn1[],
  subject: OcspSubject,
  now: Date,
): true | string {
  const direct = verifySignature(tbs, algorithm, signature, subject.issuer.publicKey);
  if (direct === true) return true;
  for (const node of certs().slice(0, MAX_RESPONDER_CERTS)) {
    const checked = checkedResponder(node, subject.issuer);
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
  const response = decodeDer(der);
  if (typeof response === 'string') return unknown(`the OCSP response is ${response}`);
  const [statusNode, bytesWrapper] = children(response);
  if (!isUniversal(statusNode, Tag.ENUMERATED)) return unknown('the OCSP response has no status');
  const code = Buffer.from(bytesOf(statusNode), 'latin1')[0] ?? -1;
  if (code !== 0) {
    return unknown(`the OCSP responder answered ${OCSP_RESPONSE_STATUS[code] ?? `status ${code}`}`);
  }
  // responseBytes [0] EXPLICIT ResponseBytes { responseType, response OCTET STRING }
  const [type, body] = children(children(isContext(bytesWrapper, 0) ? bytesWrapper : undefined)[0]);
  if (oidOf(type) !== OID_BASIC_OCSP_RESPONSE || !isUniversal(body, Tag.OCTET_STRING)) {
    return unknown('the OCSP response is not a BasicOCSPResponse');
  }
  const basic = splitSigned(Buffer.from(bytesOf(body), 'latin1'));
  if (typeof basic === 'string') return unknown(`the BasicOCSPResponse is unreadable: ${basic}`);
  const tbs = decodeDer(basic.tbs);
  if (typeof tbs === 'string') return unknown(`the OCSP response data is ${tbs}`);
  // certs [0] EXPLICIT SEQUENCE OF Certificate, decoded only when the issuer did not sign itself.
  const certs = (): Asn1[] => {
    const rest = basic.rest.length > 0 ? decodeDer(basic.rest) : null;
    return rest !== null && typeof rest !== 'string' && isContext(rest, 0) ? children(children(rest)[0]) : [];
  };
  const signer = findSigner(basic.tbs, basic.algorithm, basic.signature, certs, subject, now);
  if (signer !== true) return unknown(signer);

  // ResponseData { version [0]?, responderID, producedAt, responses, [1] extensions? }
  const fields = children(tbs).filter((n) => !isContext(n, 0));
  const responses = children(fields[2]);
  if (!isUniversal(fields[2], SEQUENCE_TYPE)) return unknown('the OCSP response data holds no responses');
  const match = responses.slice(0, MAX_SINGLE_RESPONSES).find((r) => certIdMatches(children(r)[0], subject));
  if (match === undefined)
    return unknown('the OCSP response does not answer for this certificate (CertID mismatch)');
  const single = readSingle(match);
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
