/**
 * Owns tolerant DER reading for the certificate walk: the walk state that
 * collects precise reasons instead of throwing, strict decoding of one element
 * that explains a failure, and small typed accessors over forge's ASN.1 nodes.
 */
import { DerTag, findDerProblem, type Tlv } from './der-reader';
import { type Asn1, forge } from './forge-asn1';

/** The tag bytes live with the DER reader; re-exported for the walk's modules. */
export { DerTag };

/** X.690 tag classes (the identifier octet's top two bits), as forge reports them in `Asn1.tagClass`. */
export enum TagClass {
  UNIVERSAL = 0x00,
  CONTEXT_SPECIFIC = 0x80,
}

/** forge's `type` is the tag number; SEQUENCE is 16 there but 0x30 as a header byte. */
export const SEQUENCE_TYPE = 16;
/** forge's tag number of SET (RDNs). */
export const SET_TYPE = 17;

/** State of one certificate walk: the bytes and every problem found so far, in the order found. */
export interface Walk {
  readonly buf: Buffer;
  readonly reasons: string[];
  /** The outer length claims more bytes than were sent; missing tail fields are not separate problems. */
  truncated: boolean;
}

/** Records a reason once. */
export function addReason(walk: Walk, reason: string): void {
  if (!walk.reasons.includes(reason)) walk.reasons.push(reason);
}

/** A walk over the same bytes whose reasons are discarded: keeps reading data while dropping cascading noise. */
export function quietWalk(walk: Walk): Walk {
  return { buf: walk.buf, reasons: [], truncated: walk.truncated };
}

const DER_OPTIONS = { strict: true, parseAllBytes: true, decodeBitStrings: false };
/** forge's typings omit the options-object overload of fromDer. */
const strictFromDer = forge.asn1.fromDer as unknown as (bytes: string, options: typeof DER_OPTIONS) => Asn1;

/**
 * Decodes `buf[start, end)` strictly; on failure records `<what> is not valid DER: <why>`,
 * where why is the first precise header problem (offsets within `buf`) or forge's message.
 */
export function decodeStrict(walk: Walk, buf: Buffer, start: number, end: number, what: string): Asn1 | null {
  try {
    return strictFromDer(buf.toString('latin1', start, end), DER_OPTIONS);
  } catch (err) {
    const precise = findDerProblem(buf, start, end);
    addReason(
      walk,
      `${what} is not valid DER: ${precise ?? (err instanceof Error ? err.message : String(err))}`,
    );
    return null;
  }
}

/** Decodes exactly one TLV of the certificate with forge; on failure explains precisely why. */
export function decode(walk: Walk, tlv: Tlv, what: string): Asn1 | null {
  return decodeStrict(walk, walk.buf, tlv.start, tlv.end, what);
}

/** The children of a constructed node; empty for anything else. */
export function children(node: Asn1 | undefined): Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

/** The content bytes (latin1) of a primitive node; empty for anything else. */
export function bytesOf(node: Asn1 | undefined): string {
  return node && typeof node.value === 'string' ? node.value : '';
}

/** The dotted OID of a universal OBJECT IDENTIFIER node; null when it is not one or is unreadable. */
export function oidOf(node: Asn1 | undefined): string | null {
  if (!isUniversal(node, DerTag.OID)) return null;
  const bytes = bytesOf(node);
  if (bytes.length === 0) return null;
  try {
    return forge.asn1.derToOid(bytes);
  } catch {
    return null;
  }
}

/** Whether `node` is universal with tag number `type` (forge numbering, e.g. {@link SEQUENCE_TYPE}). */
export function isUniversal(node: Asn1 | undefined, type: number): boolean {
  return node !== undefined && (node.tagClass as number) === TagClass.UNIVERSAL && node.type === type;
}

/** Whether `node` is context-specific `[type]`. */
export function isContext(node: Asn1 | undefined, type: number): boolean {
  return node !== undefined && (node.tagClass as number) === TagClass.CONTEXT_SPECIFIC && node.type === type;
}
