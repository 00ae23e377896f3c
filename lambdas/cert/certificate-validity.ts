/**
 * Owns the validity period: reading UTCTime/GeneralizedTime strictly by
 * RFC 5280 and leniently when merely odd, the two-times Validity SEQUENCE, a
 * recovery read when that SEQUENCE is broken, and OpenSSL's dates as fallback.
 */
import { hexTag, readTlv, type Tlv } from './der-reader';
import { addReason, bytesOf, children, DerTag, decode, quietWalk, TagClass, type Walk } from './der-walk';
import type { Asn1 } from './forge-asn1';
import { quoteUntrusted } from './quote-untrusted';

/** notBefore/notAfter as read; null where unreadable. */
export interface Validity {
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
}

const STRICT_UTC = /^\d{12}Z$/;
const STRICT_GENERALIZED = /^\d{14}Z$/;
/** Year, month, day, hour, minute, second?, fraction?, zone. */
const LENIENT_TIME = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})$/;

/** Reads a UTCTime/GeneralizedTime, strictly by RFC 5280, leniently when it is merely odd. */
export function parseTime(walk: Walk, node: Asn1 | undefined, field: string): Date | null {
  if (!node || (node.tagClass as number) !== TagClass.UNIVERSAL) {
    addReason(walk, `${field} is missing`);
    return null;
  }
  const text = bytesOf(node);
  const quoted = quoteUntrusted(text);
  const tag: number = node.type;
  const isUtc = tag === DerTag.UTC_TIME;
  if (!isUtc && tag !== DerTag.GENERALIZED_TIME) {
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
  const ms = utcMillis(year, m);
  if (ms === null) {
    addReason(walk, `${field} is not a valid ${kind}: '${quoted}'`);
    return null;
  }
  if (!isUtc && year < 2050) {
    addReason(
      walk,
      `${field} uses GeneralizedTime for a date before 2050 (RFC 5280 requires UTCTime): '${quoted}'`,
    );
  }
  return new Date(ms);
}

/**
 * The instant a UTCTime (`utc`) or GeneralizedTime's text names, read as leniently as
 * {@link parseTime} reads a certificate's (seconds, a fraction and a zone offset may be there or
 * not), for the times OCSP responses and CRLs carry, to the millisecond (a certificate's fraction,
 * which RFC 5280 forbids, is said and dropped); null when unreadable or out of the calendar.
 */
export function timeFromText(text: string, utc: boolean): Date | null {
  const m = LENIENT_TIME.exec(text);
  if (!m || m[1]!.length !== (utc ? 2 : 4)) return null;
  let year = Number(m[1]);
  if (utc) year += year >= 50 ? 1900 : 2000;
  const ms = utcMillis(year, m);
  if (ms === null) return null;
  return new Date(m[7] === undefined ? ms : ms + Math.floor(Number(`0.${m[7]}`) * 1000));
}

/** The instant a matched LENIENT_TIME names, zone applied; null when a calendar field is out of range. */
function utcMillis(year: number, m: RegExpExecArray): number | null {
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] ? Number(m[6]) : 0;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const zone = m[8]!;
  if (zone === 'Z') return ms;
  const sign = zone[0] === '-' ? -1 : 1;
  return ms - sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
}

/** Reads a decoded Validity SEQUENCE: exactly two times, in order. */
export function readValidity(walk: Walk, node: Asn1): Validity {
  const [nb, na] = children(node);
  if (children(node).length !== 2) addReason(walk, 'validity does not hold exactly two times');
  const notBefore = parseTime(walk, nb, 'notBefore');
  const notAfter = parseTime(walk, na, 'notAfter');
  if (notBefore && notAfter && notBefore > notAfter) addReason(walk, 'notBefore is after notAfter');
  return { notBefore, notAfter };
}

/**
 * The validity SEQUENCE failed to decode (typically its length is off): the
 * dates may still be intact inside it, and notAfter is what matters most.
 * The SEQUENCE's failure is already reported, so problems found here are not.
 */
export function readValidityLeniently(walk: Walk, tlv: Tlv): Validity {
  const quiet = quietWalk(walk);
  const times: (Asn1 | undefined)[] = [];
  let pos = tlv.contentStart;
  for (let i = 0; i < 2; i++) {
    const t = readTlv(walk.buf, pos, walk.buf.length);
    if (typeof t === 'string' || t.end > walk.buf.length) break;
    times.push(decode(quiet, t, 'time') ?? undefined);
    pos = t.end;
  }
  return {
    notBefore: parseTime(quiet, times[0], 'notBefore'),
    notAfter: parseTime(quiet, times[1], 'notAfter'),
  };
}

/** OpenSSL's dates (X509Certificate.validFrom/validTo text), for when the strict walk could not reach them. */
export function openSslValidity(x509: { readonly validFrom: string; readonly validTo: string }): Validity {
  return { notBefore: dateOrNull(x509.validFrom), notAfter: dateOrNull(x509.validTo) };
}

function dateOrNull(text: string | undefined): Date | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}
