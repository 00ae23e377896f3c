/**
 * Minimal DER header reader. forge's parser is all-or-nothing and its errors
 * are generic ("Too few bytes"), so the certificate walk reads headers itself
 * to keep going past a broken field and to say exactly what is wrong where.
 */

/**
 * Header bytes of the DER tags certwatch reads (the certificate walk and the revocation readers). For the
 * universal primitive ones the byte equals forge's tag number (`Asn1.type`). An enum, so the bundler
 * inlines the values.
 */
export enum DerTag {
  BOOLEAN = 0x01,
  INTEGER = 0x02,
  BIT_STRING = 0x03,
  OCTET_STRING = 0x04,
  NULL = 0x05,
  OID = 0x06,
  ENUMERATED = 0x0a,
  UTC_TIME = 0x17,
  GENERALIZED_TIME = 0x18,
  SEQUENCE = 0x30,
  VERSION = 0xa0,
  ISSUER_UID = 0x81,
  SUBJECT_UID = 0x82,
  EXTENSIONS = 0xa3,
}

/** One tag-length-value header. `end` may lie beyond the data when the input is truncated. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Lengths above this cannot be a certificate field; refusing them early keeps arithmetic exact. */
const MAX_LENGTH_BYTES = 4;

/** Reads the header at `pos`; returns a reason string when the header itself is unreadable. */
export function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv | string {
  if (pos >= limit) return `unexpected end of data at offset ${pos}`;
  if (limit - pos < 2) return `only ${limit - pos} byte left for a header at offset ${pos}`;
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) return `high-tag-number form at offset ${pos} is not used in certificates`;
  const first = buf[pos + 1]!;
  let p = pos + 2;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    return `indefinite length at offset ${pos} is not allowed in DER`;
  } else {
    const n = first & 0x7f;
    if (n > MAX_LENGTH_BYTES) return `length field at offset ${pos} uses ${n} bytes (huge length)`;
    if (p + n > limit) return `length field at offset ${pos} is cut off`;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p + i]!;
    if (buf[p] === 0 || length < 0x80) return `length at offset ${pos} is not minimally encoded`;
    p += n;
  }
  return { tag, start: pos, contentStart: p, end: p + length };
}

/**
 * Walks a whole DER element strictly and returns the first precise problem, or
 * null when every nested header fits its container. Bounded by `maxDepth`.
 */
export function findDerProblem(buf: Uint8Array, start: number, end: number, maxDepth = 32): string | null {
  let pos = start;
  while (pos < end) {
    const tlv = readTlv(buf, pos, end);
    if (typeof tlv === 'string') return tlv;
    if (tlv.end > end) {
      return `length ${tlv.end - tlv.contentStart} at offset ${pos} exceeds the ${end - tlv.contentStart} bytes available`;
    }
    if ((tlv.tag & 0x20) !== 0) {
      if (maxDepth <= 0) return `nesting deeper than allowed at offset ${pos}`;
      const inner = findDerProblem(buf, tlv.contentStart, tlv.end, maxDepth - 1);
      if (inner) return inner;
    }
    pos = tlv.end;
  }
  return null;
}

/** Tag byte as `0x30`. */
export function hexTag(tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`;
}
