/**
 * Where the probe connects when it is not simply the target's own addresses:
 * curl's `--connect-to HOST:PORT:ADDR:PORT`, and an HTTP CONNECT proxy chosen
 * from the config or from `HTTPS_PROXY`/`NO_PROXY`. Pure: the environment is an
 * argument, nothing is resolved or read here.
 */
import { isIpLiteral } from './ip-address';
import type { ProbeSettings, Target } from './model';
import { formatTargetId, parseTarget, TargetParseError } from './parse-target';

/** Thrown for a malformed `--connect-to` or proxy URL; the message names the input and the problem. */
export class ConnectRouteError extends Error {
  override readonly name = 'ConnectRouteError';
}

/**
 * One `--connect-to HOST:PORT:ADDR:PORT` rule, in curl's form: an empty HOST or PORT matches any,
 * an empty ADDR or PORT on the right keeps the target's. IPv6 literals are bracketed.
 */
export interface ConnectToRule {
  readonly host?: string;
  readonly port?: number;
  readonly toAddress?: string;
  readonly toPort?: number;
}

/** The four fields of `text`, split on the colons outside brackets. */
function fields(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let bracket = false;
  for (const ch of text) {
    if (ch === '[') bracket = true;
    if (ch === ']') bracket = false;
    if (ch === ':' && !bracket) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}

/** Parse `HOST:PORT:ADDR:PORT` (each part may be empty). @throws ConnectRouteError */
export function parseConnectTo(text: string): ConnectToRule {
  const fail = (problem: string): never => {
    throw new ConnectRouteError(`Invalid --connect-to ${JSON.stringify(text)}: ${problem}`);
  };
  const parts = fields(text);
  if (parts.length !== 4) fail('expected HOST:PORT:ADDR:PORT (parts may be empty, IPv6 in brackets)');
  const [host, port, toAddress, toPort] = parts as [string, string, string, string];
  const name = (value: string, what: string): string | undefined => {
    if (value === '') return undefined;
    try {
      return parseTarget(value).host;
    } catch (error) {
      if (error instanceof TargetParseError)
        return fail(`${what} ${JSON.stringify(value)} is not a host name or IP address`);
      throw error;
    }
  };
  const number = (value: string, what: string): number | undefined => {
    if (value === '') return undefined;
    const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= 1 && n <= 65535)) fail(`${what} ${JSON.stringify(value)} is not a port (1-65535)`);
    return n;
  };
  const rule: ConnectToRule = {
    ...optional('host', name(host, 'host')),
    ...optional('port', number(port, 'port')),
    ...optional('toAddress', name(toAddress, 'address')),
    ...optional('toPort', number(toPort, 'port')),
  };
  if (rule.toAddress === undefined && rule.toPort === undefined)
    fail('names neither an address nor a port to connect to');
  return rule;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The settings the first rule matching `target` gives (address and port to connect to); undefined if none matches. */
export function connectToFor(
  rules: readonly ConnectToRule[],
  target: Pick<Target, 'host' | 'port'>,
): Pick<ProbeSettings, 'address' | 'connectPort'> | undefined {
  const rule = rules.find(
    (r) =>
      (r.host === undefined || r.host === target.host) && (r.port === undefined || r.port === target.port),
  );
  if (rule === undefined) return undefined;
  return {
    ...optional('address', rule.toAddress),
    ...optional('connectPort', rule.toPort === target.port ? undefined : rule.toPort),
  };
}

/** A proxy to tunnel through. */
export interface ProxyAddress {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PROXY_PORT = 80;

/**
 * Parse an HTTP proxy URL: `http://host[:port]` (port 80 when none), or `host:port` as
 * environment variables often hold it. Credentials, https proxies and paths are refused.
 * @throws ConnectRouteError
 */
export function parseProxyUrl(text: string): ProxyAddress {
  const fail = (problem: string): never => {
    throw new ConnectRouteError(`Invalid proxy ${JSON.stringify(text)}: ${problem}`);
  };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme && scheme[1]!.toLowerCase() !== 'http') {
    fail(`scheme "${scheme[1]}://" is not supported; give http://host:port (an HTTP CONNECT proxy)`);
  }
  const rest = scheme ? text.slice(scheme[0].length) : text;
  if (rest.includes('@')) fail('proxy credentials are not supported');
  const hostPort = rest.replace(/\/$/, '');
  if (/[/?#]/.test(hostPort)) fail('a proxy URL has no path');
  try {
    const { host, port } = parseTarget(hostPort, DEFAULT_PROXY_PORT);
    return { host, port };
  } catch (error) {
    if (error instanceof TargetParseError)
      return fail(error.message.replace(/^Invalid target "[^"]*": /, ''));
    throw error;
  }
}

/** The proxy URL as the settings carry it: `http://host:port`. */
export function formatProxy(proxy: ProxyAddress): string {
  return `http://${formatTargetId(proxy.host, proxy.port)}`;
}

/**
 * The proxy the CLI uses for `target` from the environment, as curl reads it: `HTTPS_PROXY`
 * (or `https_proxy`, or `ALL_PROXY`), unless `NO_PROXY` (or `no_proxy`) exempts the host: `*`,
 * a name (`example.com` and `.example.com` both cover its subdomains), an IP literal, each with an
 * optional `:port`. Undefined for a direct connection.
 * @throws ConnectRouteError when the variable holds no valid proxy URL
 */
export function proxyFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  target: Pick<Target, 'host' | 'port'>,
): string | undefined {
  const value = [env['HTTPS_PROXY'], env['https_proxy'], env['ALL_PROXY'], env['all_proxy']].find(
    (v) => v !== undefined && v.trim() !== '',
  );
  if (value === undefined) return undefined;
  const noProxy = env['NO_PROXY'] ?? env['no_proxy'] ?? '';
  if (exempt(noProxy, target)) return undefined;
  return formatProxy(parseProxyUrl(value.trim()));
}

function exempt(noProxy: string, target: Pick<Target, 'host' | 'port'>): boolean {
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const { name, port } = splitEntry(entry);
    if (port !== undefined && port !== target.port) continue;
    const bare = name.replace(/^\*?\./, '').replace(/\.$/, '');
    if (bare === '') continue;
    if (isIpLiteral(target.host) || isIpLiteral(bare)) {
      if (bare === target.host) return true;
      continue;
    }
    if (target.host === bare || target.host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function splitEntry(entry: string): { name: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [name, port] = entry.split(':') as [string, string];
    return { name, port: /^\d+$/.test(port) ? Number(port) : undefined };
  }
  return { name: entry, port: undefined };
}
