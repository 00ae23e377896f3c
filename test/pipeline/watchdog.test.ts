import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import type { MaintenanceWindow, Silence } from '../../lambdas/core/maintenance';
import type { Alert, CheckResult, Endpoint, FindingCode } from '../../lambdas/core/model';
import { processCheck } from '../../lambdas/pipeline/process-check';
import {
  detectorBrokenFor,
  findStaleEndpoints,
  runDeadlineMs,
  runWatchdog,
  soonestDaysLeft,
} from '../../lambdas/pipeline/watchdog';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import type { DetectorBroken, RunRecord, StateStore } from '../../lambdas/store/state-store';
import { makeState } from '../support/dynamodb-store-fixtures';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T00:00:00Z');

function endpoint(id: string): Endpoint {
  const [host = '', port = '443'] = id.split(':');
  return {
    id,
    host,
    port: Number(port),
    name: `name of ${id}`,
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

function okResult(id: string, at: number): CheckResult {
  return {
    target: id,
    host: id.split(':')[0] ?? '',
    port: 443,
    address: '192.0.2.1',
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

describe('runWatchdog', () => {
  let embedded: EmbeddedStateStore;
  const trust = loadTrustStore({ includeSystemRoots: false });
  const endpoints = ['a.example:443', 'b.example:443', 'c.example:443'].map(endpoint);
  const sink = { channelsFor: () => [], deliver: async () => [] };

  beforeAll(async () => {
    embedded = await openEmbeddedStateStore({});
    await embedded.store.syncInventory(endpoints);
  });
  afterAll(async () => {
    await embedded.close();
  });

  async function checkAll(runId: string, at: number, which: readonly Endpoint[]) {
    await embedded.store.createRun({
      runId,
      startedAt: new Date(at).toISOString(),
      expected: endpoints.length,
    });
    for (const e of which) {
      await processCheck(
        {
          store: embedded.store,
          sink,
          trustFor: () => trust,
          now: () => new Date(at),
          check: async () => okResult(e.id, at),
        },
        { v: 1, runId, endpointId: e.id, address: '192.0.2.1', dispatchedAt: new Date(at).toISOString() },
      );
    }
  }

  it('pages with the endpoints a run did not check, once, and only after the grace period', async () => {
    // Prepare: the run checks a and b, never c
    await checkAll('20261122T000000000Z-run1', T0, endpoints.slice(0, 2));
    const pages: Alert[] = [];
    let heartbeats = 0;
    const deps = (at: number) => ({
      store: embedded.store,
      now: () => new Date(at),
      page: async (alert: Alert) => void pages.push(alert),
      heartbeat: async () => void heartbeats++,
    });
    const opts = { intervalMs: 6 * HOUR, graceMs: HOUR };

    // Act
    const early = await runWatchdog(deps(T0 + 30 * 60_000), opts);
    const due = await runWatchdog(deps(T0 + 2 * HOUR), opts);
    const again = await runWatchdog(deps(T0 + 3 * HOUR), opts);

    // Assess
    expect(early.judged).toEqual([]);
    expect(due.judged).toHaveLength(1);
    expect(due.judged[0]).toMatchObject({
      complete: false,
      expected: 3,
      completed: 2,
      unchecked: [{ id: 'c.example:443' }],
    });
    expect(again.judged).toEqual([]);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ kind: 'monitor', severity: 'critical' });
    expect(pages[0]?.summary).toBe(
      'certwatch run 20261122T000000000Z-run1 incomplete: 2 of 3 checks completed, 1 endpoint not checked',
    );
    expect(pages[0]?.detail).toBe('Not checked in this run: name of c.example:443 (c.example:443).');
    expect(heartbeats).toBe(0);
  });

  it('pings the heartbeat after a complete run and pages nothing', async () => {
    // Prepare
    const at = T0 + 6 * HOUR;
    await checkAll('20261122T060000000Z-run2', at, endpoints);
    const pages: Alert[] = [];
    let heartbeats = 0;
    // Act
    const report = await runWatchdog(
      {
        store: embedded.store,
        now: () => new Date(at + 2 * HOUR),
        page: async (alert) => void pages.push(alert),
        heartbeat: async () => void heartbeats++,
      },
      { intervalMs: 6 * HOUR, graceMs: HOUR },
    );
    // Assess
    expect(report.judged.map((j) => j.complete)).toEqual([true]);
    expect(pages).toEqual([]);
    expect(heartbeats).toBe(1);
  });
});

describe('runDeadlineMs', () => {
  it.each([
    ['its own deadline, when it recorded one', { deadline: '2026-11-22T00:02:00.000Z' }, T0 + 2 * 60_000],
    [
      'its own deadline, even before the grace period ends',
      { deadline: '2026-11-22T00:00:30.000Z' },
      T0 + 30_000,
    ],
    ['the grace period after its start, without one', {}, T0 + HOUR],
  ])('is %s', (_name, extra, expected) => {
    // Prepare
    const run = { startedAt: new Date(T0).toISOString(), ...extra };
    // Act
    const deadline = runDeadlineMs(run, HOUR);
    // Assess
    expect(deadline).toBe(expected);
  });
});

/** A canary failure recorded at `at`. */
function brokenAt(at: number): DetectorBroken {
  return {
    at: new Date(at).toISOString(),
    fixture: 'expired',
    judged: 'ok (no findings)',
    expected: 'expired (EXPIRED)',
    reason: 'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)',
  };
}

describe('detectorBrokenFor', () => {
  const run = (runId: string, at: number, mark?: DetectorBroken): RunRecord => ({
    runId,
    startedAt: new Date(at).toISOString(),
    expected: 1,
    completed: 1,
    finishedAt: null,
    ...(mark ? { detectorBroken: mark } : {}),
  });
  const P = T0;
  const R = T0 + 6 * HOUR;
  it.each([
    { name: 'no mark: neither run', marks: {}, p: null, r: null },
    {
      name: 'the canary marked the run it ran beside',
      marks: { r: brokenAt(R + 1_000) },
      p: null,
      r: brokenAt(R + 1_000),
    },
    {
      name: 'the canary finished before the dispatcher recorded its run: the mark on the previous run is the new run’s',
      marks: { p: brokenAt(R - 1_000) },
      p: null,
      r: brokenAt(R - 1_000),
    },
    {
      name: 'a mark from the previous run’s own canary stays with it',
      marks: { p: brokenAt(P + 1_000) },
      p: brokenAt(P + 1_000),
      r: null,
    },
    {
      name: 'a mark exactly between two runs goes to the earlier',
      marks: { p: brokenAt(P + 3 * HOUR) },
      p: brokenAt(P + 3 * HOUR),
      r: null,
    },
    {
      name: 'a mark pinned to its run stays with it, however soon the next run starts',
      marks: { p: { ...brokenAt(R - 1_000), runId: 'p' } },
      p: { ...brokenAt(R - 1_000), runId: 'p' },
      r: null,
    },
    {
      name: 'a mark pinned to the new run is the new run’s, wherever it was written',
      marks: { p: { ...brokenAt(P + 1_000), runId: 'r' } },
      p: null,
      r: { ...brokenAt(P + 1_000), runId: 'r' },
    },
  ])('$name', ({ marks, p, r }) => {
    // Prepare
    const runs = [run('r', R, marks.r), run('p', P, marks.p)];
    // Act
    const found = [
      detectorBrokenFor(runs[1] as RunRecord, runs),
      detectorBrokenFor(runs[0] as RunRecord, runs),
    ];
    // Assess
    expect(found).toEqual([p, r]);
  });

  it('finds a run’s own mark when it is the only run known (a local run judging itself)', () => {
    // Prepare
    const own = run('r', R, brokenAt(R + 300));
    // Act
    const found = detectorBrokenFor(own, [own]);
    // Assess
    expect(found).toEqual(brokenAt(R + 300));
  });
});

describe('runWatchdog judging a run whose canary failed', () => {
  let embedded: EmbeddedStateStore;
  const opts = { intervalMs: 6 * HOUR, graceMs: HOUR };

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
  });
  afterEach(async () => {
    await embedded.close();
  });

  it('judges it failed, stores the verdict and the reason, and neither pages again nor pings the heartbeat', async () => {
    // Prepare: the previous run was judged complete; the canary of the next firing fails before its run is recorded
    const pages: Alert[] = [];
    let heartbeats = 0;
    const deps = (at: number) => ({
      store: embedded.store,
      now: () => new Date(at),
      page: async (a: Alert) => void pages.push(a),
      heartbeat: async () => void heartbeats++,
    });
    await embedded.store.createRun({
      runId: '20261122T000000000Z-prev',
      startedAt: new Date(T0).toISOString(),
      expected: 0,
    });
    const before = await runWatchdog(deps(T0 + 2 * HOUR), opts);
    const heartbeatsBefore = heartbeats;
    const marked = await embedded.store.markDetectorBroken(brokenAt(T0 + 6 * HOUR - 2_000));
    await embedded.store.createRun({
      runId: '20261122T060000000Z-next',
      startedAt: new Date(T0 + 6 * HOUR).toISOString(),
      expected: 0,
    });
    // Act
    const report = await runWatchdog(deps(T0 + 8 * HOUR), opts);
    // Assess
    expect(before.judged.map((j) => [j.runId, j.verdict, j.detectorBroken])).toEqual([
      ['20261122T000000000Z-prev', 'complete', null],
    ]);
    expect(marked).toBe('20261122T000000000Z-prev');
    expect(report.judged.map((j) => [j.runId, j.complete, j.verdict, j.detectorBroken])).toEqual([
      ['20261122T060000000Z-next', true, 'failed', brokenAt(T0 + 6 * HOUR - 2_000)],
    ]);
    expect(pages).toEqual([]);
    expect([heartbeatsBefore, heartbeats]).toEqual([1, 1]);
    expect(await embedded.store.getRun('20261122T060000000Z-next')).toMatchObject({
      verdict: 'failed',
      detectorBroken: brokenAt(T0 + 6 * HOUR - 2_000),
    });
    expect((await embedded.store.getRun('20261122T000000000Z-prev'))?.verdict).toBe('complete');
  });
});

