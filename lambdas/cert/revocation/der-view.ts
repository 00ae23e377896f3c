/**
 * Reading DER in place, for what is read once per answer (an OCSP response): each element is its
 * tag and offsets into the bytes received, nothing is copied, and no tree is built, so judging a
 * response costs a few header reads (forge converts only the few bytes of an OID; times are read as
 * a certificate's are). Strict DER headers (der-reader's): a malformed or cut-off element is a
 * reason string, never a throw. Bounded: children are read up to a count.
 */
import { DerTag, readTlv, type Tlv } from '../der-reader';
import { timeFromText } from '../certificate-validity';
import { forge } from '../forge-asn1';

export type { Tlv };
export { DerTag };

/** The element at `pos`, which must end by `limit`; a reason when it does not. */
export function elementAt(buf: Uint8Array, pos: number, limit: number): Tlv | string {
  const tlv = readTlv(buf, pos, limit);
  if (typeof tlv === 'string') return tlv;
  if (tlv.end > limit) {
    return `the element at offset ${pos} claims ${tlv.end - tlv.contentStart} bytes, ${limit - tlv.contentStart} are left`;
  }
  return tlv;
}

/**
 * The elements inside `parent`, at most `max` of them (the rest are not read); a reason when one is
 * broken. A primitive element has none.
 */
export function childrenOf(buf: Uint8Array, parent: Tlv | undefined, max: number): Tlv[] | string {
  const out: Tlv[] = [];
  if (parent === undefined || (parent.tag & 0x20) === 0) return out;
  for (let pos = parent.contentStart; pos < parent.end && out.length < max; ) {
    const child = elementAt(buf, pos, parent.end);
    if (typeof child === 'string') return child;
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** The elements inside `parent` (see {@link childrenOf}); none when one is broken. */
export function listOf(buf: Uint8Array, parent: Tlv | undefined, max: number): Tlv[] {
  const read = childrenOf(buf, parent, max);
  return typeof read === 'string' ? [] : read;
}

/** Whether `tlv` is context-specific `[n]`, primitive or constructed (as an IMPLICIT tag may be either). */
export function isContextTag(tlv: Tlv | undefined, n: number): boolean {
  return tlv !== undefined && (tlv.tag & 0xdf) === (0x80 | n);
}

/** The content bytes of `tlv` (a view, not a copy). */
export function contentOf(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.contentStart, tlv.end);
}

/** The whole element, header included (a view). */
export function elementBytes(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.start, tlv.end);
}

/** An OBJECT IDENTIFIER's dotted form; null when `tlv` is not one or it is empty or cut off. */
export function oidAt(buf: Buffer, tlv: Tlv | undefined): string | null {
  if (tlv?.tag !== DerTag.OID || tlv.end <= tlv.contentStart || buf[tlv.end - 1]! & 0x80) return null;
  return forge.asn1.derToOid(buf.toString('latin1', tlv.contentStart, tlv.end));
}

/** An INTEGER's content bytes as upper-case hex without sign padding (the form serials are compared in); null when not one. */
export function integerHexAt(buf: Buffer, tlv: Tlv | undefined): string | null {
  if (tlv === undefined || tlv.tag !== DerTag.INTEGER || tlv.end <= tlv.contentStart) return null;
  let start = tlv.contentStart;
  while (start < tlv.end - 1 && buf[start] === 0) start++;
  return buf.toString('hex', start, tlv.end).toUpperCase();
}

/** A UTCTime or GeneralizedTime, read as a certificate's are (certificate-validity.ts); null when `tlv` is neither or it is unreadable. */
export function timeAt(buf: Buffer, tlv: Tlv | undefined): Date | null {
  if (tlv === undefined || tlv.end - tlv.contentStart > 32) return null;
  if (tlv.tag !== DerTag.GENERALIZED_TIME && tlv.tag !== DerTag.UTC_TIME) return null;
  return timeFromText(buf.toString('latin1', tlv.contentStart, tlv.end), tlv.tag === DerTag.UTC_TIME);
}
