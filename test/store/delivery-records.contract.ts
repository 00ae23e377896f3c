/**
 * The delivery-record part of the StateStore contract (one record per alert
 * and channel, written with single-item conditional writes), run unchanged
 * against every DynamoDB we support. Called from the same test files as the
 * main contract, on the same backend (see {@link sharedBackend}).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../lambdas/core/model';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable, itemKeys } from '../../lambdas/store/dynamodb-state-store';
import { MalformedItemError } from '../../lambdas/store/state-store';
import { FIXTURE_T0 as T0, makeEndpoint, makeState } from '../support/dynamodb-store-fixtures';
import type { ContractOptions, StoreBackend } from './state-store.contract';

const DAY_MS = 86_400_000;

/**
 * One backend for all the suites of a test file: started by the first suite that needs it, and
 * stopped once, after the last suite of the file (call it at the top level of the file).
 */
export function sharedBackend(start: () => Promise<StoreBackend>): () => Promise<StoreBackend> {
  let running: Promise<StoreBackend> | null = null;
  afterAll(async () => {
    await (await running)?.close();
  });
  return async () => {
    running ??= start();
    const { endpoint } = await running;
    // Each suite "closes" its handle; the file-level hook above stops the backend.
    return { endpoint, close: async () => undefined };
  };
}

function record(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    alertId: 'shop.example:443|192.0.2.10:threshold:7:AB',
    channel: 'hook',
    status: 'sending',
    holder: 'checker-1',
    leaseUntil: new Date(T0 + 120_000).toISOString(),
    retryAt: null,
    sends: 1,
    unknownOutcomes: 0,
    lastError: null,
    updatedAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

export function defineDeliveryRecordsContract(
  name: string,
  startBackend: () => Promise<StoreBackend>,
  options: ContractOptions = {},
): void {
  describe.skipIf(options.skip === true)(`${name}: delivery records`, () => {
    let backend: StoreBackend | undefined;
    let clients: DynamoDbClients | undefined;
    let tableName = '';
    let store: DynamoDbStateStore;

    beforeAll(async () => {
      backend = await startBackend();
      clients = createDocumentClient(backend.endpoint);
    });
    afterAll(async () => {
      clients?.destroy();
      await backend?.close();
    });
    beforeEach(async () => {
      tableName = `certwatch-test-${randomUUID()}`;
      await ensureTable(clients!.client, tableName);
      store = new DynamoDbStateStore({
        client: clients!.documentClient,
        tableName,
        historyTtlDays: 30,
        now: () => new Date(T0),
      });
    });

    it('claims a delivery once: the first write wins, a second claim of a new record conflicts', async () => {
      // Prepare
      const claim = record();
      // Act
      const first = await store.saveDelivery(claim, null);
      const second = await store.saveDelivery({ ...claim, holder: 'checker-2' }, null);
      // Assess
      expect([first, second]).toEqual(['saved', 'conflict']);
      expect(await store.getDelivery(claim.alertId, 'hook')).toEqual({ record: claim, version: 1 });
    });

    it('marks a claimed delivery at the claimed version only, and round-trips it exactly', async () => {
      // Prepare
      const claim = record();
      await store.saveDelivery(claim, null);
      const delivered = record({
        status: 'delivered',
        leaseUntil: null,
        unknownOutcomes: 1,
        lastError: 'POST http://127.0.0.1:1 failed: timed out after 15000 ms \u202E',
        updatedAt: new Date(T0 + 5_000).toISOString(),
      });
      // Act
      const mark = await store.saveDelivery(delivered, 1);
      const stale = await store.saveDelivery({ ...delivered, status: 'failed' }, 1);
      // Assess
      expect([mark, stale]).toEqual(['saved', 'conflict']);
      expect(await store.getDelivery(claim.alertId, 'hook')).toEqual({ record: delivered, version: 2 });
    });

    it('lets exactly one of many concurrent claims of the same delivery win', async () => {
      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.saveDelivery(record({ holder: `checker-${i}` }), null)),
      );
      // Assess
      expect(outcomes.filter((o) => o === 'saved')).toHaveLength(1);
    });

    it('lists every channel of one alert, and nothing of another alert', async () => {
      // Prepare: an alert whose id extends the other's
      const id = 'shop.example:443|192.0.2.10:problem:UNTRUSTED';
      for (const channel of ['teams', 'hook', 'slack'])
        await store.saveDelivery(record({ alertId: id, channel }), null);
      await store.saveDelivery(record({ alertId: `${id}x`, channel: 'hook' }), null);
      // Act
      const listed = await store.listDeliveries(id);
      // Assess
      expect(listed.map((d) => [d.record.channel, d.version])).toEqual([
        ['hook', 1],
        ['slack', 1],
        ['teams', 1],
      ]);
      expect(await store.listDeliveries('no-such-alert')).toEqual([]);
      expect(await store.getDelivery(id, 'email')).toBeNull();
    });

    it('keeps delivery records apart from the address states and the inventory', async () => {
      // Prepare
      const endpoint = makeEndpoint('shop.example');
      await store.syncInventory([endpoint]);
      await store.saveAddressState(makeState(endpoint, '192.0.2.10'), null);
      // Act
      await store.saveDelivery(record({ alertId: `${endpoint.id}|192.0.2.10:threshold:7` }), null);
      // Assess
      expect((await store.listAllAddressStates()).map((s) => s.state.key)).toEqual([
        `${endpoint.id}|192.0.2.10`,
      ]);
      expect((await store.listAddressStates(endpoint.id)).map((s) => s.state.key)).toEqual([
        `${endpoint.id}|192.0.2.10`,
      ]);
      expect((await store.listEndpoints()).map((e) => e.id)).toEqual([endpoint.id]);
    });

    it('stamps expiresAt at the last change plus the TTL', async () => {
      // Prepare
      const claim = record({ updatedAt: new Date(T0 + DAY_MS).toISOString() });
      // Act
      await store.saveDelivery(claim, null);
      // Assess
      const raw = await clients!.documentClient.send(
        new GetCommand({ TableName: tableName, Key: itemKeys.delivery(claim.alertId, 'hook') }),
      );
      expect(raw.Item).toMatchObject({ kind: 'delivery', version: 1 });
      expect(raw.Item?.expiresAt).toBe(Math.floor((T0 + DAY_MS) / 1000) + 30 * 86_400);
    });

    it('names the item and the field of a damaged record', async () => {
      // Prepare
      const claim = record();
      await store.saveDelivery(claim, null);
      const key = itemKeys.delivery(claim.alertId, 'hook');
      const raw = await clients!.documentClient.send(new GetCommand({ TableName: tableName, Key: key }));
      const item = raw.Item as { record: Record<string, unknown> };
      item.record.status = 'sent-probably';
      await clients!.documentClient.send(new PutCommand({ TableName: tableName, Item: item }));
      // Act
      const error = await store.getDelivery(claim.alertId, 'hook').catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(MalformedItemError);
      expect(error).toMatchObject({
        operation: 'getDelivery',
        pk: key.pk,
        sk: key.sk,
        field: 'record.status',
      });
    });
  });
}
