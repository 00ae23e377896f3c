/**
 * Resolution of a target's host name to every address it has, bounded in time.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { ProbeError } from '../core/model';
import { ipAddressBytes, isIpLiteral } from '../core/parse-target';

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
  /** @default dns.promises.lookup */
  readonly lookup?: LookupFunction;
}

export type ResolveResult =
  | { readonly ok: true; readonly addresses: readonly ResolvedAddress[] }
  | { readonly ok: false; readonly error: ProbeError };

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
 * Uses getaddrinfo (`dns.lookup`) so /etc/hosts names such as `localhost` work as they do for
 * every other program. getaddrinfo cannot be cancelled: on timeout the lookup is abandoned,
 * not stopped, and holds a libuv thread-pool slot until the system resolver gives up.
 *
 * Never rejects: failures are DNS_ERROR results.
 */
export async function resolveAddresses(host: string, options: ResolveOptions): Promise<ResolveResult> {
  if (isIpLiteral(host)) {
    return { ok: true, addresses: [{ address: host, family: host.includes(':') ? 6 : 4 }] };
  }
  const lookup = options.lookup ?? (dns.lookup as LookupFunction);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  try {
    const answer = await Promise.race([lookup(host, { all: true, verbatim: true }), deadline]);
    if (answer === 'timeout')
      return dnsError(`DNS lookup of ${host} did not answer within ${options.timeoutMs} ms`);
    const addresses = orderAddresses(answer);
    if (addresses.length === 0) return dnsError(`DNS lookup of ${host} returned no usable address`);
    return { ok: true, addresses: options.firstOnly ? addresses.slice(0, 1) : addresses };
  } catch (error) {
    return dnsError(`DNS lookup of ${host} failed: ${describeDnsError(error)}`);
  } finally {
    clearTimeout(timer);
  }
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
