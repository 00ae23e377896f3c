/**
 * The StateStore contract, run unchanged against every DynamoDB we support
 * (dynalite in-process, the official DynamoDB Local). A backend is started once
 * per test file; every test gets a fresh table.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addressKey, type Endpoint, type FindingCode } from '../../lambdas/core/model';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import {
  DynamoDbStateStore,
  type DynamoDbStateStoreProps,
  ensureTable,
  itemKeys,
} from '../../lambdas/store/dynamodb-state-store';
import {
  MalformedItemError,
  RunExistsError,
  RunNotFoundError,
  type StateStore,
  StateStoreError,
} from '../../lambdas/store/state-store';
import { planDispatchShards } from '../../lambdas/pipeline/dispatch-plan';
import {
  INVENTORY_PARTITIONS,
  inSegmentRange,
  inventoryPartitionOf,
} from '../../lambdas/store/inventory-partition';
import { FIXTURE_T0 as T0, makeEndpoint, makeResult, makeState } from '../support/dynamodb-store-fixtures';

/** A running DynamoDB-compatible server. */
export interface StoreBackend {
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Skip the whole suite (the caller has already said why). */
  readonly skip?: boolean;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);
const DAY_MS = 86_400_000;

function hosts(count: number, prefix = 'host'): Endpoint[] {
  return Array.from({ length: count }, (_, i) =>
    makeEndpoint(`${prefix}-${String(i).padStart(5, '0')}.example`),
  );
}

function byId(a: Endpoint, b: Endpoint): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** One way an item can be corrupted in the table, and what reading it back must report. */
interface MalformedCase {
  readonly name: string;
  /** Writes a valid item through the store; returns its key. */
  seed(store: StateStore): Promise<{ pk: string; sk: string }>;
  /** Damages the raw item (as DynamoDB returns it) in place. */
  corrupt(item: Record<string, unknown>): void;
  read(store: StateStore): Promise<unknown>;
  readonly expected: { operation: string; key: string; field: string; problem: string };
}

const BAD_ENDPOINT = makeEndpoint('bad.example');
const BAD_STATE = makeState(BAD_ENDPOINT, '192.0.2.66');
const BAD_RESULT = makeResult(BAD_ENDPOINT, '192.0.2.66', T0);
const BAD_RUN = { runId: 'run-bad', startedAt: '2030-03-01T10:00:00.000Z', expected: 2 };
const stateSeed = async (store: StateStore) => {
  await store.saveAddressState(BAD_STATE, null);
  return itemKeys.addressState(BAD_STATE.key);
};
const record = (value: unknown) => value as Record<string, unknown>;

const MALFORMED_CASES: readonly MalformedCase[] = [
  {
    name: 'a threshold that is text, deep in an address state',
    seed: stateSeed,
    corrupt: (item) => {
      record(record(item.state).alerting).thresholdsSent = [30, '14'];
    },
    read: (store) => store.getAddressState(BAD_STATE.key),
    expected: {
      operation: 'getAddressState',
      key: BAD_STATE.key,
      field: 'state.alerting.thresholdsSent[1]',
      problem: 'expected number, got string',
    },
  },
  {
    name: 'an unknown status, in a listing of one endpoint',
    seed: stateSeed,
    corrupt: (item) => {
      record(item.state).status = 'fine';
    },
    read: (store) => store.listAddressStates(BAD_ENDPOINT.id),
    expected: {
      operation: 'listAddressStates',
      key: BAD_ENDPOINT.id,
      field: 'state.status',
      problem: 'got string "fine"',
    },
  },
  {
    name: 'a missing version, in the listing of every state',
    seed: stateSeed,
    corrupt: (item) => {
      delete item.version;
    },
    read: (store) => store.listAllAddressStates(),
    expected: {
      operation: 'listAllAddressStates',
      key: itemKeys.addressPartitionOf(BAD_ENDPOINT.id),
      field: 'version',
      problem: 'expected integer, got nothing',
    },
  },
  {
    name: 'an endpoint without its policy',
    seed: async (store) => {
      await store.syncInventory([BAD_ENDPOINT]);
      return itemKeys.endpoint(BAD_ENDPOINT.id);
    },
    corrupt: (item) => {
      delete record(item.endpoint).policy;
    },
    read: (store) => store.getEndpoint(BAD_ENDPOINT.id),
    expected: {
      operation: 'getEndpoint',
      key: BAD_ENDPOINT.id,
      field: 'endpoint.policy',
      problem: 'expected object, got nothing',
    },
  },
  {
    name: 'an endpoint whose tags are one string, in the inventory listing',
    seed: async (store) => {
      await store.syncInventory([BAD_ENDPOINT]);
      return itemKeys.endpoint(BAD_ENDPOINT.id);
    },
    corrupt: (item) => {
      record(item.endpoint).tags = 'prod';
    },
    read: (store) => store.listEndpoints(),
    expected: {
      operation: 'listEndpoints',
      key: itemKeys.endpoint(BAD_ENDPOINT.id).pk,
      field: 'endpoint.tags',
      problem: 'expected array, got string',
    },
  },
  {
    name: 'an endpoint without its hash, when the inventory is synced',
    seed: async (store) => {
      await store.syncInventory([BAD_ENDPOINT]);
      return itemKeys.endpoint(BAD_ENDPOINT.id);
    },
    corrupt: (item) => {
      delete item.endpointHash;
    },
    read: (store) => store.syncInventory([BAD_ENDPOINT]),
    expected: {
      operation: 'syncInventory',
      key: itemKeys.endpoint(BAD_ENDPOINT.id).pk,
      field: 'endpointHash',
      problem: 'expected string, got nothing',
    },
  },
  {
    name: 'a history entry whose certificate has no fingerprint',
    seed: async (store) => {
      await store.appendHistory(BAD_RESULT, BAD_ENDPOINT.id);
      const pk = itemKeys.historyPartition(BAD_STATE.key);
      return { pk, sk: '' };
    },
    corrupt: (item) => {
      delete record((record(item.result).chain as unknown[])[0]).fingerprintSha256;
    },
    read: (store) => store.listHistory(BAD_STATE.key, 5),
    expected: {
      operation: 'listHistory',
      key: BAD_STATE.key,
      field: 'result.chain[0].fingerprintSha256',
      problem: 'expected string, got nothing',
    },
  },
  {
    name: 'a run whose completed count is text',
    seed: async (store) => {
      await store.createRun(BAD_RUN);
      return itemKeys.run(BAD_RUN.runId);
    },
    corrupt: (item) => {
      item.completed = 'one';
    },
    read: (store) => store.getRun(BAD_RUN.runId),
    expected: {
      operation: 'getRun',
      key: BAD_RUN.runId,
      field: 'completed',
      problem: 'expected number, got string',
    },
  },
  {
    name: 'a run pointer without its run id',
    seed: async (store) => {
      await store.createRun(BAD_RUN);
      return { pk: itemKeys.runsPartition, sk: `${BAD_RUN.startedAt}#${BAD_RUN.runId}` };
    },
    corrupt: (item) => {
      delete item.runId;
    },
    read: (store) => store.listRuns(5),
    expected: {
      operation: 'listRuns',
      key: itemKeys.runsPartition,
      field: 'runId',
      problem: 'expected string, got nothing',
    },
  },
];

