/**
 * Per-shard run progress: what a check's completion adds to its shard's counter item, and how
 * the watchdog reads the shard back. Pure (no SDK), so the bucket table is tested on its own.
 *
 * A run's counter is split over {@link RUN_SHARDS} items (`RUN#<runId>#<nn>`), one per
 * address-state partition: a check counts on the shard its address state lives in, so a shard
 * whose completed count stays below its expected count names the only partition whose addresses
 * the watchdog has to list. Why 16: DynamoDB allows ~1,000 write units per second on one item.
 * A check takes at least ~100 ms (DNS, TCP, TLS and three DynamoDB round trips), so one checker
 * completes at most ~10 checks a second; 16 shards carry 16,000 completions a second, that is
 * ~1,600 concurrent checkers, well above the 100 the issue asks for (and a counter item never
 * grows past one write unit, see below).
 *
 * Besides the counts, each counter item keeps a histogram of the checked addresses' days left
 * (one numeric attribute per bucket, incremented with ADD: no read, no condition beyond the
 * item existing), from which the soonest expiry of the run is read without reading any address
 * state. Buckets are whole days from {@link EXACT_MIN_DAYS} to {@link EXACT_MAX_DAYS} (where
 * alarms and thresholds live), then 30-day buckets up to {@link COARSE_MAX_DAYS}; a bucket
 * reports its lower bound, so the soonest expiry read back is never later than the truth. The
 * bucket count bounds the item to ~700 bytes: every update stays one write unit.
 */

/** Number of run counter shards; equal to the address-state partitions (`INVENTORY_SHARDS`). */
export const RUN_SHARDS = 16;

/** Days left at or below this are counted in the lowest bucket (expired long ago). */
export const EXACT_MIN_DAYS = -14;
/** Days left up to this are counted per day. */
export const EXACT_MAX_DAYS = 60;
/** Beyond EXACT_MAX_DAYS, buckets are this many days wide ... */
export const COARSE_BUCKET_DAYS = 30;
/** ... up to this; anything later is counted in the top bucket. */
export const COARSE_MAX_DAYS = 420;

/** Attribute name of the days-left bucket of one check; `dn` when the days left are unknown. */
export function daysBucket(daysLeft: number | null): string {
  if (daysLeft === null || !Number.isFinite(daysLeft)) return 'dn';
  const d = Math.floor(daysLeft);
  if (d <= EXACT_MIN_DAYS) return `d${EXACT_MIN_DAYS}`;
  if (d <= EXACT_MAX_DAYS) return `d${d}`;
  const lower =
    EXACT_MAX_DAYS + 1 + Math.floor((d - EXACT_MAX_DAYS - 1) / COARSE_BUCKET_DAYS) * COARSE_BUCKET_DAYS;
  return `d${Math.min(lower, COARSE_MAX_DAYS)}`;
}

/** Days left a bucket attribute stands for (its lower bound); null for `dn` or a name that is no bucket. */
export function bucketDays(name: string): number | null {
  const m = /^d(-?\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** The soonest days left over an item's bucket attributes (those with a positive count). */
export function soonestOfBuckets(item: Readonly<Record<string, unknown>>): number | null {
  let soonest: number | null = null;
  for (const [name, count] of Object.entries(item)) {
    const days = bucketDays(name);
    if (days === null || typeof count !== 'number' || count <= 0) continue;
    if (soonest === null || days < soonest) soonest = days;
  }
  return soonest;
}

/** Expected checks per shard, from the dispatched address keys. */
export function expectedPerShard(keys: Iterable<string>, shardOfKey: (key: string) => number): number[] {
  const expected = new Array<number>(RUN_SHARDS).fill(0);
  for (const key of keys) expected[shardOfKey(key)] = (expected[shardOfKey(key)] ?? 0) + 1;
  return expected;
}
