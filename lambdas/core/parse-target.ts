/**
 * Parsing of `host[:port]` targets, as written in the inventory or on the
 * command line, into a canonical {@link Target}.
 *
 * Pure: no node:net, so IP literals are validated here by hand.
 */
import type { Target } from './model';

/** Thrown by {@link parseTarget}; the message names the offending input and what is wrong with it. */
export class TargetParseError extends Error {
  /** The input exactly as given. */
  readonly input: string;

  constructor(input: string, problem: string) {
    super(`Invalid target ${JSON.stringify(input)}: ${problem}`);
    this.name = 'TargetParseError';
    this.input = input;
  }
}

const HTTPS_PORT = 443;
const MAX_HOSTNAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
// Underscores are not legal in host names but do occur in real internal DNS names; TLS does not care.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const HOST_CHAR = /[a-z0-9_.-]/;

/**
 * Parse `host`, `host:port`, `[v6]:port`, a bare IPv6 literal, or `https://host[:port][/path]`
 * (scheme, path, query and fragment are dropped; only https is accepted).
 *
 * Host names are lower-cased and lose one trailing dot; IPv6 literals are put in RFC 5952 form.
 *
 * @param defaultPort port used when none is given (an `https://` URL always defaults to 443).
 * @throws TargetParseError naming the input and the problem.
 */
export function parseTarget(input: string, defaultPort = HTTPS_PORT): Target {
  const fail = (problem: string): never => {
    throw new TargetParseError(input, problem);
  };
  if (input.length === 0) fail('target is empty');
  const space = /\s/.exec(input);
  if (space) fail(`contains whitespace at position ${space.index}`);

  const { hostPort, impliedPort } = stripScheme(input, fail);
  const { rawHost, portText } = splitHostPort(hostPort, fail);
  const port = portText === null ? (impliedPort ?? defaultPort) : parsePort(portText, fail);
  const host = normaliseHost(rawHost, portText !== null, fail);
  return { host, port, id: formatTargetId(host, port) };
}

/** Canonical display form of a host and port: `host:port`, or `[v6]:port` for IPv6 literals. */
export function formatTargetId(host: string, port: number): string {
  return parseIpv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether `host` is an IPv4 or IPv6 literal (IPv6 without brackets). */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || parseIpv6(host) !== null;
}

/**
 * The address bytes of an IP literal: 4 for IPv4, 16 for IPv6 (without brackets); null for anything else.
 * Useful to order addresses numerically.
 */
export function ipAddressBytes(host: string): Uint8Array | null {
  if (IPV4.test(host)) return Uint8Array.from(host.split('.').map(Number));
  const groups = parseIpv6(host);
  if (!groups) return null;
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}

type Fail = (problem: string) => never;

function stripScheme(input: string, fail: Fail): { hostPort: string; impliedPort: number | null } {
  const scheme = SCHEME.exec(input);
  if (!scheme) return { hostPort: input, impliedPort: null };
  if (scheme[1]!.toLowerCase() !== 'https') {
    fail(`scheme "${scheme[1]}://" is not supported; give host[:port] or https://host[:port]`);
  }
  const rest = input.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const hostPort = end === -1 ? rest : rest.slice(0, end);
  if (hostPort.length === 0) fail('URL has no host');
  return { hostPort, impliedPort: HTTPS_PORT };
}

function splitHostPort(hostPort: string, fail: Fail): { rawHost: string; portText: string | null } {
  if (hostPort.includes('%')) fail('IPv6 zone ids (%) are not supported');
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) fail('missing "]" after IPv6 address');
    const rawHost = hostPort.slice(1, close);
    if (!parseIpv6(rawHost)) fail(`"${rawHost}" in brackets is not an IPv6 address`);
    const after = hostPort.slice(close + 1);
    if (after === '') return { rawHost, portText: null };
    if (!after.startsWith(':')) fail(`unexpected "${after}" after "]"; expected ":port"`);
    return { rawHost, portText: after.slice(1) };
  }
  const colons = hostPort.split(':').length - 1;
  if (colons === 0) return { rawHost: hostPort, portText: null };
  if (colons === 1) {
    const [rawHost, portText] = hostPort.split(':') as [string, string];
    return { rawHost, portText };
  }
  if (parseIpv6(hostPort)) return { rawHost: hostPort, portText: null };
  return fail(
    'looks like an IPv6 address but is not one; with a port, IPv6 must be bracketed, e.g. [::1]:8443',
  );
}

function parsePort(text: string, fail: Fail): number {
  if (text === '') fail('port is empty');
  if (!/^\d+$/.test(text)) fail(`port "${text}" is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) fail(`port ${text} is out of range (1-65535)`);
  return port;
}

function normaliseHost(rawHost: string, hadPort: boolean, fail: Fail): string {
  if (rawHost === '') fail(hadPort ? 'host is empty before ":"' : 'host is empty');
  const v6 = parseIpv6(rawHost);
  if (v6) return formatIpv6(v6);
  const host = rawHost.toLowerCase().replace(/\.$/, '');
  if (IPV4.test(host)) return host;
  if (/^[\d.]+$/.test(host)) fail(`"${rawHost}" is not a valid IPv4 address`);
  validateHostname(host, rawHost, fail);
  return host;
}

function validateHostname(host: string, rawHost: string, fail: Fail): void {
  const bad = [...host].find((c) => !HOST_CHAR.test(c));
  if (bad !== undefined) {
    const hint = /[^\x00-\x7f]/.test(bad) ? ' (use the punycode xn-- form for internationalised names)' : '';
    fail(`host "${rawHost}" contains invalid character ${JSON.stringify(bad)}${hint}`);
  }
  if (host.length === 0) fail(`host "${rawHost}" is empty`);
  if (host.length > MAX_HOSTNAME_LENGTH) {
    fail(`host name is ${host.length} characters long (max ${MAX_HOSTNAME_LENGTH})`);
  }
  for (const label of host.split('.')) {
    if (label.length === 0) fail(`host "${rawHost}" has an empty label`);
    if (label.length > MAX_LABEL_LENGTH) {
      fail(`label "${label.slice(0, 16)}…" is ${label.length} characters long (max ${MAX_LABEL_LENGTH})`);
    }
    if (!LABEL.test(label)) fail(`label "${label}" must not start or end with "-"`);
  }
}

/** The eight 16-bit groups of an IPv6 literal (no brackets, no zone), or null. */
function parseIpv6(text: string): number[] | null {
  if (text.length < 2 || text.length > 45 || !text.includes(':')) return null;
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
    if (HEX_GROUP.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else if (allowIpv4Last && i === pieces.length - 1 && IPV4.test(piece)) {
      const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
      groups.push((a << 8) | b, (c << 8) | d);
    } else {
      return null;
    }
  }
  return groups;
}

/** RFC 5952 text form: lower-case, no leading zeros, longest zero run (≥ 2 groups) as `::`. */
function formatIpv6(groups: number[]): string {
  const isMappedIpv4 = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMappedIpv4) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
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
