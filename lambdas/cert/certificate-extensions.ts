/**
 * Owns the extensions list: splitting it so one broken extension hides nothing
 * else, the rules every extension obeys (structure, critical flag, no
 * duplicates), noting unknown critical ones, and reading the extensions the
 * analysis uses: subjectAltName, basicConstraints, keyUsage, extendedKeyUsage,
 * nameConstraints, the key identifiers and authorityInfoAccess.
 */
import { hexTag, readTlv, type Tlv } from './der-reader';
import {
  addReason,
  bytesOf,
  children,
  decode,
  decodeStrict,
  isContext,
  isUniversal,
  oidOf,
  SEQUENCE_TYPE,
  DerTag,
  type Walk,
} from './der-walk';
import type { Asn1 } from './forge-asn1';
import { formatIp } from './ip-address';
import {
  KNOWN_CRITICAL_EXTENSIONS,
  OID_AUTHORITY_INFO_ACCESS,
  OID_AUTHORITY_KEY_IDENTIFIER,
  OID_BASIC_CONSTRAINTS,
  OID_CA_ISSUERS,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_NAME_CONSTRAINTS,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_IDENTIFIER,
} from './oid-names';
import { quoteUntrusted } from './quote-untrusted';

/** SAN entries read at most; real certificates carry a few hundred at the very most. */
const MAX_SAN_ENTRIES = 1000;
/** Longest caIssuers URL kept (quoted). */
const MAX_URL_QUOTE = 200;
/** Longest caIssuers URL handed to the fetcher; real ones are well under 200 characters. */
const MAX_FETCH_URL = 2048;
/** nameConstraints subtrees read per list; real name-constrained CAs list a handful to a few hundred. */
const MAX_SUBTREES = 10_000;

