/**
 * CRLs (RFC 5280 §5) without a PKI library: parsed once into a lookup by serial (with the
 * revocation date and reasonCode of each entry), then judged per certificate: the signature by
 * the issuer's key and the thisUpdate/nextUpdate window. Pure and total: an unusable CRL is
 * "unknown" with the reason, never an exception.
 */
import type { KeyObject } from 'node:crypto';
import { readTlv } from '../der-reader';
import { childrenOf, contentOf, DerTag, elementAt, integerHexAt, listOf, oidAt, timeAt } from './der-view';
import { reasonAt, type SignedParts, splitSigned, verifySignature } from './revocation-der';
import { judgeWindow, type RevocationVerdict } from './revocation-verdict';

const OID_CRL_REASON = '2.5.29.21';
/** Entries read from one CRL: beyond it the CRL is refused rather than half-read. */
export const MAX_CRL_ENTRIES = 500_000;

/** One revoked serial. */
export interface CrlEntry {
  readonly revokedAt: Date | null;
  readonly reason: string | null;
}

/** A CRL as parsed, before any judgement. */
export interface ParsedCrl {
  readonly signed: SignedParts;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  /** Serial (see `integerHex`) → entry. */
  readonly revoked: ReadonlyMap<string, CrlEntry>;
}

/** Extensions read from one entry: real entries have one or two. */
const MAX_ENTRY_EXTENSIONS = 8;

/** Reads the revokedCertificates list entry by entry, in place: big CRLs stay cheap. */
function readEntries(list: Buffer, into: Map<string, CrlEntry>): string | null {
  const outer = readTlv(list, 0, list.length);
  if (typeof outer === 'string' || outer.end > list.length) return 'its revokedCertificates list is cut off';
  let pos = outer.contentStart;
  while (pos < outer.end) {
    if (into.size >= MAX_CRL_ENTRIES) return `it lists more than ${MAX_CRL_ENTRIES} certificates`;
    const entry = elementAt(list, pos, outer.end);
    if (typeof entry === 'string') return `an entry is unreadable at offset ${pos}`;
    // revokedCertificate { userCertificate INTEGER, revocationDate Time, crlEntryExtensions Extensions OPTIONAL }
    const parts = childrenOf(list, entry, 3);
    if (typeof parts === 'string') return `an entry is not DER (${parts})`;
    const [serial, date, extensions] = parts;
    const key = integerHexAt(list, serial);
    if (key === null) return `an entry at offset ${pos} has no serial`;
    let reason: string | null = null;
    for (const ext of listOf(list, extensions, MAX_ENTRY_EXTENSIONS)) {
      const [id, ...rest] = listOf(list, ext, 3);
      if (oidAt(list, id) !== OID_CRL_REASON) continue;
      const value = rest.find((p) => p.tag === DerTag.OCTET_STRING);
      const inner = value === undefined ? null : contentOf(list, value);
      const code = inner === null ? null : elementAt(inner, 0, inner.length);
      if (inner !== null && code !== null && typeof code !== 'string') reason = reasonAt(inner, code);
    }
    into.set(key, { revokedAt: timeAt(list, date), reason });
    pos = entry.end;
  }
  return null;
}

/** Parses a CRL (DER); a reason when it cannot be used. Never throws. */
export function parseCrl(der: Uint8Array): ParsedCrl | string {
  try {
    const signed = splitSigned(der);
    if (typeof signed === 'string') return `the CRL is unreadable: ${signed}`;
    // TBSCertList { version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] extensions? }
    const tbs = signed.tbs;
    const outer = readTlv(tbs, 0, tbs.length);
    if (typeof outer === 'string') return `the CRL is unreadable: ${outer}`;
    const fields = childrenOf(tbs, outer, 8);
    if (typeof fields === 'string') return 'the CRL is unreadable: a field is cut off';
    const rest = fields[0]?.tag === 0x02 ? fields.slice(1) : fields;
    const [, , thisField, ...after] = rest;
    const thisUpdate = timeAt(tbs, thisField);
    if (thisUpdate === null) return 'the CRL has no readable thisUpdate';
    let nextUpdate: Date | null = null;
    let index = 0;
    if (after[0] !== undefined && (after[0].tag === 0x17 || after[0].tag === 0x18)) {
      nextUpdate = timeAt(tbs, after[0]);
      index = 1;
    }
    const revoked = new Map<string, CrlEntry>();
    const list = after[index];
    if (list !== undefined && list.tag === 0x30) {
      const problem = readEntries(tbs.subarray(list.start, list.end), revoked);
      if (problem !== null) return `the CRL is unusable: ${problem}`;
    }
    return { signed, thisUpdate, nextUpdate, revoked };
  } catch (error) {
    return `the CRL is unreadable (${String(error)})`;
  }
}

/** Whether `crl` is signed by `issuerKey`; a reason when not. */
export function verifyCrlSignature(crl: ParsedCrl, issuerKey: KeyObject): true | string {
  const verified = verifySignature(crl.signed.tbs, crl.signed.algorithm, crl.signed.signature, issuerKey);
  return verified === true ? true : `the CRL is not signed by the issuer: ${verified}`;
}

/**
 * Judges a parsed CRL about the certificate with serial `serialHex` at `now`; `signatureOk` is the
 * outcome of {@link verifyCrlSignature} (cached by the caller: one CRL serves many certificates).
 */
export function judgeCrl(
  crl: ParsedCrl,
  serialHex: string,
  signatureOk: true | string,
  now: Date,
): RevocationVerdict {
  if (signatureOk !== true) return { status: 'unknown', reason: signatureOk };
  const window = judgeWindow('the CRL', crl.thisUpdate, crl.nextUpdate, now);
  if (window !== null) return { status: 'unknown', reason: window };
  const entry = crl.revoked.get(serialHex);
  // removeFromCRL only appears in delta CRLs; certificateHold is a revocation while listed.
  if (entry === undefined || entry.reason === 'removeFromCRL') {
    return { status: 'good', thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate };
  }
  return {
    status: 'revoked',
    revokedAt: entry.revokedAt,
    reason: entry.reason,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
  };
}
