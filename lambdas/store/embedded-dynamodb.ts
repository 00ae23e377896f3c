/**
 * The embedded DynamoDB of the local CLI: dynalite in this process, listening
 * on an ephemeral loopback port, in memory or persisted (LevelDB) on disk.
 * The local pipeline talks to it over the same SDK client and the same
 * `DynamoDbStateStore` as the Lambdas do in AWS.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { Level } from 'level';
import { createDocumentClient } from './dynamodb-client';
import { DynamoDbStateStore, type DynamoDbStateStoreProps, ensureTable } from './dynamodb-state-store';
import { StateStoreError } from './state-store';

export interface EmbeddedDynamoOptions {
  /**
   * Directory to persist the tables in (LevelDB files go to `<stateDir>/dynamodb`).
   * @default undefined (in memory, gone on close)
   */
  readonly stateDir?: string;
}

export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** LevelDB directory, or null when in memory. */
  readonly dataDir: string | null;
  /** Stops listening, drops open connections and closes the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 with an ephemeral port. Tables are ACTIVE
 * immediately (no simulated CREATING delay). A LevelDB directory that another
 * process holds open is reported here rather than on the first request.
 */
export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  const dataDir = options.stateDir === undefined ? null : join(options.stateDir, 'dynamodb');
  if (dataDir !== null) await assertDataDirUsable(dataDir);
  const server = dynalite({
    ...(dataDir !== null ? { path: dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      // dynalite's close() waits for the HTTP server, then closes LevelDB.
      server.close((error?: Error) => (error ? reject(error) : resolve()));
      // Keep-alive sockets of clients that were not destroyed would hold close() open.
      server.closeAllConnections();
    });
    return closing;
  };

  // Opening LevelDB is asynchronous; probe it so a locked or unreadable directory fails here.
  const probe = createDocumentClient(endpoint);
  try {
    await probe.client.send(new ListTablesCommand({ Limit: 1 }));
  } catch (error) {
    probe.destroy();
    await close().catch(() => undefined);
    throw new StateStoreError('startEmbeddedDynamo', dataDir ?? 'memory', describe(error), { cause: error });
  }
  probe.destroy();

  return { endpoint, dataDir, close };
}

/**
 * dynalite opens LevelDB lazily and, when that fails (the directory is locked by
 * another certwatch process), crashes the process from an unhandled stream
 * error on the first request. Opening it once ourselves turns that into an
 * ordinary error with a clear message.
 */
async function assertDataDirUsable(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const db = new Level(dataDir);
  try {
    await db.open();
  } catch (error) {
    const reason = (error as { cause?: unknown }).cause ?? error;
    if ((reason as { code?: unknown }).code === 'LEVEL_LOCKED') throw new StateDirInUseError(dataDir, reason);
    throw new StateStoreError(
      'startEmbeddedDynamo',
      dataDir,
      `cannot open the state directory (in use by another certwatch process?): ${describe(reason)}`,
      { cause: error },
    );
  } finally {
    await db.close();
  }
}

/** Another process (a `certwatch run` or `status` in progress) has the state directory open: LevelDB allows one. */
export class StateDirInUseError extends StateStoreError {
  override name = 'StateDirInUseError';

  constructor(dataDir: string, cause: unknown) {
    super('startEmbeddedDynamo', dataDir, 'the state directory is in use by another certwatch process', {
      cause,
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** An embedded DynamoDB with the certwatch table and a store over it, for the local CLI. */
export interface EmbeddedStateStore {
  readonly store: DynamoDbStateStore;
  readonly endpoint: string;
  readonly tableName: string;
  /** Destroys the client, then closes the embedded DynamoDB. */
  close(): Promise<void>;
}

/**
 * Convenience for composition roots: starts the embedded DynamoDB, creates the
 * table if needed and returns a store over it.
 */
export async function openEmbeddedStateStore(
  options: EmbeddedDynamoOptions & {
    /** @default 'certwatch' */
    readonly tableName?: string;
  } & Omit<DynamoDbStateStoreProps, 'client' | 'tableName'> = {},
): Promise<EmbeddedStateStore> {
  const { stateDir, tableName = 'certwatch', ...storeProps } = options;
  const dynamo = await startEmbeddedDynamo(stateDir === undefined ? {} : { stateDir });
  const clients = createDocumentClient(dynamo.endpoint);
  try {
    await ensureTable(clients.client, tableName);
  } catch (error) {
    clients.destroy();
    await dynamo.close();
    throw error;
  }
  const store = new DynamoDbStateStore({ ...storeProps, client: clients.documentClient, tableName });
  return {
    store,
    endpoint: dynamo.endpoint,
    tableName,
    close: async () => {
      clients.destroy();
      await dynamo.close();
    },
  };
}