/** keyUsage bits in BIT STRING order (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

/** One iPAddress subtree of a nameConstraints extension: an address and a mask of the same length. */
export interface IpSubtree {
  readonly address: Uint8Array;
  readonly mask: Uint8Array;
  /** CIDR form for messages, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

/** The dNSName and iPAddress subtrees of one nameConstraints list; other name forms are not host identities. */
export interface NameSubtrees {
  /** Lower-cased; a leading dot means "subdomains only". */
  readonly dns: readonly string[];
  readonly ip: readonly IpSubtree[];
}

/** nameConstraints (RFC 5280 §4.2.1.10), the DNS and IP parts. */
export interface NameConstraints {
  readonly permitted: NameSubtrees;
  readonly excluded: NameSubtrees;
}

/** What the extensions say, filled in as they are read. */
export interface ExtensionFacts {
  /** subjectAltName dNSName entries, lower-cased. */
  dnsNames: string[];
  /** subjectAltName iPAddress entries in canonical text form. */
  ipAddresses: string[];
  /** A subjectAltName extension is present, even when unreadable. */
  hasSubjectAltName: boolean;
  /** basicConstraints cA. */
  isCa: boolean;
  /** A basicConstraints extension is present. */
  hasBasicConstraints: boolean;
  /** basicConstraints pathLenConstraint; null when absent. */
  pathLen: number | null;
  /** keyUsage bits set; null when the extension is absent or unreadable. */
  keyUsage: KeyUsageBit[] | null;
  /** extendedKeyUsage purposes (dotted OIDs); null when the extension is absent or unreadable. */
  extKeyUsage: string[] | null;
  /** nameConstraints; null when absent or unreadable. */
  nameConstraints: NameConstraints | null;
  /** subjectKeyIdentifier, hex; null when absent. */
  subjectKeyId: string | null;
  /** authorityKeyIdentifier keyIdentifier, hex; null when absent. */
  authorityKeyId: string | null;
  /** authorityInfoAccess caIssuers URLs (quoted, for messages). */
  caIssuers: string[];
  /** The same URLs as sent, when they are plain `http://` URLs a fetcher may use. */
  caIssuersFetchable: string[];
  /** OIDs of critical extensions certwatch (like RFC 5280 clients) does not know: a path with one fails. */
  unknownCritical: string[];
}

export function emptyExtensionFacts(): ExtensionFacts {
  return {
    dnsNames: [],
    ipAddresses: [],
    hasSubjectAltName: false,
    isCa: false,
    hasBasicConstraints: false,
    pathLen: null,
    keyUsage: null,
    extKeyUsage: null,
    nameConstraints: null,
    subjectKeyId: null,
    authorityKeyId: null,
    caIssuers: [],
    caIssuersFetchable: [],
    unknownCritical: [],
  };
}

/** Splits the [3] extensions wrapper and decodes each extension separately, so one bad one hides nothing else. */
export function parseExtensions(walk: Walk, tlv: Tlv, limit: number, facts: ExtensionFacts): void {
  const seq = readTlv(walk.buf, tlv.contentStart, limit);
  if (typeof seq === 'string') {
    if (!walk.truncated) addReason(walk, `extensions are not valid DER: ${seq}`);
    return;
  }
  if (seq.tag !== DerTag.SEQUENCE) {
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

/** One Extension: extnID, critical, extnValue. */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING. */
  readonly value: Asn1;
}

/** Checks and reads one decoded Extension; `seen` collects the OIDs so far, to catch duplicates. */
export function parseExtension(walk: Walk, node: Asn1, seen: Set<string>, facts: ExtensionFacts): void {
  const ext = readExtensionFields(walk, node);
  if (!ext) return;
  checkExtensionRules(walk, ext, seen, facts);
  const reader = EXTENSION_READERS.get(ext.oid);
  if (reader) readKnownExtension(walk, ext, reader, facts);
}

/** The Extension SEQUENCE's fields; null (with a reason) when its structure is broken. */
export function readExtensionFields(walk: Walk, node: Asn1): Extension | null {
  const parts = children(node);
  const oid = oidOf(parts[0]);
  if (!isUniversal(node, SEQUENCE_TYPE) || !oid || parts.length < 2 || parts.length > 3) {
    addReason(walk, 'an extension is malformed');
    return null;
  }
  let critical = false;
  let value = parts[1];
  if (parts.length === 3) {
    if (!isUniversal(parts[1], DerTag.BOOLEAN) || bytesOf(parts[1]).length !== 1) {
      addReason(walk, `extension ${oid} has a malformed critical flag`);
      return null;
    }
    critical = bytesOf(parts[1]) !== '\x00';
    value = parts[2];
  }
  if (!value || !isUniversal(value, DerTag.OCTET_STRING)) {
    addReason(walk, `extension ${oid} value is not an OCTET STRING`);
    return null;
  }
  return { oid, critical, value };
}

/**
 * RFC 5280 §4.2: each extension at most once. A critical one the relying party
 * does not know fails validation, but only of a path the certificate is on:
 * it is noted, not counted as malformed, so a stray certificate raises nothing.
 */
function checkExtensionRules(walk: Walk, ext: Extension, seen: Set<string>, facts: ExtensionFacts): void {
  if (seen.has(ext.oid)) addReason(walk, `duplicate extension ${ext.oid}`);
  seen.add(ext.oid);
  if (ext.critical && !KNOWN_CRITICAL_EXTENSIONS.has(ext.oid) && !facts.unknownCritical.includes(ext.oid)) {
    facts.unknownCritical.push(ext.oid);
  }
}

/** How one extension the analysis uses is read. */
interface ExtensionReader {
  /** Name in messages. */
  readonly name: string;
  /** Facts that follow from the extension's mere presence, readable or not. */
  readonly present?: (facts: ExtensionFacts) => void;
  /** Reads the decoded extnValue. */
  readonly read: (walk: Walk, value: Asn1, facts: ExtensionFacts) => void;
}

/** The extensions certwatch reads, by OID; every other one is only checked against the rules. */
const EXTENSION_READERS: ReadonlyMap<string, ExtensionReader> = new Map<string, ExtensionReader>([
  [
    OID_SUBJECT_ALT_NAME,
    {
      name: 'subjectAltName',
      // RFC 6125: a SAN, even one that cannot be read, means the commonName is not a host name.
      present: (facts) => {
        facts.hasSubjectAltName = true;
      },
      read: readSubjectAltName,
    },
  ],
  [
    OID_BASIC_CONSTRAINTS,
    {
      name: 'basicConstraints',
      present: (facts) => {
        facts.hasBasicConstraints = true;
      },
      read: readBasicConstraints,
    },
  ],
  [OID_KEY_USAGE, { name: 'keyUsage', read: readKeyUsage }],
  [OID_EXT_KEY_USAGE, { name: 'extendedKeyUsage', read: readExtKeyUsage }],
  [OID_NAME_CONSTRAINTS, { name: 'nameConstraints', read: readNameConstraints }],
  [OID_SUBJECT_KEY_IDENTIFIER, { name: 'subjectKeyIdentifier', read: readSubjectKeyIdentifier }],
  [OID_AUTHORITY_KEY_IDENTIFIER, { name: 'authorityKeyIdentifier', read: readAuthorityKeyIdentifier }],
  [OID_AUTHORITY_INFO_ACCESS, { name: 'authorityInfoAccess', read: readAuthorityInfoAccess }],
]);

function readKnownExtension(
  walk: Walk,
  ext: Extension,
  reader: ExtensionReader,
  facts: ExtensionFacts,
): void {
  reader.present?.(facts);
  const raw = Buffer.from(bytesOf(ext.value), 'latin1');
  const inner = decodeStrict(walk, raw, 0, raw.length, `${reader.name} extension`);
  if (inner) reader.read(walk, inner, facts);
}

/** dNSName and iPAddress entries; other GeneralName forms are not host identities. */
export function readSubjectAltName(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  if (!isUniversal(value, SEQUENCE_TYPE)) {
    addReason(walk, 'subjectAltName extension is not a SEQUENCE');
    return;
  }
  for (const gn of children(value).slice(0, MAX_SAN_ENTRIES)) {
    if (isContext(gn, 2) && !gn.constructed) {
      facts.dnsNames.push(bytesOf(gn).toLowerCase());
    } else if (isContext(gn, 7) && !gn.constructed) {
      const ip = Buffer.from(bytesOf(gn), 'latin1');
      if (ip.length === 4 || ip.length === 16) facts.ipAddresses.push(formatIp(ip));
      else addReason(walk, `subjectAltName iPAddress has ${ip.length} bytes (expected 4 or 16)`);
    }
  }
}

/** The cA flag (an absent flag means DEFAULT FALSE) and the pathLenConstraint. */
export function readBasicConstraints(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  if (!isUniversal(value, SEQUENCE_TYPE)) {
    addReason(walk, 'basicConstraints extension is not a SEQUENCE');
    return;
  }
  const parts = children(value);
  let next = 0;
  if (isUniversal(parts[0], DerTag.BOOLEAN)) {
    facts.isCa = bytesOf(parts[0]) !== '\x00';
    next = 1;
  }
  const pathLen = parts[next];
  if (pathLen === undefined) return;
  const n = isUniversal(pathLen, DerTag.INTEGER) ? smallNonNegative(bytesOf(pathLen)) : null;
  if (n === null) addReason(walk, 'basicConstraints pathLenConstraint is not a small non-negative INTEGER');
  else facts.pathLen = n;
}

/** A non-negative INTEGER's value when it fits comfortably in a number; null otherwise. */
function smallNonNegative(content: string): number | null {
  if (content.length === 0 || content.length > 4 || content.charCodeAt(0) >= 0x80) return null;
  let n = 0;
  for (let i = 0; i < content.length; i++) n = n * 256 + content.charCodeAt(i);
  return n;
}

/** keyUsage: a named BIT STRING; bit 0 is the most significant bit of the first content byte. */
export function readKeyUsage(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  const raw = bytesOf(value);
  if (!isUniversal(value, DerTag.BIT_STRING) || raw.length === 0 || raw.charCodeAt(0) > 7) {
    addReason(walk, 'keyUsage extension is not a valid BIT STRING');
    return;
  }
  const bits: KeyUsageBit[] = [];
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = raw.charCodeAt(1 + (i >> 3));
    if (!Number.isNaN(byte) && (byte & (0x80 >> (i & 7))) !== 0) bits.push(name);
  });
  facts.keyUsage = bits;
}

