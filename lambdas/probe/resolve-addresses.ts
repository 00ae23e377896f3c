/**
 * Resolution of a target's host name to every address it has, bounded in time.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ProbeError } from '../core/model';
import { ipAddressBytes, isIpLiteral } from '../core/ip-address';
import { monotonicMs } from './monotonic-clock';

/** One resolved address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** The shape of `dns.promises.lookup` with `{ all: true }`, injectable for tests. */
export type LookupFunction = (
  hostname: string,
  options: { all: true; verbatim: boolean },
) => Promise<readonly { address: string; family: number }[]>;

/** Options of {@link resolveAddresses}. */
export interface ResolveOptions {
  /** Give up after this many ms with DNS_ERROR. */
  readonly timeoutMs: number;
  /** Keep only the first address of the deterministic order (IPv4 before IPv6, numeric). @default false */
  readonly firstOnly?: boolean;
  /**
   * Resolve with this function alone (tests). Without it, the hosts file is read first, then DNS
   * is asked directly (see {@link resolveAddresses}), then getaddrinfo for names DNS does not know.
   */
  readonly lookup?: LookupFunction;
  /** DNS servers to ask instead of the system's (`ip` or `ip:port`). @default the system's (resolv.conf) */
  readonly dnsServers?: readonly string[];
  /** Hosts file read before DNS, as getaddrinfo's "files" source is; null skips it. @default '/etc/hosts' */
  readonly hostsFile?: string | null;
}

export type ResolveResult =
  | { readonly ok: true; readonly addresses: readonly ResolvedAddress[] }
  | { readonly ok: false; readonly error: ProbeError };

/**
 * `node:dns`'s promises API, loaded on first use: an IP literal or a hosts-file name never needs
 * it, and a one-host `certwatch check` of an address need not load it at start-up.
 */
let dnsModule: Promise<typeof import('node:dns')> | undefined;
async function dnsPromises(): Promise<typeof import('node:dns').promises> {
  dnsModule ??= import('node:dns');
  return (await dnsModule).promises;
}

const DNS_REASONS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'no such host',
  ENODATA: 'no address records',
  EAI_AGAIN: 'temporary DNS failure',
  ESERVFAIL: 'DNS server failure',
  EREFUSED: 'DNS query refused',
  ETIMEOUT: 'DNS query timed out',
};

/**
 * Every A and AAAA address of `host`, deduplicated, IPv4 first then IPv6, each in numeric
 * order, so that address keys and `firstOnly` are stable from run to run whatever order
 * (round-robin) the resolver returns. An IP literal resolves to itself without DNS.
 *
 * Why not simply getaddrinfo (`dns.lookup`): it runs on libuv's thread pool (4 threads) and
 * cannot be cancelled. A few names whose DNS servers never answer would hold every thread until
 * the system resolver gives up, and the lookups of every other endpoint would queue behind them
 * and time out: one endpoint stalling the others. So, in order:
 * 1. the hosts file (`/etc/hosts`), so local overrides and `localhost` work as everywhere else;
 * 2. DNS itself (A and AAAA, through c-ares on the event loop, cancelled at the deadline);
 * 3. getaddrinfo, only when DNS does not know the name (NXDOMAIN, no records, no DNS server
 *    reachable): other name services (search domains, mDNS, NSS modules) then get their say.
 *    Such lookups fail or succeed fast; one that hangs is abandoned at the deadline.
 *
 * Never rejects: failures are DNS_ERROR results.
 */
export async function resolveAddresses(host: string, options: ResolveOptions): Promise<ResolveResult> {
  if (isIpLiteral(host)) {
    return { ok: true, addresses: [{ address: host, family: host.includes(':') ? 6 : 4 }] };
  }
  const started = monotonicMs();
  const remaining = () => Math.max(0, options.timeoutMs - (monotonicMs() - started));
  const done = (answer: readonly { address: string; family: number }[]): ResolveResult => {
    const addresses = orderAddresses(answer);
    if (addresses.length === 0) return dnsError(`DNS lookup of ${host} returned no usable address`);
    return { ok: true, addresses: options.firstOnly ? addresses.slice(0, 1) : addresses };
  };
  try {
    if (options.lookup) return await viaLookup(host, options.lookup, options.timeoutMs, done);
    const pinned = hostsFileAddresses(
      host,
      options.hostsFile === undefined ? '/etc/hosts' : options.hostsFile,
    );
    if (pinned.length > 0) return done(pinned);
    const asked = await askDns(host, options.timeoutMs, options.dnsServers);
    if (asked.kind === 'answer') return done(asked.addresses);
    if (asked.kind === 'timeout')
      return dnsError(`DNS lookup of ${host} did not answer within ${options.timeoutMs} ms`);
    if (asked.kind === 'failed')
      return dnsError(`DNS lookup of ${host} failed: ${describeDnsError(asked.error)}`);
    const { lookup } = await dnsPromises();
    return await viaLookup(host, lookup as LookupFunction, remaining(), done, options.timeoutMs);
  } catch (error) {
    return dnsError(`DNS lookup of ${host} failed: ${describeDnsError(error)}`);
  }
}

