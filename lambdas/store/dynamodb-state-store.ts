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
 * | run           | `RUN#<runId>`       | `RUN`                      | runId, startedAt, expected, completed, finishedAt?, expiresAt |
 * | run lease     | `LEASE`             | `RUN`                      | runId, host, pid, acquiredAt, until (kind run-lease) |
 * | run pointer   | `RUNS`              | `<startedAt>#<runId>`      | runId, expiresAt                              |
 * | delivery      | `DELIVERY#<alertId>`| `<channel>`                | version, record (DeliveryRecord map), expiresAt |
 * | ticket        | `TICKET#<channel>`  | `<incident key>`           | version, record (TicketRecord map), expiresAt once closed |
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
 * The run counter is one item updated with `ADD`; DynamoDB allows ~1,000
 * writes/s on one item, far above the checkers' reserved concurrency. A run
 * item may also carry `deadline` (the run's own deadline) and, while a judge
 * holds the claim to judge it, `judgingBy` and `judgingUntil`. The run lease is
 * one item per table: whoever holds it may run (`acquireRunLease`).
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
import { decodeItem, storedItem } from './stored-items';

/** Number of inventory / address-state partitions. Part of the stored format. */
export const INVENTORY_SHARDS = 16;

const DAY_SECONDS = 86_400;
/** Bumping this rewrites every endpoint item on the next sync (use it when the stored Endpoint shape changes). */
const ENDPOINT_FORMAT = 1;

/** Key builders for every item kind (the layout above), for tools and tests that inspect the table. */
export const itemKeys = {
  shardOf(endpointId: string): string {
    const n = createHash('sha256').update(endpointId).digest().readUInt32BE(0) % INVENTORY_SHARDS;
    return String(n).padStart(2, '0');
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

  // -------------------------------------------------------------------------
  // Inventory
  // -------------------------------------------------------------------------

  async syncInventory(endpoints: readonly Endpoint[]): Promise<InventorySyncResult> {
    const desired = new Map<string, { endpoint: Endpoint; hash: string }>();
    for (const endpoint of endpoints) {
      if (desired.has(endpoint.id)) {
        throw new StateStoreError('syncInventory', endpoint.id, 'duplicate endpoint id in the inventory');
      }
      desired.set(endpoint.id, { endpoint, hash: endpointHash(endpoint) });
    }

    // Only ids and hashes are needed to diff; projecting keeps a 100k read small.
    const stored = new Map<string, string>();
    await this.#queryShards(
      'syncInventory',
      (shard) => ({
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#pk, #sk, #h',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#h': 'endpointHash' },
        ExpressionAttributeValues: { ':pk': itemKeys.inventoryPartition(shard) },
      }),
      (item) => {
        const { sk, endpointHash } = decodeItem(storedItem.endpointDigest, item, {
          operation: 'syncInventory',
          key: String(item.pk),
        });
        stored.set(sk, endpointHash);
      },
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
      await this.#send('syncInventory', state.key, () =>
        this.#client.send(
          new DeleteCommand({ TableName: this.#table, Key: itemKeys.addressState(state.key) }),
        ),
      );
    }
    await this.#send('syncInventory', id, () =>
      this.#client.send(new DeleteCommand({ TableName: this.#table, Key: itemKeys.endpoint(id) })),
    );
  }

  // -------------------------------------------------------------------------
  // Address state
  // -------------------------------------------------------------------------

  async getAddressState(key: string): Promise<StoredAddressState | null> {
    const item = await this.#get('getAddressState', key, itemKeys.addressState(key));
    return item ? toStoredState(item, 'getAddressState', key) : null;
  }

  async listAddressStates(endpointId: string): Promise<StoredAddressState[]> {
    const pk = itemKeys.addressPartitionOf(endpointId);
    const states: StoredAddressState[] = [];
    await this.#queryAll(
      'listAddressStates',
      endpointId,
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': `${endpointId}|` },
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

  async saveAddressState(state: AddressState, expectedVersion: number | null): Promise<SaveOutcome> {
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
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...itemKeys.addressState(state.key),
            kind: 'address',
            endpointId: state.endpointId,
            version,
            state,
          },
          ...condition,
        }),
      );
      return 'saved';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      throw wrap('saveAddressState', state.key, error);
    }
  }

  async deleteAddressState(key: string, expectedVersion: number): Promise<DeleteOutcome> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: itemKeys.addressState(key),
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
      return 'deleted';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      throw wrap('deleteAddressState', key, error);
    }
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
  }): Promise<void> {
    const expiresAt = this.#expiresAtFrom(run.startedAt);
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

  async recordCheckCompleted(runId: string): Promise<void> {
    await this.#updateRun('recordCheckCompleted', runId, {
      UpdateExpression: 'ADD #c :one',
      ExpressionAttributeNames: { '#pk': 'pk', '#c': 'completed' },
      ExpressionAttributeValues: { ':one': 1 },
    });
  }

  async finishRun(runId: string, finishedAt: string): Promise<void> {
    // First judgement wins: a redelivered or late finish must not move it.
    await this.#updateRun('finishRun', runId, {
      UpdateExpression: 'SET #f = if_not_exists(#f, :f)',
      ExpressionAttributeNames: { '#pk': 'pk', '#f': 'finishedAt' },
      ExpressionAttributeValues: { ':f': finishedAt },
    });
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
    return item ? toRunRecord(item, runId) : null;
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
  ): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: itemKeys.run(runId),
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

  async #get(operation: string, key: string, itemKey: { pk: string; sk: string }): Promise<Item | null> {
    const output = await this.#send(operation, key, () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: itemKey, ConsistentRead: true })),
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
      { ...input, TableName: this.#table, ConsistentRead: true },
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
  };
}

function toRunLease(item: Item, operation: string): RunLease {
  const { runId, host, pid, acquiredAt, until } = decodeItem(storedItem.runLease, item, {
    operation,
    key: itemKeys.runLease.pk,
  });
  return { runId, host, pid, acquiredAt, until };
}

function endpointHash(endpoint: Endpoint): string {
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
