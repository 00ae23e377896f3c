/**
 * One dispatch: sync the inventory, resolve every endpoint, record the run
 * with its expected count, and enqueue one check per address. The dispatcher
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
}

export interface DispatchResult {
  readonly runId: string;
  readonly startedAt: string;
  readonly inventory: InventorySyncResult;
  readonly endpoints: number;
  readonly expected: number;
  readonly dnsFailures: number;
  readonly messages: readonly CheckMessage[];
}

async function defaultResolve(host: string, timeoutMs: number) {
  const r = await resolveAddresses(host, { timeoutMs, firstOnly: false });
  return r.ok ? { addresses: r.addresses.map((a) => a.address) } : { error: r.error.message };
}

/** Run ids sort by time, so "latest run" is a lexical maximum. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
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
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  const perEndpoint = await mapWithConcurrency(
    endpoints,
    opts.dnsConcurrency ?? 64,
    async (endpoint): Promise<CheckMessage[]> => {
      // A pinned address (ProbeSettings.address) is checked in the host's place. Through a proxy,
      // the proxy resolves the name (it may know names the monitor cannot): one check, by name.
      const connectTo = endpoint.address ?? endpoint.host;
      if (isIpLiteral(connectTo) || endpoint.proxy !== undefined) {
        return [{ v: 1 as const, runId, endpointId: endpoint.id, address: connectTo, dispatchedAt }];
      }
      const resolved = await resolve(connectTo, endpoint.timeoutMs);
      if ('error' in resolved) {
        return [
          {
            v: 1 as const,
            runId,
            endpointId: endpoint.id,
            address: null,
            dnsError: resolved.error,
            dispatchedAt,
          },
        ];
      }
      const addresses = opts.firstAddressOnly ? resolved.addresses.slice(0, 1) : resolved.addresses;
      return addresses.map((address) => ({
        v: 1 as const,
        runId,
        endpointId: endpoint.id,
        address,
        dispatchedAt,
      }));
    },
    // A resolver bug must not drop the endpoint: it is still checked, as a DNS failure.
    (error, endpoint) => [
      { v: 1 as const, runId, endpointId: endpoint.id, address: null, dnsError: String(error), dispatchedAt },
    ],
  );
  const messages = perEndpoint.flat().map((m) => {
    const endpoint = byId.get(m.endpointId);
    const suppressors = endpoint === undefined ? [] : quiet(endpoint);
    return suppressors.length === 0 ? m : { ...m, suppressors };
  });
  // The run is recorded before any message is sent, so every completion finds it.
  const deadline = opts.deadline?.();
  await deps.store.createRun({
    runId,
    startedAt: dispatchedAt,
    expected: messages.length,
    // Per-shard expected counts: the watchdog then lists only the shards a run left incomplete.
    addressKeys: messages.map((m) => addressKey(m.endpointId, m.address)),
    ...(deadline === undefined ? {} : { deadline }),
  });
  await deps.queue.sendAll(messages);
  return {
    runId,
    startedAt: dispatchedAt,
    inventory,
    endpoints: endpoints.length,
    expected: messages.length,
    dnsFailures: messages.filter((m) => m.address === null).length,
    messages,
  };
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
