/**
 * One dispatch: sync the inventory, resolve every endpoint, record the run
 * with its expected count, and enqueue one check per address, a page at a time. The dispatcher
 * Lambda and `certwatch run` both call this.
 */
import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../core/concurrency';
import { addressKey, type Endpoint } from '../core/model';
import { isIpLiteral } from '../core/parse-target';
import { resolveAddresses } from '../probe/resolve-addresses';
import { suppressorsFor } from '../core/maintenance';
import type { SuppressionRef } from '../core/model';
import type { InventorySyncResult, StateStore } from '../store/state-store';
import type { SuppressionStore } from '../store/suppression-store';
import type { CheckMessage, CheckQueue } from './check-message';

export interface DispatchDeps {
  readonly store: StateStore;
  readonly queue: CheckQueue;
  readonly now: () => Date;
  /** Resolves a host's addresses; defaults to the probe's bounded DNS resolver. */
  readonly resolve?: (
    host: string,
    timeoutMs: number,
  ) => Promise<{ addresses: string[] } | { error: string }>;
  readonly newRunId?: () => string;
  /**
   * Where maintenance windows and silences are kept: read once per dispatch, and each message
   * carries those covering its endpoint. @default none: nothing is quieted
   */
  readonly suppressions?: SuppressionStore;
}

export interface DispatchOptions {
  /** Parallel DNS resolutions. */
  readonly dnsConcurrency?: number;
  readonly firstAddressOnly?: boolean;
  /**
   * The run's own deadline, read when the run is recorded (a local run: its lease's expiry).
   * @default none: the watchdog judges the run its grace period after the start
   */
  readonly deadline?: () => string;
  /**
   * Whether the inventory is synced from `endpoints`. A re-check of a few endpoints (the end of a
   * maintenance window) dispatches them without it, so the others stay in the inventory.
   * @default true
   */
  readonly syncInventory?: boolean;
  /**
   * Messages handed to the queue per `sendAll` call: the dispatch holds one page of messages at a
   * time, never the run's (a million at 1,000,000 endpoints).
   * @default 3200
   */
  readonly sendPageSize?: number;
}

export interface DispatchResult {
  readonly runId: string;
  readonly startedAt: string;
  readonly inventory: InventorySyncResult;
  readonly endpoints: number;
  readonly expected: number;
  readonly dnsFailures: number;
}

async function defaultResolve(host: string, timeoutMs: number) {
  const r = await resolveAddresses(host, { timeoutMs, firstOnly: false });
  return r.ok ? { addresses: r.addresses.map((a) => a.address) } : { error: r.error.message };
}

/** Run ids sort by time, so "latest run" is a lexical maximum. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
}

/**
 * What one endpoint resolved to, kept small (a million of these are held until the run is recorded):
 * its one address, its addresses, or the reason DNS gave none.
 */
type Resolution = string | readonly string[] | { readonly dnsError: string };

function addressesOf(r: Resolution): readonly (string | null)[] {
  return typeof r === 'string' ? [r] : 'dnsError' in r ? [null] : r;
}

