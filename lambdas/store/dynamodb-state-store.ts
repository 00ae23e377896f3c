/**
 * `StateStore` over one DynamoDB table (AWS, DynamoDB Local, or the embedded
 * dynalite store). Only single-item (conditional) writes, so the same code runs
 * everywhere; no GSI, no transactions.
 *
 * Table layout (partition key `pk`, sort key `sk`, both strings; TTL attribute
 * `expiresAt`, epoch seconds):
 *
 * | item          | pk                  | sk                         | attributes                                    |
 * |---------------|---------------------|----------------------------|-----------------------------------------------|
 * | endpoint      | `INV#<shard>`       | `<endpointId>`             | endpointHash, endpoint (full Endpoint map)    |
 * | address state | `ADDR#<shard>`      | `<addressKey>`             | endpointId, version, state (AddressState map) |
 * | history       | `HIST#<addressKey>` | `<checkedAt>#<digest>`     | result (CheckResult map), expiresAt           |
 * | run           | `RUN#<runId>`       | `RUN`                      | runId, startedAt, expected, completed, finishedAt?, shards?, expectedShards?, dispatchShards?, finishedCompleted?, finishedExpected?, verdict?, detectorBroken?, expiresAt |
 * | dispatch shard| `RUN#<runId>`       | `DISPATCH#<nnnnn>`         | partitions, expectedShards once the shard recorded its checks, expiresAt (kind run-dispatch) |
 * | run counter   | `RUN#<runId>#<nn>`  | `COUNT`                    | c<shard> per address shard, completed, failed, d<days> buckets, expiresAt (kind run-shard) |
 * | failing index | `FAIL#<shard>`      | `<addressKey>`             | endpointId, lastSuccessAt, failingSince, lastCheckedAt |
 * | expiry index  | `EXP#<shard>`       | `<notAfter or ~>#<addressKey>` | key                                        |
 * | run lease     | `LEASE`             | `RUN`                      | runId, host, pid, acquiredAt, until (kind run-lease) |
 * | run pointer   | `RUNS`              | `<startedAt>#<runId>`      | runId, expiresAt                              |
 * | delivery      | `DELIVERY#<alertId>`| `<channel>`                | version, record (DeliveryRecord map), expiresAt |
 * | ticket        | `TICKET#<channel>`  | `<incident key>`           | version, record (TicketRecord map), expiresAt once closed |
 * | window        | `MAINT`             | `W#<windowId>`             | version, window, announced, expiresAt (`dynamodb-suppression-store.ts`) |
 * | silence       | `MAINT`             | `S#<silenceId>`            | version, silence, announced, expiresAt        |
 *
 * Every item also carries `kind` (endpoint, address, history, run, run-pointer,
 * delivery) so that a console Scan or an export is readable.
 *
 * Delivery records are items of their own, keyed by the alert id (ids are
 * idempotency keys, the same event always has the same id), so claiming a
 * send never contends with the address state's version, and an alert decided
 * twice (a divergence seen by two addresses) still has one record per channel.
 * They expire with the history TTL from their last change, and are not
 * filtered on read: an expired record that DynamoDB has not swept yet still
 * says "delivered", which can only prevent a duplicate.
 *
 * Ticket records (`TicketStore`) map a ticket channel's incident to the ticket
 * it opened (GitHub issue, Jira issue). An open one never expires; a closed one
 * expires with the history TTL. They are read by Query, not GetItem, so the
 * notifier keeps exactly the two actions it has on delivery records.
 *
 * `<shard>` is `00`..`15`, derived from a hash of the endpoint id, and an
 * endpoint's address states share its shard. Why shards rather than one
 * `INVENTORY` partition or a Scan:
 * - "List every endpoint / every state" must not read the history (a Scan with
 *   a type filter would, and history is ~90 items per address), so the listings
 *   live in partitions of their own and are read by Query, 16 in parallel.
 * - A single partition key value is limited to ~1,000 WCU/s in DynamoDB. Every
 *   check writes its address state, so with 100,000 addresses one `STATES`
 *   partition would throttle the checkers; 16 shards lift the ceiling to
 *   ~16,000 writes/s, well above any checker concurrency we run.
 * - getEndpoint / getAddressState stay single GetItems: the shard is computed
 *   from the id, and listAddressStates(endpointId) is one Query
 *   (`begins_with(sk, "<endpointId>|")`; ids never contain `|`).
 * The shard count is part of the stored format: changing it needs a migration.
 *
 * The run counter is sharded (`run-shards.ts`): completed checks `ADD` to one of
 * 16 counter items (`RUN#<runId>#<nn>`, created with the run, chosen by the first
 * address key of the write) a count per address shard (`c<nn>`), a failure count
 * and a days-left histogram, so no item takes more than its share of the
 * completions, a checker's whole SQS batch is one write (`recordCheckCompletions`),
 * and the watchdog reads a run's progress, soonest expiry and incomplete shards
 * from 16 small items. `expectedShards` on the
 * run item (from the dispatched address keys) says how many checks each shard
 * owes; a run dispatched in shards (`dispatchShards`, their number) keeps it per
 * dispatch shard instead, in items beside the run item that the run creates
 * empty and each shard fills (`recordDispatchShard`), so a shard that never ran
 * is seen. A judged run keeps its final count in `finishedCompleted`, so listing old
 * runs reads no counters. Runs written before the counters were sharded still
 * count on the run item's own `completed`. A run
 * item may also carry `deadline` (the run's own deadline) and, while a judge
 * holds the claim to judge it, `judgingBy` and `judgingUntil`. The run lease is
 * one item per table: whoever holds it may run (`acquireRunLease`).
 *
 * Two small index partitions keep what the watchdog and the report need without
 * reading every state, maintained by the state writes themselves (each put returns
 * the old item, `ReturnValues: ALL_OLD`, at no read cost):
 * - the failing index holds one item per address whose state is failing; it is
 *   written with every failing state write (so a crash between the state write and
 *   the index write heals on the next one) and deleted when the address recovers;
 * - the expiry index holds one item per address, sorted by notAfter, and is
 *   rewritten only when an address's notAfter changes (a renewal).
 * A steady check (nothing changed but the check time) writes neither.
 *
 * History sort keys end with a digest of the result, so a redelivered check
 * overwrites its own entry instead of appending a duplicate. Items past
 * `expiresAt` are filtered on read, because DynamoDB deletes expired items
 * lazily (and dynalite / DynamoDB Local never do).
 *
 * Every item read back is decoded against its kind (`stored-items.ts`), so an
 * item another version wrote, or a hand edit, fails here with a
 * `MalformedItemError` naming the item and the field.
 */
import { createHash } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  type QueryCommandInput,
  UpdateCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../core/concurrency';