describe('runWatchdog judging each run once', () => {
  let embedded: EmbeddedStateStore;
  const endpoints = ['a.example:443', 'b.example:443'].map(endpoint);
  const opts = { intervalMs: 6 * HOUR, graceMs: HOUR };

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
    await embedded.store.syncInventory(endpoints);
  });
  afterEach(async () => {
    await embedded.close();
  });

  /** A run that checked nothing: judging it always pages. */
  const unchecked = (runId: string, extra: { deadline?: string } = {}) =>
    embedded.store.createRun({ runId, startedAt: new Date(T0).toISOString(), expected: 2, ...extra });
  const watchdog = (at: number, pages: Alert[], judge?: string, claimMs?: number) =>
    runWatchdog(
      {
        store: embedded.store,
        now: () => new Date(at),
        page: async (alert) => void pages.push(alert),
        ...(judge ? { judge } : {}),
      },
      { ...opts, ...(claimMs ? { claimMs } : {}) },
    );

  it('pages once when two watchdogs judge the same run at once', async () => {
    // Prepare
    await unchecked('20261122T000000000Z-race');
    const pages: Alert[] = [];
    // Act
    const reports = await Promise.all([
      watchdog(T0 + 2 * HOUR, pages, 'judge-a'),
      watchdog(T0 + 2 * HOUR, pages, 'judge-b'),
      watchdog(T0 + 2 * HOUR, pages, 'judge-c'),
    ]);
    // Assess
    expect(reports.flatMap((r) => r.judged.map((j) => j.runId))).toEqual(['20261122T000000000Z-race']);
    expect(pages.map((p) => p.summary)).toEqual([
      'certwatch run 20261122T000000000Z-race incomplete: 0 of 2 checks completed, 2 endpoints not checked',
    ]);
    expect((await embedded.store.getRun('20261122T000000000Z-race'))?.finishedAt).toBe(
      new Date(T0 + 2 * HOUR).toISOString(),
    );
  });

  it('never judges a run before its own deadline, even after the grace period', async () => {
    // Prepare: a local run whose lease (and so its deadline) was renewed to T0 + 3 h
    const deadline = new Date(T0 + 3 * HOUR).toISOString();
    await unchecked('20261122T000000000Z-long', { deadline });
    const pages: Alert[] = [];
    // Act
    const afterGrace = await watchdog(T0 + 2 * HOUR, pages);
    const justBefore = await watchdog(T0 + 3 * HOUR - 1, pages);
    const atDeadline = await watchdog(T0 + 3 * HOUR, pages);
    // Assess
    expect(afterGrace.judged).toEqual([]);
    expect(justBefore.judged).toEqual([]);
    expect(atDeadline.judged.map((j) => j.runId)).toEqual(['20261122T000000000Z-long']);
    expect(pages).toHaveLength(1);
  });

  it('leaves a run whose page failed to the next watchdog after the claim, and then pages it', async () => {
    // Prepare
    await unchecked('20261122T000000000Z-pagefail');
    const failing = runWatchdog(
      {
        store: embedded.store,
        now: () => new Date(T0 + 2 * HOUR),
        page: async () => {
          throw new Error('ops topic unavailable');
        },
        judge: 'judge-a',
      },
      { ...opts, claimMs: 10 * 60_000 },
    );
    await expect(failing).rejects.toThrow('ops topic unavailable');
    const pages: Alert[] = [];
    // Act
    const withinClaim = await watchdog(T0 + 2 * HOUR + 5 * 60_000, pages, 'judge-b');
    const afterClaim = await watchdog(T0 + 2 * HOUR + 10 * 60_000, pages, 'judge-b');
    // Assess
    expect(withinClaim.judged).toEqual([]);
    expect(afterClaim.judged.map((j) => j.runId)).toEqual(['20261122T000000000Z-pagefail']);
    expect(pages).toHaveLength(1);
  });

  it('judges only the given run when asked to (a local run judges itself, never another)', async () => {
    // Prepare: another run, long past its grace period and unjudged
    await unchecked('20261121T000000000Z-other');
    await unchecked('20261122T000000000Z-mine');
    const pages: Alert[] = [];
    // Act
    const report = await runWatchdog(
      { store: embedded.store, now: () => new Date(T0 + 1), page: async (a) => void pages.push(a) },
      { ...opts, only: '20261122T000000000Z-mine' },
    );
    // Assess
    expect(report.judged.map((j) => j.runId)).toEqual(['20261122T000000000Z-mine']);
    expect((await embedded.store.getRun('20261121T000000000Z-other'))?.finishedAt).toBeNull();
    expect(pages.map((p) => p.summary)).toEqual([expect.stringContaining('20261122T000000000Z-mine')]);
  });
});

