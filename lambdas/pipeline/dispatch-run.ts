/**
 * One dispatch, in shards (`dispatch-plan.ts`): the run is recorded once with its list of shards
 * (`startRun`), then each shard syncs its part of the inventory, resolves its endpoints, records its
 * expected checks and enqueues one check per address, a page at a time (`dispatchShard`). The
 * dispatcher Lambda runs each shard in an invocation of its own; `certwatch run` runs them in turn
 * (`dispatchRun`).
 */
import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../core/concurrency';
import { addressKey, type Endpoint } from '../core/model';
import { isIpLiteral } from '../core/parse-target';
import { resolveAddresses } from '../probe/resolve-addresses';
import { suppressorsFor } from '../core/maintenance';
import type { SuppressionRef } from '../core/model';
import { inSegmentRange } from '../store/inventory-partition';
import type { InventorySyncResult, StateStore } from '../store/state-store';
import type { SuppressionStore } from '../store/suppression-store';
import type { CheckMessage, CheckQueue } from './check-message';
import {
  DISPATCH_SHARD_LIMITS,
  type DispatchShardPlan,
  type InventorySegment,
  planDispatchShards,
} from './dispatch-plan';

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
  /** Parallel DNS resolutions (per shard). @default DISPATCH_SHARD_LIMITS.dnsInFlight */
  readonly dnsConcurrency?: number;
  /** Endpoints per dispatch shard (`dispatchRun`). @default DISPATCH_SHARD_LIMITS.endpoints */
  readonly shardEndpoints?: number;
  /** Shards dispatched at once in this process (`dispatchRun`). @default IN_PROCESS_SHARD_CONCURRENCY */
  readonly shardConcurrency?: number;
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
  /** Dispatch shards the run was split into. */
  readonly shards: number;
}

/** What one dispatch shard did. */
export interface ShardDispatchResult {
  readonly inventory: InventorySyncResult;
  readonly endpoints: number;
  readonly expected: number;
  readonly dnsFailures: number;
}

/** The message that starts one dispatch shard (the dispatch-shard queue's body). */
export interface DispatchShardMessage {
  readonly v: 1;
  readonly runId: string;
  /** The shard's index in the run's plan. */
  readonly shard: number;
  /** When the run was dispatched (ISO): every check message of the run carries it. */
  readonly dispatchedAt: string;
  /**
   * Digest of the plan the run was split by: a shard invocation with another plan bundled (a
   * deployment since the run started) must not read its shard by index from it.
   */
  readonly plan?: string;
}

/** Validates a dispatch-shard message body; returns a reason string when it is not one. */
export function parseDispatchShardMessage(body: string): DispatchShardMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const m = value as Partial<DispatchShardMessage> | null;
  if (!m || typeof m !== 'object') return 'body is not an object';
  if (m.v !== 1) return `unsupported message version ${String(m.v)}`;
  if (typeof m.runId !== 'string' || m.runId === '') return 'runId missing';
  if (typeof m.shard !== 'number' || !Number.isInteger(m.shard) || m.shard < 0)
    return 'shard must be an index';
  if (typeof m.dispatchedAt !== 'string') return 'dispatchedAt missing';
  if (m.plan !== undefined && typeof m.plan !== 'string') return 'plan must be a string';
  return {
    v: 1,
    runId: m.runId,
    shard: m.shard,
    dispatchedAt: m.dispatchedAt,
    ...(m.plan === undefined ? {} : { plan: m.plan }),
  };
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
 * What one endpoint resolved to, kept small (a shard's worth of these are held until its checks are
 * recorded): its one address, its addresses, or the reason DNS gave none.
 */
type Resolution = string | readonly string[] | { readonly dnsError: string };

function addressesOf(r: Resolution): readonly (string | null)[] {
  return typeof r === 'string' ? [r] : 'dnsError' in r ? [null] : r;
}