import {
  type AddressState,
  addressKey,
  type CheckResult,
  type DeliveryRecord,
  type Endpoint,
} from '../core/model';
import type { StoredTicket, TicketRecord, TicketStore } from '../core/incident-lifecycle';
import {
  type AcquireRunLeaseOutcome,
  type DetectorBroken,
  type RunVerdict,
  type CheckCompletion,
  type FailingAddress,
  type RunProgress,
  type InventorySyncResult,
  type JudgementClaimOutcome,
  type RunLease,
  type RunRecord,
  RunExistsError,
  RunNotFoundError,
  type DeleteOutcome,
  type SaveOutcome,
  type StateStore,
  StateStoreError,
  type StoredAddressState,
  type StoredDelivery,
} from './state-store';
import { INVENTORY_PARTITIONS, type InventorySegment, inventoryPartitionOf } from './inventory-partition';
import { RUN_SHARDS, daysBucket, expectedPerShard, soonestOfBuckets } from './run-shards';
import { decodeItem, storedItem } from './stored-items';
import { DynamoDbSuppressionStore } from './dynamodb-suppression-store';
import type { SuppressionStore } from './suppression-store';

/** Number of inventory / address-state partitions (and run counter shards). Part of the stored format. */
export const INVENTORY_SHARDS = INVENTORY_PARTITIONS;

const DAY_SECONDS = 86_400;
/** Sort-key prefix of a run's dispatch-shard items. */
const DISPATCH_SHARD_PREFIX = 'DISPATCH#';
/** Bumping this rewrites every endpoint item on the next sync (use it when the stored Endpoint shape changes). */
const ENDPOINT_FORMAT = 1;

/** Key builders for every item kind (the layout above), for tools and tests that inspect the table. */
export const itemKeys = {
  shardOf(endpointId: string): string {
    return String(itemKeys.shardIndexOf(endpointId)).padStart(2, '0');
  },
  shardIndexOf(endpointId: string): number {
    return inventoryPartitionOf(endpointId);
  },
  /** Shard of an address key (its endpoint's shard). */
  shardOfKey(key: string): number {
    return itemKeys.shardIndexOf(endpointIdOfKey(key));
  },
  runShard(runId: string, shard: number): { pk: string; sk: string } {
    return { pk: `RUN#${runId}#${String(shard).padStart(2, '0')}`, sk: 'COUNT' };
  },
  failingPartition(shard: number): string {
    return `FAIL#${String(shard).padStart(2, '0')}`;
  },
  failing(key: string): { pk: string; sk: string } {
    return { pk: itemKeys.failingPartition(itemKeys.shardOfKey(key)), sk: key };
  },
  expiryPartition(shard: number): string {
    return `EXP#${String(shard).padStart(2, '0')}`;
  },
  expiry(key: string, notAfter: string | null): { pk: string; sk: string } {
    return { pk: itemKeys.expiryPartition(itemKeys.shardOfKey(key)), sk: `${notAfter ?? '~'}#${key}` };
  },
  inventoryPartition(shard: number): string {
    return `INV#${String(shard).padStart(2, '0')}`;
  },
  addressPartition(shard: number): string {
    return `ADDR#${String(shard).padStart(2, '0')}`;
  },
  endpoint(endpointId: string): { pk: string; sk: string } {
    return { pk: `INV#${itemKeys.shardOf(endpointId)}`, sk: endpointId };
  },
  addressState(key: string): { pk: string; sk: string } {
    return { pk: itemKeys.addressPartitionOf(endpointIdOfKey(key)), sk: key };
  },
  addressPartitionOf(endpointId: string): string {
    return `ADDR#${itemKeys.shardOf(endpointId)}`;
  },
  historyPartition(key: string): string {
    return `HIST#${key}`;
  },
  run(runId: string): { pk: string; sk: string } {
    return { pk: `RUN#${runId}`, sk: 'RUN' };
  },
  /** One dispatch shard's record of a run dispatched in shards (beside the run item). */
  runDispatchShard(runId: string, shard: number): { pk: string; sk: string } {
    return { pk: `RUN#${runId}`, sk: `${DISPATCH_SHARD_PREFIX}${String(shard).padStart(5, '0')}` };
  },
  runLease: { pk: 'LEASE', sk: 'RUN' },
  runsPartition: 'RUNS',
  deliveryPartition(alertId: string): string {
    return `DELIVERY#${alertId}`;
  },
  delivery(alertId: string, channel: string): { pk: string; sk: string } {
    return { pk: itemKeys.deliveryPartition(alertId), sk: channel };
  },
  ticketPartition(channel: string): string {
    return `TICKET#${channel}`;
  },
  ticket(channel: string, incidentKey: string): { pk: string; sk: string } {
    return { pk: itemKeys.ticketPartition(channel), sk: incidentKey };
  },
} as const;

/** The endpoint id part of an address key (`${endpointId}|${address ?? 'dns'}`); addresses never contain `|`. */
function endpointIdOfKey(key: string): string {
  const bar = key.lastIndexOf('|');
  return bar < 0 ? key : key.slice(0, bar);
}

export interface DynamoDbStateStoreProps {
  /** Document client; the store never creates or destroys it. */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * Days a history entry is kept (from its checkedAt); also applied to runs (from startedAt).
   * @default 90
   */
  readonly historyTtlDays?: number;
  /** Clock, for TTL arithmetic and filtering expired items. @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Single-item writes in flight during `syncInventory`.
   * @default 32
   */
  readonly writeConcurrency?: number;
  /**
   * `Limit` of each listing Query page. Only tests set it (to force pagination on small data).
   * @default undefined (DynamoDB's 1 MB pages)
   */
  readonly queryPageSize?: number;
}

type Item = Record<string, unknown>;

