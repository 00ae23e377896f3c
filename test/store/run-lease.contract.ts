/**
 * The run-coordination part of the StateStore contract (the run lease, run
 * deadlines and the watchdog's judgement claim), run unchanged against every
 * DynamoDB we support. Every guarantee here is a single-item conditional
 * write, so racing callers are raced for real, on the real backend.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable, itemKeys } from '../../lambdas/store/dynamodb-state-store';
import { MalformedItemError, type RunLease, RunNotFoundError } from '../../lambdas/store/state-store';
import type { ContractOptions, StoreBackend } from './state-store.contract';

const T0 = Date.parse('2030-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function lease(runId: string, untilMs: number, over: Partial<RunLease> = {}): RunLease {
  return { runId, host: 'host-a', pid: 4242, acquiredAt: at(0), until: at(untilMs), ...over };
}

export function defineRunLeaseContract(
  name: string,
  startBackend: () => Promise<StoreBackend>,
  options: ContractOptions = {},
): void {
  describe.skipIf(options.skip === true)(name, () => {
    let backend: StoreBackend | undefined;
    let clients: DynamoDbClients | undefined;
    let tableName = '';
    const newStore = () => {
      if (!clients) throw new Error('backend not started');
      return new DynamoDbStateStore({ client: clients.documentClient, tableName, now: () => new Date(T0) });
    };

    beforeAll(async () => {
      backend = await startBackend();
      clients = createDocumentClient(backend.endpoint);
    });
    afterAll(async () => {
      clients?.destroy();
      await backend?.close();
    });
    beforeEach(async () => {
      tableName = `certwatch-lease-${randomUUID()}`;
      await ensureTable(clients!.client, tableName);
    });

    describe('run lease', () => {
      it('is taken on a free store, then refused to a second run while live, naming the holder', async () => {
        // Prepare
        const store = newStore();
        const first = lease('run-a', 60_000);

        // Act
        const taken = await store.acquireRunLease(first, { now: at(0) });
        const refused = await store.acquireRunLease(lease('run-b', 90_000, { host: 'host-b', pid: 7 }), {
          now: at(59_999),
        });

        // Assess
        expect(taken).toStrictEqual({ acquired: true, previous: null });
        expect(refused).toStrictEqual({ acquired: false, holder: first });
        expect(await store.getRunLease()).toStrictEqual(first);
      });

      it('goes to exactly one of several runs that race for it', async () => {
        // Prepare
        const store = newStore();
        const runs = Array.from({ length: 6 }, (_, i) => lease(`run-${i}`, 60_000, { pid: 100 + i }));

        // Act
        const outcomes = await Promise.all(runs.map((l) => store.acquireRunLease(l, { now: at(0) })));

        // Assess: one winner; every loser names it
        const winners = outcomes.filter((o) => o.acquired);
        expect(winners).toHaveLength(1);
        const holder = await store.getRunLease();
        for (const o of outcomes) if (!o.acquired) expect(o.holder).toStrictEqual(holder);
      });

      it('is taken over once lapsed; the old holder then can neither renew nor release it', async () => {
        // Prepare: run-a stopped renewing at until = +60 s
        const store = newStore();
        const stale = lease('run-a', 60_000);
        await store.acquireRunLease(stale, { now: at(0) });
        const next = lease('run-b', 180_000, { acquiredAt: at(60_000) });

        // Act
        const takeover = await store.acquireRunLease(next, { now: at(60_000) });
        const renew = await store.renewRunLease('run-a', at(120_000));
        await store.releaseRunLease('run-a');

        // Assess
        expect(takeover).toStrictEqual({ acquired: true, previous: stale });
        expect(renew).toBe('lost');
        expect(await store.getRunLease()).toStrictEqual(next);
      });

      it('is renewed and released by its holder', async () => {
        // Prepare
        const store = newStore();
        await store.acquireRunLease(lease('run-a', 60_000), { now: at(0) });

        // Act
        const renewed = await store.renewRunLease('run-a', at(100_000));
        const afterRenew = await store.getRunLease();
        const refused = await store.acquireRunLease(lease('run-b', 200_000), { now: at(70_000) });
        await store.releaseRunLease('run-a');
        const free = await store.getRunLease();
        const taken = await store.acquireRunLease(lease('run-b', 200_000), { now: at(70_000) });

        // Assess
        expect(renewed).toBe('renewed');
        expect(afterRenew?.until).toBe(at(100_000));
        expect(refused.acquired).toBe(false);
        expect(free).toBeNull();
        expect(taken).toStrictEqual({ acquired: true, previous: null });
      });

      it('is taken over while live only when the caller holds the store exclusively', async () => {
        // Prepare: a lease left in an embedded store by a process that died
        const store = newStore();
        const left = lease('run-a', 60_000);
        await store.acquireRunLease(left, { now: at(0) });

        // Act
        const taken = await store.acquireRunLease(lease('run-b', 90_000), {
          now: at(1_000),
          takeOverLive: true,
        });

        // Assess
        expect(taken).toStrictEqual({ acquired: true, previous: left });
        expect((await store.getRunLease())?.runId).toBe('run-b');
      });

      it('reports a damaged lease item, naming the field', async () => {
        // Prepare
        const store = newStore();
        await clients!.documentClient.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...itemKeys.runLease, kind: 'run-lease', ...lease('run-a', 60_000), pid: 'x' },
          }),
        );

        // Act
        const error = await store.getRunLease().catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(MalformedItemError);
        expect(error).toMatchObject({ operation: 'getRunLease', field: 'pid' });
      });
    });

    describe('run deadline', () => {
      it('is recorded with the run, moved on, and absent when not given', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-d', startedAt: at(0), expected: 2, deadline: at(60_000) });
        await store.createRun({ runId: 'run-n', startedAt: at(1), expected: 1 });

        // Act
        await store.extendRunDeadline('run-d', at(120_000));
        const missing = await store.extendRunDeadline('run-ghost', at(1)).catch((e: unknown) => e);

        // Assess
        expect(await store.getRun('run-d')).toStrictEqual({
          runId: 'run-d',
          startedAt: at(0),
          expected: 2,
          completed: 0,
          finishedAt: null,
          deadline: at(120_000),
        });
        expect(await store.getRun('run-n')).not.toHaveProperty('deadline');
        expect((await store.listRuns(5)).map((r) => r.deadline)).toEqual([undefined, at(120_000)]);
        expect(missing).toBeInstanceOf(RunNotFoundError);
        expect(await store.getRun('run-ghost')).toBeNull();
      });
    });

    describe('judgement claim', () => {
      it('goes to exactly one of several judges at once, and to none once the run is judged', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-j', startedAt: at(0), expected: 1 });

        // Act
        const outcomes = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.claimRunJudgement('run-j', { by: `judge-${i}`, now: at(1_000), until: at(301_000) }),
          ),
        );
        await store.finishRun('run-j', at(2_000));
        const after = await store.claimRunJudgement('run-j', {
          by: 'judge-9',
          now: at(999_000),
          until: at(1_299_000),
        });

        // Assess
        expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'busy')).toHaveLength(5);
        expect(after).toBe('judged');
      });

      it('is taken over after its judge died, and kept by the same judge', async () => {
        // Prepare
        const store = newStore();
        await store.createRun({ runId: 'run-k', startedAt: at(0), expected: 1 });
        await store.claimRunJudgement('run-k', { by: 'judge-a', now: at(0), until: at(300_000) });

        // Act
        const again = await store.claimRunJudgement('run-k', {
          by: 'judge-a',
          now: at(10_000),
          until: at(310_000),
        });
        const early = await store.claimRunJudgement('run-k', {
          by: 'judge-b',
          now: at(309_999),
          until: at(600_000),
        });
        const late = await store.claimRunJudgement('run-k', {
          by: 'judge-b',
          now: at(310_000),
          until: at(610_000),
        });
        const ghost = await store
          .claimRunJudgement('run-ghost', { by: 'judge-a', now: at(0), until: at(1) })
          .catch((e: unknown) => e);

        // Assess
        expect([again, early, late]).toEqual(['claimed', 'busy', 'claimed']);
        expect(ghost).toBeInstanceOf(RunNotFoundError);
        expect(await store.getRun('run-ghost')).toBeNull();
      });
    });
  });
}