/** getaddrinfo-style resolution through `lookup`, abandoned after `timeoutMs`. */
async function viaLookup(
  host: string,
  lookup: LookupFunction,
  timeoutMs: number,
  done: (answer: readonly { address: string; family: number }[]) => ResolveResult,
  reportedTimeoutMs = timeoutMs,
): Promise<ResolveResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const answer = await Promise.race([lookup(host, { all: true, verbatim: true }), deadline]);
    if (answer === 'timeout')
      return dnsError(`DNS lookup of ${host} did not answer within ${reportedTimeoutMs} ms`);
    return done(answer);
  } finally {
    clearTimeout(timer);
  }
}

/** c-ares error codes meaning "DNS does not know this name" or "there is no DNS to ask": worth asking getaddrinfo. */
const NOT_IN_DNS = new Set(['ENOTFOUND', 'ENODATA', 'ECONNREFUSED', 'ENOTINITIALIZED', 'ELOADIPHLPAPI']);

type DnsAnswer =
  | { readonly kind: 'answer'; readonly addresses: { address: string; family: number }[] }
  | { readonly kind: 'not-in-dns' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'timeout' };

/** A and AAAA from DNS, in parallel, cancelled at the deadline. Never rejects. */
async function askDns(
  host: string,
  timeoutMs: number,
  servers: readonly string[] | undefined,
): Promise<DnsAnswer> {
  // One resolver per lookup, so cancelling it at the deadline cancels nothing else.
  const { Resolver } = await dnsPromises();
  const resolver = new Resolver({
    timeout: Math.max(100, Math.min(2_000, Math.floor(timeoutMs / 3))),
    tries: 3,
  });
  if (servers && servers.length > 0) resolver.setServers([...servers]);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const queries = Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const settled = await Promise.race([queries, deadline]);
    if (settled === 'timeout') {
      resolver.cancel();
      return { kind: 'timeout' };
    }
    const [v4, v6] = settled;
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (addresses.length > 0) return { kind: 'answer', addresses };
    const errors = [v4, v6].map((r) => (r.status === 'rejected' ? r.reason : null));
    const codes = errors.map((e) => (e as { code?: unknown } | null)?.code);
    if (codes.every((code) => typeof code === 'string' && NOT_IN_DNS.has(code)))
      return { kind: 'not-in-dns' };
    // Prefer the error that is not "no such record" (a SERVFAIL on A beats NODATA on AAAA).
    const telling = errors.find((_, i) => !NOT_IN_DNS.has(String(codes[i]))) ?? errors[0];
    return { kind: 'failed', error: telling };
  } finally {
    clearTimeout(timer);
  }
}

interface HostsCache {
  readonly path: string;
  readonly mtimeMs: number;
  readonly byName: Map<string, { address: string; family: number }[]>;
}
let hostsCache: HostsCache | null = null;

/** Addresses the hosts file gives `host` (case-insensitive), re-read when the file changes. */
function hostsFileAddresses(host: string, path: string | null): { address: string; family: number }[] {
  if (path === null) return [];
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return [];
  }
  if (hostsCache?.path !== path || hostsCache.mtimeMs !== mtimeMs) {
    hostsCache = { path, mtimeMs, byName: parseHostsFile(readHostsFile(path)) };
  }
  return hostsCache.byName.get(host.toLowerCase().replace(/\.$/, '')) ?? [];
}

function readHostsFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(0, 1_000_000);
  } catch {
    return '';
  }
}

/** `address name [alias ...]` lines; `#` starts a comment; lines with an invalid address are skipped. */
export function parseHostsFile(text: string): Map<string, { address: string; family: number }[]> {
  const byName = new Map<string, { address: string; family: number }[]>();
  for (const line of text.split('\n')) {
    const [address = '', ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    const family = isIP(address);
    if (family === 0) continue;
    for (const name of names) {
      const key = name.toLowerCase().replace(/\.$/, '');
      const list = byName.get(key) ?? [];
      if (!list.some((a) => a.address === address)) list.push({ address, family });
      byName.set(key, list);
    }
  }
  return byName;
}

/** Deduplicate, drop anything that is not an IP address, and order deterministically. */
function orderAddresses(answer: readonly { address: string; family: number }[]): ResolvedAddress[] {
  const unique = new Map<string, ResolvedAddress>();
  for (const { address } of answer) {
    const family = isIP(address);
    if (family === 4 || family === 6)
      unique.set(address.toLowerCase(), { address: address.toLowerCase(), family });
  }
  return [...unique.values()].sort(compareAddresses);
}

function compareAddresses(a: ResolvedAddress, b: ResolvedAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  const [x, y] = [ipAddressBytes(a.address), ipAddressBytes(b.address)];
  if (!x || !y) return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function describeDnsError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return DNS_REASONS[code] ? `${DNS_REASONS[code]} (${code})` : code;
  return error instanceof Error ? error.message : String(error);
}

function dnsError(message: string): ResolveResult {
  return { ok: false, error: { code: 'DNS_ERROR', message } };
}
