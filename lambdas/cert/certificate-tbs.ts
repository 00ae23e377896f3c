/**
 * Owns the TBSCertificate's layout: the version, the six positional fields and
 * their tags, the optional unique identifiers and extensions, what a version
 * permits, and reading each field through the module that owns its content.
 * After a structurally broken field the rest is read quietly, so one defect
 * does not cascade into a page of follow-on noise.
 */
import { hexTag, readTlv, type Tlv } from './der-reader';
import { addReason, bytesOf, children, decode, isUniversal, quietWalk, DerTag, type Walk } from './der-walk';
import type { Asn1 } from './forge-asn1';
import { type ExtensionFacts, parseExtensions } from './certificate-extensions';
import { checkSubjectPublicKeyInfo } from './certificate-keys';
import { type ParsedName, parseName } from './certificate-names';
import { readValidity, readValidityLeniently, type Validity } from './certificate-validity';

/** What the TBSCertificate says, filled in as it is read. */
export interface TbsFacts {
  /** The version field's value (0 = v1, 2 = v3); null when absent or unreadable. */
  version: number | null;
  /** Serial number in upper-case hex without a sign byte. */
  serial: string | null;
  /** The `signature` AlgorithmIdentifier's bytes, to compare with the outer copy. */
  tbsAlgBytes: string | null;
  issuer: ParsedName | null;
  subject: ParsedName | null;
  notBefore: Date | null;
  notAfter: Date | null;
  /** The dates were reached (well or leniently), so null dates mean unreadable rather than unreached. */
  validityRead: boolean;
  spkiTlv: Tlv | null;
  spki: Asn1 | null;
  /** The subjectPublicKeyInfo bytes (latin1), a map key for the key. */
  spkiKey: string | null;
  extensionsPresent: boolean;
}

export function emptyTbsFacts(): TbsFacts {
  return {
    version: null,
    serial: null,
    tbsAlgBytes: null,
    issuer: null,
    subject: null,
    notBefore: null,
    notAfter: null,
    validityRead: false,
    spkiTlv: null,
    spki: null,
    spkiKey: null,
    extensionsPresent: false,
  };
}

/** The positional TBSCertificate fields after the optional version, in order, with the tag each must carry. */
const TBS_FIELD_TAGS = {
  serialNumber: DerTag.INTEGER,
  signature: DerTag.SEQUENCE,
  issuer: DerTag.SEQUENCE,
  validity: DerTag.SEQUENCE,
  subject: DerTag.SEQUENCE,
  subjectPublicKeyInfo: DerTag.SEQUENCE,
} as const satisfies Record<string, number>;
type TbsField = keyof typeof TBS_FIELD_TAGS;
const TBS_FIELDS = Object.keys(TBS_FIELD_TAGS) as readonly TbsField[];

/** Reads the TBSCertificate whose header is `tlv`, up to `limit` (the bytes actually available). */
export function walkTbs(walk: Walk, tlv: Tlv, limit: number, tbs: TbsFacts, facts: ExtensionFacts): void {
  let pos = tlv.contentStart;
  let fieldIndex = 0;
  let sawUid = false;
  // After a structurally broken field the rest of the TBS is likely out of step:
  // keep reading data, drop the cascading noise.
  let misaligned = false;
  const quiet = quietWalk(walk);
  while (pos < limit) {
    const child = readTbsChild(walk, pos, limit, misaligned);
    if (!child) return;
    if (pos === tlv.contentStart && child.tag === DerTag.VERSION) {
      readVersion(walk, child, tbs);
    } else if (fieldIndex < TBS_FIELDS.length) {
      if (!readField(misaligned ? quiet : walk, TBS_FIELDS[fieldIndex]!, child, tbs)) misaligned = true;
      fieldIndex++;
    } else if (
      (child.tag === DerTag.ISSUER_UID || child.tag === DerTag.SUBJECT_UID) &&
      !tbs.extensionsPresent
    ) {
      sawUid = true;
    } else if (child.tag === DerTag.EXTENSIONS && !tbs.extensionsPresent) {
      tbs.extensionsPresent = true;
      parseExtensions(misaligned ? quiet : walk, child, limit, facts);
    } else if (!misaligned) {
      addReason(walk, `unexpected field with tag ${hexTag(child.tag)} at offset ${pos} in TBSCertificate`);
    }
    pos = child.end;
  }
  if (fieldIndex < TBS_FIELDS.length && !walk.truncated && !misaligned) {
    addReason(walk, `TBSCertificate ends before ${TBS_FIELDS[fieldIndex]}`);
  }
  checkVersionPermits(walk, tbs, sawUid);
}

/** The header of the TBS element at `pos`; null (with a reason unless it is old news) when it does not fit. */
function readTbsChild(walk: Walk, pos: number, limit: number, misaligned: boolean): Tlv | null {
  const child = readTlv(walk.buf, pos, limit);
  const news = !walk.truncated && !misaligned;
  if (typeof child === 'string') {
    if (news) addReason(walk, `TBSCertificate is not valid DER: ${child}`);
    return null;
  }
  if (child.end > limit) {
    if (news) {
      addReason(
        walk,
        `TBSCertificate field at offset ${pos} claims ${child.end - child.contentStart} bytes but only ${limit - child.contentStart} remain`,
      );
    }
    return null;
  }
  return child;
}

