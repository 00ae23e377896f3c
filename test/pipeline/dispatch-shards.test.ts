/**
 * A run dispatched in shards, on the embedded store: the run is recorded once, each shard records
 * and sends its own checks, a retried shard counts once, and the watchdog judges the run from the
 * shards' records (a shard that never ran leaves the run incomplete and pages, naming its endpoints).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import { addressKey, type Alert, type CheckResult, type Endpoint } from '../../lambdas/core/model';
import type { CheckMessage } from '../../lambdas/pipeline/check-message';
import { type DispatchShardPlan, planDispatchShards } from '../../lambdas/pipeline/dispatch-plan';
import {
  type DispatchDeps,
  dispatchRun,
  dispatchShard,
  parseDispatchShardMessage,
  startRun,
} from '../../lambdas/pipeline/dispatch-run';
import { processCheck } from '../../lambdas/pipeline/process-check';
import { runWatchdog } from '../../lambdas/pipeline/watchdog';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { makeEndpoint } from '../support/dynamodb-store-fixtures';

const T0 = Date.parse('2030-03-01T10:00:00.000Z');
const HOUR = 3_600_000;
const SHARD_SIZE = 4;

function okResult(endpointId: string, address: string, at: number): CheckResult {
  return {
    key: addressKey(endpointId, address),
    endpointId,
    address,
    status: 'ok',
    daysLeft: 40,
    notAfter: new Date(at + 40 * 86_400_000).toISOString(),
    findings: [],
    error: null,
    chain: [],
    checkedAt: new Date(at).toISOString(),
  } as unknown as CheckResult;
}

describe('a run dispatched in shards', () => {
  let embedded: EmbeddedStateStore;
  const endpoints: Endpoint[] = Array.from({ length: 14 }, (_, i) =>
    makeEndpoint(`s${String(i).padStart(2, '0')}.example`),
  );
  const trust = loadTrustStore({ includeSystemRoots: false });
  const sink = { channelsFor: () => [], deliver: async () => [] };

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
  });
  afterEach(async () => {
    await embedded.close();
  });

  /** Deps whose queue collects every message sent, and whose resolver gives each name one address. */
  function deps(sent: CheckMessage[]): DispatchDeps {
    return {
      store: embedded.store,
      queue: { sendAll: async (messages) => void sent.push(...messages) },
      now: () => new Date(T0),
      resolve: async () => ({ addresses: ['192.0.2.1'] }),
    };
  }

  function plan(): DispatchShardPlan[] {
    return planDispatchShards(
      endpoints,
      (id) => embedded.store.shardOfKey(addressKey(id, null)),
      embedded.store.shardCount,
      SHARD_SIZE,
    );
  }

  async function checkAll(messages: readonly CheckMessage[]) {
    for (const msg of messages) {
      await processCheck(
        {
          store: embedded.store,
          sink,
          trustFor: () => trust,
          now: () => new Date(T0 + 60_000),
          check: async () => okResult(msg.endpointId, msg.address ?? 'dns', T0 + 60_000),
        },
        msg,
      );
    }
  }

  async function judge() {
    const pages: Alert[] = [];
    const report = await runWatchdog(
      { store: embedded.store, now: () => new Date(T0 + 2 * HOUR), page: async (a) => void pages.push(a) },
      { intervalMs: 6 * HOUR, graceMs: HOUR },
    );
    return { judged: report.judged, pages };
  }

  it.each([
    // name, shards run (by index; 'all' = every shard), shard run twice, verdict, pages
    { name: 'every shard once', skip: [] as number[], retry: null as number | null, verdict: 'complete' },
    { name: 'a shard retried after it sent its checks', skip: [], retry: 1, verdict: 'complete' },
    { name: 'a shard that never ran', skip: [2], retry: null, verdict: 'incomplete' },
  ])('$name: judged $verdict', async ({ skip, retry, verdict }) => {
    // Prepare: the inventory of an earlier run; this run recorded once, with its shards
    await embedded.store.syncInventory(endpoints);
    const shards = plan();
    const sent: CheckMessage[] = [];
    const { runId, startedAt } = await startRun({ store: embedded.store, now: () => new Date(T0) }, shards);

    // Act: each shard in turn (one invocation each), some skipped, one twice; then every check; then the judge
    const order = shards.map((_, i) => i).filter((i) => !skip.includes(i));
    if (retry !== null) order.push(retry);
    for (const index of order) {
      const shard = shards[index] as DispatchShardPlan;
      await dispatchShard(deps(sent), {
        runId,
        dispatchedAt: startedAt,
        index,
        segments: shard.segments,
        endpoints: shard.endpoints,
      });
    }
    await checkAll(sent);
    const { judged, pages } = await judge();

    // Assess
    expect(shards.length).toBe(4);
    const skipped = skip.flatMap((i) => (shards[i] as DispatchShardPlan).endpoints);
    const expected = endpoints.length - skipped.length;
    expect(new Set(sent.map((m) => m.endpointId)).size).toBe(expected);
    expect(judged).toEqual([
      expect.objectContaining({
        runId,
        expected,
        completed: expected,
        verdict,
        unchecked: skipped.map((e) => ({ id: e.id, name: e.name })).sort((a, b) => (a.id < b.id ? -1 : 1)),
        undispatchedShards: skip.length,
      }),
    ]);
    expect(pages).toHaveLength(skip.length === 0 ? 0 : 1);
    if (skip.length > 0) {
      expect(pages[0]?.detail).toContain(skipped[0]?.id);
      expect(pages[0]?.detail).toContain('1 dispatch shard never dispatched its checks');
    }
  });

  it('refuses a shard whose endpoints lie outside its segments (the stack and the store disagree), before any write', async () => {
    // Prepare
    const [first, second] = plan() as [DispatchShardPlan, DispatchShardPlan];
    const sent: CheckMessage[] = [];
    const { runId, startedAt } = await startRun({ store: embedded.store, now: () => new Date(T0) }, [
      first,
      second,
    ]);

    // Act
    const run = dispatchShard(deps(sent), {
      runId,
      dispatchedAt: startedAt,
      index: 0,
      segments: first.segments,
      endpoints: [...first.endpoints, ...second.endpoints.slice(0, 1)],
    });

    // Assess
    await expect(run).rejects.toThrow(`endpoint ${second.endpoints[0]?.id} lies outside its segments`);
    expect(sent).toEqual([]);
    expect(await embedded.store.listEndpoints()).toEqual([]);
  });

  it('runs every shard in process for certwatch run, and records the run once', async () => {
    // Prepare
    const sent: CheckMessage[] = [];

    // Act
    const result = await dispatchRun(deps(sent), endpoints, { shardEndpoints: SHARD_SIZE });
    await checkAll(sent);
    const { judged } = await judge();

    // Assess
    expect(result).toMatchObject({ endpoints: 14, expected: 14, shards: 4, dnsFailures: 0 });
    expect(result.inventory).toEqual({ added: 14, updated: 0, removed: 0, unchanged: 0 });
    expect(await embedded.store.listRuns(5)).toHaveLength(1);
    expect(judged).toEqual([expect.objectContaining({ verdict: 'complete', expected: 14, completed: 14 })]);
  });
});

