import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RunLeaseHeldError,
  RunLeaseLostError,
  type Scheduler,
  takeRunLease,
} from '../../lambdas/pipeline/run-lease';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** Renewal timer the test fires by hand: no test waits on the wall clock. */
function manualScheduler() {
  const pending: { fn: () => Promise<void>; ms: number; cancelled: boolean }[] = [];
  const schedule: Scheduler = (fn, ms) => {
    const entry = { fn, ms, cancelled: false };
    pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  return {
    schedule,
    /** Fires the renewal due now (at most one is ever pending) and waits until it has settled. */
    async fire(): Promise<void> {
      const live = pending.filter((p) => !p.cancelled);
      pending.length = 0;
      expect(live).toHaveLength(1);
      await live[0]?.fn();
    },
    pendingMs: () => pending.filter((p) => !p.cancelled).map((p) => p.ms),
  };
}

describe('takeRunLease', () => {
  let embedded: EmbeddedStateStore;
  let t = T0;
  const now = () => new Date(t);
  const holder = { host: 'host-a', pid: 11 };

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
    t = T0;
  });
  afterEach(async () => {
    await embedded.close();
  });

  it('renews every third of the lease, moving the run deadline with it once the run is recorded', async () => {
    // Prepare
    const timer = manualScheduler();
    const held = await takeRunLease(embedded.store, 'run-a', now, {
      leaseMs: 90_000,
      holder,
      schedule: timer.schedule,
    });
    await embedded.store.createRun({
      runId: 'run-a',
      startedAt: iso(0),
      expected: 1,
      deadline: held.until(),
    });
    expect(timer.pendingMs()).toEqual([30_000]);

    // Act
    t = T0 + 30_000;
    await timer.fire(); // before the run is recorded: only the lease moves
    const deadlineBefore = (await embedded.store.getRun('run-a'))?.deadline;
    held.runRecorded();
    t = T0 + 60_000;
    await timer.fire();
    const released = await held.release();

    // Assess
    expect(timer.pendingMs()).toEqual([]);
    expect(held.until()).toBe(iso(150_000));
    expect(deadlineBefore).toBe(iso(90_000));
    expect((await embedded.store.getRun('run-a'))?.deadline).toBe(iso(150_000));
    expect(released).toBe(true);
    expect(await embedded.store.getRunLease()).toBeNull();
  });

  it('refuses a second run while the first holds the lease, naming the holder', async () => {
    // Prepare
    const timer = manualScheduler();
    const first = await takeRunLease(embedded.store, 'run-a', now, {
      leaseMs: 60_000,
      holder,
      schedule: timer.schedule,
    });

    // Act
    const second = await takeRunLease(embedded.store, 'run-b', now, {
      leaseMs: 60_000,
      holder: { host: 'host-b', pid: 22 },
      schedule: timer.schedule,
    }).catch((e: unknown) => e);

    // Assess
    expect(second).toBeInstanceOf(RunLeaseHeldError);
    expect((second as RunLeaseHeldError).holder).toStrictEqual({
      runId: 'run-a',
      host: 'host-a',
      pid: 11,
      acquiredAt: iso(0),
      until: iso(60_000),
    });
    await first.release();
  });

  it('takes over a lapsed lease; the stalled holder learns it lost it and leaves it alone', async () => {
    // Prepare: run-a stalls past its lease
    const timerA = manualScheduler();
    const timerB = manualScheduler();
    const a = await takeRunLease(embedded.store, 'run-a', now, {
      leaseMs: 60_000,
      holder,
      schedule: timerA.schedule,
    });
    t = T0 + 60_000;
    const b = await takeRunLease(embedded.store, 'run-b', now, {
      leaseMs: 60_000,
      holder: { host: 'host-b', pid: 22 },
      schedule: timerB.schedule,
    });

    // Act
    await timerA.fire();
    const releasedA = await a.release();

    // Assess
    expect(b.previous?.runId).toBe('run-a');
    expect(a.lost()).toBeInstanceOf(RunLeaseLostError);
    expect(a.lost()?.holder?.runId).toBe('run-b');
    expect(timerA.pendingMs()).toEqual([]);
    expect(releasedA).toBe(false);
    expect((await embedded.store.getRunLease())?.runId).toBe('run-b');
    await b.release();
  });

  it('takes over a live lease at once when the store is its own (a crashed process left it)', async () => {
    // Prepare
    const timer = manualScheduler();
    await embedded.store.acquireRunLease(
      { runId: 'run-dead', host: 'host-a', pid: 9, acquiredAt: iso(0), until: iso(120_000) },
      { now: iso(0) },
    );

    // Act
    const held = await takeRunLease(embedded.store, 'run-a', now, {
      leaseMs: 60_000,
      holder,
      exclusive: true,
      schedule: timer.schedule,
    });

    // Assess
    expect(held.previous?.runId).toBe('run-dead');
    await held.release();
  });
});
