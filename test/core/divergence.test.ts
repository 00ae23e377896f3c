import { describe, expect, it } from 'vitest';
import { evaluateCheck } from '../../lambdas/core/alert-policy';
import { evaluateDivergence } from '../../lambdas/core/divergence';
import type { AddressState, Alert, CheckResult } from '../../lambdas/core/model';
import {
  at,
  certResult,
  days,
  FP_A,
  FP_B,
  FP_C,
  failedResult,
  hours,
  makeEndpoint,
  T0,
} from './policy-fixtures';

const endpoint = makeEndpoint();
const FRESH = at(days(90.5));
const STALE = at(days(2.5));

/** The state of one address after one check of `runId`, optionally with a stored divergence key. */
function stateAfter(
  result: CheckResult,
  runId: string,
  divergenceKey: string | null = null,
  prev: AddressState | null = null,
) {
  const next = evaluateCheck(prev, result, { endpoint, runId, now: new Date(result.checkedAt) }).next;
  return { ...next, alerting: { ...next.alerting, divergenceKey } };
}

function served(
  address: string,
  fingerprint: string,
  notAfter: Date,
  now = T0,
  runId = 'run-1',
  key: string | null = null,
) {
  return stateAfter(certResult({ now, notAfter, fingerprint, address }), runId, key);
}

describe('evaluateDivergence', () => {
  it('sends nothing while every address serves the same certificate', () => {
    // Prepare
    const states = [served('192.0.2.1', FP_A, FRESH), served('192.0.2.2', FP_A, FRESH)];

    // Act
    const decision = evaluateDivergence(endpoint, states, { runId: 'run-1', now: T0 });

    // Assess
    expect(decision).toEqual({ key: null, alert: null });
  });

  it('alerts when the addresses of one host serve different certificates', () => {
    // Prepare
    const states = [
      served('192.0.2.1', FP_A, FRESH),
      served('192.0.2.2', FP_B, at(days(40.5))),
      served('192.0.2.3', FP_A, FRESH),
    ];

    // Act
    const { key, alert } = evaluateDivergence(endpoint, states, { runId: 'run-1', now: T0 });

    // Assess
    expect(key).toBe(`${FP_A},${FP_B}`);
    expect(alert).toMatchObject({
      id: `example.com:443:divergent:AAAA000000000000+BBBB111111111111:run-1`,
      kind: 'divergent',
      severity: 'warning',
      endpoint: 'Example site',
      endpointId: 'example.com:443',
      address: null,
      status: 'ok',
      daysLeft: 40,
      notAfter: at(days(40.5)).toISOString(),
      summary: '2 different certificates across 3 addresses of example.com',
      findings: [
        {
          code: 'DIVERGENT_CERTIFICATES',
          severity: 'warning',
          message: '2 different certificates across 3 addresses of example.com',
        },
      ],
      owner: 'web-team',
      channels: ['slack-ops'],
      occurredAt: T0.toISOString(),
    } satisfies Partial<Alert>);
    expect(alert?.detail).toBe(
      'The addresses of example.com do not all serve the same certificate:\n' +
        '192.0.2.1 → AAAA000000000000 → 2026-05-30\n' +
        '192.0.2.2 → BBBB111111111111 → 2026-04-10\n' +
        '192.0.2.3 → AAAA000000000000 → 2026-05-30\n' +
        'This usually means a stale node behind a load balancer or DNS still serves an old certificate.',
    );
  });

  it('is critical when one of the diverging addresses is critical', () => {
    // Prepare
    const states = [served('192.0.2.1', FP_A, FRESH), served('192.0.2.2', FP_B, STALE)];

    // Act
    const { alert } = evaluateDivergence(endpoint, states, { runId: 'run-1', now: T0 });

    // Assess
    expect(alert).toMatchObject({ severity: 'critical', status: 'critical', daysLeft: 2 });
  });

  it.each([
    {
      name: 'the same divergence is not repeated',
      stored: `${FP_A},${FP_B}`,
      fps: [FP_A, FP_B],
      alert: null,
    },
    {
      name: 'a new certificate in the mix alerts again',
      stored: `${FP_A},${FP_B}`,
      fps: [FP_A, FP_C],
      alert: 'divergent',
    },
    {
      name: 'convergence after a divergence is announced',
      stored: `${FP_A},${FP_B}`,
      fps: [FP_A, FP_A],
      alert: 'resolved',
    },
    {
      name: 'convergence without a previous divergence is silent',
      stored: null,
      fps: [FP_B, FP_B],
      alert: null,
    },
  ])('$name', ({ stored, fps, alert }) => {
    // Prepare
    const states = fps.map((fp, i) => served(`192.0.2.${i + 1}`, fp, FRESH, T0, 'run-2', stored));

    // Act
    const decision = evaluateDivergence(endpoint, states, { runId: 'run-2', now: T0 });

    // Assess
    expect(decision.alert?.kind ?? null).toBe(alert);
    expect(decision.key).toBe(fps[0] === fps[1] ? null : [...new Set(fps)].sort().join(','));
  });

  it('announces convergence as one info notice', () => {
    // Prepare
    const key = `${FP_A},${FP_B}`;
    const states = [
      served('192.0.2.1', FP_A, FRESH, T0, 'run-9', key),
      served('192.0.2.2', FP_A, FRESH, T0, 'run-9', key),
    ];

    // Act
    const { alert } = evaluateDivergence(endpoint, states, { runId: 'run-9', now: T0 });

    // Assess
    expect(alert).toMatchObject({
      id: 'example.com:443:resolved:divergent:run-9',
      kind: 'resolved',
      severity: 'info',
      summary: 'resolved: all 2 addresses of example.com serve the same certificate',
      action: 'No action needed',
    });
  });

  it('does not alert on a difference not yet seen in this run', () => {
    // Prepare: 192.0.2.2 was checked in the previous run only.
    const states = [
      served('192.0.2.1', FP_A, FRESH, at(hours(6)), 'run-2'),
      served('192.0.2.2', FP_B, FRESH, T0, 'run-1'),
    ];

    // Act
    const decision = evaluateDivergence(endpoint, states, { runId: 'run-2', now: at(hours(6)) });

    // Assess
    expect(decision).toEqual({ key: null, alert: null });
  });

  it('keeps the divergence open while the stale node fails its checks', () => {
    // Prepare
    const key = `${FP_A},${FP_B}`;
    const staleBefore = served('192.0.2.2', FP_B, FRESH, T0, 'run-1', key);
    const states = [
      served('192.0.2.1', FP_A, FRESH, at(hours(6)), 'run-2', key),
      stateAfter(failedResult(at(hours(6)), 'TIMEOUT', 'timed out', '192.0.2.2'), 'run-2', key, staleBefore),
    ];

    // Act
    const decision = evaluateDivergence(endpoint, states, { runId: 'run-2', now: at(hours(6)) });

    // Assess
    expect(decision).toEqual({ key, alert: null });
  });

  it('resolves once an address removed from DNS has not been seen for maxAgeMs', () => {
    // Prepare
    const key = `${FP_A},${FP_B}`;
    const states = [
      served('192.0.2.1', FP_A, FRESH, at(days(4)), 'run-20', key),
      served('192.0.2.2', FP_B, FRESH, T0, 'run-1', key),
    ];

    // Act
    const withinAge = evaluateDivergence(endpoint, states, {
      runId: 'run-20',
      now: at(days(4)),
      maxAgeMs: days(5),
    });
    const pastAge = evaluateDivergence(endpoint, states, {
      runId: 'run-20',
      now: at(days(4)),
      maxAgeMs: days(3),
    });

    // Assess
    expect(withinAge).toEqual({ key, alert: null });
    expect(pastAge.key).toBeNull();
    expect(pastAge.alert?.kind).toBe('resolved');
  });

  it('uses a caller-supplied previous key instead of the stored ones', () => {
    // Prepare
    const states = [served('192.0.2.1', FP_A, FRESH), served('192.0.2.2', FP_B, FRESH)];

    // Act
    const repeated = evaluateDivergence(endpoint, states, {
      runId: 'run-1',
      now: T0,
      previousKey: `${FP_A},${FP_B}`,
    });

    // Assess
    expect(repeated).toEqual({ key: `${FP_A},${FP_B}`, alert: null });
  });
});

