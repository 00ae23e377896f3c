/**
 * The ticket-record part of the store contract (`TicketStore`: one record per
 * ticket channel and incident, written with single-item conditional writes),
 * run unchanged against every DynamoDB we support, on the backend of the file
 * (see `sharedBackend`).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TicketRecord } from '../../lambdas/core/incident-lifecycle';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable, itemKeys } from '../../lambdas/store/dynamodb-state-store';
import { MalformedItemError } from '../../lambdas/store/state-store';
import { FIXTURE_T0 as T0 } from '../support/dynamodb-store-fixtures';
import type { ContractOptions, StoreBackend } from './state-store.contract';

const KEY = 'certwatch:shop.example:443|192.0.2.10:expiry';

function ticket(overrides: Partial<TicketRecord> = {}): TicketRecord {
  return {
    channel: 'gh',
    incidentKey: KEY,
    ticketId: '42',
    state: 'open',
    updatedAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

export function defineTicketRecordsContract(
  name: string,
  startBackend: () => Promise<StoreBackend>,
  options: ContractOptions = {},
): void {
  describe.skipIf(options.skip === true)(`${name}: ticket records`, () => {
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

    it('keeps one record per channel and incident: the first write wins, the next needs its version', async () => {
      // Prepare
      const opened = ticket();
      const closed = ticket({ state: 'closed', updatedAt: new Date(T0 + 60_000).toISOString() });
      // Act
      const outcomes = [
        await store.saveTicket(opened, null),
        await store.saveTicket({ ...opened, ticketId: '43' }, null),
        await store.saveTicket(closed, 1),
        await store.saveTicket({ ...closed, ticketId: '44' }, 1),
      ];
      // Assess
      expect(outcomes).toEqual(['saved', 'conflict', 'saved', 'conflict']);
      expect(await store.getTicket('gh', KEY)).toEqual({ record: closed, version: 2 });
      expect(await store.getTicket('jira', KEY)).toBeNull();
      expect(await store.getTicket('gh', `${KEY}x`)).toBeNull();
    });

    it('stores it under TICKET#<channel>: an open ticket never expires, a closed one with the history TTL', async () => {
      // Prepare
      await store.saveTicket(ticket(), null);
      await store.saveTicket(ticket({ channel: 'jira', ticketId: 'OPS-1', state: 'closed' }), null);
      // Act
      const get = (channel: string) =>
        clients!.documentClient.send(
          new GetCommand({ TableName: tableName, Key: itemKeys.ticket(channel, KEY) }),
        );
      const [open, closed] = [(await get('gh')).Item, (await get('jira')).Item];
      // Assess
      expect(open).toMatchObject({ pk: 'TICKET#gh', sk: KEY, kind: 'ticket', version: 1 });
      expect(open?.expiresAt).toBeUndefined();
      expect(closed).toMatchObject({ pk: 'TICKET#jira', expiresAt: Math.floor(T0 / 1000) + 30 * 86_400 });
    });

    it('reads a damaged record as a MalformedItemError naming the item and the field', async () => {
      // Prepare
      await clients!.documentClient.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...itemKeys.ticket('gh', KEY),
            kind: 'ticket',
            version: 1,
            record: { ...ticket(), state: 'lost' },
          },
        }),
      );
      // Act
      const read = store.getTicket('gh', KEY);
      // Assess
      await expect(read).rejects.toBeInstanceOf(MalformedItemError);
      await expect(read).rejects.toThrow(`malformed item (pk TICKET#gh, sk ${KEY}): record.state:`);
    });
  });
}