/** extendedKeyUsage: a SEQUENCE of purpose OIDs. */
export function readExtKeyUsage(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  const oids = children(value).map(oidOf);
  if (!isUniversal(value, SEQUENCE_TYPE) || oids.some((o) => o === null)) {
    addReason(walk, 'extendedKeyUsage extension is not a SEQUENCE of OIDs');
    return;
  }
  facts.extKeyUsage = oids as string[];
}

/** nameConstraints: the permitted [0] and excluded [1] subtrees, their dNSName and iPAddress bases. */
export function readNameConstraints(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  if (!isUniversal(value, SEQUENCE_TYPE)) {
    addReason(walk, 'nameConstraints extension is not a SEQUENCE');
    return;
  }
  const lists = children(value);
  const permitted = lists.find((n) => isContext(n, 0) && n.constructed);
  const excluded = lists.find((n) => isContext(n, 1) && n.constructed);
  if (!permitted && !excluded) {
    addReason(walk, 'nameConstraints has neither permittedSubtrees nor excludedSubtrees');
    return;
  }
  facts.nameConstraints = {
    permitted: readSubtrees(walk, permitted, 'permitted'),
    excluded: readSubtrees(walk, excluded, 'excluded'),
  };
}

function readSubtrees(walk: Walk, list: Asn1 | undefined, which: string): NameSubtrees {
  const dns: string[] = [];
  const ip: IpSubtree[] = [];
  const subtrees = children(list);
  if (subtrees.length > MAX_SUBTREES)
    addReason(walk, `nameConstraints lists more than ${MAX_SUBTREES} ${which} subtrees`);
  for (const subtree of subtrees.slice(0, MAX_SUBTREES)) {
    const base = children(subtree)[0];
    if (isContext(base, 2) && !base?.constructed) {
      dns.push(bytesOf(base).toLowerCase());
    } else if (isContext(base, 7) && !base?.constructed) {
      const bytes = Buffer.from(bytesOf(base), 'latin1');
      if (bytes.length !== 8 && bytes.length !== 32) {
        addReason(walk, `nameConstraints ${which} iPAddress has ${bytes.length} bytes (expected 8 or 32)`);
        continue;
      }
      const half = bytes.length / 2;
      const address = Uint8Array.from(bytes.subarray(0, half));
      const mask = Uint8Array.from(bytes.subarray(half));
      ip.push({ address, mask, text: `${formatIp(address)}/${prefixLength(mask)}` });
    }
  }
  return { dns, ip };
}