/** DynamoDB implementation of the `StateStore` port. */
export class DynamoDbStateStore implements StateStore, TicketStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #ttlSeconds: number;
  readonly #now: () => Date;
  readonly #writeConcurrency: number;
  readonly #pageSize: number | undefined;

  constructor(props: DynamoDbStateStoreProps) {
    const ttlDays = props.historyTtlDays ?? 90;
    if (!(ttlDays > 0)) throw new RangeError(`historyTtlDays must be positive, got ${ttlDays}`);
    this.#client = props.client;
    this.#table = props.tableName;
    this.#ttlSeconds = Math.round(ttlDays * DAY_SECONDS);
    this.#now = props.now ?? (() => new Date());
    this.#writeConcurrency = Math.max(1, props.writeConcurrency ?? 32);
    this.#pageSize = props.queryPageSize;
  }

  /** The maintenance windows and silences kept in the same table (`dynamodb-suppression-store.ts`). */
  suppressions(): SuppressionStore {
    return new DynamoDbSuppressionStore({ client: this.#client, tableName: this.#table });
  }

  // -------------------------------------------------------------------------
  // Inventory
  // -------------------------------------------------------------------------

  async syncInventory(
    endpoints: readonly Endpoint[],
    opts: { readonly segments?: readonly InventorySegment[] } = {},
  ): Promise<InventorySyncResult> {
    const { segments } = opts;
    const desired = new Map<string, { endpoint: Endpoint; hash: string }>();
    for (const endpoint of endpoints) {
      if (desired.has(endpoint.id)) {
        throw new StateStoreError('syncInventory', endpoint.id, 'duplicate endpoint id in the inventory');
      }
      desired.set(endpoint.id, { endpoint, hash: endpointHash(endpoint) });
    }

    // Only ids and hashes are needed to diff; projecting keeps a 100k read small. Without segments,
    // every partition whole; one key range for all: ids are host names and ports, far inside it.
    const stored = new Map<string, string>();
    const ranges =
      segments ??
      Array.from({ length: INVENTORY_SHARDS }, (_, partition) => ({ partition, from: null, to: null }));
    await Promise.all(
      ranges.map((segment) => {
        const pk = itemKeys.inventoryPartition(segment.partition);
        return this.#queryAll(
          'syncInventory',
          pk,
          {
            Limit: this.#pageSize,
            // BETWEEN includes `to`, which belongs to the next segment: dropped below.
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
            ProjectionExpression: '#pk, #sk, #h',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#h': 'endpointHash' },
            ExpressionAttributeValues: {
              ':pk': pk,
              ':from': segment.from ?? '\u0001',
              ':to': segment.to ?? '\u{10ffff}',
            },
          },
          (item) => {
            const { sk, endpointHash } = decodeItem(storedItem.endpointDigest, item, {
              operation: 'syncInventory',
              key: pk,
            });
            if (sk !== segment.to) stored.set(sk, endpointHash);
          },
        );
      }),
    );

    let added = 0;
    let updated = 0;
    let unchanged = 0;
    const writes: Array<() => Promise<void>> = [];
    for (const [id, { endpoint, hash }] of desired) {
      const storedHash = stored.get(id);
      if (storedHash === hash) {
        unchanged++;
        continue;
      }
      if (storedHash === undefined) added++;
      else updated++;
      writes.push(() => this.#putEndpoint(endpoint, hash));
    }
    let removed = 0;
    for (const id of stored.keys()) {
      if (desired.has(id)) continue;
      removed++;
      writes.push(() => this.#removeEndpoint(id));
    }

    await runBounded(writes, this.#writeConcurrency);
    return { added, updated, removed, unchanged };
  }

  async listEndpoints(): Promise<Endpoint[]> {
    const endpoints: Endpoint[] = [];
    await this.#queryShards(
      'listEndpoints',
      (shard) => ({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': itemKeys.inventoryPartition(shard) },
      }),
      (item) =>
        endpoints.push(
          decodeItem(storedItem.endpoint, item, { operation: 'listEndpoints', key: String(item.pk) })
            .endpoint,
        ),
    );
    return endpoints.sort((a, b) => compareStrings(a.id, b.id));
  }

  async getEndpoint(id: string): Promise<Endpoint | null> {
    const item = await this.#get('getEndpoint', id, itemKeys.endpoint(id));
    return item
      ? decodeItem(storedItem.endpoint, item, { operation: 'getEndpoint', key: id }).endpoint
      : null;
  }

  async #putEndpoint(endpoint: Endpoint, hash: string): Promise<void> {
    await this.#send('syncInventory', endpoint.id, () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...itemKeys.endpoint(endpoint.id), kind: 'endpoint', endpointHash: hash, endpoint },
        }),
      ),
    );
  }

  /** States first, then the endpoint: if this is interrupted, the next sync still sees the endpoint and finishes. */
  async #removeEndpoint(id: string): Promise<void> {
    const states = await this.listAddressStates(id);
    for (const { state } of states) {
      const output = await this.#send('syncInventory', state.key, () =>
        this.#client.send(
          new DeleteCommand({
            TableName: this.#table,
            Key: itemKeys.addressState(state.key),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      await this.#maintainIndexes('syncInventory', state.key, output.Attributes as Item | undefined, null);
    }
    await this.#send('syncInventory', id, () =>
      this.#client.send(new DeleteCommand({ TableName: this.#table, Key: itemKeys.endpoint(id) })),
    );
  }

  // -------------------------------------------------------------------------
  // Address state
  // -------------------------------------------------------------------------

  async getAddressState(
    key: string,
    opts: { readonly eventual?: boolean } = {},
  ): Promise<StoredAddressState | null> {
    const item = await this.#get('getAddressState', key, itemKeys.addressState(key), !opts.eventual);
    return item ? toStoredState(item, 'getAddressState', key) : null;
  }

  async listAddressStates(
    endpointId: string,
    opts: { readonly eventual?: boolean } = {},
  ): Promise<StoredAddressState[]> {
    const pk = itemKeys.addressPartitionOf(endpointId);
    const states: StoredAddressState[] = [];
    await this.#queryAll(
      'listAddressStates',
      endpointId,
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': `${endpointId}|` },
        ...(opts.eventual ? { ConsistentRead: false } : {}),
      },
      (item) => states.push(toStoredState(item, 'listAddressStates', endpointId)),
    );
    return states;
  }

  async listAllAddressStates(): Promise<StoredAddressState[]> {
    const states: StoredAddressState[] = [];
    await this.#queryShards(
      'listAllAddressStates',
      (shard) => ({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': itemKeys.addressPartition(shard) },
      }),
      (item) => states.push(toStoredState(item, 'listAllAddressStates', String(item.pk))),
    );
    return states.sort((a, b) => compareStrings(a.state.key, b.state.key));
  }

  async saveAddressState(
    state: AddressState,
    expectedVersion: number | null,
    opts: { readonly siblings?: number } = {},
  ): Promise<SaveOutcome> {
    // The shard comes from the key, so a key that disagrees with endpointId would be unreachable by listAddressStates.
    if (endpointIdOfKey(state.key) !== state.endpointId) {
      throw new StateStoreError(
        'saveAddressState',
        state.key,
        `key does not belong to endpoint ${JSON.stringify(state.endpointId)}`,
      );
    }
    const version = (expectedVersion ?? 0) + 1;
    const condition = versionCondition(expectedVersion);
    let old: Item | undefined;
    try {
      const output = await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...itemKeys.addressState(state.key),
            kind: 'address',
            endpointId: state.endpointId,
            version,
            state,
          },
          // The old item costs no read units and tells which index items to move.
          ReturnValues: 'ALL_OLD',
          ...condition,
        }),
      );
      old = output.Attributes as Item | undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      throw wrap('saveAddressState', state.key, error);
    }
    await this.#maintainIndexes('saveAddressState', state.key, old, state, opts.siblings);
    return 'saved';
  }

  /**
   * Moves the failing and expiry index items of one address after its state changed from `old`
   * (the raw item the write replaced, if any) to `next` (null: deleted). Writes nothing when
   * neither the failure nor the notAfter changed, except a failing state written by a check
   * (`siblings` given), whose index item is rewritten every time so that one lost to a crash
   * comes back with the next check.
   */
  async #maintainIndexes(
    operation: string,
    key: string,
    old: Item | undefined,
    next: AddressState | null,
    siblings?: number,
  ): Promise<void> {
    const before = indexFacts(old);
    const writes: Array<Promise<unknown>> = [];
    const put = (item: Item) =>
      writes.push(
        this.#send(operation, key, () =>
          this.#client.send(new PutCommand({ TableName: this.#table, Item: item })),
        ),
      );
    const del = (itemKey: { pk: string; sk: string }) =>
      writes.push(
        this.#send(operation, key, () =>
          this.#client.send(new DeleteCommand({ TableName: this.#table, Key: itemKey })),
        ),
      );
    const failing = next !== null && next.consecutiveFailures > 0;
    // A write that is not a check (an outbox write-back, a retirement: no sibling count) leaves the entry
    // of an address that was failing already as its check wrote it.
    const checkWrite = siblings !== undefined || !before?.failing;
    if (failing && checkWrite) {
      put({
        ...itemKeys.failing(key),
        kind: 'failing',
        endpointId: next.endpointId,
        lastSuccessAt: next.lastSuccessAt,
        failingSince: next.failingSince,
        lastCheckedAt: next.lastCheckedAt,
        endpointName: next.endpointName,
        ...(siblings === undefined ? {} : { siblings }),
      });
    } else if (!failing && before?.failing) {
      del(itemKeys.failing(key));
    }
    const oldExpiry = before ? itemKeys.expiry(key, before.notAfter) : null;
    const newExpiry = next ? itemKeys.expiry(key, next.notAfter) : null;
    if (oldExpiry?.sk !== newExpiry?.sk) {
      if (newExpiry) put({ ...newExpiry, kind: 'expiry', key });
      if (oldExpiry) del(oldExpiry);
    }
    await Promise.all(writes);
  }

  async deleteAddressState(key: string, expectedVersion: number): Promise<DeleteOutcome> {
    let old: Item | undefined;
    try {
      const output = await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: itemKeys.addressState(key),
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
          ReturnValues: 'ALL_OLD',
        }),
      );
      old = output.Attributes as Item | undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      throw wrap('deleteAddressState', key, error);
    }
    await this.#maintainIndexes('deleteAddressState', key, old, null);
    return 'deleted';
  }

  get shardCount(): number {
    return INVENTORY_SHARDS;
  }

  shardOfKey(key: string): number {
    return itemKeys.shardOfKey(key);
  }

  async listShardEndpoints(shard: number): Promise<Endpoint[]> {
    const pk = itemKeys.inventoryPartition(shard);
    const endpoints: Endpoint[] = [];
    await this.#queryAll(
      'listShardEndpoints',
      pk,
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': pk },
        Limit: this.#pageSize,
      },
      (item) =>
        endpoints.push(
          decodeItem(storedItem.endpoint, item, { operation: 'listShardEndpoints', key: pk }).endpoint,
        ),
    );
    return endpoints.sort((a, b) => compareStrings(a.id, b.id));
  }

  async listShardAddressStates(shard: number): Promise<StoredAddressState[]> {
    const pk = itemKeys.addressPartition(shard);
    const states: StoredAddressState[] = [];
    await this.#queryAll(
      'listShardAddressStates',
      pk,
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': pk },
        Limit: this.#pageSize,
      },
      (item) => states.push(toStoredState(item, 'listShardAddressStates', pk)),
    );
    return states.sort((a, b) => compareStrings(a.state.key, b.state.key));
  }

  async listFailingAddresses(): Promise<FailingAddress[]> {
    const failing: FailingAddress[] = [];
    await this.#queryShards(
      'listFailingAddresses',
      (shard) => ({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': itemKeys.failingPartition(shard) },
      }),
      (item) => {
        const f = decodeItem(storedItem.failing, item, {
          operation: 'listFailingAddresses',
          key: String(item.pk),
        });
        failing.push({
          key: f.sk,
          endpointId: f.endpointId,
          lastSuccessAt: f.lastSuccessAt,
          failingSince: f.failingSince,
          lastCheckedAt: f.lastCheckedAt,
          ...(f.endpointName === undefined ? {} : { endpointName: f.endpointName }),
          ...(f.siblings === undefined ? {} : { siblings: f.siblings }),
        });
      },
    );
    return failing.sort((a, b) => compareStrings(a.key, b.key));
  }

  async listSoonestAddressStates(limit: number): Promise<StoredAddressState[]> {
    if (!(limit > 0)) return [];
    const entries: string[] = [];
    await Promise.all(
      Array.from({ length: INVENTORY_SHARDS }, (_, shard) => {
        const pk = itemKeys.expiryPartition(shard);
        let taken = 0;
        return this.#queryAll(
          'listSoonestAddressStates',
          pk,
          {
            KeyConditionExpression: '#pk = :pk',
            ProjectionExpression: '#sk',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: { ':pk': pk },
            Limit: Math.min(limit, this.#pageSize ?? limit),
          },
          (item) => {
            if (taken < limit && typeof item.sk === 'string') {
              taken++;
              entries.push(item.sk);
            }
          },
          () => taken >= limit,
        );
      }),
    );
    const soonest = entries.sort(compareStrings).slice(0, limit);
    const keys = soonest.map((sk) => sk.slice(sk.indexOf('#') + 1));
    const states = await mapWithConcurrency(
      keys,
      16,
      (key) => this.getAddressState(key),
      (error) => {
        throw error;
      },
    );
    // An index item left behind by a crash points at a state whose notAfter moved on: skip it.
    return states.filter(
      (s, i): s is StoredAddressState =>
        s !== null && itemKeys.expiry(s.state.key, s.state.notAfter).sk === soonest[i],
    );
  }

  async countAddressStates(): Promise<number> {
    let count = 0;
    await Promise.all(
      Array.from({ length: INVENTORY_SHARDS }, async (_, shard) => {
        const pk = itemKeys.expiryPartition(shard);
        const pages = paginateQuery(
          { client: this.#client },
          {
            TableName: this.#table,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': 'pk' },
            ExpressionAttributeValues: { ':pk': pk },
            Select: 'COUNT',
          },
        );
        try {
          for await (const page of pages) count += page.Count ?? 0;
        } catch (error) {
          throw wrap('countAddressStates', pk, error);
        }
      }),
    );
    return count;
  }

  // -------------------------------------------------------------------------
  // History
  // -------------------------------------------------------------------------

  async appendHistory(result: CheckResult, endpointId: string): Promise<void> {
    const key = addressKey(endpointId, result.address);
    const checkedAtMs = Date.parse(result.checkedAt);
    const baseSeconds = Math.floor(
      (Number.isFinite(checkedAtMs) ? checkedAtMs : this.#now().getTime()) / 1000,
    );
    const digest = createHash('sha256').update(canonicalJson(result)).digest('hex').slice(0, 16);
    await this.#send('appendHistory', key, () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: itemKeys.historyPartition(key),
            sk: `${result.checkedAt}#${digest}`,
            kind: 'history',
            expiresAt: baseSeconds + this.#ttlSeconds,
            result,
          },
        }),
      ),
    );
  }

  async listHistory(key: string, limit: number): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    if (!(limit > 0)) return results;
    const nowSeconds = Math.floor(this.#now().getTime() / 1000);
    await this.#queryAll(
      'listHistory',
      key,
      {
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: '#exp > :now',
        ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
        ExpressionAttributeValues: { ':pk': itemKeys.historyPartition(key), ':now': nowSeconds },
        ScanIndexForward: false,
        Limit: Math.min(limit, this.#pageSize ?? limit),
      },
      (item) => {
        if (results.length < limit) {
          results.push(decodeItem(storedItem.history, item, { operation: 'listHistory', key }).result);
        }
      },
      () => results.length >= limit,
    );
    return results;
  }

  // -------------------------------------------------------------------------
  // Runs
  // -------------------------------------------------------------------------

  async createRun(run: {
    runId: string;
    startedAt: string;
    expected: number;
    deadline?: string;
    addressKeys?: readonly string[];
    dispatchShards?: readonly (readonly number[])[];
  }): Promise<void> {
    const expiresAt = this.#expiresAtFrom(run.startedAt);
    const dispatchShards = run.dispatchShards;
    const expectedShards =
      run.addressKeys === undefined ? undefined : expectedPerShard(run.addressKeys, itemKeys.shardOfKey);
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...itemKeys.run(run.runId),
            kind: 'run',
            runId: run.runId,
            startedAt: run.startedAt,
            expected: run.expected,
            completed: 0,
            shards: RUN_SHARDS,
            ...(expectedShards === undefined ? {} : { expectedShards }),
            ...(dispatchShards === undefined ? {} : { dispatchShards: dispatchShards.length }),
            ...(run.deadline === undefined ? {} : { deadline: run.deadline }),
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new RunExistsError(run.runId, { cause: error });
      throw wrap('createRun', run.runId, error);
    }
    // The counters exist before any message is sent, so a completion of a run that was never created is refused.
    // So do the dispatch shards' items, unrecorded: a shard that never runs leaves its mark.
    const items: Item[] = [
      ...(dispatchShards ?? []).map((partitions, shard) => ({
        ...itemKeys.runDispatchShard(run.runId, shard),
        kind: 'run-dispatch',
        partitions: [...partitions],
      })),
      ...Array.from({ length: RUN_SHARDS }, (_, shard) => ({
        ...itemKeys.runShard(run.runId, shard),
        kind: 'run-shard',
        completed: 0,
        failed: 0,
      })),
    ];
    await runBounded(
      items.map((item) => async () => {
        await this.#send('createRun', run.runId, () =>
          this.#client.send(new PutCommand({ TableName: this.#table, Item: { ...item, expiresAt } })),
        );
      }),
      this.#writeConcurrency,
    );
    await this.#send('createRun', run.runId, () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: itemKeys.runsPartition,
            sk: `${run.startedAt}#${run.runId}`,
            kind: 'run-pointer',
            runId: run.runId,
            expiresAt,
          },
        }),
      ),
    );
  }

  async recordDispatchShard(runId: string, shard: number, addressKeys: readonly string[]): Promise<void> {
    // SET, not ADD: a retried shard replaces its own record rather than counting twice.
    await this.#updateRun(
      'recordDispatchShard',
      runId,
      {
        UpdateExpression: 'SET #e = :e',
        ExpressionAttributeNames: { '#pk': 'pk', '#e': 'expectedShards' },
        ExpressionAttributeValues: { ':e': expectedPerShard(addressKeys, itemKeys.shardOfKey) },
      },
      itemKeys.runDispatchShard(runId, shard),
    );
  }

  /** A sharded dispatch's shard items: the expected checks of each recorded shard, the partitions of the others. */
  async #readDispatchShards(
    runId: string,
  ): Promise<{ recorded: number; expected: number[]; total: number; unrecordedPartitions: number[] }> {
    const expected = new Array<number>(RUN_SHARDS).fill(0);
    const partitions = new Set<number>();
    let recorded = 0;
    let total = 0;
    await this.#queryAll(
      'getRunProgress',
      runId,
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :d)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': itemKeys.run(runId).pk, ':d': DISPATCH_SHARD_PREFIX },
      },
      (item) => {
        const shard = decodeItem(storedItem.runDispatchShard, item, {
          operation: 'getRunProgress',
          key: runId,
        });
        if (shard.expectedShards === undefined) for (const p of shard.partitions) partitions.add(p);
        else {
          recorded++;
          shard.expectedShards.forEach((n, i) => {
            expected[i] = (expected[i] ?? 0) + n;
            total += n;
          });
        }
      },
    );
    return { recorded, expected, total, unrecordedPartitions: [...partitions].sort((a, b) => a - b) };
  }

  async recordCheckCompleted(runId: string, completion?: CheckCompletion): Promise<void> {
    if (completion !== undefined) return this.recordCheckCompletions(runId, [completion]);
    // A completion without its address counts on the run, on no shard.
    await this.#addToCounter('recordCheckCompleted', runId, 0, { completed: 1 }, 1);
  }

  async recordCheckCompletions(runId: string, completions: readonly CheckCompletion[]): Promise<void> {
    const first = completions[0];
    if (first === undefined) return;
    const adds: Record<string, number> = {};
    const add = (name: string, n: number) => {
      adds[name] = (adds[name] ?? 0) + n;
    };
    for (const c of completions) {
      add(shardCountName(itemKeys.shardOfKey(c.key)), 1);
      if (c.failed) add('failed', 1);
      add(daysBucket(c.daysLeft), 1);
    }
    await this.#addToCounter(
      'recordCheckCompletions',
      runId,
      itemKeys.shardOfKey(first.key),
      adds,
      completions.length,
    );
  }

  /**
   * One `ADD` of `adds` to a counter item of the run. Its only condition refuses a run that does
   * not exist; a run recorded before counters were sharded has none and counts on its own item.
   */
  async #addToCounter(
    operation: string,
    runId: string,
    counter: number,
    adds: Readonly<Record<string, number>>,
    total: number,
  ): Promise<void> {
    const names: Record<string, string> = { '#pk': 'pk' };
    const values: Record<string, number> = {};
    const terms = Object.entries(adds).map(([name, n], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = n;
      return `#a${i} :a${i}`;
    });
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: itemKeys.runShard(runId, counter),
          UpdateExpression: `ADD ${terms.join(', ')}`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw wrap(operation, runId, error);
    }
    await this.#updateRun(operation, runId, {
      UpdateExpression: 'ADD #c :n',
      ExpressionAttributeNames: { '#pk': 'pk', '#c': 'completed' },
      ExpressionAttributeValues: { ':n': total },
    });
  }

  async getRunProgress(runId: string): Promise<RunProgress | null> {
    const item = await this.#get('getRunProgress', runId, itemKeys.run(runId));
    if (!item) return null;
    const run = decodeItem(storedItem.run, item, { operation: 'getRunProgress', key: runId });
    const dispatch = run.dispatchShards === undefined ? undefined : await this.#readDispatchShards(runId);
    const expectedShards = dispatch?.expected ?? run.expectedShards;
    if (expectedShards === undefined) return null;
    const counters = [...(await this.#readRunShards(runId, run.shards ?? RUN_SHARDS)).values()];
    let failed = 0;
    let soonest: number | null = null;
    for (const c of counters) {
      failed += c.failed;
      const s = soonestOfBuckets(c.item);
      if (s !== null && (soonest === null || s < soonest)) soonest = s;
    }
    const shards = expectedShards.map((expected, shard) => ({
      shard,
      expected,
      completed: counters.reduce((n, c) => n + numberAttr(c.item, shardCountName(shard)), 0),
    }));
    const planned = run.dispatchShards as number;
    return {
      shards,
      failed,
      soonestDaysLeft: soonest,
      // A shard item lost (a partial createRun) counts as never recorded.
      ...(dispatch && {
        dispatch: {
          shards: planned,
          unrecorded: planned - dispatch.recorded,
          unrecordedPartitions: dispatch.unrecordedPartitions,
        },
      }),
    };
  }

  /** The run's counter items by shard (one BatchGetItem; unprocessed keys retried a bounded number of times). */
  async #readRunShards(
    runId: string,
    shards: number,
  ): Promise<Map<number, { completed: number; failed: number; item: Item }>> {
    const counters = new Map<number, { completed: number; failed: number; item: Item }>();
    let keys: Array<Record<string, unknown>> = Array.from({ length: shards }, (_, shard) =>
      itemKeys.runShard(runId, shard),
    );
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > 5)
        throw new StateStoreError('getRun', runId, 'counter shards left unprocessed five times');
      const output = await this.#send('getRun', runId, () =>
        this.#client.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }),
        ),
      );
      for (const item of output.Responses?.[this.#table] ?? []) {
        const counter = decodeItem(storedItem.runShard, item, { operation: 'getRun', key: runId });
        const shard = Number(String(item.pk).slice(String(item.pk).lastIndexOf('#') + 1));
        let completed = counter.completed ?? 0;
        for (let s = 0; s < INVENTORY_SHARDS; s++) completed += numberAttr(item, shardCountName(s));
        counters.set(shard, { completed, failed: counter.failed ?? 0, item });
      }
      keys =
        (output.UnprocessedKeys?.[this.#table]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
    }
    return counters;
  }

  async finishRun(
    runId: string,
    finishedAt: string,
    outcome?: { readonly verdict: RunVerdict; readonly detectorBroken?: DetectorBroken | null },
  ): Promise<void> {
    const item = await this.#get('finishRun', runId, itemKeys.run(runId));
    if (!item) throw new RunNotFoundError('finishRun', runId);
    // The final count is kept on the run item, so listing judged runs reads no counters.
    const run = decodeItem(storedItem.run, item, { operation: 'finishRun', key: runId });
    const counted = run.shards === undefined ? 0 : sumCompleted(await this.#readRunShards(runId, run.shards));
    const sets = ['#f = if_not_exists(#f, :f)', '#fc = if_not_exists(#fc, :fc)'];
    const names: Record<string, string> = { '#pk': 'pk', '#f': 'finishedAt', '#fc': 'finishedCompleted' };
    const values: Record<string, unknown> = { ':f': finishedAt, ':fc': counted };
    if (run.dispatchShards !== undefined) {
      // A sharded dispatch's expected count lives in its shard items: kept here, as the count is.
      sets.push('#fe = if_not_exists(#fe, :fe)');
      names['#fe'] = 'finishedExpected';
      values[':fe'] = (await this.#readDispatchShards(runId)).total;
    }
    if (outcome !== undefined) {
      sets.push('#v = if_not_exists(#v, :v)');
      names['#v'] = 'verdict';
      values[':v'] = outcome.verdict;
      if (outcome.detectorBroken) {
        sets.push('#db = if_not_exists(#db, :db)');
        names['#db'] = 'detectorBroken';
        values[':db'] = outcome.detectorBroken;
      }
    }
    // First judgement wins: a redelivered or late finish must not move it.
    await this.#updateRun('finishRun', runId, {
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  async markDetectorBroken(mark: DetectorBroken, runId?: string): Promise<string | null> {
    let target = runId ?? null;
    if (target === null) {
      // The newest run pointer: a Query of one item, no run or counter item read.
      await this.#queryAll(
        'markDetectorBroken',
        itemKeys.runsPartition,
        {
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': itemKeys.runsPartition },
          ScanIndexForward: false,
          Limit: 1,
        },
        (item) => {
          target ??= decodeItem(storedItem.runPointer, item, {
            operation: 'markDetectorBroken',
            key: itemKeys.runsPartition,
          }).runId;
        },
        () => target !== null,
      );
    }
    if (target === null) return null;
    // The first mark wins: a retried canary invocation of the same failure keeps the first.
    await this.#updateRun('markDetectorBroken', target, {
      UpdateExpression: 'SET #db = if_not_exists(#db, :db)',
      ExpressionAttributeNames: { '#pk': 'pk', '#db': 'detectorBroken' },
      // A run named by the caller is pinned on the mark, so no later run can be given it by time.
      ExpressionAttributeValues: { ':db': runId === undefined ? mark : { ...mark, runId } },
    });
    return target;
  }

  async extendRunDeadline(runId: string, deadline: string): Promise<void> {
    await this.#updateRun('extendRunDeadline', runId, {
      UpdateExpression: 'SET #d = :d',
      ExpressionAttributeNames: { '#pk': 'pk', '#d': 'deadline' },
      ExpressionAttributeValues: { ':d': deadline },
    });
  }

  async claimRunJudgement(
    runId: string,
    claim: { readonly by: string; readonly now: string; readonly until: string },
  ): Promise<JudgementClaimOutcome> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: itemKeys.run(runId),
          UpdateExpression: 'SET #jb = :by, #ju = :until',
          // ISO timestamps of one format compare as strings.
          ConditionExpression:
            'attribute_exists(#pk) AND attribute_not_exists(#f) AND ' +
            '(attribute_not_exists(#ju) OR #ju <= :now OR #jb = :by)',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#f': 'finishedAt',
            '#jb': 'judgingBy',
            '#ju': 'judgingUntil',
          },
          ExpressionAttributeValues: { ':by': claim.by, ':until': claim.until, ':now': claim.now },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw wrap('claimRunJudgement', runId, error);
    }
    const item = await this.#get('claimRunJudgement', runId, itemKeys.run(runId));
    if (!item) throw new RunNotFoundError('claimRunJudgement', runId);
    return item.finishedAt === undefined || item.finishedAt === null ? 'busy' : 'judged';
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const item = await this.#get('getRun', runId, itemKeys.run(runId));
    if (!item) return null;
    const record = toRunRecord(item, runId);
    const run = decodeItem(storedItem.run, item, { operation: 'getRun', key: runId });
    if (run.shards === undefined) return record;
    const judged = record.finishedAt !== null;
    const sharded =
      run.finishedCompleted !== undefined && judged
        ? run.finishedCompleted
        : sumCompleted(await this.#readRunShards(runId, run.shards));
    const expected =
      run.dispatchShards === undefined
        ? record.expected
        : run.finishedExpected !== undefined && judged
          ? run.finishedExpected
          : (await this.#readDispatchShards(runId)).total;
    return { ...record, expected, completed: record.completed + sharded };
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    if (!(limit > 0)) return runs;
    const runIds: string[] = [];
    await this.#queryAll(
      'listRuns',
      itemKeys.runsPartition,
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': itemKeys.runsPartition },
        ScanIndexForward: false,
        Limit: limit,
      },
      (item) => {
        if (runIds.length < limit) {
          const pointer = decodeItem(storedItem.runPointer, item, {
            operation: 'listRuns',
            key: itemKeys.runsPartition,
          });
          runIds.push(pointer.runId);
        }
      },
      () => runIds.length >= limit,
    );
    const records = await Promise.all(runIds.map((id) => this.getRun(id)));
    // A pointer can outlive its run item by a TTL sweep; skip those.
    for (const record of records) if (record) runs.push(record);
    return runs;
  }

  // -------------------------------------------------------------------------
  // Run lease
  // -------------------------------------------------------------------------

  async acquireRunLease(
    lease: RunLease,
    opts: { readonly now: string; readonly takeOverLive?: boolean },
  ): Promise<AcquireRunLeaseOutcome> {
    // A holder that released between our failed write and our read leaves nothing to report: try again.
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const output = await this.#client.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...itemKeys.runLease, kind: 'run-lease', ...lease },
            ReturnValues: 'ALL_OLD',
            ...(opts.takeOverLive
              ? {}
              : {
                  ConditionExpression: 'attribute_not_exists(#pk) OR #until <= :now',
                  ExpressionAttributeNames: { '#pk': 'pk', '#until': 'until' },
                  ExpressionAttributeValues: { ':now': opts.now },
                }),
          }),
        );
        const old = output.Attributes as Item | undefined;
        return { acquired: true, previous: old ? toRunLease(old, 'acquireRunLease') : null };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw wrap('acquireRunLease', lease.runId, error);
      }
      const holder = await this.getRunLease();
      if (holder) return { acquired: false, holder };
    }
    throw new StateStoreError('acquireRunLease', lease.runId, 'the run lease kept changing hands; try again');
  }

  async renewRunLease(runId: string, until: string): Promise<'renewed' | 'lost'> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: itemKeys.runLease,
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: '#run = :run',
          ExpressionAttributeNames: { '#until': 'until', '#run': 'runId' },
          ExpressionAttributeValues: { ':until': until, ':run': runId },
        }),
      );
      return 'renewed';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'lost';
      throw wrap('renewRunLease', runId, error);
    }
  }

  async releaseRunLease(runId: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: itemKeys.runLease,
          ConditionExpression: '#run = :run',
          ExpressionAttributeNames: { '#run': 'runId' },
          ExpressionAttributeValues: { ':run': runId },
        }),
      );
    } catch (error) {
      // Taken over (or already released): it is not ours to delete.
      if (!isConditionalCheckFailed(error)) throw wrap('releaseRunLease', runId, error);
    }
  }

  async getRunLease(): Promise<RunLease | null> {
    const item = await this.#get('getRunLease', itemKeys.runLease.pk, itemKeys.runLease);
    return item ? toRunLease(item, 'getRunLease') : null;
  }

  async #updateRun(
    operation: string,
    runId: string,
    update: {
      UpdateExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
    /** The item of the run to update. @default the run item */
    key = itemKeys.run(runId),
  ): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          ConditionExpression: 'attribute_exists(#pk)',
          ...update,
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new RunNotFoundError(operation, runId, { cause: error });
      throw wrap(operation, runId, error);
    }
  }

  #expiresAtFrom(iso: string): number {
    const ms = Date.parse(iso);
    return Math.floor((Number.isFinite(ms) ? ms : this.#now().getTime()) / 1000) + this.#ttlSeconds;
  }

  // -------------------------------------------------------------------------
  // Plumbing
  // -------------------------------------------------------------------------

  async #get(
    operation: string,
    key: string,
    itemKey: { pk: string; sk: string },
    consistent = true,
  ): Promise<Item | null> {
    const output = await this.#send(operation, key, () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: itemKey, ConsistentRead: consistent })),
    );
    return (output.Item as Item | undefined) ?? null;
  }

  async #send<T>(operation: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw wrap(operation, key, error);
    }
  }

  /** Every shard's partition, queried in parallel. */
  async #queryShards(
    operation: string,
    input: (shard: number) => Omit<QueryCommandInput, 'TableName'>,
    onItem: (item: Item) => void,
  ): Promise<void> {
    await Promise.all(
      Array.from({ length: INVENTORY_SHARDS }, (_, shard) => {
        const shardInput = input(shard);
        const pk = shardInput.ExpressionAttributeValues?.[':pk'];
        return this.#queryAll(operation, String(pk), { Limit: this.#pageSize, ...shardInput }, onItem);
      }),
    );
  }

  /**
   * Reads the partition page by page (the SDK paginator) until it is exhausted or `done()`.
   * Bounded: a page must advance the key, else we stop with an error rather than loop.
   */
  async #queryAll(
    operation: string,
    key: string,
    input: Omit<QueryCommandInput, 'TableName'>,
    onItem: (item: Item) => void,
    done: () => boolean = () => false,
  ): Promise<void> {
    const pages = paginateQuery(
      { client: this.#client },
      { ...input, TableName: this.#table, ConsistentRead: input.ConsistentRead ?? true },
    );
    let previous = '';
    try {
      for await (const page of pages) {
        for (const item of page.Items ?? []) onItem(item);
        if (!page.LastEvaluatedKey || done()) return;
        const current = JSON.stringify(page.LastEvaluatedKey);
        if (current === previous) {
          throw new StateStoreError(operation, key, `pagination did not advance past ${current}`);
        }
        previous = current;
      }
    } catch (error) {
      throw wrap(operation, key, error);
    }
  }

  // -------------------------------------------------------------------------
  // Delivery records (per alert and channel)
  // -------------------------------------------------------------------------

  async getDelivery(alertId: string, channel: string): Promise<StoredDelivery | null> {
    const key = `${alertId}#${channel}`;
    const item = await this.#get('getDelivery', key, itemKeys.delivery(alertId, channel));
    return item ? toStoredDelivery(item, 'getDelivery', key) : null;
  }

  async listDeliveries(alertId: string): Promise<StoredDelivery[]> {
    const deliveries: StoredDelivery[] = [];
    await this.#queryAll(
      'listDeliveries',
      alertId,
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': itemKeys.deliveryPartition(alertId) },
      },
      (item) => deliveries.push(toStoredDelivery(item, 'listDeliveries', alertId)),
    );
    return deliveries.sort((a, b) => compareStrings(a.record.channel, b.record.channel));
  }

  async saveDelivery(record: DeliveryRecord, expectedVersion: number | null): Promise<SaveOutcome> {
    const key = `${record.alertId}#${record.channel}`;
    const condition = versionCondition(expectedVersion);
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...itemKeys.delivery(record.alertId, record.channel),
            kind: 'delivery',
            version: (expectedVersion ?? 0) + 1,
            expiresAt: this.#expiresAtFrom(record.updatedAt),
            record,
          },
          ...condition,
        }),
      );
      return 'saved';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      throw wrap('saveDelivery', key, error);
    }
  }

  // -------------------------------------------------------------------------
  // Ticket records (per ticket channel and incident)
  // -------------------------------------------------------------------------

  async getTicket(channel: string, incidentKey: string): Promise<StoredTicket | null> {
    const key = `${channel}#${incidentKey}`;
    const { pk, sk } = itemKeys.ticket(channel, incidentKey);
    let found: StoredTicket | null = null;
    // A Query on the full key rather than a GetItem: the notifier is allowed Query and PutItem only.
    await this.#queryAll(
      'getTicket',
      key,
      {
        KeyConditionExpression: '#pk = :pk AND #sk = :sk',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': pk, ':sk': sk },
      },
      (item) => {
        const { record, version } = decodeItem(storedItem.ticket, item, { operation: 'getTicket', key });
        found = { record, version };
      },
    );
    return found;
  }

  async saveTicket(record: TicketRecord, expectedVersion: number | null): Promise<SaveOutcome> {
    const key = `${record.channel}#${record.incidentKey}`;
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...itemKeys.ticket(record.channel, record.incidentKey),
            kind: 'ticket',
            version: (expectedVersion ?? 0) + 1,
            ...(record.state === 'closed' ? { expiresAt: this.#expiresAtFrom(record.updatedAt) } : {}),
            record,
          },
          ...versionCondition(expectedVersion),
        }),
      );
      return 'saved';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      throw wrap('saveTicket', key, error);
    }
  }
}

