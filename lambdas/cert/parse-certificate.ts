/**
 * Tolerant certificate parsing: reads every field it can from DER exactly as a
 * server sent it and records precisely what is broken, without ever throwing.
 *
 * Two readers cooperate. node-forge's strict ASN.1 reader decodes each
 * TBSCertificate field on its own, so a broken extension does not hide the
 * validity dates. node:crypto's X509Certificate (OpenSSL) supplies keys and
 * signature verification; its verdict on malformed input is not trusted (it
 * accepts trailing junk, and its messages are vague), so structure is judged here.
 */
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { type Asn1, forge } from './forge-asn1';
import type { ChainCertificate } from '../core/model';
import { findDerProblem, hexTag, readTlv, type Tlv } from './der-reader';
import { formatIp } from './ip-address';
import {
  CURVE_OIDS,
  curveBits,
  HASH_ALGORITHMS,
  KEY_ALGORITHMS,
  KNOWN_CRITICAL_EXTENSIONS,
  NAME_ATTRIBUTES,
  OID_AUTHORITY_INFO_ACCESS,
  OID_BASIC_CONSTRAINTS,
  OID_CA_ISSUERS,
  OID_COMMON_NAME,
  OID_SUBJECT_ALT_NAME,
  RSASSA_PSS_OID,
  SIGNATURE_ALGORITHMS,
} from './oid-names';

/** Everything the chain analysis needs from one certificate. Immutable. */
export interface ParsedCertificate {
  /** The exact bytes that were parsed. */
  readonly der: Uint8Array;
  /** The JSON-facing summary (model.ts). */
  readonly info: ChainCertificate;
  /** OpenSSL's view, for verification; null when OpenSSL rejected the bytes. */
  readonly x509: X509Certificate | null;
  readonly publicKey: KeyObject | null;
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
  /** subjectAltName dNSName entries, lower-cased. */
  readonly dnsNames: readonly string[];
  /** subjectAltName iPAddress entries in canonical text form (see formatIp). */
  readonly ipAddresses: readonly string[];
  /** Whether a subjectAltName extension is present (RFC 6125: then the CN is ignored). */
  readonly hasSubjectAltName: boolean;
  /** Subject commonName values, most significant last. */
  readonly commonNames: readonly string[];
  readonly isCa: boolean;
  /** authorityInfoAccess caIssuers URLs (sanitised). */
  readonly caIssuers: readonly string[];
  /** Normalised subject/issuer names for issuer lookup; null when unreadable. */
  readonly subjectKey: string | null;
  readonly issuerKey: string | null;
  /** The subjectPublicKeyInfo bytes as a map key; null when unreadable. */
  readonly spkiKey: string | null;
  /** Digest behind the signature (sha256, sha1, md5 …); null when intrinsic or unknown. */
  readonly signatureHash: string | null;
  /** Precise reasons the certificate is malformed; empty when it is well-formed. */
  readonly malformed: readonly string[];
}

const DER_OPTIONS = { strict: true, parseAllBytes: true, decodeBitStrings: false };
/** forge's typings omit the options-object overload of fromDer. */
const strictFromDer = forge.asn1.fromDer as unknown as (bytes: string, options: typeof DER_OPTIONS) => Asn1;
const MAX_QUOTE = 48;
const MAX_DN_LENGTH = 400;
const MAX_SAN_ENTRIES = 1000;

/** forge's `type` is the tag number; SEQUENCE is 16 there but 0x30 as a header byte. */
const SEQUENCE_TYPE = 16;

const T = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  VERSION: 0xa0,
  ISSUER_UID: 0x81,
  SUBJECT_UID: 0x82,
  EXTENSIONS: 0xa3,
} as const;

/** Printable rendering of untrusted bytes for messages: ASCII kept, the rest escaped, length capped. */
export function quoteUntrusted(text: string, max = MAX_QUOTE): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out +=
      code >= 0x20 && code < 0x7f
        ? ch
        : code < 0x100
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : `\\u{${code.toString(16)}}`;
    if (out.length >= max) return `${out.slice(0, max)}…`;
  }
  return out;
}

/** Display-safe text: control characters replaced so a DN cannot forge log lines or markup breaks. */
function displaySafe(text: string): string {
  // C0/C1 controls, line separators and bidi overrides (which can make a name read as another).
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
}

interface Walk {
  readonly buf: Buffer;
  readonly reasons: string[];
  /** The outer length claims more bytes than were sent; missing tail fields are not separate problems. */
  truncated: boolean;
}

function addReason(walk: Walk, reason: string): void {
  if (!walk.reasons.includes(reason)) walk.reasons.push(reason);
}

