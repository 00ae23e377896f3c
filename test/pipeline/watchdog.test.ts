import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import type { Alert, CheckResult, Endpoint } from '../../lambdas/core/model';
import { processCheck } from '../../lambdas/pipeline/process-check';
import { findStaleEndpoints, runWatchdog } from '../../lambdas/pipeline/watchdog';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';

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
          trust,
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
