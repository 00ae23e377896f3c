import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addressKey } from '../../lambdas/core/model';
import {
  startEmbeddedDynamo,
  openEmbeddedStateStore,
  type EmbeddedDynamo,
} from '../../lambdas/store/embedded-dynamodb';
import { createDocumentClient } from '../../lambdas/store/dynamodb-client';
import { ensureTable } from '../../lambdas/store/dynamodb-state-store';
import { StateStoreError } from '../../lambdas/store/state-store';
import { makeEndpoint, makeState } from '../support/dynamodb-store-fixtures';

function refusesConnections(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('startEmbeddedDynamo', () => {
  let stateDir: string;
  const started: EmbeddedDynamo[] = [];

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'certwatch-embedded-'));
  });

  afterEach(async () => {
    for (const dynamo of started.splice(0)) await dynamo.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('persists tables and items in the state directory across close and reopen', async () => {
    // Prepare
    const endpoint = makeEndpoint('persisted.example', { tags: ['kept'] });
    const state = makeState(endpoint, '192.0.2.5', { daysLeft: 9 });
    const first = await openEmbeddedStateStore({ stateDir });
    await first.store.syncInventory([endpoint]);
    await first.store.saveAddressState(state, null);
    await first.store.createRun({ runId: 'run-p', startedAt: '2030-03-01T10:00:00.000Z', expected: 1 });
    await first.close();

    // Act
    const second = await openEmbeddedStateStore({ stateDir });
    const endpoints = await second.store.listEndpoints();
    const stored = await second.store.getAddressState(addressKey(endpoint.id, '192.0.2.5'));
    const run = await second.store.getRun('run-p');
    await second.close();

    // Assess
    expect(endpoints).toEqual([endpoint]);
    expect(stored).toEqual({ state, version: 1 });
    expect(run?.expected).toBe(1);
  });

  it('keeps nothing between in-memory instances', async () => {
    // Prepare
    const first = await openEmbeddedStateStore();
    await first.store.syncInventory([makeEndpoint('ephemeral.example')]);
    await first.close();

    // Act
    const second = await openEmbeddedStateStore();
    const endpoints = await second.store.listEndpoints();
    await second.close();

    // Assess
    expect(endpoints).toEqual([]);
  });

  it('listens on loopback only and stops listening on close (idempotently)', async () => {
    // Prepare
    const dynamo = await startEmbeddedDynamo();

    // Act
    await dynamo.close();
    await dynamo.close();

    // Assess
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dynamo.dataDir).toBeNull();
    expect(await refusesConnections(dynamo.endpoint)).toBe(true);
  });

  it('refuses a state directory that is already open, with a clear error', async () => {
    // Prepare
    const holder = await startEmbeddedDynamo({ stateDir });
    started.push(holder);

    // Act
    const second = startEmbeddedDynamo({ stateDir });

    // Assess
    await expect(second).rejects.toThrow(StateStoreError);
    await expect(startEmbeddedDynamo({ stateDir })).rejects.toThrow(/in use by another certwatch process/);
  });

  it('releases the database on close, so the directory can be opened again', async () => {
    // Prepare
    const first = await startEmbeddedDynamo({ stateDir });
    await first.close();

    // Act
    const second = await startEmbeddedDynamo({ stateDir });
    started.push(second);

    // Assess
    expect(second.dataDir).toBe(join(stateDir, 'dynamodb'));
  });
});

describe('ensureTable', () => {
  /** dynalite that keeps a new table CREATING for `createTableMs`, as DynamoDB does for a few seconds. */
  async function slowDynamo(createTableMs: number): Promise<{ endpoint: string; close(): Promise<void> }> {
    const server = dynalite({ createTableMs });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.close((error?: Error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        }),
    };
  }

  it('creates a missing table and waits until it is ACTIVE', async () => {
    // Prepare
    const dynamo = await slowDynamo(300);
    const clients = createDocumentClient(dynamo.endpoint);

    try {
      // Act
      await ensureTable(clients.client, 'slow-table', { timeoutMs: 20_000 });

      // Assess
      const described = await clients.client.send(new DescribeTableCommand({ TableName: 'slow-table' }));
      expect(described.Table?.TableStatus).toBe('ACTIVE');
    } finally {
      clients.destroy();
      await dynamo.close();
    }
  });

  it('gives up with a StateStoreError naming the table and its status when it stays CREATING', async () => {
    // Prepare: the table needs far longer than the wait allows
    const dynamo = await slowDynamo(1_500);
    const clients = createDocumentClient(dynamo.endpoint);

    try {
      // Act
      const error = await ensureTable(clients.client, 'stuck-table', { timeoutMs: 200 }).catch(
        (e: unknown) => e,
      );

      // Assess
      expect(error).toBeInstanceOf(StateStoreError);
      expect(error).toMatchObject({ operation: 'ensureTable', key: 'stuck-table' });
      expect((error as Error).message).toContain('table not ACTIVE in time (status CREATING)');
    } finally {
      // Let the pending creation finish before closing, so no dynalite timer outlives the test.
      await ensureTable(clients.client, 'stuck-table').catch(() => undefined);
      clients.destroy();
      await dynamo.close();
    }
  });
});