/** Decodes exactly one TLV with forge; on failure explains precisely why. */
function decode(walk: Walk, tlv: Tlv, what: string): Asn1 | null {
  try {
    const bytes = walk.buf.toString('latin1', tlv.start, tlv.end);
    return strictFromDer(bytes, DER_OPTIONS);
  } catch (err) {
    const precise = findDerProblem(walk.buf, tlv.start, tlv.end);
    addReason(
      walk,
      `${what} is not valid DER: ${precise ?? (err instanceof Error ? err.message : String(err))}`,
    );
    return null;
  }
}

function children(node: Asn1 | undefined): Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

function bytesOf(node: Asn1 | undefined): string {
  return node && typeof node.value === 'string' ? node.value : '';
}

function oidOf(node: Asn1 | undefined): string | null {
  if (!node || node.tagClass !== forge.asn1.Class.UNIVERSAL || node.type !== T.OID) return null;
  const bytes = bytesOf(node);
  if (bytes.length === 0) return null;
  try {
    return forge.asn1.derToOid(bytes);
  } catch {
    return null;
  }
}

function isUniversal(node: Asn1 | undefined, type: number): boolean {
  return node !== undefined && node.tagClass === forge.asn1.Class.UNIVERSAL && node.type === type;
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

interface ParsedName {
  readonly display: string;
  readonly key: string;
  readonly commonNames: string[];
}

function decodeString(node: Asn1): string | null {
  const raw = bytesOf(node);
  switch (node.type as number) {
    case 12: // UTF8String
      return Buffer.from(raw, 'latin1').toString('utf8');
    case 30: // BMPString: forge already decoded UCS-2
      return raw;
    case 28: {
      // UniversalString: UCS-4
      const b = Buffer.from(raw, 'latin1');
      let s = '';
      for (let i = 0; i + 3 < b.length; i += 4) {
        const cp = b.readUInt32BE(i);
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    case 19: // PrintableString
    case 22: // IA5String
    case 20: // TeletexString (treated as Latin-1, as OpenSSL does)
    case 26: // VisibleString
    case 18: // NumericString
      return raw;
    default:
      return null;
  }
}

function escapeDnValue(value: string): string {
  return displaySafe(value)
    .replace(/[,+"\\<>;]/g, (c) => `\\${c}`)
    .replace(/^[ #]|[ ]$/g, (c) => `\\${c}`);
}

function parseName(walk: Walk, node: Asn1, what: string): ParsedName | null {
  if (!isUniversal(node, SEQUENCE_TYPE)) {
    addReason(walk, `${what} name is not a SEQUENCE`);
    return null;
  }
  const displayParts: string[] = [];
  const keyParts: string[] = [];
  const commonNames: string[] = [];
  for (const rdn of children(node)) {
    if (!isUniversal(rdn, 17) || children(rdn).length === 0) {
      addReason(walk, `${what} name has a malformed relative distinguished name`);
      return null;
    }
    const display: string[] = [];
    const key: string[] = [];
    for (const atv of children(rdn)) {
      const [typeNode, valueNode] = children(atv);
      const oid = oidOf(typeNode);
      if (!isUniversal(atv, SEQUENCE_TYPE) || !oid || !valueNode || children(atv).length !== 2) {
        addReason(walk, `${what} name has a malformed attribute`);
        return null;
      }
      let value = decodeString(valueNode);
      if (value === null) {
        // Not a string type: show the raw bytes as RFC 4514 does (#hex).
        value = `#${Buffer.from(bytesOf(valueNode), 'latin1').toString('hex')}`;
      }
      if (oid === OID_COMMON_NAME) commonNames.push(value);
      display.push(`${NAME_ATTRIBUTES.get(oid) ?? oid}=${escapeDnValue(value)}`);
      key.push(`${oid}=${value.trim().replace(/\s+/g, ' ').toLowerCase()}`);
    }
    displayParts.push(display.join('+'));
    keyParts.push(key.sort().join('+'));
  }
  let display = displayParts.reverse().join(', ');
  if (display.length > MAX_DN_LENGTH) display = `${display.slice(0, MAX_DN_LENGTH)}…`;
  return { display, key: keyParts.join(','), commonNames };
}

// ---------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------

const STRICT_UTC = /^\d{12}Z$/;
const STRICT_GENERALIZED = /^\d{14}Z$/;
const LENIENT_TIME = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?(Z|[+-]\d{4})$/;

/** Reads a UTCTime/GeneralizedTime, strictly by RFC 5280, leniently when it is merely odd. */
function parseTime(walk: Walk, node: Asn1 | undefined, field: string): Date | null {
  if (!node || node.tagClass !== forge.asn1.Class.UNIVERSAL) {
    addReason(walk, `${field} is missing`);
    return null;
  }
  const text = bytesOf(node);
  const quoted = quoteUntrusted(text);
  const isUtc = node.type === T.UTC_TIME;
  if (!isUtc && node.type !== T.GENERALIZED_TIME) {
    addReason(walk, `${field} has tag ${hexTag(node.type)}, not UTCTime or GeneralizedTime`);
    return null;
  }
  const kind = isUtc ? 'UTCTime' : 'GeneralizedTime';
  const m = LENIENT_TIME.exec(text);
  const yearDigits = isUtc ? 2 : 4;
  if (!m || m[1]!.length !== yearDigits) {
    addReason(walk, `${field} is not a valid ${kind}: '${quoted}'`);
    return null;
  }
  if (!(isUtc ? STRICT_UTC : STRICT_GENERALIZED).test(text)) {
    addReason(
      walk,
      `${field} is not a valid ${kind}: '${quoted}' (RFC 5280 requires ${isUtc ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'})`,
    );
  }
  let year = Number(m[1]);
  if (isUtc) year += year >= 50 ? 1900 : 2000;
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] ? Number(m[6]) : 0;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    addReason(walk, `${field} is not a valid ${kind}: '${quoted}'`);
    return null;
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const zone = m[7]!;
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  if (!isUtc && year < 2050) {
    addReason(
      walk,
      `${field} uses GeneralizedTime for a date before 2050 (RFC 5280 requires UTCTime): '${quoted}'`,
    );
  }
  return new Date(ms);
}

// ---------------------------------------------------------------------------
// Extensions
// ---------------------------------------------------------------------------

interface ExtensionFacts {
  dnsNames: string[];
  ipAddresses: string[];
  hasSubjectAltName: boolean;
  isCa: boolean;
  caIssuers: string[];
}

function parseSubjectAltName(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  if (!isUniversal(value, SEQUENCE_TYPE)) {
    addReason(walk, 'subjectAltName extension is not a SEQUENCE');
    return;
  }
  for (const gn of children(value).slice(0, MAX_SAN_ENTRIES)) {
    if (gn.tagClass !== forge.asn1.Class.CONTEXT_SPECIFIC) continue;
    if (gn.type === 2 && !gn.constructed) {
      facts.dnsNames.push(bytesOf(gn).toLowerCase());
    } else if (gn.type === 7 && !gn.constructed) {
      const ip = Buffer.from(bytesOf(gn), 'latin1');
      if (ip.length === 4 || ip.length === 16) facts.ipAddresses.push(formatIp(ip));
      else addReason(walk, `subjectAltName iPAddress has ${ip.length} bytes (expected 4 or 16)`);
    }
  }
}

function parseExtension(walk: Walk, node: Asn1, seen: Set<string>, facts: ExtensionFacts): void {
  const parts = children(node);
  const oid = oidOf(parts[0]);
  if (!isUniversal(node, SEQUENCE_TYPE) || !oid || parts.length < 2 || parts.length > 3) {
    addReason(walk, 'an extension is malformed');
    return;
  }
  let critical = false;
  let valueNode = parts[1];
  if (parts.length === 3) {
    if (!isUniversal(parts[1], T.BOOLEAN) || bytesOf(parts[1]).length !== 1) {
      addReason(walk, `extension ${oid} has a malformed critical flag`);
      return;
    }
    critical = bytesOf(parts[1]) !== '\x00';
    valueNode = parts[2];
  }
  if (!isUniversal(valueNode, T.OCTET_STRING)) {
    addReason(walk, `extension ${oid} value is not an OCTET STRING`);
    return;
  }
  if (seen.has(oid)) addReason(walk, `duplicate extension ${oid}`);
  seen.add(oid);
  if (critical && !KNOWN_CRITICAL_EXTENSIONS.has(oid)) addReason(walk, `unknown critical extension ${oid}`);
  if (oid !== OID_SUBJECT_ALT_NAME && oid !== OID_BASIC_CONSTRAINTS && oid !== OID_AUTHORITY_INFO_ACCESS)
    return;

  const name =
    oid === OID_SUBJECT_ALT_NAME
      ? 'subjectAltName'
      : oid === OID_BASIC_CONSTRAINTS
        ? 'basicConstraints'
        : 'authorityInfoAccess';
  let inner: Asn1;
  const raw = bytesOf(valueNode);
  try {
    inner = strictFromDer(raw, DER_OPTIONS);
  } catch (err) {
    const buf = Buffer.from(raw, 'latin1');
    const precise = findDerProblem(buf, 0, buf.length);
    addReason(walk, `${name} extension is not valid DER: ${precise ?? (err as Error).message}`);
    if (oid === OID_SUBJECT_ALT_NAME) facts.hasSubjectAltName = true;
    return;
  }
  if (oid === OID_SUBJECT_ALT_NAME) {
    facts.hasSubjectAltName = true;
    parseSubjectAltName(walk, inner, facts);
  } else if (oid === OID_BASIC_CONSTRAINTS) {
    const first = children(inner)[0];
    if (!isUniversal(inner, SEQUENCE_TYPE)) addReason(walk, 'basicConstraints extension is not a SEQUENCE');
    else if (isUniversal(first, T.BOOLEAN)) facts.isCa = bytesOf(first) !== '\x00';
  } else {
    for (const ad of children(inner)) {
      const [method, location] = children(ad);
      if (oidOf(method) !== OID_CA_ISSUERS || !location) continue;
      if (location.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && location.type === 6) {
        facts.caIssuers.push(quoteUntrusted(bytesOf(location), 200));
      }
    }
  }
}

/** Splits the [3] extensions wrapper and decodes each extension separately, so one bad one hides nothing else. */
function parseExtensions(walk: Walk, tlv: Tlv, limit: number, facts: ExtensionFacts): void {
  const seq = readTlv(walk.buf, tlv.contentStart, limit);
  if (typeof seq === 'string') {
    if (!walk.truncated) addReason(walk, `extensions are not valid DER: ${seq}`);
    return;
  }
  if (seq.tag !== T.SEQUENCE) {
    addReason(walk, `extensions are not a SEQUENCE (tag ${hexTag(seq.tag)})`);
    return;
  }
  if (seq.end !== tlv.end && !walk.truncated) {
    addReason(walk, 'extensions wrapper length does not match its content');
  }
  const end = Math.min(seq.end, limit);
  const seen = new Set<string>();
  let pos = seq.contentStart;
  while (pos < end) {
    const ext = readTlv(walk.buf, pos, end);
    if (typeof ext === 'string') {
      if (!walk.truncated) addReason(walk, `extension at offset ${pos} is not valid DER: ${ext}`);
      return;
    }
    if (ext.end > end) {
      if (!walk.truncated) addReason(walk, `extension at offset ${pos} overruns the extensions list`);
      return;
    }
    const node = decode(walk, ext, `extension at offset ${pos}`);
    if (node) parseExtension(walk, node, seen, facts);
    pos = ext.end;
  }
}

// ---------------------------------------------------------------------------
// Keys and algorithms
// ---------------------------------------------------------------------------

interface KeyFacts {
  readonly keyType: string;
  readonly keyBits: number | null;
}

function keyFactsFromKeyObject(key: KeyObject): KeyFacts {
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
function keyFactsFromSpki(spki: Asn1 | null): KeyFacts {
  const [algId, bits] = children(spki ?? undefined);
  const [algOid, params] = children(algId);
  const oid = oidOf(algOid);
  const keyType = (oid && KEY_ALGORITHMS.get(oid)) ?? 'unknown';
  let keyBits: number | null = null;
  if (keyType === 'EC') keyBits = CURVE_OIDS.get(oidOf(params) ?? '') ?? null;
  if (keyType === 'Ed25519') keyBits = 256;
  if (keyType === 'RSA') {
    try {
      const rsa = forge.asn1.fromDer(bytesOf(bits).slice(1), true);
      const modulus = bytesOf(children(rsa)[0]).replace(/^\x00+/, '');
      keyBits =
        modulus.length > 0 ? (modulus.length - 1) * 8 + (32 - Math.clz32(modulus.charCodeAt(0))) : null;
    } catch {
      keyBits = null;
    }
  }
  return { keyType, keyBits };
}

interface AlgorithmFacts {
  readonly name: string;
  readonly hash: string | null;
}

function signatureAlgorithm(algId: Asn1 | null): AlgorithmFacts | null {
  const [oidNode, params] = children(algId ?? undefined);
  const oid = oidOf(oidNode);
  if (!oid) return null;
  const known = SIGNATURE_ALGORITHMS.get(oid);
  if (!known) return { name: oid, hash: null };
  if (oid !== RSASSA_PSS_OID) return known;
  // RSASSA-PSS carries its digest in parameters; absent means the SHA-1 default (RFC 4055).
  const hashParam = children(params).find(
    (p) => p.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && p.type === 0,
  );
  const hashOid = oidOf(children(children(hashParam)[0])[0]);
  return { name: known.name, hash: hashOid ? (HASH_ALGORITHMS.get(hashOid) ?? null) : 'sha1' };
}

// ---------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------

interface TbsFacts {
  version: number | null;
  serial: string | null;
  tbsAlgBytes: string | null;
  issuer: ParsedName | null;
  subject: ParsedName | null;
  notBefore: Date | null;
  notAfter: Date | null;
  validityRead: boolean;
  spkiTlv: Tlv | null;
  spki: Asn1 | null;
  extensionsPresent: boolean;
}

const TBS_FIELDS = [
  'serialNumber',
  'signature',
  'issuer',
  'validity',
  'subject',
  'subjectPublicKeyInfo',
] as const;
type TbsField = (typeof TBS_FIELDS)[number];
const TBS_FIELD_TAGS: Record<TbsField, number> = {
  serialNumber: T.INTEGER,
  signature: T.SEQUENCE,
  issuer: T.SEQUENCE,
  validity: T.SEQUENCE,
  subject: T.SEQUENCE,
  subjectPublicKeyInfo: T.SEQUENCE,
};

function readSerial(walk: Walk, node: Asn1, tbs: TbsFacts): void {
  const raw = Buffer.from(bytesOf(node), 'latin1');
  if (raw.length === 0) {
    addReason(walk, 'serial number is empty');
    return;
  }
  if ((raw[0]! & 0x80) !== 0) addReason(walk, 'negative serial number');
  if (raw.length > 1 && ((raw[0] === 0 && raw[1]! < 0x80) || (raw[0] === 0xff && raw[1]! >= 0x80))) {
    addReason(walk, 'serial number is not minimally encoded');
  }
  const hex = raw.toString('hex').toUpperCase();
  tbs.serial = raw.length > 1 && raw[0] === 0 ? hex.slice(2) : hex;
}

/** Reads one positional TBS field; false when its structure (tag or DER) is broken. */
function readField(walk: Walk, field: TbsField, tlv: Tlv, tbs: TbsFacts): boolean {
  if (tlv.tag !== TBS_FIELD_TAGS[field]) {
    addReason(walk, `${field} has tag ${hexTag(tlv.tag)} (expected ${hexTag(TBS_FIELD_TAGS[field])})`);
    return false;
  }
  const node = decode(walk, tlv, field);
  if (!node) {
    if (field === 'validity') readTimesLeniently(walk, tlv, tbs);
    return false;
  }
  readFieldValue(walk, field, tlv, node, tbs);
  return true;
}

function readFieldValue(walk: Walk, field: TbsField, tlv: Tlv, node: Asn1, tbs: TbsFacts): void {
  switch (field) {
    case 'serialNumber':
      readSerial(walk, node, tbs);
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
    case 'validity': {
      const [nb, na] = children(node);
      if (children(node).length !== 2) addReason(walk, 'validity does not hold exactly two times');
      tbs.validityRead = true;
      tbs.notBefore = parseTime(walk, nb, 'notBefore');
      tbs.notAfter = parseTime(walk, na, 'notAfter');
      if (tbs.notBefore && tbs.notAfter && tbs.notBefore > tbs.notAfter) {
        addReason(walk, 'notBefore is after notAfter');
      }
      return;
    }
    case 'subjectPublicKeyInfo': {
      tbs.spkiTlv = tlv;
      tbs.spki = node;
      const [algId, bits] = children(node);
      if (
        !isUniversal(algId, SEQUENCE_TYPE) ||
        !isUniversal(bits, T.BIT_STRING) ||
        !oidOf(children(algId)[0])
      ) {
        addReason(walk, 'subjectPublicKeyInfo is malformed');
      }
      return;
    }
  }
}

/**
 * The validity SEQUENCE failed to decode (typically its length is off): the
 * dates may still be intact inside it, and notAfter is what matters most.
 */
function readTimesLeniently(walk: Walk, tlv: Tlv, tbs: TbsFacts): void {
  const quiet: Walk = { buf: walk.buf, reasons: [], truncated: walk.truncated };
  const times: (Asn1 | undefined)[] = [];
  let pos = tlv.contentStart;
  for (let i = 0; i < 2; i++) {
    const t = readTlv(walk.buf, pos, walk.buf.length);
    if (typeof t === 'string' || t.end > walk.buf.length) break;
    times.push(decode(quiet, t, 'time') ?? undefined);
    pos = t.end;
  }
  tbs.validityRead = true;
  tbs.notBefore = parseTime(quiet, times[0], 'notBefore');
  tbs.notAfter = parseTime(quiet, times[1], 'notAfter');
}

function walkTbs(walk: Walk, tlv: Tlv, limit: number, tbs: TbsFacts, facts: ExtensionFacts): void {
  let pos = tlv.contentStart;
  let fieldIndex = 0;
  let sawUid = false;
  let misaligned = false;
  const quiet: Walk = { buf: walk.buf, reasons: [], truncated: walk.truncated };
  while (pos < limit) {
    const child = readTlv(walk.buf, pos, limit);
    if (typeof child === 'string') {
      if (!walk.truncated && !misaligned) addReason(walk, `TBSCertificate is not valid DER: ${child}`);
      return;
    }
    if (child.end > limit) {
      if (!walk.truncated && !misaligned) {
        addReason(
          walk,
          `TBSCertificate field at offset ${pos} claims ${child.end - child.contentStart} bytes but only ${limit - child.contentStart} remain`,
        );
      }
      return;
    }
    if (pos === tlv.contentStart && child.tag === T.VERSION) {
      const node = decode(walk, child, 'version');
      const intNode = children(node ?? undefined)[0];
      const raw = Buffer.from(bytesOf(intNode), 'latin1');
      if (node && (!isUniversal(intNode, T.INTEGER) || raw.length === 0 || children(node).length !== 1)) {
        addReason(walk, 'version field is malformed');
      } else if (node) {
        const v = raw.length <= 4 ? raw.readIntBE(0, raw.length) : Number.NaN;
        tbs.version = v;
        if (!(v >= 0 && v <= 2))
          addReason(walk, `version field ${Number.isNaN(v) ? 'too large' : v} is invalid`);
      }
    } else if (fieldIndex < TBS_FIELDS.length) {
      // After a structurally broken field the rest of the TBS is likely out of step:
      // keep reading data, drop the cascading noise.
      if (!readField(misaligned ? quiet : walk, TBS_FIELDS[fieldIndex]!, child, tbs)) misaligned = true;
      fieldIndex++;
    } else if ((child.tag === T.ISSUER_UID || child.tag === T.SUBJECT_UID) && !tbs.extensionsPresent) {
      sawUid = true;
    } else if (child.tag === T.EXTENSIONS && !tbs.extensionsPresent) {
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
  const version = tbs.version ?? 0;
  if (version >= 0 && version <= 2) {
    if (tbs.extensionsPresent && version !== 2) {
      addReason(walk, `extensions present in a version ${version + 1} certificate`);
    }
    if (sawUid && version === 0) addReason(walk, 'unique identifiers present in a version 1 certificate');
  }
}

/** Options for {@link parseCertificate}. */
export interface ParseOptions {
  /**
   * Verify a self-issued certificate's own signature to decide `selfSigned`.
   * Trust anchors skip it: their signature is never relied upon and it is the
   * slowest step of loading ~150 roots.
   * @default true
   */
  readonly checkSelfSignature?: boolean;
}

/** Upper-case hex SHA-256 of the exact bytes, the certificate's identity everywhere in certwatch. */
export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}

/** Parses one certificate as sent. Never throws: problems land in `malformed`. */
export function parseCertificate(der: Uint8Array, options: ParseOptions = {}): ParsedCertificate {
  try {
    return parseWithFingerprint(der, fingerprintOf(der), options);
  } catch (err) {
    return unreadable(
      der,
      `certificate could not be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

const CACHE_LIMIT = 1024;
const cache = new Map<string, ParsedCertificate>();

/**
 * {@link parseCertificate} with a bounded per-process cache keyed by fingerprint.
 * Servers share intermediates and addresses share leaves, and OpenSSL's
 * X509Certificate construction (~150 µs) dominates analysis; a cached entry
 * is the same immutable result, so reuse is safe.
 */
export function parseCertificateCached(der: Uint8Array): ParsedCertificate {
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(der);
  } catch {
    return parseCertificate(der);
  }
  const hit = cache.get(fingerprint);
  if (hit) {
    cache.delete(fingerprint);
    cache.set(fingerprint, hit);
    return hit;
  }
  let parsed: ParsedCertificate;
  try {
    // Copy: the caller may reuse its buffer, the cache outlives the call.
    parsed = parseWithFingerprint(Uint8Array.from(der), fingerprint, {});
  } catch (err) {
    return unreadable(
      der,
      `certificate could not be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(fingerprint, parsed);
  return parsed;
}

/** Last-resort result when even the defensive walk failed. */
function unreadable(der: Uint8Array, reason: string): ParsedCertificate {
  let fingerprintSha256 = '';
  try {
    fingerprintSha256 = fingerprintOf(der);
  } catch {
    fingerprintSha256 = '0'.repeat(64);
  }
  return {
    der,
    info: {
      subject: '(unreadable)',
      issuer: '(unreadable)',
      notBefore: null,
      notAfter: null,
      serialNumber: null,
      fingerprintSha256,
      keyType: 'unknown',
      keyBits: null,
      signatureAlgorithm: null,
      selfSigned: false,
    },
    x509: null,
    publicKey: null,
    notBefore: null,
    notAfter: null,
    dnsNames: [],
    ipAddresses: [],
    hasSubjectAltName: false,
    commonNames: [],
    isCa: false,
    caIssuers: [],
    subjectKey: null,
    issuerKey: null,
    spkiKey: null,
    signatureHash: null,
    malformed: [reason],
  };
}

function parseWithFingerprint(
  der: Uint8Array,
  fingerprintSha256: string,
  options: ParseOptions,
): ParsedCertificate {
  const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const walk: Walk = { buf, reasons: [], truncated: false };
  const tbs: TbsFacts = {
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
    extensionsPresent: false,
  };
  const facts: ExtensionFacts = {
    dnsNames: [],
    ipAddresses: [],
    hasSubjectAltName: false,
    isCa: false,
    caIssuers: [],
  };
  let outerAlg: Asn1 | null = null;

  try {
    outerAlg = walkCertificate(walk, tbs, facts);
  } catch (err) {
    addReason(walk, `certificate could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }

  let x509: X509Certificate | null = null;
  try {
    x509 = buf.length > 0 ? new X509Certificate(buf) : null;
  } catch {
    x509 = null;
  }

  let publicKey: KeyObject | null = null;
  try {
    if (x509) publicKey = x509.publicKey;
    else if (tbs.spkiTlv) {
      publicKey = createPublicKey({
        key: buf.subarray(tbs.spkiTlv.start, tbs.spkiTlv.end),
        format: 'der',
        type: 'spki',
      });
    }
  } catch {
    publicKey = null;
  }
  // Without OpenSSL's parse and with other damage, a key failure is a consequence, not news.
  if (!publicKey && (x509 || (tbs.spkiTlv && walk.reasons.length === 0))) {
    addReason(walk, 'public key could not be parsed');
  }
  if (!x509 && walk.reasons.length === 0) {
    addReason(walk, 'certificate was rejected by the X.509 parser although its structure reads correctly');
  }

  // OpenSSL read dates that the strict walk could not reach (e.g. BER-encoded lengths): still report them.
  let { notBefore, notAfter } = tbs;
  if (x509 && !tbs.validityRead) {
    notBefore = dateOrNull(x509.validFrom);
    notAfter = dateOrNull(x509.validTo);
  }

  const key = publicKey ? keyFactsFromKeyObject(publicKey) : keyFactsFromSpki(tbs.spki);
  const alg = signatureAlgorithm(outerAlg);
  const subjectKey = tbs.subject?.key ?? null;
  const issuerKey = tbs.issuer?.key ?? null;
  let selfSigned = subjectKey !== null && subjectKey === issuerKey;
  if (selfSigned && x509 && publicKey && options.checkSelfSignature !== false) {
    selfSigned = safeVerify(x509, publicKey);
  }

  const info: ChainCertificate = {
    subject: tbs.subject?.display ?? fallbackName(x509?.subject),
    issuer: tbs.issuer?.display ?? fallbackName(x509?.issuer),
    notBefore: notBefore?.toISOString() ?? null,
    notAfter: notAfter?.toISOString() ?? null,
    serialNumber: tbs.serial,
    fingerprintSha256,
    keyType: key.keyType,
    keyBits: key.keyBits,
    signatureAlgorithm: alg?.name ?? null,
    selfSigned,
  };
  return {
    der,
    info,
    x509,
    publicKey,
    notBefore,
    notAfter,
    dnsNames: Object.freeze(facts.dnsNames),
    ipAddresses: Object.freeze(facts.ipAddresses),
    hasSubjectAltName: facts.hasSubjectAltName,
    commonNames: Object.freeze(tbs.subject?.commonNames ?? []),
    isCa: facts.isCa,
    caIssuers: Object.freeze(facts.caIssuers),
    subjectKey,
    issuerKey,
    spkiKey: tbs.spkiTlv ? buf.toString('latin1', tbs.spkiTlv.start, tbs.spkiTlv.end) : null,
    signatureHash: alg?.hash ?? null,
    malformed: Object.freeze(walk.reasons),
  };
}

/** Outer Certificate SEQUENCE: header checks, then TBSCertificate, signatureAlgorithm, signatureValue. */
function walkCertificate(walk: Walk, tbs: TbsFacts, facts: ExtensionFacts): Asn1 | null {
  const { buf } = walk;
  if (buf.length === 0) {
    addReason(walk, 'empty certificate (0 bytes)');
    return null;
  }
  const outer = readTlv(buf, 0, buf.length);
  if (typeof outer === 'string') {
    addReason(walk, `certificate header is unreadable: ${outer}`);
    return null;
  }
  if (outer.tag !== T.SEQUENCE) {
    addReason(walk, `certificate does not start with a SEQUENCE (tag ${hexTag(outer.tag)})`);
    return null;
  }
  if (outer.end > buf.length) {
    walk.truncated = true;
    addReason(walk, `DER truncated: expected ${outer.end} bytes, got ${buf.length}`);
  } else if (outer.end < buf.length) {
    addReason(walk, `trailing ${buf.length - outer.end} bytes after certificate`);
  }
  const limit = Math.min(outer.end, buf.length);
  const tbsTlv = readTlv(buf, outer.contentStart, limit);
  if (typeof tbsTlv === 'string') {
    if (!walk.truncated) addReason(walk, `TBSCertificate header is unreadable: ${tbsTlv}`);
    return null;
  }
  if (tbsTlv.tag !== T.SEQUENCE) {
    addReason(walk, `TBSCertificate is not a SEQUENCE (tag ${hexTag(tbsTlv.tag)})`);
    return null;
  }
  if (tbsTlv.end > limit && !walk.truncated) {
    addReason(
      walk,
      `TBSCertificate claims ${tbsTlv.end - tbsTlv.contentStart} bytes but only ${limit - tbsTlv.contentStart} remain`,
    );
  }
  walkTbs(walk, tbsTlv, Math.min(tbsTlv.end, limit), tbs, facts);
  if (tbsTlv.end >= limit) {
    if (!walk.truncated) addReason(walk, 'signatureAlgorithm and signature are missing');
    return null;
  }

  const algTlv = readTlv(buf, tbsTlv.end, limit);
  let outerAlg: Asn1 | null = null;
  if (typeof algTlv === 'string' || algTlv.end > limit) {
    if (!walk.truncated) addReason(walk, 'signatureAlgorithm is unreadable');
    return null;
  }
  outerAlg = algTlv.tag === T.SEQUENCE ? decode(walk, algTlv, 'signatureAlgorithm') : null;
  if (algTlv.tag !== T.SEQUENCE) addReason(walk, `signatureAlgorithm has tag ${hexTag(algTlv.tag)}`);
  const algBytes = buf.toString('latin1', algTlv.start, algTlv.end);
  if (tbs.tbsAlgBytes !== null && outerAlg && tbs.tbsAlgBytes !== algBytes) {
    addReason(walk, 'signature algorithm in TBSCertificate differs from the outer signatureAlgorithm');
  }
  if (outerAlg && !oidOf(children(outerAlg)[0])) addReason(walk, 'signatureAlgorithm is malformed');

  const sigTlv = readTlv(buf, algTlv.end, limit);
  if (typeof sigTlv === 'string' || sigTlv.end > limit) {
    if (!walk.truncated) addReason(walk, 'signature is missing or unreadable');
    return outerAlg;
  }
  if (sigTlv.tag !== T.BIT_STRING)
    addReason(walk, `signature has tag ${hexTag(sigTlv.tag)} (expected BIT STRING)`);
  else if (sigTlv.end - sigTlv.contentStart < 2 || buf[sigTlv.contentStart] !== 0) {
    addReason(walk, 'signature BIT STRING is empty or has unused bits');
  }
  if (sigTlv.end < limit)
    addReason(walk, `${limit - sigTlv.end} unexpected bytes after the signature inside the certificate`);
  return outerAlg;
}

function safeVerify(x509: X509Certificate, key: KeyObject): boolean {
  try {
    return x509.verify(key);
  } catch {
    return false;
  }
}

function dateOrNull(text: string | undefined): Date | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function fallbackName(x509Name: string | undefined): string {
  if (!x509Name) return '(unreadable)';
  return displaySafe(x509Name.split('\n').reverse().join(', ')).slice(0, MAX_DN_LENGTH);
}

/**
 * The normalised subject key of a certificate (as `ParsedCertificate.subjectKey`),
 * computed from the subject Name alone: a DER walk to the field, then the same
 * name normalisation. About a hundredth of a full parse, so a trust store can
 * index ~150 roots at cold start and parse only the anchors a chain names.
 */
export function subjectKeyOf(der: Uint8Array): string | null {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const cert = readTlv(buf, 0, buf.length);
  if (typeof cert === 'string') return null;
  const tbs = readTlv(buf, cert.contentStart, Math.min(cert.end, buf.length));
  if (typeof tbs === 'string') return null;
  const limit = Math.min(tbs.end, buf.length);
  let field = readTlv(buf, tbs.contentStart, limit);
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  if (typeof field !== 'string' && field.tag === 0xa0) field = readTlv(buf, field.end, limit);
  for (let skip = 0; skip < 4 && typeof field !== 'string'; skip++) field = readTlv(buf, field.end, limit);
  if (typeof field === 'string' || field.end > limit) return null;
  const walk: Walk = { buf, reasons: [], truncated: false };
  const node = decode(walk, field, 'subject');
  return node ? (parseName(walk, node, 'subject')?.key ?? null) : null;
}