function toStoredDelivery(item: Item, operation: string, key: string): StoredDelivery {
  const { record, version } = decodeItem(storedItem.delivery, item, { operation, key });
  return { record, version };
}

/**
 * Creates the table (on-demand, `pk`/`sk` strings) if it is missing and waits
 * until it is ACTIVE. For local use (CLI, tests): in AWS the stack owns the
 * table, its TTL setting and its backups.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  // Describing first fails fast on a real error (credentials, endpoint); the waiter below would retry those.
  const status = await describeStatus(client, tableName);
  if (status === 'ACTIVE') return;
  if (status === null) await createTable(client, tableName);
  // The SDK waiter's DynamoDB defaults poll every 20 s at first; dynalite and DynamoDB Local are ACTIVE at once
  // or within a second, so poll from 50 ms, never slower than every 2 s.
  const maxWaitTime = (options.timeoutMs ?? 30_000) / 1000;
  try {
    await waitUntilTableExists(
      { client, maxWaitTime, minDelay: Math.min(0.05, maxWaitTime / 2), maxDelay: 2 },
      { TableName: tableName },
    );
  } catch (error) {
    throw new StateStoreError(
      'ensureTable',
      tableName,
      `table not ACTIVE in time (status ${(await describeStatus(client, tableName)) ?? 'missing'})`,
      { cause: error },
    );
  }
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    // Someone else created it meanwhile: fine, wait for it like for our own.
    if (!(error instanceof ResourceInUseException)) throw wrap('ensureTable', tableName, error);
  }
}

async function describeStatus(client: DynamoDBClient, tableName: string): Promise<string | null> {
  try {
    const output = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return output.Table?.TableStatus ?? null;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || errorName(error) === 'ResourceNotFoundException')
      return null;
    throw wrap('ensureTable', tableName, error);
  }
}

/** Runs tasks with at most `limit` in flight; starts no new one after the first failure, then rethrows it. */
async function runBounded(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let failure: { error: unknown } | null = null;
  await mapWithConcurrency(
    tasks,
    limit,
    async (task) => {
      if (failure === null) await task();
    },
    (error) => {
      failure ??= { error };
    },
  );
  if (failure !== null) throw (failure as { error: unknown }).error;
}

