/**
 * The TLS probe of one target: every address it resolves to, each in isolation.
 */
import { mapWithConcurrency } from '../core/concurrency';
import type { ProbeOutcome, ProbeSettings, Target } from '../core/model';
import { probeSettingsOf, servernameFor } from '../core/probe-settings';
import { type ProbeAddressOptions, probeAddress } from './probe-address';
import { monotonicMs } from './monotonic-clock';
import { type LookupFunction, resolveAddresses } from './resolve-addresses';

/**
 * Options of {@link probeTarget}: the endpoint's probe settings (`timeoutMs` is the deadline of
 * each address probe; `address`, when set, is probed instead of the host's addresses), plus how
 * to resolve and how many addresses to probe at once.
 */
export interface ProbeTargetOptions
  extends ProbeSettings,
    Pick<ProbeAddressOptions, 'maxHandshakeBytes' | 'protocolImpl' | 'clientIdentity'> {
  /** Deadline of the DNS lookup, in ms. @default timeoutMs */
  readonly dnsTimeoutMs?: number;
  /** Probe only the first address (IPv4 before IPv6, numeric order). @default false */
  readonly firstAddressOnly?: boolean;
  /** @default dns.promises.lookup */
  readonly lookup?: LookupFunction;
  /**
   * Most addresses of the target probed at once. Every address is still probed; a name with
   * hundreds of records (round-robin pools, a hostile resolver) just cannot open hundreds of
   * sockets in one go.
   * @default 16
   */
  readonly maxParallelAddresses?: number;
}

/** Default of {@link ProbeTargetOptions.maxParallelAddresses}. */
export const DEFAULT_MAX_PARALLEL_ADDRESSES = 16;

/**
 * Resolve `target` and probe each address concurrently (up to `maxParallelAddresses` at once),
 * each with its own deadline, so a stalled address never spoils another. One outcome per
 * address, in address order; a DNS failure is a single outcome with `address: null` and a
 * DNS_ERROR.
 *
 * Never rejects. Takes at most about `dnsTimeoutMs + ⌈addresses ÷ maxParallelAddresses⌉ × timeoutMs`,
 * that is `dnsTimeoutMs + timeoutMs` for any name with up to 16 addresses.
 */
export async function probeTarget(target: Target, options: ProbeTargetOptions): Promise<ProbeOutcome[]> {
  const startedAt = monotonicMs();
  // An IP literal resolves to itself, so a pinned address needs no DNS. Through a proxy, the
  // proxy resolves the name (it may know names the monitor cannot), so there is one "address": the name.
  const resolved =
    options.proxy !== undefined
      ? ({ ok: true, addresses: [{ address: options.address ?? target.host }] } as const)
      : await resolveAddresses(options.address ?? target.host, {
          timeoutMs: options.dnsTimeoutMs ?? options.timeoutMs,
          firstOnly: options.firstAddressOnly ?? false,
          ...(options.lookup ? { lookup: options.lookup } : {}),
        });
  if (!resolved.ok) {
    return [
      {
        host: target.host,
        port: target.port,
        address: null,
        servername: servernameFor(target.host, options),
        chainDer: [],
        protocol: null,
        cipher: null,
        error: resolved.error,
        durationMs: Math.round(monotonicMs() - startedAt),
      },
    ];
  }
  const probeOptions = (address: string): ProbeAddressOptions => ({
    ...probeSettingsOf(options),
    host: target.host,
    port: target.port,
    address,
    ...(options.protocolImpl === undefined ? {} : { protocolImpl: options.protocolImpl }),
    ...(options.maxHandshakeBytes === undefined ? {} : { maxHandshakeBytes: options.maxHandshakeBytes }),
    ...(options.clientIdentity === undefined ? {} : { clientIdentity: options.clientIdentity }),
  });
  return mapWithConcurrency(
    resolved.addresses,
    options.maxParallelAddresses ?? DEFAULT_MAX_PARALLEL_ADDRESSES,
    ({ address }) => probeIsolated(probeOptions(address)),
    (error, { address }) => probeBug(probeOptions(address), error, monotonicMs()),
  );
}

/** probeAddress never rejects by contract; should a bug make it, only that address reports it. */
async function probeIsolated(options: ProbeAddressOptions): Promise<ProbeOutcome> {
  const startedAt = monotonicMs();
  try {
    return await probeAddress(options);
  } catch (error) {
    return probeBug(options, error, startedAt);
  }
}

function probeBug(options: ProbeAddressOptions, error: unknown, startedAt: number): ProbeOutcome {
  const { host, port, address } = options;
  return {
    host,
    port,
    address,
    servername: servernameFor(host, options),
    chainDer: [],
    protocol: null,
    cipher: null,
    error: { code: 'HANDSHAKE_FAILED', message: `probe error: ${String(error)}` },
    durationMs: Math.round(monotonicMs() - startedAt),
  };
}