describe('parseDispatchShardMessage', () => {
  it.each([
    ['{"v":1,"runId":"r","shard":3,"dispatchedAt":"t"}', { v: 1, runId: 'r', shard: 3, dispatchedAt: 't' }],
    [
      '{"v":1,"runId":"r","shard":3,"dispatchedAt":"t","extra":1}',
      { v: 1, runId: 'r', shard: 3, dispatchedAt: 't' },
    ],
    [
      '{"v":1,"runId":"r","shard":0,"dispatchedAt":"t","plan":"abc"}',
      { v: 1, runId: 'r', shard: 0, dispatchedAt: 't', plan: 'abc' },
    ],
    ['{"v":1,"runId":"r","shard":0,"dispatchedAt":"t","plan":7}', 'plan must be a string'],
    ['not json', 'body is not JSON'],
    ['null', 'body is not an object'],
    ['{"v":2}', 'unsupported message version 2'],
    ['{"v":1,"shard":0,"dispatchedAt":"t"}', 'runId missing'],
    ['{"v":1,"runId":"r","shard":-1,"dispatchedAt":"t"}', 'shard must be an index'],
    ['{"v":1,"runId":"r","shard":1.5,"dispatchedAt":"t"}', 'shard must be an index'],
    ['{"v":1,"runId":"r","shard":0}', 'dispatchedAt missing'],
  ])('%s → %j', (body, expected) => {
    expect(parseDispatchShardMessage(body)).toEqual(expected);
  });
});
