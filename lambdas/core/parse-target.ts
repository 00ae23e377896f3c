/**
 * Parsing of `host[:port]` targets, as written in the inventory or on the
 * command line, into a canonical {@link Target}.
 *
 * Pure: no node:net; IP literals are read by `ip-address.ts`.
 */
import { formatIp, ipAddressBytes, parseIpv4, parseIpv6 } from './ip-address';
import {
  DEFAULT_PROBE_PROTOCOL,
  isProbeProtocolName,
  PROBE_PROTOCOL_NAMES,
  PROBE_PROTOCOLS,
  type ProbeProtocolName,
  type Target,
} from './model';

// Part of the target API (which host is an address); the reading of IP literals lives in ip-address.ts.
export { ipAddressBytes, isIpLiteral } from './ip-address';

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

const MAX_HOSTNAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// Underscores are not legal in host names but do occur in real internal DNS names; TLS does not care.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const HOST_CHAR = /[a-z0-9_.-]/;

/**
 * Parse `host`, `host:port`, `[v6]:port`, a bare IPv6 literal, or `scheme://host[:port][/path]`
 * with a scheme of {@link PROBE_PROTOCOLS} (`https`, `smtp`, `ldap`, ...; path, query and
 * fragment are dropped). Use {@link parseProbeTarget} to learn the protocol the scheme names.
 *
 * Host names are lower-cased and lose one trailing dot; IPv6 literals are put in RFC 5952 form.
 *
 * @param defaultPort port used when none is given: the default protocol's (a URL always defaults to its scheme's port).
 * @throws TargetParseError naming the input and the problem.
 */
export function parseTarget(
  input: string,
  defaultPort: number = PROBE_PROTOCOLS[DEFAULT_PROBE_PROTOCOL].defaultPort,
): Target {
  return parseProbeTarget(input, { defaultPort }).target;
}

/** Options of {@link parseProbeTarget}. */
export interface ProbeTargetParseOptions {
  /**
   * The protocol to speak when the input has no scheme (`--starttls smtp`, `protocol:` in the
   * config); it also sets the port a bare host defaults to. A URL whose scheme names another
   * protocol is refused.
   */
  readonly protocol?: ProbeProtocolName;
  /** Port of a bare host. @default the protocol's default port (443 without one) */
  readonly defaultPort?: number;
  /** Port of a target that names none, URLs included (the config's `port:` beside a URL `host`). */
  readonly port?: number;
}

/** A target and the protocol it is probed with. */
export interface ProbeTarget {
  readonly target: Target;
  /** From the URL's scheme or the options; undefined when neither names one (implicit TLS). */
  readonly protocol: ProbeProtocolName | undefined;
}

/**
 * Parse a target as {@link parseTarget} does, and say which protocol its scheme (`smtp://`,
 * `ldap://`) or `options.protocol` names; the scheme also gives the default port
 * (`smtp://mail.example.com` is port 25).
 * @throws TargetParseError naming the input and the problem.
 */
export function parseProbeTarget(input: string, options: ProbeTargetParseOptions = {}): ProbeTarget {
  const fail = (problem: string): never => {
    throw new TargetParseError(input, problem);
  };
  if (input.length === 0) fail('target is empty');
  const space = /\s/.exec(input);
  if (space) fail(`contains whitespace at position ${space.index}`);

  const { hostPort, scheme } = stripScheme(input, fail);
  if (scheme !== undefined && options.protocol !== undefined && scheme !== options.protocol) {
    fail(`scheme "${scheme}://" conflicts with protocol "${options.protocol}"`);
  }
  const protocol = scheme ?? options.protocol;
  const impliedPort =
    options.port !== undefined
      ? options.port
      : scheme !== undefined
        ? PROBE_PROTOCOLS[scheme].defaultPort
        : (options.defaultPort ?? PROBE_PROTOCOLS[protocol ?? DEFAULT_PROBE_PROTOCOL].defaultPort);
  const { rawHost, portText } = splitHostPort(hostPort, fail);
  const port = portText === null ? impliedPort : parsePort(portText, fail);
  const host = normaliseHost(rawHost, portText !== null, fail);
  return { target: { host, port, id: formatTargetId(host, port) }, protocol };
}

/** Canonical display form of a host and port: `host:port`, or `[v6]:port` for IPv6 literals. */
export function formatTargetId(host: string, port: number): string {
  return parseIpv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

type Fail = (problem: string) => never;

function stripScheme(input: string, fail: Fail): { hostPort: string; scheme: ProbeProtocolName | undefined } {
  const match = SCHEME.exec(input);
  if (!match) return { hostPort: input, scheme: undefined };
  const scheme = match[1]!.toLowerCase();
  if (!isProbeProtocolName(scheme)) {
    fail(
      `scheme "${match[1]}://" is not supported; give host[:port] or a URL with one of: ${PROBE_PROTOCOL_NAMES.join(', ')}`,
    );
  }
  const rest = input.slice(match[0].length);
  const end = rest.search(/[/?#]/);
  const hostPort = end === -1 ? rest : rest.slice(0, end);
  if (hostPort.length === 0) fail('URL has no host');
  return { hostPort, scheme: scheme as ProbeProtocolName };
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
  const v6 = parseIpv6(rawHost) ? ipAddressBytes(rawHost) : null;
  if (v6) return formatIp(v6, { dottedMappedIpv4: true });
  const host = rawHost.toLowerCase().replace(/\.$/, '');
  if (parseIpv4(host)) return host;
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
