/**
 * CRLs (RFC 5280 §5) without a PKI library: parsed once into a lookup by serial (with the
 * revocation date and reasonCode of each entry) and its scope, then judged per certificate: the
 * signature by the issuer's key, the issuer's name, the scope (the issuing distribution point:
 * which certificates and reasons the CRL covers, RFC 5280 §5.2.5 and §6.3.3) and the
 * thisUpdate/nextUpdate window. A CRL that cannot tell whether a certificate is revoked (a delta
 * CRL, an indirect one, one with a critical extension certwatch does not process) is refused, as
 * §5.2 demands, so an unlisted serial is never called good by a CRL that does not cover it. Pure
 * and total: an unusable CRL is "unknown" with the reason, never an exception.
 */
import type { KeyObject } from 'node:crypto';
import { readTlv } from '../der-reader';
import { readName } from '../parse-certificate';
import { quoteUntrusted } from '../quote-untrusted';
import {
  childrenOf,
  DerTag,
  elementAt,
  elementBytes,
  integerHexAt,
  isContextTag,
  listOf,
  type Tlv,
  timeAt,
} from './der-view';
import {
  extensionAt,
  fullNameUris,
  isTrue,
  reasonAt,
  type SignedParts,
  splitSigned,
  verifySignature,
} from './revocation-der';
import { judgeWindow, type RevocationVerdict } from './revocation-verdict';

const OID_CRL_REASON = '2.5.29.21';
const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
const OID_ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
/**
 * CRL extensions that change nothing about which serials are revoked, so certwatch processes them
 * by reading past them even when marked critical: authorityKeyIdentifier, issuerAltName, cRLNumber,
 * freshestCRL (where delta CRLs are: the complete CRL stands without them), authorityInfoAccess.
 * The issuing distribution point is read; a delta CRL indicator refuses the CRL; any other critical
 * extension does too.
 */
const PASSIVE_CRL_EXTENSIONS = new Set([
  '2.5.29.35',
  '2.5.29.18',
  '2.5.29.20',
  '2.5.29.46',
  '1.3.6.1.5.5.7.1.1',
]);
/** Entry extensions read past: reasonCode (read), holdInstructionCode, invalidityDate. certificateIssuer (indirect CRLs) is not among them. */
const PASSIVE_ENTRY_EXTENSIONS = new Set([OID_CRL_REASON, '2.5.29.23', '2.5.29.24']);
/** Extensions read from the CRL itself: real ones have two to four. */
const MAX_CRL_EXTENSIONS = 16;
/** Names read from an issuing distribution point. */
const MAX_POINT_NAMES = 8;
/** Longest distribution point URI quoted in a reason. */
const MAX_URI_SHOWN = 120;
/** Entries read from one CRL: beyond it the CRL is refused rather than half-read. */
export const MAX_CRL_ENTRIES = 500_000;

/** One revoked serial. */
export interface CrlEntry {
  readonly revokedAt: Date | null;
  readonly reason: string | null;
}

/** Which certificates a CRL covers: its issuing distribution point (RFC 5280 §5.2.5); all of its issuer's when it has none. */
export interface CrlScope {
  /**
   * The URIs of the distribution point the CRL is for; a certificate it covers names one of them in
   * its cRLDistributionPoints. Null when the extension names no distribution point (the CRL is for
   * every one); empty when it names one by something other than a URI (which is not compared).
   */
  readonly pointUris: readonly string[] | null;
  readonly onlyUserCerts: boolean;
  readonly onlyCaCerts: boolean;
  readonly onlyAttributeCerts: boolean;
  /** onlySomeReasons: the CRL lists revocations for some reasons only, so an unlisted serial may still be revoked. */
  readonly someReasons: boolean;
}

/** A CRL as parsed, before any judgement. */
export interface ParsedCrl {
  readonly signed: SignedParts;
  /** The issuer Name's matching key (as `ParsedCertificate.issuerKey`); null when unreadable. */
  readonly issuerKey: string | null;
  /** The issuer Name, for messages. */
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  /** Serial (see `integerHex`) → entry. */
  readonly revoked: ReadonlyMap<string, CrlEntry>;
  readonly scope: CrlScope;
}

/** What a CRL is judged against besides the serial: facts of the certificate asked about. */
export interface CrlSubject {
  readonly serialHex: string;
  /** The certificate's issuer Name, matching key (`ParsedCertificate.issuerKey`). */
  readonly issuerKey: string | null;
  /** The certificate is a CA's (basicConstraints cA). */
  readonly isCa: boolean;
  /** The CRL URIs the certificate names (its cRLDistributionPoints). */
  readonly crlUrls: readonly string[];
}

const WHOLE_SCOPE: CrlScope = {
  pointUris: null,
  onlyUserCerts: false,
  onlyCaCerts: false,
  onlyAttributeCerts: false,
  someReasons: false,
};

/** The issuing distribution point's scope; a reason when the CRL cannot be used for any certificate. */
function scopeOf(buf: Buffer, value: Tlv | null): CrlScope | string {
  if (value === null || value.tag !== DerTag.SEQUENCE) return 'its issuing distribution point is unreadable';
  const fields = childrenOf(buf, value, 6);
  if (typeof fields === 'string') return `its issuing distribution point is unreadable (${fields})`;
  const field = (n: number) => fields.find((f) => isContextTag(f, n));
  if (isTrue(buf, field(4)))
    return 'it is an indirect CRL (it lists other issuers’ certificates), which certwatch does not read';
  let pointUris: string[] | null = null;
  const point = field(0);
  if (point !== undefined) {
    pointUris = fullNameUris(buf, point, MAX_POINT_NAMES);
  }
  return {
    pointUris,
    onlyUserCerts: isTrue(buf, field(1)),
    onlyCaCerts: isTrue(buf, field(2)),
    onlyAttributeCerts: isTrue(buf, field(5)),
    someReasons: field(3) !== undefined,
  };
}

