/**
 * The canary: the real detector judges every built-in fixture right; a deliberately broken one
 * (an analysis that ignores notAfter) is caught with the exact page text; nothing is left behind.
 */
import { describe, expect, it } from 'vitest';
import { canaryFailureAlert } from '../../lambdas/canary/canary-alert';
import {
  CANARY_FIXTURE_NAMES,
  type CanaryCheck,
  type CanaryFixtureName,
  judgeFixture,
  runCanary,
} from '../../lambdas/canary/run-canary';
import { incidentChanges } from '../../lambdas/core/incident-lifecycle';
import type { CheckResult, FindingCode, Status } from '../../lambdas/core/model';
import { ignoresNotAfter } from './broken-detector';

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'TCPWRAP', 'TCPConnectWrap', 'Timeout'];

function watchedHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** Kinds above their baseline, after closed handles had (boundedly many) loop turns to be released. */
async function handlesAbove(limit: Record<string, number>): Promise<Record<string, number>> {
  const over = () =>
    Object.fromEntries(
      Object.entries(watchedHandles()).filter(([kind, n]) => n > (limit[kind] ?? 0)),
    ) as Record<string, number>;
  let left = over();
  for (let turn = 0; turn < 100 && Object.keys(left).length > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    left = over();
  }
  return left;
}

function result(status: Status, codes: readonly FindingCode[]): CheckResult {
  return {
    target: 'x.canary:1',
    host: 'x.canary',
    port: 1,
    address: '127.0.0.1',
    servername: 'x.canary',
    status,
    daysLeft: null,
    notAfter: null,
    findings: codes.map((code) => ({ code, severity: 'critical', message: code })),
    chain: [],
    protocol: null,
    cipher: null,
    durationMs: 1,
    checkedAt: '2026-12-02T00:00:00.000Z',
  };
}

describe('runCanary', () => {
  it('judges every fixture as expected with the real detector', async () => {
    // Act
    const report = await runCanary();
    // Assess
    expect(report.failures).toEqual([]);
    expect(report.verdicts.map((v) => [v.fixture, v.status, v.ok])).toEqual([
      ['expired', 'expired', true],
      ['hostname-mismatch', 'critical', true],
      ['self-signed', 'critical', true],
      ['malformed', 'critical', true],
      ['no-answer', 'error', true],
      ['good', 'ok', true],
    ]);
  });

  it('says the detector is broken when the analysis ignores notAfter', async () => {
    // Act
    const report = await runCanary({ check: ignoresNotAfter });
    // Assess
    expect(report.failures).toEqual([
      'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)',
    ]);
    expect(report.verdicts.filter((v) => !v.ok).map((v) => v.fixture)).toEqual(['expired']);
  });

  it('reports a detector that throws as a failure instead of rejecting', async () => {
    // Prepare
    const throwing: CanaryCheck = async () => {
      throw new Error('analysis crashed');
    };
    // Act
    const report = await runCanary({ check: throwing });
    // Assess
    expect(report.failures).toEqual(['the detector is broken: the canary could not run: analysis crashed']);
  });

  it('leaves no sockets, servers or timers behind, whatever the verdicts', async () => {
    // Prepare
    await new Promise((resolve) => setTimeout(resolve, 20));
    const baseline = watchedHandles();
    // Act
    await runCanary();
    await runCanary({ check: ignoresNotAfter });
    // Assess
    expect(await handlesAbove(baseline)).toEqual({});
  });
});

describe('judgeFixture', () => {
  it.each<[string, CanaryFixtureName, CheckResult[], string | null]>([
    ['the expected verdict', 'expired', [result('expired', ['EXPIRED'])], null],
    [
      'the right status without the finding',
      'hostname-mismatch',
      [result('critical', ['UNTRUSTED_CHAIN'])],
      'the detector is broken: hostname-mismatch was judged critical (UNTRUSTED_CHAIN), expected critical (HOSTNAME_MISMATCH)',
    ],
    [
      'the finding with the wrong status',
      'self-signed',
      [result('warning', ['SELF_SIGNED'])],
      'the detector is broken: self-signed was judged warning (SELF_SIGNED), expected critical (SELF_SIGNED)',
    ],
    [
      'a good certificate with a finding',
      'good',
      [result('critical', ['WEAK_KEY'])],
      'the detector is broken: good was judged critical (WEAK_KEY), expected ok (no findings)',
    ],
    [
      'no result at all',
      'no-answer',
      [],
      'the detector is broken: no-answer was judged error (no findings), expected error (TIMEOUT)',
    ],
  ])('%s', (_name, fixture, results, failure) => {
    // Act
    const verdict = judgeFixture(fixture, results);
    // Assess
    expect(verdict.failure).toBe(failure);
    expect(verdict.ok).toBe(failure === null);
  });

  it('has an expectation for every fixture', () => {
    // Assess
    expect(CANARY_FIXTURE_NAMES).toEqual([
      'expired',
      'hostname-mismatch',
      'self-signed',
      'malformed',
      'no-answer',
      'good',
    ]);
  });
});

describe('canaryFailureAlert', () => {
  it('pages ops about certwatch itself, in the monitor:canary incident', () => {
    // Prepare
    const report = {
      verdicts: [],
      failures: [
        'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)',
        'the detector is broken: good was judged critical (WEAK_KEY), expected ok (no findings)',
      ],
      durationMs: 310,
    };
    // Act
    const alert = canaryFailureAlert(report, 'run-1', new Date('2026-12-02T12:00:00.000Z'));
    // Assess
    expect(alert).toMatchObject({
      id: 'monitor:canary:run-1',
      kind: 'monitor',
      severity: 'critical',
      endpoint: 'certwatch',
      channels: [],
      summary:
        'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED) (and 1 more)',
    });
    expect(alert.detail).toContain(report.failures[1]);
    expect(incidentChanges(alert).map((c) => c.condition)).toEqual(['monitor:canary']);
  });
});