describe('evaluateDivergence across runs, checks in any order', () => {
  /**
   * A miniature of the checker pipeline: each address is checked on its own,
   * its state saved with the key that evaluateDivergence returns. Runs 1-3 have
   * a stale node (192.0.2.2 serves FP_B), runs 4-6 have it fixed.
   */
  function simulate(
    orders: readonly (readonly string[])[],
    serves: (address: string, run: number) => 'A' | 'B' | 'fail' = (address, run) =>
      address === '192.0.2.2' && run < 3 ? 'B' : 'A',
  ): Alert[] {
    const store = new Map<string, AddressState>();
    const alerts: Alert[] = [];
    orders.forEach((order, run) => {
      const runId = `run-${run + 1}`;
      order.forEach((address, position) => {
        const now = at(hours(run * 6) + position * 60_000);
        const serving = serves(address, run);
        const result =
          serving === 'fail'
            ? failedResult(now, 'TIMEOUT', 'timed out', address)
            : certResult({
                now,
                notAfter: serving === 'B' ? STALE : FRESH,
                fingerprint: serving === 'B' ? FP_B : FP_A,
                address,
              });
        const key = `${endpoint.id}|${address}`;
        const previous = store.get(key) ?? null;
        const { next } = evaluateCheck(previous, result, { endpoint, runId, now });
        const siblings = [...store.values()].filter((s) => s.key !== key);
        const divergence = evaluateDivergence(endpoint, [...siblings, next], { runId, now, key, previous });
        if (divergence.alert) alerts.push(divergence.alert);
        store.set(key, { ...next, alerting: { ...next.alerting, divergenceKey: divergence.key } });
      });
    });
    return alerts;
  }

  const forward = ['192.0.2.1', '192.0.2.2'];
  const backward = ['192.0.2.2', '192.0.2.1'];
  // Every combination of check order over six runs.
  const combinations = Array.from({ length: 64 }, (_, mask) =>
    Array.from({ length: 6 }, (_, run) => ((mask >> run) & 1 ? backward : forward)),
  );

  it('alerts once when the divergence appears and once when it resolves, whatever the order', () => {
    // Act
    const outcomes = combinations.map((orders) =>
      simulate(orders).map((a) => `${a.kind}@${a.id.split(':').pop()}`),
    );

    // Assess
    for (const outcome of outcomes) expect(outcome).toEqual(['divergent@run-1', 'resolved@run-4']);
  });

  it('does not flap while the stale node fails a check', () => {
    // Prepare: the stale node times out in run 2, serves the old certificate again in run 3, is fixed in run 5.
    const three = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    const orders = [three, [...three].reverse(), three, [...three].reverse(), three, three];
    const serves = (address: string, run: number) =>
      address !== '192.0.2.2' ? 'A' : run === 1 ? 'fail' : run < 4 ? 'B' : 'A';

    // Act
    const alerts = simulate(orders, serves);

    // Assess
    expect(alerts.map((a) => `${a.kind}@${a.id.split(':').pop()}`)).toEqual([
      'divergent@run-1',
      'resolved@run-5',
    ]);
  });
});
