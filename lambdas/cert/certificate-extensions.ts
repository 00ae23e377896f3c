/**
 * Owns the extensions list: splitting it so one broken extension hides nothing
 * else, the rules every extension obeys (structure, critical flag, no
 * duplicates, no unknown critical ones), and reading the extensions the
 * analysis uses: subjectAltName, basicConstraints and authorityInfoAccess.
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
  OID_BASIC_CONSTRAINTS,
  OID_CA_ISSUERS,
  OID_SUBJECT_ALT_NAME,
} from './oid-names';
import { quoteUntrusted } from './quote-untrusted';

/** SAN entries read at most; real certificates carry a few hundred at the very most. */
const MAX_SAN_ENTRIES = 1000;
/** Longest caIssuers URL kept (quoted). */
const MAX_URL_QUOTE = 200;

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
  /** authorityInfoAccess caIssuers URLs (quoted). */
  caIssuers: string[];
}

export function emptyExtensionFacts(): ExtensionFacts {
  return { dnsNames: [], ipAddresses: [], hasSubjectAltName: false, isCa: false, caIssuers: [] };
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
  checkExtensionRules(walk, ext, seen);
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

/** RFC 5280 §4.2: each extension at most once; a critical one the relying party does not know fails validation. */
function checkExtensionRules(walk: Walk, ext: Extension, seen: Set<string>): void {
  if (seen.has(ext.oid)) addReason(walk, `duplicate extension ${ext.oid}`);
  seen.add(ext.oid);
  if (ext.critical && !KNOWN_CRITICAL_EXTENSIONS.has(ext.oid)) {
    addReason(walk, `unknown critical extension ${ext.oid}`);
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
  [OID_BASIC_CONSTRAINTS, { name: 'basicConstraints', read: readBasicConstraints }],
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

/** The cA flag; an absent flag means DEFAULT FALSE. */
export function readBasicConstraints(walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  const first = children(value)[0];
  if (!isUniversal(value, SEQUENCE_TYPE)) addReason(walk, 'basicConstraints extension is not a SEQUENCE');
  else if (isUniversal(first, DerTag.BOOLEAN)) facts.isCa = bytesOf(first) !== '\x00';
}

/** caIssuers URIs: where the issuer's certificate can be fetched, named in INCOMPLETE_CHAIN. */
export function readAuthorityInfoAccess(_walk: Walk, value: Asn1, facts: ExtensionFacts): void {
  for (const ad of children(value)) {
    const [method, location] = children(ad);
    if (oidOf(method) !== OID_CA_ISSUERS || !location) continue;
    if (isContext(location, 6)) facts.caIssuers.push(quoteUntrusted(bytesOf(location), MAX_URL_QUOTE));
  }
}