/** Leading one bits of a mask (a non-contiguous mask is shown by its count of one bits). */
function prefixLength(mask: Uint8Array): number {
  let ones = 0;
  for (const byte of mask) for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) ones++;
  return ones;
}

/** subjectKeyIdentifier: an OCTET STRING. */
export function readSubjectKeyIdentifier(_walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  if (isUniversal(value, DerTag.OCTET_STRING)) facts.subjectKeyId = hexOf(bytesOf(value));
}

/** authorityKeyIdentifier: the optional [0] keyIdentifier. */
export function readAuthorityKeyIdentifier(_walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  const keyId = children(value).find((n) => isContext(n, 0) && !n.constructed);
  if (keyId) facts.authorityKeyId = hexOf(bytesOf(keyId));
}

function hexOf(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('hex');
}

/** caIssuers URIs: where the issuer's certificate can be fetched, named in trust findings and handed to the fetcher. */
export function readAuthorityInfoAccess(_walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  for (const ad of children(value)) {
    const [method, location] = children(ad);
    if (oidOf(method) !== OID_CA_ISSUERS || !location) continue;
    if (!isContext(location, 6)) continue;
    const url = bytesOf(location);
    facts.caIssuers.push(quoteUntrusted(url, MAX_URL_QUOTE));
    // Browsers fetch caIssuers over plain HTTP only (no TLS inside TLS validation); anything odd is not fetched.
    if (url.length <= MAX_FETCH_URL && /^http:\/\/[\x21-\x7e]+$/i.test(url))
      facts.caIssuersFetchable.push(url);
  }
}
