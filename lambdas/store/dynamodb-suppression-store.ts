/**
 * `SuppressionStore` in the state table: one small partition, `MAINT`, holds
 * every window (`W#<id>`) and silence (`S#<id>`), read by one Query. Each item
 * carries `version` (optimistic concurrency), the window or silence, the
 * phases it announced, and `expiresAt` 90 days after it ended, so finished
 * ones leave the table on their own.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import * as d from '../core/decode';
import {
  type MaintenanceWindow,
  type Silence,
  silenceEffectiveEnd,
  windowEffectiveEnd,
} from '../core/maintenance';
import { decodeItem } from './stored-items';
import { type SaveOutcome, StateStoreError } from './state-store';
import type { StoredSilence, StoredWindow, SuppressionStore } from './suppression-store';

export const SUPPRESSION_PARTITION = 'MAINT';
const KEEP_AFTER_END_S = 90 * 86_400;

const text = d.string;
const texts = d.array(d.string);
const textOrNull = d.nullable(d.string);

const windowDecoder = d.object({
  id: text,
  name: text,
  endpoints: texts,
  tags: texts,
  start: text,
  end: text,
  timeZone: text,
  message: text,
  leadTimeMs: d.number,
  createdAt: text,
  cancelledAt: textOrNull,
  source: d.oneOf(['config', 'cli'] as const),
});

const silenceDecoder = d.object({
  id: text,
  endpoint: textOrNull,
  tag: textOrNull,
  until: text,
  reason: text,
  createdAt: text,
  expiredAt: textOrNull,
});

/** Compile-time: the decoders have exactly the model's shapes. */
export type SuppressionDecodersMatchTheModel = [
  d.Assert<d.SameShape<d.Decoded<typeof windowDecoder>, MaintenanceWindow>>,
  d.Assert<d.SameShape<d.Decoded<typeof silenceDecoder>, Silence>>,
];

const windowItem = d.object({ version: d.integer, window: windowDecoder, announced: texts });
const silenceItem = d.object({ version: d.integer, silence: silenceDecoder, announced: texts });

export interface DynamoDbSuppressionStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export class DynamoDbSuppressionStore implements SuppressionStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(props: DynamoDbSuppressionStoreProps) {
    this.#client = props.client;
    this.#table = props.tableName;
  }

  async listWindows(): Promise<StoredWindow[]> {
    const items = await this.#query('listWindows', 'W#');
    return items.map((item) =>
      decodeItem(windowItem, item, { operation: 'listWindows', key: String(item.sk) }),
    );
  }

  async getWindow(id: string): Promise<StoredWindow | null> {
    const item = await this.#get('getWindow', `W#${id}`);
    return item === null ? null : decodeItem(windowItem, item, { operation: 'getWindow', key: id });
  }

  saveWindow(
    window: MaintenanceWindow,
    announced: readonly string[],
    expectedVersion: number | null,
  ): Promise<SaveOutcome> {
    return this.#put(
      'saveWindow',
      `W#${window.id}`,
      { window, announced: [...announced] },
      windowEffectiveEnd(window),
      expectedVersion,
    );
  }

  async listSilences(): Promise<StoredSilence[]> {
    const items = await this.#query('listSilences', 'S#');
    return items.map((item) =>
      decodeItem(silenceItem, item, { operation: 'listSilences', key: String(item.sk) }),
    );
  }

  async getSilence(id: string): Promise<StoredSilence | null> {
    const item = await this.#get('getSilence', `S#${id}`);
    return item === null ? null : decodeItem(silenceItem, item, { operation: 'getSilence', key: id });
  }

  saveSilence(
    silence: Silence,
    announced: readonly string[],
    expectedVersion: number | null,
  ): Promise<SaveOutcome> {
    return this.#put(
      'saveSilence',
      `S#${silence.id}`,
      { silence, announced: [...announced] },
      silenceEffectiveEnd(silence),
      expectedVersion,
    );
  }

  async #query(operation: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    try {
      const pages = paginateQuery(
        { client: this.#client },
        {
          TableName: this.#table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': SUPPRESSION_PARTITION, ':prefix': prefix },
          ConsistentRead: true,
        },
      );
      // Bounded: a few hundred windows at most fit a handful of 1 MB pages.
      for await (const page of pages) items.push(...(page.Items ?? []));
    } catch (error) {
      throw wrap(operation, SUPPRESSION_PARTITION, error);
    }
    return items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
  }

  async #get(operation: string, sk: string): Promise<Record<string, unknown> | null> {
    try {
      const out = await this.#client.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: SUPPRESSION_PARTITION, sk },
          ConsistentRead: true,
        }),
      );
      return out.Item ?? null;
    } catch (error) {
      throw wrap(operation, sk, error);
    }
  }

  async #put(
    operation: string,
    sk: string,
    body: Record<string, unknown>,
    endsAt: string,
    expectedVersion: number | null,
  ): Promise<SaveOutcome> {
    const condition: Pick<
      PutCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > =
      expectedVersion === null
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
        : {
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: SUPPRESSION_PARTITION,
            sk,
            kind: sk.startsWith('W#') ? 'maintenance-window' : 'silence',
            version: (expectedVersion ?? 0) + 1,
            expiresAt: Math.floor(Date.parse(endsAt) / 1000) + KEEP_AFTER_END_S,
            ...body,
          },
          ...condition,
        }),
      );
      return 'saved';
    } catch (error) {
      if ((error as { name?: string } | null)?.name === 'ConditionalCheckFailedException') return 'conflict';
      throw wrap(operation, sk, error);
    }
  }
}

function wrap(operation: string, key: string, error: unknown): StateStoreError {
  if (error instanceof StateStoreError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StateStoreError(operation, key, detail, { cause: error });
}