describe('findStaleEndpoints', () => {
  it('names endpoints whose newest success across addresses is older than the limit', () => {
    // Prepare
    const base = {
      endpointName: 'x',
      host: 'h',
      port: 443,
      status: 'ok' as const,
      daysLeft: 1,
      notAfter: null,
      fingerprint: null,
      issuer: null,
      findings: [],
      consecutiveFailures: 0,
      failingSince: null,
      lastRunId: 'r',
      alerting: {
        fingerprint: null,
        thresholdsSent: [],
        lastNotifiedAt: null,
        errorAlerted: false,
        openProblems: [],
        divergenceKey: null,
      },
    };
    const iso = (ms: number) => new Date(T0 + ms).toISOString();
    const states = [
      {
        ...base,
        key: 'a|1',
        endpointId: 'a',
        address: '1',
        lastCheckedAt: iso(0),
        lastSuccessAt: iso(-13 * HOUR),
      },
      {
        ...base,
        key: 'a|2',
        endpointId: 'a',
        address: '2',
        lastCheckedAt: iso(0),
        lastSuccessAt: iso(-1 * HOUR),
      },
      {
        ...base,
        key: 'b|1',
        endpointId: 'b',
        address: '1',
        lastCheckedAt: iso(0),
        lastSuccessAt: iso(-13 * HOUR),
      },
      {
        ...base,
        key: 'c|1',
        endpointId: 'c',
        address: '1',
        lastCheckedAt: iso(-1 * HOUR),
        lastSuccessAt: null,
        failingSince: iso(-20 * HOUR),
      },
    ];
    const eps = ['a', 'b', 'c', 'd'].map((id) => ({ ...endpoint(`${id}:443`), id, name: id }));
    // Act
    const stale = findStaleEndpoints(eps, states, new Date(T0), 12 * HOUR);
    // Assess: a is fine (one address succeeded recently); d has no state yet (the run judgement covers it)
    expect(stale.map((s) => s.id)).toEqual(['b', 'c']);
    expect(stale.find((s) => s.id === 'c')?.lastSuccessAt).toBeNull();
  });
});

