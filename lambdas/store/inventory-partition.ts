/**
 * Which inventory partition (`INV#<nn>`, and the address states' `ADDR#<nn>`) an endpoint lives
 * in. Part of the stored format. Kept apart from the DynamoDB store (no SDK), because the stack
 * splits the inventory it bundles along the same partitions (`lambdas/pipeline/dispatch-plan.ts`).
 */
import { createHash } from 'node:crypto';
import { RUN_SHARDS } from './run-shards';

/** Number of inventory / address-state partitions; equal to the run counter shards. Part of the stored format. */
export const INVENTORY_PARTITIONS = RUN_SHARDS;

/** The partition of an endpoint: the first 4 bytes of SHA-256 of its id, modulo {@link INVENTORY_PARTITIONS}. */
export function inventoryPartitionOf(endpointId: string): number {
  return createHash('sha256').update(endpointId).digest().readUInt32BE(0) % INVENTORY_PARTITIONS;
}

/**
 * A key range of one inventory partition: ids from `from` (inclusive; null: the partition's start)
 * up to `to` (exclusive; null: its end), compared as DynamoDB compares sort keys (UTF-8 bytes).
 */
export interface InventorySegment {
  readonly partition: number;
  readonly from: string | null;
  readonly to: string | null;
}

/** Orders strings by code point, which is the UTF-8 byte order DynamoDB sorts keys in (UTF-16 `<` is not). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800-DFFF) stand for code points above U+FFFF: they sort after every other unit.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Whether `id` lies in `segment`'s range (its partition is the caller's to check). */
export function inSegmentRange(segment: InventorySegment, id: string): boolean {
  return (
    (segment.from === null || compareKeys(id, segment.from) >= 0) &&
    (segment.to === null || compareKeys(id, segment.to) < 0)
  );
}
