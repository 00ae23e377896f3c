/**
 * Reading DER in place, for what is read once per answer (an OCSP response): each element is its
 * tag and offsets into the bytes received, nothing is copied or converted, and no tree is built,
 * so judging a response costs a few header reads. Strict DER headers (der-reader's): a malformed
 * or cut-off element is a reason string, never a throw. Bounded: children are read up to a count.
 */
import { readTlv, type Tlv } from '../der-reader';

export type { Tlv };

/** Header bytes of the tags read here (context tags are matched in either form, see {@link isContextTag}). */
export const DerByte = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
} as const;

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

/** Arcs read from one OID: real ones have a dozen at most. */
const MAX_OID_ARCS = 32;

/** An OBJECT IDENTIFIER's dotted form; null when `tlv` is not one or it is malformed. */
export function oidAt(buf: Uint8Array, tlv: Tlv | undefined): string | null {
  if (tlv === undefined || tlv.tag !== DerByte.OID || tlv.end <= tlv.contentStart) return null;
  const arcs: number[] = [];
  let value = 0;
  let inArc = false;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const byte = buf[i]!;
    // A leading 0x80 pads an arc, which DER forbids; arcs beyond 2^53 are not real.
    if (!inArc && byte === 0x80) return null;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) return null;
    inArc = (byte & 0x80) !== 0;
    if (inArc) continue;
    if (arcs.length === 0) {
      const first = value < 40 ? 0 : value < 80 ? 1 : 2;
      arcs.push(first, value - first * 40);
    } else {
      arcs.push(value);
    }
    if (arcs.length > MAX_OID_ARCS) return null;
    value = 0;
  }
  return inArc ? null : arcs.join('.');
}

/** An INTEGER's content bytes as upper-case hex without sign padding (the form serials are compared in); null when not one. */
export function integerHexAt(buf: Buffer, tlv: Tlv | undefined): string | null {
  if (tlv === undefined || tlv.tag !== DerByte.INTEGER || tlv.end <= tlv.contentStart) return null;
  let start = tlv.contentStart;
  while (start < tlv.end - 1 && buf[start] === 0) start++;
  return buf.toString('hex', start, tlv.end).toUpperCase();
}

const TIME_FORMS = {
  // YYMMDDhhmm[ss](Z|±hhmm); RFC 5280 years 50-99 are 19xx.
  [DerByte.UTC_TIME]: /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/,
  // YYYYMMDDhh[mm[ss[.fff]]][Z|±hhmm]
  [DerByte.GENERALIZED_TIME]:
    /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d{1,9}))?(Z|[+-]\d{4})?$/,
} as const;

/** The number written in ASCII digits at buf[at, at + n); NaN when one is not a digit. */
function digitsAt(buf: Uint8Array, at: number, n: number): number {
  let value = 0;
  for (let i = at; i < at + n; i++) {
    const digit = buf[i]! - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** The DER form (`YYMMDDhhmmssZ`, `YYYYMMDDhhmmssZ`) read from the bytes; null for any other form. */
function derTimeAt(buf: Uint8Array, tlv: Tlv, generalized: boolean): Date | null {
  const yearDigits = generalized ? 4 : 2;
  if (tlv.end - tlv.contentStart !== yearDigits + 11 || buf[tlv.end - 1] !== 0x5a) return null;
  let at = tlv.contentStart;
  let year = digitsAt(buf, at, yearDigits);
  if (!generalized) year += year >= 50 ? 1900 : 2000;
  at += yearDigits;
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((offset) =>
    digitsAt(buf, at + offset, 2),
  ) as [number, number, number, number, number];
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60)) {
    return null;
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/** A UTCTime or GeneralizedTime; null when `tlv` is neither or it is unreadable. Longest form read: 32 bytes. */
export function timeAt(buf: Buffer, tlv: Tlv | undefined): Date | null {
  if (tlv === undefined || tlv.end - tlv.contentStart > 32) return null;
  const generalized = tlv.tag === DerByte.GENERALIZED_TIME;
  if (!generalized && tlv.tag !== DerByte.UTC_TIME) return null;
  const der = derTimeAt(buf, tlv, generalized);
  if (der !== null) return der;
  const match = TIME_FORMS[tlv.tag as 0x17 | 0x18].exec(buf.toString('latin1', tlv.contentStart, tlv.end));
  if (match === null) return null;
  const [, y, mo, d, h, mi, s, third, fourth] = match;
  const fraction = generalized ? third : undefined;
  const zone = generalized ? fourth : third;
  let year = Number(y);
  if (!generalized) year += year >= 50 ? 1900 : 2000;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const millis = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  // A GeneralizedTime without a zone is local time (X.680), as forge read it; DER always has the Z.
  let ms =
    zone === undefined
      ? new Date(year, month - 1, day, hour, minute, second, millis).getTime()
      : Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (zone !== undefined && zone !== 'Z') {
    const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
    ms += zone[0] === '+' ? -offset : offset;
  }
  return Number.isNaN(ms) ? null : new Date(ms);
}
