/**
 * How a run's dispatch is split so that no invocation's time or memory grows with the inventory:
 * the inventory is cut into dispatch shards of at most {@link DISPATCH_SHARD_LIMITS}`.endpoints`
 * endpoints, each a list of key ranges ("segments") of the store's inventory partitions. One
 * invocation records the run once, with the list of shards; each shard then syncs its segments,
 * resolves its endpoints, records its expected checks and sends them, in an invocation of its own
 * (the dispatcher Lambda, from the dispatch-shard queue) or in turn (`certwatch run`).
 *
 * Segments cover every key of every partition, whatever the inventory holds, so a removed
 * endpoint is always in exactly one shard's range, and that shard deletes it.
 *
 * Pure: no SDK, no I/O. The stack plans at synth (it bundles each shard's endpoints apart);
 * `dispatchRun` plans in process.
 */
import type { Endpoint } from '../core/model';
import { compareKeys, type InventorySegment, inSegmentRange } from '../store/inventory-partition';

export type { InventorySegment } from '../store/inventory-partition';

/**
 * The dispatch's one table of limits; everything below derives from it (docs/performance.md).
 *
 * - `endpoints`: endpoints per shard. A shard's DNS takes at most about
 *   endpoints × lookup time ÷ `dnsInFlight`; names that never answer each hold a slot for their
 *   probe deadline, so the worst case (every name dead) is endpoints × deadline ÷ `dnsInFlight`:
 *   5,000 × 10 s ÷ 128 = 391 s, 43% of the dispatcher's 900 s. A million endpoints are 200 shards.
 * - `dnsInFlight`: DNS lookups a shard has in flight (each a UDP socket; A and AAAA per name).
 * - `concurrency`: shard invocations at once (the dispatch-shard queue's maximum concurrency). A
 *   run's dispatch then lasts at most ⌈shards ÷ concurrency⌉ dispatcher timeouts, which the
 *   watchdog's grace adds; ~3,200 lookups in flight across the account at most.
 */
export const DISPATCH_SHARD_LIMITS = {
  endpoints: 5_000,
  dnsInFlight: 128,
  concurrency: 25,
} as const;

/** One dispatch shard: its segments and the endpoints of the inventory within them (in inventory order). */
export interface DispatchShardPlan {
  readonly segments: readonly InventorySegment[];
  readonly endpoints: readonly Endpoint[];
}

/**
 * Splits `endpoints` into dispatch shards of at most `maxEndpoints` each. A partition with more
 * endpoints than that is cut into equal ranges; whole partitions and ranges are then packed in
 * order into as few shards as fit. Every partition is covered, an empty one too.
 */
export function planDispatchShards(
  endpoints: readonly Endpoint[],
  partitionOf: (endpointId: string) => number,
  partitions: number,
  maxEndpoints: number = DISPATCH_SHARD_LIMITS.endpoints,
): DispatchShardPlan[] {
  const max = Math.max(1, Math.floor(maxEndpoints));
  const ids: string[][] = Array.from({ length: partitions }, () => []);
  const partitionOfIndex = new Uint16Array(endpoints.length);
  endpoints.forEach((e, i) => {
    const p = partitionOf(e.id);
    partitionOfIndex[i] = p;
    (ids[p] as string[]).push(e.id);
  });
  // Each partition's ranges, sized alike: n ids make ⌈n ÷ max⌉ ranges of ⌈n ÷ ranges⌉ or fewer.
  const segments: Array<{ segment: InventorySegment; size: number }> = [];
  ids.forEach((list, partition) => {
    list.sort(compareKeys);
    const ranges = Math.max(1, Math.ceil(list.length / max));
    const per = Math.ceil(list.length / ranges);
    for (let r = 0; r < ranges; r++) {
      const start = r * per;
      const end = Math.min(list.length, start + per);
      segments.push({
        segment: {
          partition,
          from: r === 0 ? null : (list[start] as string),
          to: r === ranges - 1 ? null : (list[end] as string),
        },
        size: end - start,
      });
    }
  });
  const shards: Array<{ segments: InventorySegment[]; size: number }> = [];
  for (const { segment, size } of segments) {
    const last = shards[shards.length - 1];
    if (last !== undefined && last.size + size <= max) {
      last.segments.push(segment);
      last.size += size;
    } else shards.push({ segments: [segment], size });
  }
  // Endpoints go to the shard whose segment holds them, keeping their inventory order.
  const shardOfSegment = new Map<InventorySegment, number>();
  const byPartition: InventorySegment[][] = Array.from({ length: partitions }, () => []);
  shards.forEach((s, i) => {
    for (const segment of s.segments) {
      shardOfSegment.set(segment, i);
      (byPartition[segment.partition] as InventorySegment[]).push(segment);
    }
  });
  const members: Endpoint[][] = shards.map(() => []);
  endpoints.forEach((e, i) => {
    const candidates = byPartition[partitionOfIndex[i] as number] as InventorySegment[];
    const segment = candidates.length === 1 ? candidates[0] : candidates.find((s) => inSegmentRange(s, e.id));
    (members[shardOfSegment.get(segment as InventorySegment) as number] as Endpoint[]).push(e);
  });
  return shards.map((s, i) => ({ segments: s.segments, endpoints: members[i] as Endpoint[] }));
}

/** Names the format of the dispatch plan the stack bundles beside the dispatcher; a reader refuses any other. */
export const DISPATCH_PLAN_FORMAT = 'certwatch-dispatch-plan/1';

/**
 * The dispatch plan file (`certwatch.dispatch-plan.json`): the run's shards, each with its segments,
 * its endpoint count and where its endpoints are in the inventory file (one gzip member per shard, at
 * `offset`, `bytes` long), so a shard invocation reads its own endpoints and nothing else.
 */
export interface DispatchPlanFile {
  readonly format: typeof DISPATCH_PLAN_FORMAT;
  readonly shards: readonly {
    readonly offset: number;
    readonly bytes: number;
    readonly endpoints: number;
    readonly segments: readonly InventorySegment[];
  }[];
}