export async function dispatchRun(
  deps: DispatchDeps,
  endpoints: readonly Endpoint[],
  opts: DispatchOptions = {},
): Promise<DispatchResult> {
  const started = deps.now();
  const runId = deps.newRunId?.() ?? newRunId(started);
  const inventory =
    opts.syncInventory === false
      ? { added: 0, updated: 0, removed: 0, unchanged: endpoints.length }
      : await deps.store.syncInventory(endpoints);
  const quiet = await coveringSuppressors(deps.suppressions, started);
  const resolve = deps.resolve ?? defaultResolve;
  const dispatchedAt = started.toISOString();
  // Only what each endpoint resolved to is kept for the whole run; its messages are made page by page.
  const resolutions = await mapWithConcurrency(
    endpoints,
    opts.dnsConcurrency ?? 64,
    async (endpoint): Promise<Resolution> => {
      // A pinned address (ProbeSettings.address) is checked in the host's place. Through a proxy,
      // the proxy resolves the name (it may know names the monitor cannot): one check, by name.
      const connectTo = endpoint.address ?? endpoint.host;
      if (isIpLiteral(connectTo) || endpoint.proxy !== undefined) return connectTo;
      const resolved = await resolve(connectTo, endpoint.timeoutMs);
      if ('error' in resolved) return { dnsError: resolved.error };
      const { addresses } = resolved;
      if (opts.firstAddressOnly) return addresses.slice(0, 1);
      return addresses.length === 1 ? (addresses[0] as string) : addresses;
    },
    // A resolver bug must not drop the endpoint: it is still checked, as a DNS failure.
    (error) => ({ dnsError: String(error) }),
  );
  // The run is recorded before any message is sent, so every completion finds it.
  const deadline = opts.deadline?.();
  const { expected, dnsFailures } = await recordRun(deps.store, endpoints, resolutions, {
    runId,
    startedAt: dispatchedAt,
    ...(deadline === undefined ? {} : { deadline }),
  });
  await sendInPages(deps.queue, opts.sendPageSize ?? DEFAULT_SEND_PAGE_SIZE, function* () {
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i] as Endpoint;
      const resolution = resolutions[i] as Resolution;
      const suppressors = quiet(endpoint);
      const quieted = suppressors.length === 0 ? {} : { suppressors };
      for (const address of addressesOf(resolution)) {
        yield address === null
          ? {
              v: 1 as const,
              runId,
              endpointId: endpoint.id,
              address: null,
              dnsError: (resolution as { dnsError: string }).dnsError,
              dispatchedAt,
              ...quieted,
            }
          : { v: 1 as const, runId, endpointId: endpoint.id, address, dispatchedAt, ...quieted };
      }
    }
  });
  return {
    runId,
    startedAt: dispatchedAt,
    inventory,
    endpoints: endpoints.length,
    expected,
    dnsFailures,
  };
}

/**
 * Records the run with its expected count and, per shard, its address keys (the watchdog then lists
 * only the shards a run left incomplete). The keys are dropped once it is recorded.
 */
async function recordRun(
  store: StateStore,
  endpoints: readonly Endpoint[],
  resolutions: readonly Resolution[],
  run: { runId: string; startedAt: string; deadline?: string },
): Promise<{ expected: number; dnsFailures: number }> {
  const addressKeys: string[] = [];
  let dnsFailures = 0;
  endpoints.forEach((endpoint, i) => {
    for (const address of addressesOf(resolutions[i] as Resolution)) {
      addressKeys.push(addressKey(endpoint.id, address));
      if (address === null) dnsFailures++;
    }
  });
  await store.createRun({ ...run, expected: addressKeys.length, addressKeys });
  return { expected: addressKeys.length, dnsFailures };
}

/** Messages per `sendAll` call: 32 SendMessageBatch calls of 10 in flight, ten rounds of them. */
const DEFAULT_SEND_PAGE_SIZE = 3_200;

/**
 * Sends the messages `pageSize` at a time, so no more than a page is ever held. A page that fails
 * does not stop the others (as many checks as possible are queued); the first failure is rethrown
 * after the last page.
 */
async function sendInPages(
  queue: CheckQueue,
  pageSize: number,
  messages: () => Iterable<CheckMessage>,
): Promise<void> {
  const failures: unknown[] = [];
  let page: CheckMessage[] = [];
  const send = async () => {
    try {
      await queue.sendAll(page);
    } catch (error) {
      failures.push(error);
    }
    page = [];
  };
  for (const message of messages()) {
    page.push(message);
    if (page.length >= pageSize) await send();
  }
  if (page.length > 0) await send();
  if (failures.length > 0) throw failures[0];
}

/** Which windows and silences cover an endpoint at dispatch: one read of the store per run. */
async function coveringSuppressors(
  suppressions: SuppressionStore | undefined,
  now: Date,
): Promise<(endpoint: Endpoint) => SuppressionRef[]> {
  if (suppressions === undefined) return () => [];
  const [windows, silences] = await Promise.all([suppressions.listWindows(), suppressions.listSilences()]);
  const w = windows.map((s) => s.window);
  const s = silences.map((x) => x.silence);
  if (w.length === 0 && s.length === 0) return () => [];
  return (endpoint) => suppressorsFor(endpoint, w, s, now);
}