function toStoredState(item: Item, operation: string, key: string): StoredAddressState {
  const { state, version } = decodeItem(storedItem.address, item, { operation, key });
  return { state, version };
}

function toRunRecord(item: Item, runId: string): RunRecord {
  const run = decodeItem(storedItem.run, item, { operation: 'getRun', key: runId });
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    expected: run.expected,
    completed: run.completed,
    finishedAt: run.finishedAt ?? null,
    ...(run.deadline === undefined ? {} : { deadline: run.deadline }),
    ...(run.detectorBroken === undefined ? {} : { detectorBroken: run.detectorBroken }),
    ...(run.verdict === undefined ? {} : { verdict: run.verdict }),
  };
}

/** Attribute of a counter item counting completions of one address shard. */
function shardCountName(shard: number): string {
  return `c${String(shard).padStart(2, '0')}`;
}

function numberAttr(item: Item, name: string): number {
  const v = item[name];
  return typeof v === 'number' ? v : 0;
}

function sumCompleted(counters: ReadonlyMap<number, { completed: number }>): number {
  let sum = 0;
  for (const c of counters.values()) sum += c.completed;
  return sum;
}

/** What the index items of an address depend on, read leniently from the raw old item (null: no old item). */
function indexFacts(old: Item | undefined): { failing: boolean; notAfter: string | null } | null {
  if (!old) return null;
  const state = (old.state ?? {}) as Record<string, unknown>;
  const failures = state.consecutiveFailures;
  return {
    failing: typeof failures === 'number' && failures > 0,
    notAfter: typeof state.notAfter === 'string' ? state.notAfter : null,
  };
}

function toRunLease(item: Item, operation: string): RunLease {
  const { runId, host, pid, acquiredAt, until } = decodeItem(storedItem.runLease, item, {
    operation,
    key: itemKeys.runLease.pk,
  });
  return { runId, host, pid, acquiredAt, until };
}

/** Digest of an endpoint as `syncInventory` compares it (exported for benches that seed a table directly). */
export function endpointHash(endpoint: Endpoint): string {
  return createHash('sha256')
    .update(`${ENDPOINT_FORMAT}\n${canonicalJson(endpoint)}`)
    .digest('base64url');
}

/** JSON with object keys sorted, so equal values always hash alike. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function isConditionalCheckFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

function wrap(operation: string, key: string, error: unknown): StateStoreError {
  if (error instanceof StateStoreError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StateStoreError(operation, key, detail, { cause: error });
}

/**
 * The condition of an optimistic-concurrency put: the item must not exist yet (`expectedVersion`
 * null), or its stored version must still be `expectedVersion`.
 */
function versionCondition(
  expectedVersion: number | null,
): Pick<PutCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  return expectedVersion === null
    ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
    : {
        ConditionExpression: '#v = :expected',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      };
}