/** The explicit [0] version: a single small INTEGER, 0 to 2. */
function readVersion(walk: Walk, child: Tlv, tbs: TbsFacts): void {
  const node = decode(walk, child, 'version');
  if (!node) return;
  const intNode = children(node)[0];
  const raw = Buffer.from(bytesOf(intNode), 'latin1');
  if (!isUniversal(intNode, DerTag.INTEGER) || raw.length === 0 || children(node).length !== 1) {
    addReason(walk, 'version field is malformed');
    return;
  }
  const v = raw.length <= 4 ? raw.readIntBE(0, raw.length) : Number.NaN;
  tbs.version = v;
  if (!(v >= 0 && v <= 2)) addReason(walk, `version field ${Number.isNaN(v) ? 'too large' : v} is invalid`);
}

/** RFC 5280 §4.1.2.1: extensions need v3, unique identifiers v2 or v3. An invalid version is already reported. */
function checkVersionPermits(walk: Walk, tbs: TbsFacts, sawUid: boolean): void {
  const version = tbs.version ?? 0;
  if (!(version >= 0 && version <= 2)) return;
  if (tbs.extensionsPresent && version !== 2) {
    addReason(walk, `extensions present in a version ${version + 1} certificate`);
  }
  if (sawUid && version === 0) addReason(walk, 'unique identifiers present in a version 1 certificate');
}

/** Reads one positional TBS field; false when its structure (tag or DER) is broken. */
function readField(walk: Walk, field: TbsField, tlv: Tlv, tbs: TbsFacts): boolean {
  if (tlv.tag !== TBS_FIELD_TAGS[field]) {
    addReason(walk, `${field} has tag ${hexTag(tlv.tag)} (expected ${hexTag(TBS_FIELD_TAGS[field])})`);
    return false;
  }
  const node = decode(walk, tlv, field);
  if (!node) {
    if (field === 'validity') setValidity(tbs, readValidityLeniently(walk, tlv));
    return false;
  }
  readFieldValue(walk, field, tlv, node, tbs);
  return true;
}

function readFieldValue(walk: Walk, field: TbsField, tlv: Tlv, node: Asn1, tbs: TbsFacts): void {
  switch (field) {
    case 'serialNumber':
      tbs.serial = readSerial(walk, node);
      return;
    case 'signature':
      tbs.tbsAlgBytes = walk.buf.toString('latin1', tlv.start, tlv.end);
      return;
    case 'issuer':
      tbs.issuer = parseName(walk, node, 'issuer');
      return;
    case 'subject':
      tbs.subject = parseName(walk, node, 'subject');
      return;
    case 'validity':
      setValidity(tbs, readValidity(walk, node));
      return;
    case 'subjectPublicKeyInfo':
      tbs.spkiTlv = tlv;
      tbs.spki = node;
      tbs.spkiKey = walk.buf.toString('latin1', tlv.start, tlv.end);
      checkSubjectPublicKeyInfo(walk, node);
      return;
  }
}

function setValidity(tbs: TbsFacts, validity: Validity): void {
  tbs.validityRead = true;
  tbs.notBefore = validity.notBefore;
  tbs.notAfter = validity.notAfter;
}

/** The serial number as upper-case hex without a sign byte; null when empty. RFC 5280 wants it positive and minimal. */
export function readSerial(walk: Walk, node: Asn1): string | null {
  const raw = Buffer.from(bytesOf(node), 'latin1');
  if (raw.length === 0) {
    addReason(walk, 'serial number is empty');
    return null;
  }
  if ((raw[0]! & 0x80) !== 0) addReason(walk, 'negative serial number');
  if (raw.length > 1 && ((raw[0] === 0 && raw[1]! < 0x80) || (raw[0] === 0xff && raw[1]! >= 0x80))) {
    addReason(walk, 'serial number is not minimally encoded');
  }
  const hex = raw.toString('hex').toUpperCase();
  return raw.length > 1 && raw[0] === 0 ? hex.slice(2) : hex;
}

/**
 * The subject Name's header, found by skipping fields without decoding them;
 * null when the bytes do not get that far. The fast path of subjectKeyOf.
 */
export function locateSubject(buf: Buffer): Tlv | null {
  const cert = readTlv(buf, 0, buf.length);
  if (typeof cert === 'string') return null;
  const tbs = readTlv(buf, cert.contentStart, Math.min(cert.end, buf.length));
  if (typeof tbs === 'string') return null;
  const limit = Math.min(tbs.end, buf.length);
  let field = readTlv(buf, tbs.contentStart, limit);
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  if (typeof field !== 'string' && field.tag === DerTag.VERSION) field = readTlv(buf, field.end, limit);
  for (let skip = 0; skip < 4 && typeof field !== 'string'; skip++) field = readTlv(buf, field.end, limit);
  if (typeof field === 'string' || field.end > limit) return null;
  return field;
}
