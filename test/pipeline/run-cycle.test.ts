import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import type { CheckResult, Endpoint } from '../../lambdas/core/model';
import { type RunCycleDeps, runCycle } from '../../lambdas/pipeline/run-cycle';
import { RunLeaseHeldError, RunLeaseLostError, type Scheduler } from '../../lambdas/pipeline/run-lease';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { type StateStore, StateStoreError } from '../../lambdas/store/state-store';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T00:00:00.000Z');

function endpoint(n: number): Endpoint {
  const host = `192.0.2.${n}`;
  return {
    id: `${host}:443`,
    host,
    port: 443,
    name: `site ${n}`,
    owner: null,
    tags: [],
    channels: [],
    timeoutMs: 1000,
    policy: {
      thresholdsDays: [30],
      expiry: { warnDays: 30, criticalDays: 7 },
      failuresBeforeAlert: 2,
      renotifyIntervalMs: 24 * HOUR,
    },
  };
}

function okResult(e: Endpoint, address: string, at: number): CheckResult {
  return {
    target: e.id,
    host: e.host,
    port: e.port,
    address,
    servername: null,
    status: 'ok',
    daysLeft: 80,
    notAfter: new Date(at + 80.5 * 24 * HOUR).toISOString(),
    findings: [],
    chain: [],
    protocol: 'TLSv1.3',
    cipher: null,
    durationMs: 3,
    checkedAt: new Date(at).toISOString(),
  };
}

/** The store, with one operation made to fail the way a throttled or unreachable DynamoDB does. */
function failing(store: StateStore, operation: keyof StateStore, cause: string): StateStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === operation) {
        return async () => {
          throw new StateStoreError(operation, 'some-key', cause);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('runCycle', () => {
  let embedded: EmbeddedStateStore;
  const endpoints = [1, 2, 3, 4, 5].map(endpoint);
  const trust = loadTrustStore({ includeSystemRoots: false });
  let checks = 0;
  // Nothing alerts here: every check is ok. (channelsFor: the sink port of the delivery records.)
  const sink = { channelsFor: () => [], deliver: async () => [] };
  const deps = (store: StateStore): RunCycleDeps => ({
    store,
    sink,
    trustFor: () => trust,
    now: () => new Date(T0),
    check: async (e, address, now) => {
      checks++;
      return okResult(e, address, now().getTime());
    },
  });
  const opts = { concurrency: 1, intervalMs: 6 * HOUR, lease: { holder: { host: 'test-host', pid: 1 } } };

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
    checks = 0;
  });
  afterEach(async () => {
    await embedded.close();
  });

  it('stops at the first store failure and rethrows it once, starting no further check', async () => {
    // Prepare: every state write is throttled beyond the SDK's retries
    const cause =
      'ProvisionedThroughputExceededException: The level of configured provisioned throughput was exceeded';
    const store = failing(embedded.store, 'saveAddressState', cause);

    // Act
    const error = await runCycle(deps(store), endpoints, opts).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toBe(`saveAddressState(some-key): ${cause}`);
    expect(checks).toBe(1);
    expect(await embedded.store.getRunLease()).toBeNull();
    const [run] = await embedded.store.listRuns(1);
    expect(run?.finishedAt).toBeNull();
  });

  it('refuses while another run holds the lease, having written nothing', async () => {
    // Prepare
    const holder = {
      runId: 'other-run',
      host: 'other-host',
      pid: 77,
      acquiredAt: new Date(T0).toISOString(),
      until: new Date(T0 + 60_000).toISOString(),
    };
    await embedded.store.acquireRunLease(holder, { now: holder.acquiredAt });

    // Act
    const error = await runCycle(deps(embedded.store), endpoints, opts).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RunLeaseHeldError);
    expect((error as RunLeaseHeldError).holder).toStrictEqual(holder);
    expect(checks).toBe(0);
    expect(await embedded.store.listEndpoints()).toEqual([]);
    expect(await embedded.store.listRuns(5)).toEqual([]);
  });

  it('stops checking once another run has taken its lapsed lease over, and says to whom', async () => {
    // Prepare: the renewal timer is fired by hand, from inside the first check
    let renew: (() => Promise<void>) | null = null;
    const schedule: Scheduler = (fn) => {
      renew = fn;
      return () => undefined;
    };
    const thief = {
      runId: 'thief-run',
      host: 'other-host',
      pid: 99,
      acquiredAt: new Date(T0).toISOString(),
      until: new Date(T0 + 60_000).toISOString(),
    };
    const base = deps(embedded.store);
    const stalling: RunCycleDeps = {
      ...base,
      check: async (e, address, now) => {
        // This run stalled past its lease; another run took the store over; then the renewal fires.
        await embedded.store.acquireRunLease(thief, { now: thief.acquiredAt, takeOverLive: true });
        await renew?.();
        return (base.check ?? (() => Promise.reject(new Error('no check'))))(e, address, now);
      },
    };

    // Act
    const error = await runCycle(stalling, endpoints, { ...opts, lease: { ...opts.lease, schedule } }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect((error as RunLeaseLostError).holder).toStrictEqual(thief);
    expect(checks).toBe(1);
    expect(await embedded.store.getRunLease()).toStrictEqual(thief);
  });

  it('judges its own run, with its lease as deadline, and never another run', async () => {
    // Prepare: an older run that never finished (its process died), far past any grace period
    await embedded.store.createRun({
      runId: '20261120T000000000Z-dead',
      startedAt: new Date(T0 - 48 * HOUR).toISOString(),
      expected: 5,
    });

    // Act
    const cycle = await runCycle(deps(embedded.store), endpoints, {
      ...opts,
      lease: { ...opts.lease, leaseMs: 90_000 },
    });

    // Assess
    expect(cycle.judgement).toMatchObject({ runId: cycle.dispatched.runId, complete: true, completed: 5 });
    expect(cycle.watchdog.judged.map((j) => j.runId)).toEqual([cycle.dispatched.runId]);
    expect((await embedded.store.getRun('20261120T000000000Z-dead'))?.finishedAt).toBeNull();
    expect(await embedded.store.getRun(cycle.dispatched.runId)).toMatchObject({
      deadline: new Date(T0 + 90_000).toISOString(),
      finishedAt: new Date(T0).toISOString(),
    });
    expect(await embedded.store.getRunLease()).toBeNull();
  });
});