describe('runWatchdog publishing the report', () => {
  let embedded: EmbeddedStateStore;
  const endpoints = ['a.example:443', 'b.example:443'].map(endpoint);
  const opts = { intervalMs: 6 * HOUR, graceMs: HOUR };
  const RUN = '20261122T000000000Z-report';

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
    await embedded.store.syncInventory(endpoints);
  });
  afterEach(async () => {
    await embedded.close();
  });

  /** A run past its grace period that checked `checked` of the two endpoints (none: no run at all). */
  async function runThatChecked(checked: number | null): Promise<void> {
    if (checked === null) return;
    await embedded.store.createRun({ runId: RUN, startedAt: new Date(T0).toISOString(), expected: 2 });
    for (const e of endpoints.slice(0, checked)) {
      await embedded.store.saveAddressState(makeState(e, '192.0.2.1', { lastRunId: RUN }), null);
      await embedded.store.recordCheckCompleted(RUN);
    }
  }

  it.each([
    ['a complete run', 2, null, { calls: 1, reportPublished: true, reportError: null }],
    ['an incomplete run', 1, null, { calls: 0, reportPublished: false, reportError: null }],
    ['no run due', null, null, { calls: 0, reportPublished: false, reportError: null }],
    [
      'a complete run whose report write fails',
      2,
      new Error('bucket gone'),
      { calls: 1, reportPublished: false, reportError: 'Error: bucket gone' },
    ],
  ] as const)('after %s', async (_name, checked, failure, expected) => {
    // Prepare
    await runThatChecked(checked);
    const at = new Date(T0 + 2 * HOUR);
    const calls: Date[] = [];
    let heartbeats = 0;
    // Act
    const report = await runWatchdog(
      {
        store: embedded.store,
        now: () => at,
        page: async () => {},
        heartbeat: async () => void heartbeats++,
        publishReport: async (now) => {
          calls.push(now);
          if (failure) throw failure;
        },
      },
      opts,
    );
    // Assess: the report never stands in the way of the judgement, the heartbeat or finishing the run
    expect({
      calls: calls.length,
      reportPublished: report.reportPublished,
      reportError: report.reportError,
    }).toEqual(expected);
    expect(calls.every((c) => c.getTime() === at.getTime())).toBe(true);
    expect(heartbeats).toBe(checked === 2 ? 1 : 0);
    if (checked !== null) expect((await embedded.store.getRun(RUN))?.finishedAt).toBe(at.toISOString());
  });
});

