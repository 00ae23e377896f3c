/**
 * The decoder of every item kind the state store reads back (the table layout
 * is in `dynamodb-state-store.ts`), and `decodeItem`, which turns a bad item
 * into a `MalformedItemError` naming the item and the field at the store
 * boundary, instead of a crash deep in the alert policy.
 */
import * as d from '../core/decode';
import { addressState, checkResult, deliveryRecord, endpoint } from '../core/model-decoders';
import { MalformedItemError } from './state-store';

/** Decoders of each item kind: only the attributes the store reads (keys and `kind` are not decoded). */
export const storedItem = {
  /** Inventory endpoint, as `listEndpoints` / `getEndpoint` read it. */
  endpoint: d.object({ endpoint }),
  /** Inventory endpoint projected to what `syncInventory` diffs. */
  endpointDigest: d.object({ sk: d.string, endpointHash: d.string }),
  address: d.object({ version: d.integer, state: addressState }),
  history: d.object({ result: checkResult }),
  run: d.object({
    runId: d.string,
    startedAt: d.string,
    expected: d.number,
    completed: d.number,
    finishedAt: d.optional(d.nullable(d.string)),
    deadline: d.optional(d.string),
    /** Counter shards (absent: a run recorded before counters were sharded). */
    shards: d.optional(d.integer),
    /** Expected checks per shard (absent: the run was recorded without its address keys). */
    expectedShards: d.optional(d.array(d.number)),
    /** Number of dispatch shards (absent: the run was dispatched in one piece). */
    dispatchShards: d.optional(d.integer),
    /** Sum of the counter shards when the run was judged. */
    finishedCompleted: d.optional(d.number),
    /** Sum of the dispatch shards' expected checks when the run was judged. */
    finishedExpected: d.optional(d.number),
    /** A canary failure recorded on the run. */
    detectorBroken: d.optional(
      d.object({
        at: d.string,
        fixture: d.nullable(d.string),
        judged: d.nullable(d.string),
        expected: d.nullable(d.string),
        reason: d.string,
        runId: d.optional(d.string),
      }),
    ),
    /** The judge's verdict. */
    verdict: d.optional(d.oneOf(['complete', 'incomplete', 'failed'] as const)),
  }),
  /** One dispatch shard of a run: the partitions it covers, and its expected checks per shard once recorded. */
  runDispatchShard: d.object({
    partitions: d.array(d.integer),
    expectedShards: d.optional(d.array(d.number)),
  }),
  /** One counter shard of a run (`run-shards.ts`); its days-left buckets are read by name. */
  runShard: d.object({ completed: d.optional(d.number), failed: d.optional(d.number) }),
  /** Failing-index item of one address. */
  failing: d.object({
    sk: d.string,
    endpointId: d.string,
    lastSuccessAt: d.nullable(d.string),
    failingSince: d.nullable(d.string),
    lastCheckedAt: d.string,
    endpointName: d.optional(d.string),
    siblings: d.optional(d.integer),
  }),
  /** The store's run lease (`acquireRunLease`). */
  runLease: d.object({
    runId: d.string,
    host: d.string,
    pid: d.integer,
    acquiredAt: d.string,
    until: d.string,
  }),
  runPointer: d.object({ runId: d.string }),
  /** Delivery record of one (alert, channel). */
  delivery: d.object({ version: d.integer, record: deliveryRecord }),
  /** Ticket record of one (ticket channel, incident). */
  ticket: d.object({
    version: d.integer,
    record: d.object({
      channel: d.string,
      incidentKey: d.string,
      ticketId: d.string,
      state: d.oneOf(['open', 'closed'] as const),
      updatedAt: d.string,
    }),
  }),
} as const;

/** Where an item was read, for the error. */
export interface ItemContext {
  /** Store operation, e.g. `getAddressState`. */
  readonly operation: string;
  /** Key the operation was about (address key, endpoint id, run id, partition). */
  readonly key: string;
}

/**
 * Decodes one item read from the table.
 * @throws MalformedItemError naming the item's `pk`/`sk` and the first field that does not fit
 */
export function decodeItem<T>(decoder: d.Decoder<T>, item: Record<string, unknown>, context: ItemContext): T {
  const result = d.decode(decoder, item);
  if (result.ok) return result.value;
  throw new MalformedItemError(context.operation, context.key, {
    pk: String(item.pk),
    sk: String(item.sk),
    field: result.failure.field,
    problem: result.failure.problem,
  });
}