/** What each endpoint resolved to, `dnsConcurrency` lookups at a time. */
function resolveAll(
  deps: DispatchDeps,
  endpoints: readonly Endpoint[],
  opts: Pick<DispatchOptions, 'dnsConcurrency' | 'firstAddressOnly'>,
): Promise<Resolution[]> {
  const resolve = deps.resolve ?? defaultResolve;
  return mapWithConcurrency(
    endpoints,
    opts.dnsConcurrency ?? DISPATCH_SHARD_LIMITS.dnsInFlight,
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
}

/** One address key per check, and how many of them are DNS failures. */
function addressKeysOf(
  endpoints: readonly Endpoint[],
  resolutions: readonly Resolution[],
): { addressKeys: string[]; dnsFailures: number } {
  const addressKeys: string[] = [];
  let dnsFailures = 0;
  endpoints.forEach((endpoint, i) => {
    for (const address of addressesOf(resolutions[i] as Resolution)) {
      addressKeys.push(addressKey(endpoint.id, address));
      if (address === null) dnsFailures++;
    }
  });
  return { addressKeys, dnsFailures };
}

/** The check messages, made one at a time (a page of them is held, never the shard's). */
function* messagesOf(
  runId: string,
  dispatchedAt: string,
  endpoints: readonly Endpoint[],
  resolutions: readonly Resolution[],
  quiet: (endpoint: Endpoint) => SuppressionRef[],
): Generator<CheckMessage> {
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
}

/** The address partitions a shard's segments cover (what the watchdog lists if the shard never runs). */
export function partitionsOf(segments: readonly InventorySegment[]): number[] {
  return [...new Set(segments.map((s) => s.partition))].sort((a, b) => a - b);
}

/**
 * Records a run dispatched in `shards`, once, before any shard runs: every shard's record then
 * finds the run, and a shard that never records leaves the run incomplete.
 */
export async function startRun(
  deps: Pick<DispatchDeps, 'store' | 'now' | 'newRunId'>,
  shards: readonly Pick<DispatchShardPlan, 'segments'>[],
  opts: Pick<DispatchOptions, 'deadline'> = {},
): Promise<{ runId: string; startedAt: string }> {
  const started = deps.now();
  const runId = deps.newRunId?.() ?? newRunId(started);
  const startedAt = started.toISOString();
  const deadline = opts.deadline?.();
  await deps.store.createRun({
    runId,
    startedAt,
    expected: 0,
    dispatchShards: shards.map((s) => partitionsOf(s.segments)),
    ...(deadline === undefined ? {} : { deadline }),
  });
  return { runId, startedAt };
}

/**
 * One dispatch shard of a recorded run: sync its segments of the inventory (unless
 * `syncInventory: false`), resolve its endpoints, record its expected checks, then send them. A
 * retried shard does all of it again: its record replaces the first, and a check message sent twice
 * is checked once (the checker's state write is guarded by run id and address).
 */
export async function dispatchShard(
  deps: DispatchDeps,
  shard: {
    readonly runId: string;
    readonly dispatchedAt: string;
    readonly index: number;
    readonly segments: readonly InventorySegment[];
    readonly endpoints: readonly Endpoint[];
  },
  opts: DispatchOptions = {},
): Promise<ShardDispatchResult> {
  const { endpoints, runId, dispatchedAt } = shard;
  if (opts.syncInventory !== false) {
    // The stack and the store must agree on the partitions and key order, or the sync would miss these.
    const outside = endpoints.find(
      (e) =>
        !shard.segments.some(
          (s) => s.partition === deps.store.shardOfKey(addressKey(e.id, null)) && inSegmentRange(s, e.id),
        ),
    );
    if (outside)
      throw new Error(`dispatch shard ${shard.index}: endpoint ${outside.id} lies outside its segments`);
  }
  const inventory =
    opts.syncInventory === false
      ? { added: 0, updated: 0, removed: 0, unchanged: endpoints.length }
      : await deps.store.syncInventory(endpoints, { segments: shard.segments });
  const quiet = await coveringSuppressors(deps.suppressions, deps.now());
  const resolutions = await resolveAll(deps, endpoints, opts);
  // The shard's checks are recorded before any is sent, so the watchdog never sees more done than owed.
  const { addressKeys, dnsFailures } = addressKeysOf(endpoints, resolutions);
  const expected = addressKeys.length;
  await deps.store.recordDispatchShard(runId, shard.index, addressKeys);
  addressKeys.length = 0;
  await sendInPages(deps.queue, opts.sendPageSize ?? DEFAULT_SEND_PAGE_SIZE, () =>
    messagesOf(runId, dispatchedAt, endpoints, resolutions, quiet),
  );
  return { inventory, endpoints: endpoints.length, expected, dnsFailures };
}

/**
 * A re-check of a few endpoints (the end of a maintenance window): a run recorded whole, with its
 * address keys, as one piece; no inventory sync (the other endpoints stay in the inventory) and no
 * plan, so the checker, which runs it, bundles none of the sharded dispatch.
 */
export async function recheckEndpoints(
  deps: DispatchDeps,
  endpoints: readonly Endpoint[],
  opts: Pick<DispatchOptions, 'dnsConcurrency' | 'firstAddressOnly' | 'sendPageSize'> = {},
): Promise<{ runId: string; expected: number; dnsFailures: number }> {
  const started = deps.now();
  const runId = deps.newRunId?.() ?? newRunId(started);
  const dispatchedAt = started.toISOString();
  const quiet = await coveringSuppressors(deps.suppressions, started);
  const resolutions = await resolveAll(deps, endpoints, opts);
  const { addressKeys, dnsFailures } = addressKeysOf(endpoints, resolutions);
  await deps.store.createRun({ runId, startedAt: dispatchedAt, expected: addressKeys.length, addressKeys });
  await sendInPages(deps.queue, opts.sendPageSize ?? DEFAULT_SEND_PAGE_SIZE, () =>
    messagesOf(runId, dispatchedAt, endpoints, resolutions, quiet),
  );
  return { runId, expected: addressKeys.length, dnsFailures };
}

/**
 * A whole dispatch in this process (`certwatch run`): plan the shards, record the run, then
 * dispatch the shards, a few at a time, as the dispatcher Lambda's shard invocations would. A shard
 * that fails does not stop the others; the first failure is rethrown after the last shard (the run
 * is then judged incomplete, not lost).
 */
export async function dispatchRun(
  deps: DispatchDeps,
  endpoints: readonly Endpoint[],
  opts: DispatchOptions = {},
): Promise<DispatchResult> {
  const { store } = deps;
  const plan = planDispatchShards(
    endpoints,
    (id) => store.shardOfKey(addressKey(id, null)),
    store.shardCount,
    opts.shardEndpoints ?? DISPATCH_SHARD_LIMITS.endpoints,
  );
  const { runId, startedAt } = await startRun(deps, plan, opts);
  const inventory = { added: 0, updated: 0, removed: 0, unchanged: 0 };
  let expected = 0;
  let dnsFailures = 0;
  const failures: unknown[] = [];
  await mapWithConcurrency(
    plan,
    opts.shardConcurrency ?? IN_PROCESS_SHARD_CONCURRENCY,
    async (shard, index) => {
      const done = await dispatchShard(
        deps,
        { runId, dispatchedAt: startedAt, index, segments: shard.segments, endpoints: shard.endpoints },
        opts,
      );
      inventory.added += done.inventory.added;
      inventory.updated += done.inventory.updated;
      inventory.removed += done.inventory.removed;
      inventory.unchanged += done.inventory.unchanged;
      expected += done.expected;
      dnsFailures += done.dnsFailures;
    },
    (error) => {
      failures.push(error);
    },
  );
  if (failures.length > 0) throw failures[0];
  return {
    runId,
    startedAt,
    inventory,
    endpoints: endpoints.length,
    expected,
    dnsFailures,
    shards: plan.length,
  };
}

/**
 * Shards `dispatchRun` dispatches at once in one process: enough to overlap one shard's DynamoDB and
 * DNS waits with another's, few enough that a local run keeps a few hundred lookups in flight.
 */
const IN_PROCESS_SHARD_CONCURRENCY = 4;

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