/** The CRL's scope from its extensions ([0] of TBSCertList); a reason when they make it unusable (RFC 5280 §5.2). */
function readCrlExtensions(buf: Buffer, wrapper: Tlv | undefined): CrlScope | string {
  let scope = WHOLE_SCOPE;
  for (const ext of listOf(buf, listOf(buf, wrapper, 1)[0], MAX_CRL_EXTENSIONS)) {
    const read = extensionAt(buf, ext);
    if (typeof read === 'string') return `its extensions are unreadable: ${read}`;
    if (read.oid === OID_DELTA_CRL_INDICATOR) return 'it is a delta CRL, not a complete one';
    if (read.oid === OID_ISSUING_DISTRIBUTION_POINT) {
      const point = scopeOf(buf, read.value);
      if (typeof point === 'string') return point;
      scope = point;
    } else if (read.critical && (read.oid === null || !PASSIVE_CRL_EXTENSIONS.has(read.oid))) {
      return `it has the critical extension ${read.oid ?? '(unreadable)'}, which certwatch does not process`;
    }
  }
  return scope;
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
      const read = extensionAt(list, ext);
      if (typeof read === 'string')
        return `an entry's extension is unreadable at offset ${ext.start}: ${read}`;
      if (read.oid === OID_CRL_REASON) reason = read.value === null ? null : reasonAt(list, read.value);
      else if (read.critical && (read.oid === null || !PASSIVE_ENTRY_EXTENSIONS.has(read.oid))) {
        return `an entry has the critical extension ${read.oid ?? '(unreadable)'}, which certwatch does not process`;
      }
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
    const [, issuerField, thisField, ...after] = rest;
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
    const scope = readCrlExtensions(
      tbs,
      after.slice(index).find((f) => isContextTag(f, 0)),
    );
    if (typeof scope === 'string') return `the CRL is unusable: ${scope}`;
    const name = issuerField === undefined ? null : readName(elementBytes(tbs, issuerField));
    return {
      signed,
      issuerKey: name?.key ?? null,
      issuer: name?.display ?? '(unreadable)',
      thisUpdate,
      nextUpdate,
      revoked,
      scope,
    };
  } catch (error) {
    return `the CRL is unreadable (${String(error)})`;
  }
}

/** Whether `crl` is signed by `issuerKey`; a reason when not. */
export function verifyCrlSignature(crl: ParsedCrl, issuerKey: KeyObject): true | string {
  const verified = verifySignature(crl.signed.tbs, crl.signed.algorithm, crl.signed.signature, issuerKey);
  return verified === true ? true : `the CRL is not signed by the issuer: ${verified}`;
}

/** Why `crl` does not speak for `subject` (RFC 5280 §6.3.3 b); null when it does. */
function outOfScope(crl: ParsedCrl, subject: CrlSubject): string | null {
  if (crl.issuerKey === null || crl.issuerKey !== subject.issuerKey) {
    return `the CRL is issued by ${crl.issuer}, not by the certificate's issuer`;
  }
  const { scope } = crl;
  if (scope.onlyAttributeCerts) return 'the CRL covers attribute certificates only';
  if (scope.onlyUserCerts && subject.isCa) return 'the CRL covers end-entity certificates only';
  if (scope.onlyCaCerts && !subject.isCa) return 'the CRL covers CA certificates only';
  if (scope.pointUris !== null && !scope.pointUris.some((uri) => subject.crlUrls.includes(uri))) {
    // The URIs come from the network: escaped, cut, and two at most.
    const shown = scope.pointUris.slice(0, 2).map((uri) => quoteUntrusted(uri, MAX_URI_SHOWN));
    const more = scope.pointUris.length > 2 ? ` (+${scope.pointUris.length - 2} more)` : '';
    const named = shown.length === 0 ? 'a name that is not a URI' : `${shown.join(', ')}${more}`;
    return `the CRL is for the distribution point ${named}, which the certificate does not name`;
  }
  return null;
}

/**
 * Judges a parsed CRL about `subject` at `now`; `signatureOk` is the outcome of
 * {@link verifyCrlSignature} (cached by the caller: one CRL serves many certificates).
 */
export function judgeCrl(
  crl: ParsedCrl,
  subject: CrlSubject,
  signatureOk: true | string,
  now: Date,
): RevocationVerdict {
  if (signatureOk !== true) return { status: 'unknown', reason: signatureOk };
  const scoped = outOfScope(crl, subject);
  if (scoped !== null) return { status: 'unknown', reason: scoped };
  const window = judgeWindow('the CRL', crl.thisUpdate, crl.nextUpdate, now);
  if (window !== null) return { status: 'unknown', reason: window };
  const entry = crl.revoked.get(subject.serialHex);
  // removeFromCRL only appears in delta CRLs; certificateHold is a revocation while listed.
  if (entry === undefined || entry.reason === 'removeFromCRL') {
    // A CRL for some reasons only does not list the others: unlisted is not good.
    if (crl.scope.someReasons) {
      return {
        status: 'unknown',
        reason: 'the CRL lists revocations for some reasons only (onlySomeReasons)',
      };
    }
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
