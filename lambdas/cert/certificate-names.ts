/**
 * Owns distinguished names: decoding the ASN.1 string types, the display form
 * (RFC 4514 order and escaping, display-safe, length-capped), the normalised key
 * used to match an issuer to a subject, and the commonName values.
 */
import {
  addReason,
  bytesOf,
  children,
  isUniversal,
  oidOf,
  SEQUENCE_TYPE,
  SET_TYPE,
  type Walk,
} from './der-walk';
import type { Asn1 } from './forge-asn1';
import { NAME_ATTRIBUTES, OID_COMMON_NAME } from './oid-names';
import { displaySafe } from './quote-untrusted';

/** Longest DN shown; a hostile name cannot flood a message. */
export const MAX_DN_LENGTH = 400;

/** One Name, read. */
export interface ParsedName {
  /** RFC 4514 form, most significant RDN last, display-safe and capped at {@link MAX_DN_LENGTH}. */
  readonly display: string;
  /** Normalised form for issuer/subject matching (case, spacing and attribute order folded). */
  readonly key: string;
  /** commonName values, in encoded order. */
  readonly commonNames: string[];
}

/** Text of a DirectoryString-like value; null when the tag is not a string type. */
export function decodeString(node: Asn1): string | null {
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

/**
 * RFC 4514 escaping of one attribute value, then control characters made visible. In that
 * order, the escapes the rule set writes (`\x0a`) are not escaped again, and a literal
 * backslash in the value (`\\`) stays distinguishable from them.
 */
export function escapeDnValue(value: string): string {
  return displaySafe(value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[ #]|[ ]$/g, (c) => `\\${c}`));
}

/** Reads a Name; null (with a reason naming `what`) when its structure is broken. */
export function parseName(walk: Walk, node: Asn1, what: string): ParsedName | null {
  if (!isUniversal(node, SEQUENCE_TYPE)) {
    addReason(walk, `${what} name is not a SEQUENCE`);
    return null;
  }
  const displayParts: string[] = [];
  const keyParts: string[] = [];
  const commonNames: string[] = [];
  for (const rdn of children(node)) {
    if (!isUniversal(rdn, SET_TYPE) || children(rdn).length === 0) {
      addReason(walk, `${what} name has a malformed relative distinguished name`);
      return null;
    }
    const display: string[] = [];
    const key: string[] = [];
    for (const atv of children(rdn)) {
      const attribute = readAttribute(atv);
      if (!attribute) {
        addReason(walk, `${what} name has a malformed attribute`);
        return null;
      }
      const { oid, value } = attribute;
      if (oid === OID_COMMON_NAME) commonNames.push(value);
      display.push(`${NAME_ATTRIBUTES.get(oid) ?? oid}=${escapeDnValue(value)}`);
      key.push(`${oid}=${value.trim().replace(/\s+/g, ' ').toLowerCase()}`);
    }
    displayParts.push(display.join('+'));
    keyParts.push(key.sort().join('+'));
  }
  return { display: capDn(displayParts.reverse().join(', ')), key: keyParts.join(','), commonNames };
}

/** One AttributeTypeAndValue; a value that is not a string shows as RFC 4514 `#hex`. */
function readAttribute(atv: Asn1): { oid: string; value: string } | null {
  const [typeNode, valueNode] = children(atv);
  const oid = oidOf(typeNode);
  if (!isUniversal(atv, SEQUENCE_TYPE) || !oid || !valueNode || children(atv).length !== 2) return null;
  const value = decodeString(valueNode) ?? `#${Buffer.from(bytesOf(valueNode), 'latin1').toString('hex')}`;
  return { oid, value };
}

function capDn(display: string): string {
  return display.length > MAX_DN_LENGTH ? `${display.slice(0, MAX_DN_LENGTH)}…` : display;
}

/** Display form of OpenSSL's name text (one attribute per line, in encoded order), for when the walk could not read the Name. */
export function fallbackName(x509Name: string | undefined): string {
  if (!x509Name) return '(unreadable)';
  return displaySafe(x509Name.split('\n').reverse().join(', ')).slice(0, MAX_DN_LENGTH);
}
