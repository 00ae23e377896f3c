import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../lambdas/core/model';
import { DISPATCH_SHARD_LIMITS, planDispatchShards } from '../../lambdas/pipeline/dispatch-plan';
import {
  compareKeys,
  INVENTORY_PARTITIONS,
  inSegmentRange,
  inventoryPartitionOf,
} from '../../lambdas/store/inventory-partition';
import { makeEndpoint } from '../support/dynamodb-store-fixtures';

const inventory = (n: number): Endpoint[] =>
  Array.from({ length: n }, (_, i) => makeEndpoint(`h${String(i).padStart(6, '0')}.example`));

describe('planDispatchShards', () => {
  it.each([
    // endpoints, shard size, shards
    { endpoints: 0, max: 100, shards: 1 },
    { endpoints: 7, max: 100, shards: 1 },
    { endpoints: 1_000, max: 1_000, shards: 1 },
    { endpoints: 1_000, max: 100, shards: 16 },
    // 16 partitions of ~312 cut into ranges of at most 100; neighbours merged where they fit
    { endpoints: 5_000, max: 100, shards: 59 },
    { endpoints: 3_000, max: 1_000, shards: 4 },
  ])('$endpoints endpoints in shards of at most $max: $shards shards', ({ endpoints, max, shards }) => {
    // Prepare
    const all = inventory(endpoints);

    // Act
    const plan = planDispatchShards(all, inventoryPartitionOf, INVENTORY_PARTITIONS, max);

    // Assess: the count, each bounded, every endpoint once and in its own segment, order kept
    expect(plan).toHaveLength(shards);
    expect(plan.length).toBeGreaterThanOrEqual(Math.ceil(endpoints / max));
    for (const shard of plan) {
      expect(shard.endpoints.length).toBeLessThanOrEqual(max);
      for (const e of shard.endpoints) {
        expect(
          shard.segments.some((s) => s.partition === inventoryPartitionOf(e.id) && inSegmentRange(s, e.id)),
        ).toBe(true);
      }
      const positions = shard.endpoints.map((e) => all.indexOf(e));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    expect(plan.flatMap((s) => s.endpoints.map((e) => e.id)).sort()).toEqual(all.map((e) => e.id).sort());
  });

  it.each([0, 30, 2_000])(
    'covers every key of every partition exactly once (%i endpoints): contiguous ranges from start to end',
    (n) => {
      // Act
      const plan = planDispatchShards(inventory(n), inventoryPartitionOf, INVENTORY_PARTITIONS, 100);

      // Assess
      const segments = plan.flatMap((s) => s.segments);
      for (let p = 0; p < INVENTORY_PARTITIONS; p++) {
        const own = segments.filter((s) => s.partition === p);
        expect(own[0]?.from).toBeNull();
        expect(own[own.length - 1]?.to).toBeNull();
        for (let i = 1; i < own.length; i++) expect(own[i]?.from).toBe(own[i - 1]?.to);
      }
    },
  );

  it('sizes a million-endpoint inventory into shards of the default size', () => {
    // The documented arithmetic: 1,000,000 endpoints at DISPATCH_SHARD_LIMITS.endpoints each.
    expect(Math.ceil(1_000_000 / DISPATCH_SHARD_LIMITS.endpoints)).toBe(200);
    expect(
      (DISPATCH_SHARD_LIMITS.endpoints * 10_000) / DISPATCH_SHARD_LIMITS.dnsInFlight / 1000,
    ).toBeLessThan(900 / 2);
  });
});

describe('compareKeys', () => {
  it.each([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['a', 'ab', -1],
    ['a:443', 'a:8443', -1],
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 9F 98 80), as DynamoDB sorts them;
    // UTF-16 code units would put the surrogate D83D first.
    ['\uff5e', '\u{1f600}', -1],
    ['\u{1f600}', '\uff5e', 1],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(compareKeys(a, b))).toBe(sign);
    expect(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))).toBe(sign);
  });
});