describe('soonestDaysLeft', () => {
  it('takes the minimum of 150,000 states without overflowing the stack (a spread did)', () => {
    // Prepare
    const states = Array.from({ length: 150_000 }, (_, i) => ({
      daysLeft: i === 123_456 ? -3 : 10 + (i % 90),
    }));
    states.push({ daysLeft: null } as unknown as { daysLeft: number });
    // Act
    const soonest = soonestDaysLeft(states);
    // Assess
    expect(soonest).toBe(-3);
    expect(soonestDaysLeft([])).toBeNull();
  });
});

/** An ok result with a leaf certificate expiring `days` (and a half) after the check. */
function withLeaf(r: CheckResult, days: number): CheckResult {
  const notAfter = new Date(Date.parse(r.checkedAt) + (days + 0.5) * 24 * HOUR).toISOString();
  const leaf = {
    subject: `CN=${r.host}`,
    issuer: 'CN=Test CA',
    notBefore: r.checkedAt,
    notAfter,
    serialNumber: '01',
    fingerprintSha256: 'AB'.repeat(32),
    keyType: 'EC',
    keyBits: 256,
    signatureAlgorithm: 'ecdsa-with-SHA256',
    selfSigned: false,
  };
  return { ...r, daysLeft: days, notAfter, chain: [leaf] };
}

