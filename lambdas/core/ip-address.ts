/**
 * IP literals: the one parser and formatter of IPv4 and IPv6 text. Target parsing
 * (`parse-target.ts`), address ordering in the probe and certificate name matching
 * (`lambdas/cert`) all go through here, so an IP SAN, a configured target and a
 * resolved address compare as bytes however each was written (`::1` vs `0:0:0:0:0:0:0:1`).
 *
 * Pure: no node:net.
 */

/**
 * Dotted-quad IPv4, decimal octets without leading zeros: `010.0.0.1` is octal to inet_aton and
 * decimal to others, so it is read as neither.
 */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
/** The longest IPv6 text form: eight groups of four with an embedded IPv4 tail. */
const MAX_IPV6_LENGTH = 45;

/** The four octets of a dotted-quad IPv4 literal, or null. */
export function parseIpv4(text: string): number[] | null {
  return IPV4.test(text) ? text.split('.').map(Number) : null;
}

/**
 * The eight 16-bit groups of an IPv6 literal (RFC 4291 §2.2: `::` at most once, an IPv4 tail only
 * as the last 32 bits), or null. No brackets and no zone id: callers decide what those mean.
 */
export function parseIpv6(text: string): number[] | null {
  if (text.length < 2 || text.length > MAX_IPV6_LENGTH || !text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = parseGroups(halves[0]!, !compressed);
  const tail = compressed ? parseGroups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const present = head.length + tail.length;
  if (compressed ? present > 7 : present !== 8) return null;
  return [...head, ...new Array<number>(8 - present).fill(0), ...tail];
}

/** Colon-separated hex groups; the last may be a dotted IPv4 (two groups) when allowed. */
function parseGroups(part: string, allowIpv4Last: boolean): number[] | null {
  if (part === '') return [];
  const pieces = part.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    const v4 = allowIpv4Last && i === pieces.length - 1 ? parseIpv4(piece) : null;
    if (HEX_GROUP.test(piece)) groups.push(Number.parseInt(piece, 16));
    else if (v4) groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    else return null;
  }
  return groups;
}

/**
 * The address bytes of an IP literal: 4 for IPv4, 16 for IPv6 (without brackets or zone id);
 * null for anything else. Also orders addresses numerically.
 */
export function ipAddressBytes(text: string): Uint8Array | null {
  const v4 = parseIpv4(text);
  if (v4) return Uint8Array.from(v4);
  const groups = parseIpv6(text);
  return groups ? Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff])) : null;
}

/** Whether `text` is an IPv4 or IPv6 literal (IPv6 without brackets or zone id). */
export function isIpLiteral(text: string): boolean {
  return ipAddressBytes(text) !== null;
}

/**
 * Like {@link ipAddressBytes}, but a zone id (`fe80::1%eth0`) is dropped: it names the
 * interface, not the address, so it never decides whether a certificate covers one.
 */
export function parseIp(text: string): Uint8Array | null {
  return ipAddressBytes(text.split('%', 1)[0] ?? '');
}

/** Options of {@link formatIp}. */
export interface FormatIpOptions {
  /**
   * Write an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) with a dotted tail, as RFC 5952 §5
   * recommends for display; otherwise it is hex like any other (`::ffff:c000:201`).
   * @default false
   */
  readonly dottedMappedIpv4?: boolean;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower-case, no leading zeros, longest zero run of ≥ 2 as `::`). */
export function formatIp(bytes: Uint8Array, options: FormatIpOptions = {}): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) {
    return `invalid(${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')})`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped && options.dottedMappedIpv4) return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  let [bestStart, bestLength] = [-1, 1];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
