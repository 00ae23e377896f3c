/**
 * Counts DynamoDB consumed capacity per operation: a middleware on the client asks every
 * item call for `ReturnConsumedCapacity: 'TOTAL'` and adds up what the server reports
 * (DynamoDB Local reports it as AWS would: 1 WRU per started KB written, 0.5 / 1 RRU per
 * started 4 KB read eventually / strongly consistent). For the cost and scale benches.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Read and write units and call counts, by DynamoDB operation name. */
export interface CapacityTotals {
  readonly read: number;
  readonly write: number;
  readonly calls: number;
  readonly byOperation: ReadonlyMap<string, { read: number; write: number; calls: number }>;
}

const WITH_CAPACITY = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchWriteItemCommand',
  'BatchGetItemCommand',
]);

interface Consumed {
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

/** Installs the meter on `client` (the low-level client under the document client). */
export function meterCapacity(client: DynamoDBClient): { totals(): CapacityTotals; reset(): void } {
  let byOperation = new Map<string, { read: number; write: number; calls: number }>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? '');
      const input = args.input as Record<string, unknown>;
      if (WITH_CAPACITY.has(name)) input.ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      if (!WITH_CAPACITY.has(name)) return out;
      const output = out.output as { ConsumedCapacity?: Consumed | Consumed[] };
      const list = Array.isArray(output.ConsumedCapacity)
        ? output.ConsumedCapacity
        : output.ConsumedCapacity
          ? [output.ConsumedCapacity]
          : [];
      const op = name.replace(/Command$/, '');
      const row = byOperation.get(op) ?? { read: 0, write: 0, calls: 0 };
      row.calls++;
      for (const c of list) {
        const isWrite = /Put|Update|Delete|BatchWrite/.test(op);
        const units = c.CapacityUnits ?? 0;
        row.write += c.WriteCapacityUnits ?? (isWrite ? units : 0);
        row.read += c.ReadCapacityUnits ?? (isWrite ? 0 : units);
      }
      byOperation.set(op, row);
      return out;
    },
    { step: 'initialize', name: 'certwatchCapacityMeter' },
  );
  return {
    totals() {
      let read = 0;
      let write = 0;
      let calls = 0;
      for (const r of byOperation.values()) {
        read += r.read;
        write += r.write;
        calls += r.calls;
      }
      return { read, write, calls, byOperation: new Map(byOperation) };
    },
    reset() {
      byOperation = new Map();
    },
  };
}