// ---------------------------------------------------------------------------
// Contract
// ---------------------------------------------------------------------------

export function defineStateStoreContract(
  name: string,
  startBackend: () => Promise<StoreBackend>,
  options: ContractOptions = {},
): void {
  describe.skipIf(options.skip === true)(name, () => {
    let backend: StoreBackend | undefined;
    let clients: DynamoDbClients | undefined;
    let tableName = '';
    let clock = new Date(T0);
    const commands = new Map<string, number>();
    /** Write units the backend reported (`ReturnConsumedCapacity: TOTAL` on every write); NaN if it reports none. */
    let writeUnits = 0;

    const writes = () =>
      [...commands].reduce((n, [command, count]) => n + (WRITE_COMMANDS.has(command) ? count : 0), 0);
    const calls = (command: string) => commands.get(command) ?? 0;
    const docClient = () => {
      if (!clients) throw new Error('backend not started');
      return clients.documentClient;
    };
    const newStore = (props: Partial<Omit<DynamoDbStateStoreProps, 'client' | 'tableName'>> = {}) =>
      new DynamoDbStateStore({ client: docClient(), tableName, now: () => clock, ...props });

    beforeAll(async () => {
      backend = await startBackend();
      clients = createDocumentClient(backend.endpoint);
      // Counts every command that reaches the wire, so "zero writes" is observed rather than assumed.
      clients.client.middlewareStack.add(
        (next, context) => (args) => {
          const command = String(context.commandName);
          commands.set(command, (commands.get(command) ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize', name: 'certwatchCommandCounter' },
      );
      clients.client.middlewareStack.add(
        (next, context) => async (args) => {
          const write = WRITE_COMMANDS.has(String(context.commandName));
          if (write) (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
          const out = await next(args);
          if (write) {
            const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } })
              .ConsumedCapacity;
            writeUnits += consumed?.CapacityUnits ?? Number.NaN;
          }
          return out;
        },
        { step: 'initialize', name: 'certwatchWriteUnits' },
      );
    });

    afterAll(async () => {
      clients?.destroy();
      await backend?.close();
    });

    beforeEach(async () => {
      tableName = `certwatch-test-${randomUUID()}`;
      clock = new Date(T0);
      await ensureTable(clients!.client, tableName);
      commands.clear();
      writeUnits = 0;
    });

    describe('inventory', () => {
      it('adds endpoints and lists them back exactly', async () => {
        // Prepare
        const store = newStore();
        const endpoints = [
          makeEndpoint('b.example', { owner: 'team-b', tags: ['prod', 'eu'], channels: ['ops-slack'] }),
          makeEndpoint('a.example', { name: 'Alpha', timeoutMs: 2_500 }),
          makeEndpoint('c.example', { port: 8443, id: 'c.example:8443' }),
        ];

        // Act
        const result = await store.syncInventory(endpoints);

        // Assess
        expect(result).toEqual({ added: 3, updated: 0, removed: 0, unchanged: 0 });
        expect(await store.listEndpoints()).toEqual([...endpoints].sort(byId));
        expect(await store.getEndpoint('b.example:443')).toEqual(endpoints[0]);
        expect(await store.getEndpoint('missing.example:443')).toBeNull();
      });

      it('adds, updates, removes and keeps endpoints, writing only what changed', async () => {
        // Prepare
        const store = newStore();
        const [keep, change, drop] = [
          makeEndpoint('keep.example'),
          makeEndpoint('change.example'),
          makeEndpoint('drop.example'),
        ];
        await store.syncInventory([keep, change, drop]);
        commands.clear();
        const changed = makeEndpoint('change.example', {
          policy: { ...change.policy, thresholdsDays: [21, 7] },
        });
        const added = makeEndpoint('new.example');

        // Act
        const result = await store.syncInventory([keep, changed, added]);

        // Assess
        expect(result).toEqual({ added: 1, updated: 1, removed: 1, unchanged: 1 });
        expect(calls('PutItemCommand')).toBe(2);
        expect(calls('DeleteItemCommand')).toBe(1);
        expect(await store.listEndpoints()).toEqual([changed, keep, added]);
      });

      it('does no writes at all when nothing changed', async () => {
        // Prepare
        const store = newStore();
        const endpoints = hosts(40);
        await store.syncInventory(endpoints);
        commands.clear();

        // Act: same content, different order and freshly built objects
        const result = await store.syncInventory(hosts(40).reverse());

        // Assess
        expect(result).toEqual({ added: 0, updated: 0, removed: 0, unchanged: 40 });
        expect(writes()).toBe(0);
        expect(calls('QueryCommand')).toBeGreaterThan(0);
      });

      it('treats a change in key order as no change, and a change in tag order as a change', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('tags.example', { tags: ['a', 'b'] });
        await store.syncInventory([endpoint]);
        const reordered = Object.fromEntries(Object.entries(endpoint).reverse()) as unknown as Endpoint;

        // Act
        const sameContent = await store.syncInventory([reordered]);
        const retagged = await store.syncInventory([{ ...endpoint, tags: ['b', 'a'] }]);

        // Assess
        expect(sameContent.unchanged).toBe(1);
        expect(retagged.updated).toBe(1);
        expect((await store.getEndpoint(endpoint.id))?.tags).toEqual(['b', 'a']);
      });

      it('removes the address states of a removed endpoint and keeps the others', async () => {
        // Prepare
        const store = newStore();
        const gone = makeEndpoint('gone.example');
        const stays = makeEndpoint('stays.example');
        await store.syncInventory([gone, stays]);
        const goneStates = [
          makeState(gone, '192.0.2.1'),
          makeState(gone, '2001:db8::1'),
          makeState(gone, null),
        ];
        for (const state of goneStates) expect(await store.saveAddressState(state, null)).toBe('saved');
        const kept = makeState(stays, '192.0.2.9');
        await store.saveAddressState(kept, null);

        // Act
        const result = await store.syncInventory([stays]);

        // Assess
        expect(result).toEqual({ added: 0, updated: 0, removed: 1, unchanged: 1 });
        expect(await store.listAddressStates(gone.id)).toEqual([]);
        for (const state of goneStates) expect(await store.getAddressState(state.key)).toBeNull();
        expect(await store.getEndpoint(gone.id)).toBeNull();
        expect(await store.listAllAddressStates()).toEqual([{ state: kept, version: 1 }]);
      });

      it('rejects an inventory with a duplicated endpoint id', async () => {
        // Prepare
        const store = newStore();

        // Act
        const sync = store.syncInventory([makeEndpoint('dup.example'), makeEndpoint('dup.example')]);

        // Assess
        await expect(sync).rejects.toThrow(StateStoreError);
        expect(writes()).toBe(0);
      });

      // The largest case of the suite; a generous timeout for a busy machine (this is no timing assertion).
      it('pages through large inventories (1,200 endpoints, 50 per page)', { timeout: 90_000 }, async () => {
        // Prepare
        const store = newStore({ queryPageSize: 50 });
        const endpoints = hosts(1_200);

        // Act
        const first = await store.syncInventory(endpoints);
        commands.clear();
        const listed = await store.listEndpoints();
        const pagesRead = calls('QueryCommand');
        const second = await store.syncInventory(endpoints);

        // Assess
        expect(first).toEqual({ added: 1_200, updated: 0, removed: 0, unchanged: 0 });
        expect(listed).toEqual(endpoints);
        // 16 shards of ~75 items at 50 per page: at least one extra page per shard.
        expect(pagesRead).toBeGreaterThanOrEqual(1_200 / 50);
        expect(second).toEqual({ added: 0, updated: 0, removed: 0, unchanged: 1_200 });
        expect(writes()).toBe(0);
      });
      it('syncs only the key ranges of a dispatch shard: its endpoints added, updated and removed, the others untouched', async () => {
        // Prepare: 60 endpoints stored; the plan cuts them into shards of at most 25
        const store = newStore();
        const all = hosts(60, 'seg');
        await store.syncInventory(all);
        const plan = planDispatchShards(all, inventoryPartitionOf, INVENTORY_PARTITIONS, 25);
        const shard = plan.find((p) => p.endpoints.length >= 3) as (typeof plan)[number];
        const [dropped, changed, ...kept] = shard.endpoints as Endpoint[];
        const edited = { ...(changed as Endpoint), owner: 'team-new' };
        const added = hosts(200, 'new').find((e) =>
          shard.segments.some((s) => s.partition === inventoryPartitionOf(e.id) && inSegmentRange(s, e.id)),
        ) as Endpoint;
        commands.clear();

        // Act
        const result = await store.syncInventory([edited, ...kept, added], { segments: shard.segments });

        // Assess: the other shards' endpoints were neither read as removed nor touched
        expect(result).toEqual({ added: 1, updated: 1, removed: 1, unchanged: kept.length });
        const stored = await store.listEndpoints();
        expect(stored).toHaveLength(60);
        expect(stored.map((e) => e.id)).not.toContain((dropped as Endpoint).id);
        expect(stored).toContainEqual(edited);
        expect(stored).toContainEqual(added);
        const inShard = new Set(shard.endpoints.map((e) => e.id));
        expect(stored.filter((e) => !inShard.has(e.id) && e.id !== added.id)).toEqual(
          all.filter((e) => !inShard.has(e.id)).sort(byId),
        );
      });

      it('covers every stored endpoint with exactly one shard of the plan, so a sync of every shard equals a whole sync', async () => {
        // Prepare: 90 stored, of which 10 leave the inventory
        const store = newStore();
        const all = hosts(90, 'cover');
        await store.syncInventory(all);
        const next = all.slice(10);
        const plan = planDispatchShards(next, inventoryPartitionOf, INVENTORY_PARTITIONS, 20);

        // Act
        const results = [];
        for (const shard of plan)
          results.push(await store.syncInventory(shard.endpoints, { segments: shard.segments }));

        // Assess
        expect(plan.length).toBeGreaterThan(1);
        expect(results.reduce((n, r) => n + r.removed, 0)).toBe(10);
        expect(results.reduce((n, r) => n + r.unchanged, 0)).toBe(80);
        expect((await store.listEndpoints()).map((e) => e.id)).toEqual(next.map((e) => e.id).sort());
      });
    });

    describe('address state', () => {
      it('creates, updates with the current version, and reports conflicts on stale or double writes', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('state.example');
        const v1 = makeState(endpoint, '192.0.2.10');
        const v2 = makeState(endpoint, '192.0.2.10', {
          status: 'warning',
          daysLeft: 20,
          consecutiveFailures: 1,
        });
        const stale = makeState(endpoint, '192.0.2.10', { status: 'expired' });

        // Act
        const created = await store.saveAddressState(v1, null);
        const createdAgain = await store.saveAddressState(v1, null);
        const updated = await store.saveAddressState(v2, 1);
        const staleWrite = await store.saveAddressState(stale, 1);

        // Assess
        expect([created, createdAgain, updated, staleWrite]).toEqual([
          'saved',
          'conflict',
          'saved',
          'conflict',
        ]);
        expect(await store.getAddressState(v1.key)).toEqual({ state: v2, version: 2 });
        expect(await store.getAddressState(addressKey(endpoint.id, '192.0.2.99'))).toBeNull();
      });

      it('deletes a state only at the expected version', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('retire.example');
        const state = makeState(endpoint, '192.0.2.20');
        await store.saveAddressState(state, null);
        await store.saveAddressState({ ...state, consecutiveFailures: 1 }, 1);

        // Act
        const stale = await store.deleteAddressState(state.key, 1);
        const current = await store.deleteAddressState(state.key, 2);
        const again = await store.deleteAddressState(state.key, 2);

        // Assess
        expect([stale, current, again]).toEqual(['conflict', 'deleted', 'conflict']);
        expect(await store.getAddressState(state.key)).toBeNull();
        expect(await store.listAddressStates(endpoint.id)).toEqual([]);
      });

      it('lets exactly one of two concurrent writers of the same version win', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('race.example');
        const first = makeState(endpoint, null, { lastRunId: 'run-a' });
        const second = makeState(endpoint, null, { lastRunId: 'run-b' });

        // Act
        const creates = await Promise.all([
          store.saveAddressState(first, null),
          store.saveAddressState(second, null),
        ]);
        const stored = await store.getAddressState(first.key);
        const updates = await Promise.all([
          store.saveAddressState({ ...first, consecutiveFailures: 1 }, 1),
          store.saveAddressState({ ...second, consecutiveFailures: 2 }, 1),
        ]);

        // Assess
        expect([...creates].sort()).toEqual(['conflict', 'saved']);
        expect(stored?.version).toBe(1);
        expect(stored?.state.lastRunId).toBe(creates[0] === 'saved' ? 'run-a' : 'run-b');
        expect([...updates].sort()).toEqual(['conflict', 'saved']);
        const after = await store.getAddressState(first.key);
        expect(after?.version).toBe(2);
        expect(after?.state.consecutiveFailures).toBe(updates[0] === 'saved' ? 1 : 2);
      });

      it('lists the states of one endpoint only, even when another id extends it', async () => {
        // Prepare
        const store = newStore();
        const short = makeEndpoint('prefix.example');
        const long = makeEndpoint('prefix.example', { id: 'prefix.example:4430', port: 4430 });
        const shortStates = [makeState(short, '192.0.2.1'), makeState(short, '192.0.2.2')];
        const longState = makeState(long, '192.0.2.1');
        for (const state of [...shortStates, longState]) await store.saveAddressState(state, null);

        // Act
        const listed = await store.listAddressStates(short.id);
        const all = await store.listAllAddressStates();

        // Assess
        expect(listed).toEqual(shortStates.map((state) => ({ state, version: 1 })));
        // An eventually consistent read (the watchdog's) lists the same states.
        expect(await store.listAddressStates(short.id, { eventual: true })).toEqual(listed);
        expect(all.map((s) => s.state.key)).toEqual([...shortStates, longState].map((s) => s.key).sort());
      });

      it('refuses a state whose key does not belong to its endpoint', async () => {
        // Prepare
        const store = newStore();
        const state = { ...makeState(makeEndpoint('a.example'), null), key: 'b.example:443|dns' };

        // Act
        const save = store.saveAddressState(state, null);

        // Assess
        await expect(save).rejects.toThrow(StateStoreError);
        expect(writes()).toBe(0);
      });

      it('round-trips nulls, empty arrays, empty strings, floats and untrusted text exactly', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('roundtrip.example');
        const openProblems: FindingCode[] = ['HOSTNAME_MISMATCH', 'UNTRUSTED_CHAIN'];
        const state = makeState(endpoint, '2001:db8::42', {
          status: 'error',
          daysLeft: -3,
          notAfter: null,
          fingerprint: null,
          issuer: '',
          findings: [
            { code: 'HANDSHAKE_FAILED', severity: 'critical', message: 'ümlaut \u0000 <script> "quoted" 🔒' },
            { code: 'WEAK_KEY', severity: 'warning', message: '', certIndex: 2 },
          ],
          lastSuccessAt: null,
          consecutiveFailures: 3,
          failingSince: '2030-02-27T00:00:00.000Z',
          alerting: {
            fingerprint: 'EF'.repeat(32),
            thresholdsSent: [30, 14, 7.5],
            lastNotifiedAt: null,
            errorAlerted: true,
            openProblems,
            divergenceKey: null,
          },
          lastRunId: 'run-0.1',
        });
        const endpointWithFloats = makeEndpoint('floats.example', {
          policy: {
            thresholdsDays: [],
            expiry: { warnDays: 0.5, criticalDays: 0.25 },
            failuresBeforeAlert: 1,
            renotifyIntervalMs: 1.5,
          },
          tags: [''],
        });

        // Act
        await store.saveAddressState(state, null);
        await store.syncInventory([endpointWithFloats]);

        // Assess
        expect(await store.getAddressState(state.key)).toStrictEqual({ state, version: 1 });
        expect(await store.getEndpoint(endpointWithFloats.id)).toStrictEqual(endpointWithFloats);
      });
    });

    describe('history', () => {
      it('lists an address history newest first, up to the limit, exactly as appended', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('hist.example');
        const results = [0, 1, 2].map((day) => makeResult(endpoint, '192.0.2.7', T0 + day * DAY_MS));
        const other = makeResult(endpoint, '192.0.2.8', T0 + 5 * DAY_MS);
        for (const result of [...results, other]) await store.appendHistory(result, endpoint.id);

        // Act
        const newestTwo = await store.listHistory(addressKey(endpoint.id, '192.0.2.7'), 2);
        const all = await store.listHistory(addressKey(endpoint.id, '192.0.2.7'), 10);

        // Assess
        expect(newestTwo).toStrictEqual([results[2], results[1]]);
        expect(all).toStrictEqual([results[2], results[1], results[0]]);
        expect(await store.listHistory(addressKey(endpoint.id, '192.0.2.8'), 10)).toStrictEqual([other]);
        expect(await store.listHistory(addressKey(endpoint.id, '192.0.2.7'), 0)).toEqual([]);
      });

      it('stamps expiresAt at checkedAt plus the TTL and hides entries past it', async () => {
        // Prepare
        const store = newStore({ historyTtlDays: 30 });
        const endpoint = makeEndpoint('ttl.example');
        const old = makeResult(endpoint, null, T0);
        const recent = makeResult(endpoint, null, T0 + 20 * DAY_MS);
        await store.appendHistory(old, endpoint.id);
        await store.appendHistory(recent, endpoint.id);
        const key = addressKey(endpoint.id, null);

        // Act
        const raw = await docClient().send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': itemKeys.historyPartition(key) },
          }),
        );
        clock = new Date(T0 + 31 * DAY_MS);
        const afterOldExpired = await store.listHistory(key, 10);

        // Assess
        expect(raw.Items?.map((item) => item.expiresAt)).toEqual([
          Math.floor(T0 / 1000) + 30 * 86_400,
          Math.floor(T0 / 1000) + 50 * 86_400,
        ]);
        expect(afterOldExpired).toStrictEqual([recent]);
      });

      it('does not duplicate a redelivered check', async () => {
        // Prepare
        const store = newStore();
        const endpoint = makeEndpoint('redelivered.example');
        const result = makeResult(endpoint, '192.0.2.3', T0);

        // Act
        await store.appendHistory(result, endpoint.id);
        await store.appendHistory({ ...result }, endpoint.id);

        // Assess
        expect(await store.listHistory(addressKey(endpoint.id, '192.0.2.3'), 10)).toHaveLength(1);
      });
    });

    describe('runs', () => {
      it('creates a run and refuses a duplicated dispatch of the same run id', async () => {
        // Prepare
        const store = newStore();
        const run = { runId: 'run-1', startedAt: '2030-03-01T10:00:00.000Z', expected: 3 };
        await store.createRun(run);

        // Act
        const duplicate = store.createRun({ ...run, expected: 99 });

        // Assess
        await expect(duplicate).rejects.toThrow(RunExistsError);
        expect(await store.getRun('run-1')).toStrictEqual({ ...run, completed: 0, finishedAt: null });
        expect(await store.getRun('run-missing')).toBeNull();
      });

      it('counts concurrent completions without losing any', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-c', startedAt: '2030-03-01T10:00:00.000Z', expected: 20 });

        // Act
        await Promise.all(Array.from({ length: 20 }, () => store.recordCheckCompleted('run-c')));

        // Assess
        expect((await store.getRun('run-c'))?.completed).toBe(20);
      });

      it('refuses to count or finish a run that does not exist, without creating it', async () => {
        // Prepare
        const store = newStore();

        // Act: each call awaited in turn, so no rejection is ever left unhandled
        const record = await store.recordCheckCompleted('run-ghost').catch((error: unknown) => error);
        const finish = await store
          .finishRun('run-ghost', '2030-03-01T11:00:00.000Z')
          .catch((error: unknown) => error);

        // Assess
        expect(record).toBeInstanceOf(RunNotFoundError);
        expect(finish).toBeInstanceOf(RunNotFoundError);
        expect(await store.getRun('run-ghost')).toBeNull();
      });

      it('keeps the first finishedAt', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-f', startedAt: '2030-03-01T10:00:00.000Z', expected: 1 });

        // Act
        await store.finishRun('run-f', '2030-03-01T10:05:00.000Z');
        await store.finishRun('run-f', '2030-03-01T12:00:00.000Z');

        // Assess
        expect((await store.getRun('run-f'))?.finishedAt).toBe('2030-03-01T10:05:00.000Z');
      });

      it('keeps the first verdict and canary failure a judge records', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-v', startedAt: '2030-03-01T10:00:00.000Z', expected: 1 });
        const broken = {
          at: '2030-03-01T10:00:01.000Z',
          fixture: 'expired',
          judged: 'ok (no findings)',
          expected: 'expired (EXPIRED)',
          reason: 'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)',
        };

        // Act
        await store.finishRun('run-v', '2030-03-01T10:20:00.000Z', {
          verdict: 'failed',
          detectorBroken: broken,
        });
        await store.finishRun('run-v', '2030-03-01T12:00:00.000Z', {
          verdict: 'complete',
          detectorBroken: null,
        });

        // Assess
        expect(await store.getRun('run-v')).toMatchObject({
          finishedAt: '2030-03-01T10:20:00.000Z',
          verdict: 'failed',
          detectorBroken: broken,
        });
      });

      it('records a canary failure on the named run or the newest one, the first mark winning', async () => {
        // Prepare
        const store = newStore();
        const mark = (at: string, fixture: string) => ({
          at,
          fixture,
          judged: 'ok (no findings)',
          expected: 'critical (SELF_SIGNED)',
          reason: `the detector is broken: ${fixture} was judged ok`,
        });
        const none = await store.markDetectorBroken(mark('2030-03-01T09:00:00.000Z', 'expired'));
        await store.createRun({ runId: 'run-old', startedAt: '2030-03-01T10:00:00.000Z', expected: 1 });
        await store.createRun({ runId: 'run-new', startedAt: '2030-03-01T16:00:00.000Z', expected: 1 });

        // Act
        const newest = await store.markDetectorBroken(mark('2030-03-01T16:00:01.000Z', 'self-signed'));
        const again = await store.markDetectorBroken(mark('2030-03-01T16:00:09.000Z', 'malformed'));
        const named = await store.markDetectorBroken(mark('2030-03-01T10:00:01.000Z', 'expired'), 'run-old');
        const ghost = await store
          .markDetectorBroken(mark('2030-03-01T10:00:01.000Z', 'expired'), 'run-ghost')
          .catch((error: unknown) => error);

        // Assess
        expect([none, newest, again, named]).toEqual([null, 'run-new', 'run-new', 'run-old']);
        expect((await store.getRun('run-new'))?.detectorBroken).toEqual(
          mark('2030-03-01T16:00:01.000Z', 'self-signed'),
        );
        expect((await store.getRun('run-old'))?.detectorBroken).toEqual({
          ...mark('2030-03-01T10:00:01.000Z', 'expired'),
          runId: 'run-old',
        });
        expect(ghost).toBeInstanceOf(RunNotFoundError);
        expect(await store.getRun('run-ghost')).toBeNull();
      });

      it('lists the most recent runs newest first', async () => {
        // Prepare
        const store = newStore();
        const starts = ['2030-03-01T10:00:00.000Z', '2030-03-03T10:00:00.000Z', '2030-03-02T10:00:00.000Z'];
        for (const [i, startedAt] of starts.entries()) {
          await store.createRun({ runId: `run-${i}`, startedAt, expected: i });
        }
        await store.recordCheckCompleted('run-1');

        // Act
        const recent = await store.listRuns(2);
        const all = await store.listRuns(10);

        // Assess
        expect(recent).toStrictEqual([
          { runId: 'run-1', startedAt: starts[1], expected: 1, completed: 1, finishedAt: null },
          { runId: 'run-2', startedAt: starts[2], expected: 2, completed: 0, finishedAt: null },
        ]);
        expect(all.map((r) => r.runId)).toEqual(['run-1', 'run-2', 'run-0']);
      });
    });

    describe('run counter shards', () => {
      const endpoints = hosts(40);
      const keys = endpoints.map((e) => addressKey(e.id, '192.0.2.1'));

      it('sums completions over the counters, per address shard against what was dispatched to it', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({
          runId: 'run-s',
          startedAt: '2030-03-01T10:00:00.000Z',
          expected: 40,
          addressKeys: keys,
        });
        const done = keys.slice(0, 37);

        // Act: 37 of 40 complete, concurrently; three of them failed; days left 5 and 40
        await Promise.all(
          done.map((key, i) =>
            store.recordCheckCompleted('run-s', { key, daysLeft: i === 3 ? 5 : 40, failed: i < 3 }),
          ),
        );
        const progress = await store.getRunProgress('run-s');
        const run = await store.getRun('run-s');

        // Assess
        const shards = progress?.shards ?? [];
        expect(shards).toHaveLength(store.shardCount);
        expect(shards.reduce((n, s) => n + s.expected, 0)).toBe(40);
        expect(shards.reduce((n, s) => n + s.completed, 0)).toBe(37);
        expect(progress?.failed).toBe(3);
        expect(progress?.soonestDaysLeft).toBe(5);
        expect(run?.completed).toBe(37);
        const short = shards.filter((s) => s.completed < s.expected).map((s) => s.shard);
        expect(short.sort()).toEqual([...new Set(keys.slice(37).map((k) => store.shardOfKey(k)))].sort());
        for (const s of shards) {
          expect(s.expected).toBe(keys.filter((k) => store.shardOfKey(k) === s.shard).length);
        }
      });

      it('counts a batch of completions in one write of one write unit', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({
          runId: 'run-b',
          startedAt: '2030-03-01T10:00:00.000Z',
          expected: 40,
          addressKeys: keys,
        });
        const batch = keys.slice(0, 10).map((key, i) => ({ key, daysLeft: 30 + i, failed: i === 9 }));
        commands.clear();
        writeUnits = 0;

        // Act
        await store.recordCheckCompletions('run-b', batch);
        await store.recordCheckCompletions('run-b', []);

        // Assess
        expect(writes()).toBe(1);
        if (!Number.isNaN(writeUnits)) expect(writeUnits).toBe(1);
        const progress = await store.getRunProgress('run-b');
        expect(progress?.shards.reduce((n, s) => n + s.completed, 0)).toBe(10);
        expect(progress).toMatchObject({ failed: 1, soonestDaysLeft: 30 });
        expect((await store.getRun('run-b'))?.completed).toBe(10);
        await expect(store.recordCheckCompletions('run-ghost', batch)).rejects.toThrow(RunNotFoundError);
      });

      it('has no shards for a run recorded without its address keys, and still counts it', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-k', startedAt: '2030-03-01T10:00:00.000Z', expected: 2 });

        // Act
        await store.recordCheckCompleted('run-k', { key: keys[0] ?? '', daysLeft: 3, failed: false });
        await store.recordCheckCompleted('run-k');

        // Assess
        expect(await store.getRunProgress('run-k')).toBeNull();
        expect(await store.getRunProgress('run-none')).toBeNull();
        expect((await store.getRun('run-k'))?.completed).toBe(2);
      });

      it('keeps the count at the judgement in the run, and never counts on one hot item', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({
          runId: 'run-j',
          startedAt: '2030-03-01T10:00:00.000Z',
          expected: 40,
          addressKeys: keys,
        });
        await Promise.all(
          keys.map((key) => store.recordCheckCompleted('run-j', { key, daysLeft: 9, failed: false })),
        );
        const run = await docClient().send(
          new GetCommand({ TableName: tableName, Key: itemKeys.run('run-j') }),
        );

        // Act
        await store.finishRun('run-j', '2030-03-01T11:00:00.000Z');
        commands.clear();
        const judged = await store.getRun('run-j');

        // Assess: the run item itself was never counted on; the judged run reads one item
        expect(run.Item?.completed).toBe(0);
        expect(judged).toMatchObject({ completed: 40, finishedAt: '2030-03-01T11:00:00.000Z' });
        expect(calls('BatchGetItemCommand')).toBe(0);
      });
    });

    describe('runs dispatched in shards', () => {
      const endpoints = hosts(30, 'shard');
      const keys = endpoints.map((e) => addressKey(e.id, '192.0.2.1'));
      const partitions = (list: readonly string[]) =>
        [...new Set(list.map((k) => itemKeys.shardOfKey(k)))].sort((a, b) => a - b);

      it('sums the recorded shards, replaces a retried shard record, and names the partitions of one never recorded', async () => {
        // Prepare: three shards of 10 addresses; shard 1 recorded twice (a retry), shard 2 never
        const store = newStore();
        const shardKeys = [keys.slice(0, 10), keys.slice(10, 20), keys.slice(20)];
        await store.createRun({
          runId: 'run-d',
          startedAt: '2030-03-01T10:00:00.000Z',
          expected: 0,
          dispatchShards: shardKeys.map(partitions),
        });

        // Act
        await store.recordDispatchShard('run-d', 0, shardKeys[0] as string[]);
        await store.recordDispatchShard('run-d', 1, [
          ...(shardKeys[1] as string[]),
          'extra.example:443|192.0.2.9',
        ]);
        await store.recordDispatchShard('run-d', 1, shardKeys[1] as string[]);
        await store.recordCheckCompletions(
          'run-d',
          keys.slice(0, 20).map((key) => ({ key, daysLeft: 40, failed: false })),
        );
        const progress = await store.getRunProgress('run-d');
        const run = await store.getRun('run-d');
        // Settled here, so neither rejection is unhandled while the other is awaited.
        const [unknown, noRun] = await Promise.allSettled([
          store.recordDispatchShard('run-d', 3, []),
          store.recordDispatchShard('run-none', 0, []),
        ]);

        // Assess
        expect(progress?.dispatch).toEqual({
          shards: 3,
          unrecorded: 1,
          unrecordedPartitions: partitions(shardKeys[2] as string[]),
        });
        expect(progress?.shards.reduce((n, s) => n + s.expected, 0)).toBe(20);
        expect(progress?.shards.every((s) => s.completed === s.expected)).toBe(true);
        expect(run).toMatchObject({ expected: 20, completed: 20 });
        expect(unknown.status === 'rejected' && unknown.reason).toBeInstanceOf(RunNotFoundError);
        expect(noRun.status === 'rejected' && noRun.reason).toBeInstanceOf(RunNotFoundError);
      });

      it('keeps the expected count at the judgement in the run', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({
          runId: 'run-j',
          startedAt: '2030-03-01T10:00:00.000Z',
          expected: 0,
          dispatchShards: [partitions(keys)],
        });
        await store.recordDispatchShard('run-j', 0, keys);
        await store.finishRun('run-j', '2030-03-01T12:00:00.000Z', { verdict: 'incomplete' });
        commands.clear();

        // Act
        const run = await store.getRun('run-j');

        // Assess: read from the run item alone
        expect(run).toMatchObject({ expected: 30, completed: 0, verdict: 'incomplete' });
        expect(calls('QueryCommand')).toBe(0);
      });
    });

    describe('failing and expiry indexes', () => {
      const endpoint = makeEndpoint('idx.example');
      const failingState = (address: string, at: string) =>
        makeState(endpoint, address, {
          status: 'error',
          consecutiveFailures: 2,
          failingSince: at,
          lastCheckedAt: at,
          lastSuccessAt: '2030-02-01T00:00:00.000Z',
        });

      it('lists an address while its state is failing, and no longer once it recovers or is deleted', async () => {
        // Prepare
        const store = newStore();
        const a = failingState('192.0.2.1', '2030-03-01T09:00:00.000Z');
        const b = failingState('192.0.2.2', '2030-03-01T09:00:00.000Z');
        await store.saveAddressState(a, null, { siblings: 1 });
        await store.saveAddressState(b, null);
        const listed = await store.listFailingAddresses();

        // Act
        await store.saveAddressState({ ...a, status: 'ok', consecutiveFailures: 0, failingSince: null }, 1);
        await store.deleteAddressState(b.key, 1);

        // Assess
        expect(listed).toEqual([
          {
            key: a.key,
            endpointId: endpoint.id,
            lastSuccessAt: '2030-02-01T00:00:00.000Z',
            failingSince: a.failingSince,
            lastCheckedAt: a.lastCheckedAt,
            endpointName: endpoint.name,
            siblings: 1,
          },
          {
            key: b.key,
            endpointId: endpoint.id,
            lastSuccessAt: '2030-02-01T00:00:00.000Z',
            failingSince: b.failingSince,
            lastCheckedAt: b.lastCheckedAt,
            endpointName: endpoint.name,
          },
        ]);
        expect(await store.listFailingAddresses()).toEqual([]);
      });

      it('lists the soonest expiring states by notAfter, follows a renewal, and counts every state', async () => {
        // Prepare: 12 addresses expiring on different days, one unknown
        const store = newStore();
        const states = Array.from({ length: 12 }, (_, i) =>
          makeState(endpoint, `192.0.2.${i + 1}`, {
            notAfter: i === 0 ? null : new Date(T0 + (20 - i) * DAY_MS).toISOString(),
            daysLeft: i === 0 ? null : 20 - i,
          }),
        );
        for (const s of states) await store.saveAddressState(s, null);
        const renewed = {
          ...(states[11] ?? states[0]!),
          notAfter: new Date(T0 + 90 * DAY_MS).toISOString(),
          daysLeft: 90,
        };

        // Act
        await store.saveAddressState(renewed, 1);
        const soonest = await store.listSoonestAddressStates(3);
        const all = await store.listSoonestAddressStates(100);

        // Assess
        // Day 9 was renewed (to 90): it left the front of the index.
        expect(soonest.map((s) => s.state.daysLeft)).toEqual([10, 11, 12]);
        expect(all).toHaveLength(12);
        expect(all.at(-2)?.state.daysLeft).toBe(90);
        expect(all.at(-1)?.state.notAfter).toBeNull();
        expect(await store.countAddressStates()).toBe(12);
      });

      it('writes one item of one write unit for a steady check: no index item moves', async () => {
        // Prepare: a realistic ok state, stored once
        const store = newStore();
        const state = makeState(endpoint, '192.0.2.9', {
          issuer: "CN=R11,O=Let's Encrypt,C=US",
          lastRunId: '20300301T100000000Z-0a1b2c3d',
        });
        await store.saveAddressState(state, null);
        commands.clear();
        writeUnits = 0;

        // Act: the next run's check changes only the check time, the run and the days left
        await store.saveAddressState(
          {
            ...state,
            lastCheckedAt: '2030-03-01T16:00:00.000Z',
            lastSuccessAt: '2030-03-01T16:00:00.000Z',
            lastRunId: '20300301T160000000Z-4e5f6a7b',
            daysLeft: 41,
          },
          1,
        );

        // Assess
        expect(writes()).toBe(1);
        // dynalite reports no consumed capacity; DynamoDB Local does, as AWS would.
        if (!Number.isNaN(writeUnits)) expect(writeUnits).toBe(1);
      });
    });

    describe('malformed items', () => {
      it.each(MALFORMED_CASES)('reports $name, naming the item and the field', async (c) => {
        // Prepare: a valid item, then damaged in the table behind the store's back
        const store = newStore();
        const seeded = await c.seed(store);
        // History sort keys carry a digest: find the one item of the partition.
        const key =
          seeded.sk === ''
            ? {
                pk: seeded.pk,
                sk: String(
                  (
                    await docClient().send(
                      new QueryCommand({
                        TableName: tableName,
                        KeyConditionExpression: 'pk = :pk',
                        ExpressionAttributeValues: { ':pk': seeded.pk },
                      }),
                    )
                  ).Items?.[0]?.sk,
                ),
              }
            : seeded;
        const raw = await docClient().send(new GetCommand({ TableName: tableName, Key: key }));
        const item = { ...raw.Item } as Record<string, unknown>;
        c.corrupt(item);
        await docClient().send(new PutCommand({ TableName: tableName, Item: item }));

        // Act
        const error = await c.read(store).then(
          () => null,
          (e: unknown) => e,
        );

        // Assess
        expect(error).toBeInstanceOf(MalformedItemError);
        expect(error).toBeInstanceOf(StateStoreError);
        expect(error).toMatchObject({
          name: 'MalformedItemError',
          operation: c.expected.operation,
          key: c.expected.key,
          pk: key.pk,
          sk: key.sk,
          field: c.expected.field,
        });
        const message = (error as Error).message;
        expect(message).toContain(`${c.expected.operation}(${c.expected.key})`);
        expect(message).toContain(`pk ${key.pk}, sk ${key.sk}`);
        expect(message).toContain(`${c.expected.field}: `);
        expect(message).toContain(c.expected.problem);
      });
    });

    describe('failures', () => {
      it('wraps backend errors in a StateStoreError naming the operation and key', async () => {
        // Prepare
        const store = new DynamoDbStateStore({ client: docClient(), tableName: `missing-${randomUUID()}` });

        // Act
        const error = await store.getEndpoint('x.example:443').catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(StateStoreError);
        expect(error).toMatchObject({
          name: 'StateStoreError',
          operation: 'getEndpoint',
          key: 'x.example:443',
          cause: { name: 'ResourceNotFoundException' },
        });
      });

      it('ensureTable is idempotent', async () => {
        // Act
        await ensureTable(clients!.client, tableName);

        // Assess
        expect(calls('CreateTableCommand')).toBe(0);
      });
    });
  });
}