describe('runWatchdog over counter shards', () => {
  let embedded: EmbeddedStateStore;
  const trust = loadTrustStore({ includeSystemRoots: false });
  const sink = { channelsFor: () => [], deliver: async () => [] };
  const endpoints = Array.from({ length: 24 }, (_, i) =>
    endpoint(`s${String(i).padStart(2, '0')}.example:443`),
  );
  const opts = { intervalMs: 6 * HOUR, graceMs: HOUR };
  const FULL_READS = new Set(['listAllAddressStates', 'listEndpoints']);

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
    await embedded.store.syncInventory(endpoints);
  });
  afterEach(async () => {
    await embedded.close();
  });

  /** The store, with every call recorded by method name. */
  function recorded(): { store: StateStore; calls: string[] } {
    const calls: string[] = [];
    const store = new Proxy(embedded.store, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { store, calls };
  }

  /** A dispatched run (with its address keys) in which `fail` endpoints fail and `skip` are never checked. */
  async function run(
    runId: string,
    at: number,
    opt: {
      skip?: readonly string[];
      fail?: readonly string[];
      loseCounts?: boolean;
      /** The finding a failing check raises. @default CONNECTION_REFUSED */
      failCode?: FindingCode;
    } = {},
  ) {
    const keys = endpoints.map((e) => `${e.id}|192.0.2.1`);
    await embedded.store.createRun({
      runId,
      startedAt: new Date(at).toISOString(),
      expected: keys.length,
      addressKeys: keys,
    });
    for (const e of endpoints) {
      if (opt.skip?.includes(e.id)) continue;
      const failing = opt.fail?.includes(e.id) ?? false;
      await processCheck(
        {
          store: embedded.store,
          sink,
          trustFor: () => trust,
          ...(opt.loseCounts ? { recordCompletion: async () => {} } : {}),
          now: () => new Date(at),
          check: async () =>
            failing
              ? {
                  ...okResult(e.id, at),
                  status: 'error',
                  daysLeft: null,
                  notAfter: null,
                  findings: [
                    { code: opt.failCode ?? 'CONNECTION_REFUSED', severity: 'critical', message: 'timeout' },
                  ],
                }
              : withLeaf(okResult(e.id, at), e.id.startsWith('s07') ? 12 : 80),
        },
        { v: 1, runId, endpointId: e.id, address: '192.0.2.1', dispatchedAt: new Date(at).toISOString() },
      );
    }
  }

  const tick = (store: StateStore, at: number, pages: Alert[] = []) =>
    runWatchdog({ store, now: () => new Date(at), page: async (a) => void pages.push(a) }, opts);

  it('judges a complete run and finds the soonest expiry without listing any state or endpoint', async () => {
    // Prepare
    await run('20261122T000000000Z-c1', T0);
    const { store, calls } = recorded();
    // Act
    const report = await tick(store, T0 + 2 * HOUR);
    // Assess
    expect(report.judged.map((j) => [j.complete, j.completed, j.expected])).toEqual([[true, 24, 24]]);
    expect(report.soonestDaysLeft).toBe(12);
    expect(report.stale).toEqual([]);
    expect(calls.filter((c) => FULL_READS.has(c) || c.startsWith('listShard'))).toEqual([]);
  });

  it('lists only the shard a run left incomplete, names the endpoint, and finds it stale later', async () => {
    // Prepare: s05 is checked in the first run, then never again
    const missing = 's05.example:443';
    await run('20261122T000000000Z-i1', T0);
    await tick(embedded.store, T0 + 2 * HOUR);
    await run('20261122T060000000Z-i2', T0 + 6 * HOUR, { skip: [missing] });
    await tick(embedded.store, T0 + 8 * HOUR);
    await run('20261122T120000000Z-i3', T0 + 12 * HOUR, { skip: [missing] });
    const { store, calls } = recorded();
    const pages: Alert[] = [];
    // Act
    const report = await tick(store, T0 + 14 * HOUR, pages);
    // Assess
    expect(report.judged).toHaveLength(1);
    expect(report.judged[0]).toMatchObject({
      complete: false,
      completed: 23,
      expected: 24,
      unchecked: [{ id: missing }],
    });
    expect(report.stale.map((s) => s.id)).toEqual([missing]);
    expect(calls.filter((c) => FULL_READS.has(c))).toEqual([]);
    const shard = embedded.store.shardOfKey(`${missing}|192.0.2.1`);
    expect(calls.filter((c) => c === 'listShardAddressStates')).toHaveLength(2);
    expect(new Set(calls.filter((c) => c.startsWith('listShard')))).toEqual(
      new Set(['listShardAddressStates', 'listShardEndpoints']),
    );
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(pages.map((p) => p.summary)).toHaveLength(2);
  });

  it('finds a failing endpoint stale from the failing index, once its last success is too old', async () => {
    // Prepare: s03 fails in every run after the first
    const dead = 's03.example:443';
    await run('20261122T000000000Z-f1', T0);
    await tick(embedded.store, T0 + 2 * HOUR);
    await run('20261122T060000000Z-f2', T0 + 6 * HOUR, { fail: [dead] });
    const early = await tick(embedded.store, T0 + 8 * HOUR);
    await run('20261122T120000000Z-f3', T0 + 12 * HOUR, { fail: [dead] });
    const { store, calls } = recorded();
    // Act
    const late = await tick(store, T0 + 14 * HOUR);
    // Assess
    expect(early.stale).toEqual([]);
    expect(late.judged.map((j) => j.complete)).toEqual([true]);
    expect(late.stale).toEqual([
      { id: dead, name: `name of ${dead}`, lastSuccessAt: new Date(T0).toISOString() },
    ]);
    expect(calls.filter((c) => FULL_READS.has(c) || c.startsWith('listShard'))).toEqual([]);
    // Its only address: the failing index entry says so, and no state of it is read.
    expect(calls.filter((c) => c === 'listAddressStates')).toEqual([]);
  });

  it('recounts a shard whose counts were lost (a checker died before its counter write): complete, not paged', async () => {
    // Prepare: every state is written, no count ever reaches the counters
    await run('20261122T000000000Z-l1', T0, { loseCounts: true });
    const { store, calls } = recorded();
    const pages: Alert[] = [];
    // Act
    const report = await tick(store, T0 + 2 * HOUR, pages);
    // Assess
    expect(report.judged.map((j) => [j.complete, j.completed, j.expected])).toEqual([[true, 24, 24]]);
    expect(pages).toEqual([]);
    expect(calls.filter((c) => c === 'listShardAddressStates').length).toBeGreaterThan(0);
  });

  const iso = (ms: number) => new Date(ms).toISOString();
  const maintenance = (
    scope: { endpoints?: string[]; tags?: string[] },
    start: number,
    end: number,
  ): MaintenanceWindow => ({
    id: 'db-upgrade',
    name: 'DB upgrade',
    endpoints: scope.endpoints ?? [],
    tags: scope.tags ?? [],
    start: iso(start),
    end: iso(end),
    timeZone: 'UTC',
    message: 'Upgrading the database.',
    leadTimeMs: 0,
    createdAt: iso(T0),
    cancelledAt: null,
    source: 'cli',
  });
  const silence = (scope: { endpoint?: string; tag?: string }, until: number): Silence => ({
    id: 'sil-1',
    endpoint: scope.endpoint ?? null,
    tag: scope.tag ?? null,
    until: iso(until),
    reason: 'known outage OPS-7',
    createdAt: iso(T0),
    expiredAt: null,
  });
  const dead = 's03.example:443';

  /** s03 fails from the second run on; at T0 + 14 h its last success (T0) is older than two intervals. */
  async function deadSince(failCode?: FindingCode) {
    await run('20261122T000000000Z-m1', T0);
    await tick(embedded.store, T0 + 2 * HOUR);
    await run('20261122T060000000Z-m2', T0 + 6 * HOUR, { fail: [dead], ...(failCode ? { failCode } : {}) });
    await tick(embedded.store, T0 + 8 * HOUR);
    await run('20261122T120000000Z-m3', T0 + 12 * HOUR, { fail: [dead], ...(failCode ? { failCode } : {}) });
  }

  const quietTick = (at: number, pages: Alert[]) =>
    runWatchdog(
      {
        store: embedded.store,
        now: () => new Date(at),
        page: async (a) => void pages.push(a),
        suppressions: embedded.store.suppressions(),
      },
      opts,
    );

  it.each([
    {
      covers: 'a window naming the endpoint',
      window: maintenance({ endpoints: [dead] }, T0 + 5 * HOUR, T0 + 15 * HOUR),
      by: { kind: 'maintenance', id: 'db-upgrade', name: 'DB upgrade', until: iso(T0 + 15 * HOUR) },
    },
    {
      covers: 'a window naming its tag',
      window: maintenance({ tags: ['db'] }, T0 + 5 * HOUR, T0 + 15 * HOUR),
      by: { kind: 'maintenance', id: 'db-upgrade', name: 'DB upgrade', until: iso(T0 + 15 * HOUR) },
    },
    {
      covers: 'a silence on the endpoint',
      silence: silence({ endpoint: `name of ${dead}` }, T0 + 15 * HOUR),
      by: { kind: 'silence', id: 'sil-1', name: 'known outage OPS-7', until: iso(T0 + 15 * HOUR) },
    },
    {
      covers: 'a silence on its tag',
      silence: silence({ tag: 'db' }, T0 + 15 * HOUR),
      by: { kind: 'silence', id: 'sil-1', name: 'known outage OPS-7', until: iso(T0 + 15 * HOUR) },
    },
  ])('leaves a stale endpoint out of the page and the count while $covers quiets its failure', async (c) => {
    // Prepare
    await embedded.store.syncInventory(endpoints.map((e) => (e.id === dead ? { ...e, tags: ['db'] } : e)));
    await deadSince();
    const suppressions = embedded.store.suppressions();
    if (c.window) await suppressions.saveWindow(c.window, [], null);
    if (c.silence) await suppressions.saveSilence(c.silence, [], null);
    const pages: Alert[] = [];
    // Act
    const report = await quietTick(T0 + 14 * HOUR, pages);
    // Assess
    expect(report.judged.map((j) => j.complete)).toEqual([true]);
    expect(report.stale).toEqual([]);
    expect(report.quietedStale).toEqual([
      { id: dead, name: `name of ${dead}`, lastSuccessAt: iso(T0), by: c.by },
    ]);
    expect(pages).toEqual([]);
  });

  it.each([
    {
      why: 'the window has ended',
      window: maintenance({ endpoints: [dead] }, T0 + 5 * HOUR, T0 + 13 * HOUR),
      failCode: undefined,
    },
    {
      why: 'the window has not started',
      window: maintenance({ endpoints: [dead] }, T0 + 15 * HOUR, T0 + 18 * HOUR),
      failCode: undefined,
    },
    {
      why: 'the window covers other endpoints',
      window: maintenance({ endpoints: ['s04.example:443'], tags: ['web'] }, T0 + 5 * HOUR, T0 + 15 * HOUR),
      failCode: undefined,
    },
    {
      why: 'a window may not quiet its failure (certwatch failed to check it)',
      window: maintenance({ endpoints: [dead] }, T0 + 5 * HOUR, T0 + 15 * HOUR),
      failCode: 'CHECK_FAILED' as const,
    },
    {
      why: 'the silence was expired by hand',
      silence: { ...silence({ endpoint: dead }, T0 + 15 * HOUR), expiredAt: iso(T0 + 13 * HOUR) },
      failCode: undefined,
    },
  ])('pages a stale endpoint when $why', async (c) => {
    // Prepare
    await deadSince(c.failCode);
    const suppressions = embedded.store.suppressions();
    if (c.window) await suppressions.saveWindow(c.window, [], null);
    if (c.silence) await suppressions.saveSilence(c.silence, [], null);
    const pages: Alert[] = [];
    // Act
    const report = await quietTick(T0 + 14 * HOUR, pages);
    // Assess
    expect(report.stale.map((e) => e.id)).toEqual([dead]);
    expect(report.quietedStale).toEqual([]);
    expect(pages.map((p) => p.summary)).toEqual([
      '1 endpoint without a successful certificate check for over 12 h',
    ]);
  });

  it('pages an endpoint still stale once its window is over, and reads the windows once per tick', async () => {
    // Prepare: quieted while the window runs
    await deadSince();
    await embedded.store
      .suppressions()
      .saveWindow(maintenance({ endpoints: [dead] }, T0 + 5 * HOUR, T0 + 15 * HOUR), [], null);
    const during: Alert[] = [];
    const inWindow = await quietTick(T0 + 14 * HOUR, during);
    await run('20261122T180000000Z-m4', T0 + 18 * HOUR, { fail: [dead] });
    const reads: string[] = [];
    const suppressions = embedded.store.suppressions();
    const counted = {
      ...suppressions,
      listWindows: () => {
        reads.push('listWindows');
        return suppressions.listWindows();
      },
      listSilences: () => {
        reads.push('listSilences');
        return suppressions.listSilences();
      },
      getWindow: (id: string) => suppressions.getWindow(id),
      getSilence: (id: string) => suppressions.getSilence(id),
      saveWindow: suppressions.saveWindow.bind(suppressions),
      saveSilence: suppressions.saveSilence.bind(suppressions),
    };
    const after: Alert[] = [];
    // Act
    const report = await runWatchdog(
      {
        store: embedded.store,
        now: () => new Date(T0 + 20 * HOUR),
        page: async (a) => void after.push(a),
        suppressions: counted,
      },
      opts,
    );
    // Assess
    expect(inWindow.quietedStale.map((e) => e.id)).toEqual([dead]);
    expect(during).toEqual([]);
    expect(report.quietedStale).toEqual([]);
    expect(report.stale.map((e) => e.id)).toEqual([dead]);
    expect(after.map((p) => p.detail)).toEqual([`Stale: name of ${dead} (${dead}).`]);
    expect(reads).toEqual(['listWindows', 'listSilences']);
  });
});
