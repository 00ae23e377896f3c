import { describe, expect, it } from 'vitest';
import {
  EXPIRED_THRESHOLD,
  effectiveThresholds,
  evaluateCheck,
  isObsoleteSibling,
  RETIRE_ADDRESS_AFTER_MS,
  retirementAlerts,
} from '../../lambdas/core/alert-policy';
import type { AddressState, Alert } from '../../lambdas/core/model';
import {
  at,
  certResult,
  DAY_MS,
  days,
  describeAlerts,
  FP_A,
  FP_B,
  failedResult,
  finding,
  hours,
  makeEndpoint,
  runSteps,
  type Step,
  T0,
} from './policy-fixtures';

const KEY = 'example.com:443|192.0.2.10';

describe('evaluateCheck: expiry thresholds', () => {
  // Expires 2026-04-10T12:00Z: a check k days after T0 sees 40 - k days left.
  const notAfter = at(days(40.5));
  // A long re-notify interval keeps reminders out of this table.
  const endpoint = makeEndpoint({ policy: { renotifyIntervalMs: days(365) } });

  it('alerts exactly once per threshold while a certificate counts down to expiry', () => {
    // Prepare
    const checkDays = [5, 10, 11, 26, 30, 33, 37, 39, 40, 41, 42];
    const steps: Step[] = checkDays.map((k) => ({
      result: certResult({ now: at(days(k)), notAfter, endpoint }),
    }));

    // Act
    const { alertsPerStep, state } = runSteps(steps, endpoint);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      ['threshold/warning: expires in 30 days (2026-04-10)'],
      [],
      ['threshold/warning: expires in 14 days (2026-04-10)'],
      [],
      ['threshold/critical: expires in 7 days (2026-04-10)'],
      ['threshold/critical: expires in 3 days (2026-04-10)'],
      ['threshold/critical: expires in 1 day (2026-04-10)'],
      [],
      ['threshold/critical: expired 1 day ago (2026-04-10)'],
      [],
    ]);
    expect(state?.alerting.thresholdsSent).toEqual([30, 14, 7, 3, 1, EXPIRED_THRESHOLD]);
  });

  it.each([
    {
      name: 'first check of a healthy certificate sends nothing',
      daysLeft: [90],
      expected: [[]],
      sent: [],
    },
    {
      name: 'two checks in the same band send one alert',
      daysLeft: [13, 12],
      expected: [['threshold/warning: expires in 13 days (2026-04-10)'], []],
      sent: [30, 14],
    },
    {
      name: 'a first check at 5 days sends one alert, for the lowest crossed threshold',
      daysLeft: [5, 4, 3],
      expected: [
        ['threshold/critical: expires in 5 days (2026-04-10)'],
        [],
        ['threshold/critical: expires in 3 days (2026-04-10)'],
      ],
      sent: [30, 14, 7, 3],
    },
    {
      name: 'a first check of an expired certificate sends one alert',
      daysLeft: [-4],
      expected: [['threshold/critical: expired 4 days ago (2026-04-10)']],
      sent: [30, 14, 7, 3, 1, EXPIRED_THRESHOLD],
    },
  ])('$name', ({ daysLeft, expected, sent }) => {
    // Prepare
    const steps = daysLeft.map((left) => ({
      result: certResult({ now: at(days(40 - left)), notAfter, endpoint }),
    }));

    // Act
    const { alertsPerStep, state } = runSteps(steps, endpoint);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual(expected);
    expect(state?.alerting.thresholdsSent).toEqual(sent);
  });

  it('always alerts on entering the critical band, even when thresholdsDays leaves it out', () => {
    // Prepare
    const sparse = makeEndpoint({ policy: { thresholdsDays: [3, 1], renotifyIntervalMs: days(365) } });
    const steps = [20, 6, 5, 3].map((left) => ({
      result: certResult({ now: at(days(40 - left)), notAfter, endpoint: sparse }),
    }));

    // Act
    const { alertsPerStep } = runSteps(steps, sparse);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      ['threshold/critical: expires in 6 days (2026-04-10)'],
      [],
      ['threshold/critical: expires in 3 days (2026-04-10)'],
    ]);
  });

  it.each([
    { thresholdsDays: [30, 14, 7, 3, 1], criticalDays: 7, expected: [30, 14, 7, 3, 1, -1] },
    { thresholdsDays: [3, 1], criticalDays: 10, expected: [10, 3, 1, -1] },
    { thresholdsDays: [], criticalDays: 0, expected: [0, -1] },
  ])(
    'effective thresholds of $thresholdsDays with criticalDays $criticalDays',
    ({ thresholdsDays, criticalDays, expected }) => {
      // Prepare
      const policy = makeEndpoint({
        policy: { thresholdsDays, expiry: { warnDays: 30, criticalDays } },
      }).policy;

      // Act
      const thresholds = effectiveThresholds(policy);

      // Assess
      expect(thresholds).toEqual(expected);
    },
  );
});

describe('evaluateCheck: re-notify', () => {
  // Expires 2026-03-06T21:36Z, 5.9 days after T0.
  const notAfter = at(days(5.9));

  it('repeats a critical alert after the interval, not before, counted from the last notification', () => {
    // Prepare
    const offsets = [0, 23, 24, 47, 70, 71];
    const steps = offsets.map((h) => ({ result: certResult({ now: at(hours(h)), notAfter }) }));

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['threshold/critical: expires in 5 days (2026-03-06)'],
      [],
      ['renotify/critical: still not renewed: expires in 4 days (2026-03-06)'],
      // A new threshold is itself the reminder (no second alert) and restarts the interval.
      ['threshold/critical: expires in 3 days (2026-03-06)'],
      [],
      ['renotify/critical: still not renewed: expires in 2 days (2026-03-06)'],
    ]);
    expect(alertsPerStep[2]?.[0]?.id).toBe(`${KEY}:renotify:${FP_A}:${T0.toISOString()}`);
  });

  it('keeps reminding after expiry', () => {
    // Prepare
    const steps = [6, 7, 8].map((d) => ({ result: certResult({ now: at(days(d)), notAfter }) }));

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['threshold/critical: expired 1 day ago (2026-03-06)'],
      ['renotify/critical: still not renewed: expired 2 days ago (2026-03-06)'],
      ['renotify/critical: still not renewed: expired 3 days ago (2026-03-06)'],
    ]);
  });

  it('does not remind while the status is only warning', () => {
    // Prepare
    const warningCert = at(days(20.5));
    const steps = [0, 1, 2, 3].map((d) => ({
      result: certResult({ now: at(days(d)), notAfter: warningCert }),
    }));

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['threshold/warning: expires in 20 days (2026-03-21)'],
      [],
      [],
      [],
    ]);
  });

  it('reminds of a critical status that no earlier alert covered', () => {
    // Prepare: critical because of a finding outside every rule (an expiring intermediate, say).
    const healthy = at(days(90));
    const steps = [0, 1].map((h) => ({
      result: certResult({
        now: at(hours(h)),
        notAfter: healthy,
        status: 'critical',
        findings: [
          finding('CHAIN_CERT_EXPIRES_SOON', 'critical', 'intermediate CN=Old CA expires in 2 days'),
        ],
      }),
    }));

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['renotify/critical: still critical: intermediate CN=Old CA expires in 2 days'],
      [],
    ]);
  });
});

describe('evaluateCheck: renewal', () => {
  const oldExpiry = at(days(5.9));
  const newExpiry = at(days(90.5));

  it('sends one renewed notice and restarts the thresholds for the new certificate', () => {
    // Prepare
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter: oldExpiry, fingerprint: FP_A }) },
      { result: certResult({ now: at(hours(1)), notAfter: newExpiry, fingerprint: FP_B }) },
      { result: certResult({ now: at(hours(2)), notAfter: newExpiry, fingerprint: FP_B }) },
      { result: certResult({ now: at(days(61)), notAfter: newExpiry, fingerprint: FP_B }) },
    ];

    // Act
    const { alertsPerStep, states } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['threshold/critical: expires in 5 days (2026-03-06)'],
      ['renewed/info: renewed: expires 2026-03-06 → 2026-05-30'],
      [],
      ['threshold/warning: expires in 29 days (2026-05-30)'],
    ]);
    expect(states[1]?.alerting).toMatchObject({ fingerprint: FP_B, thresholdsSent: [] });
    expect(alertsPerStep[1]?.[0]).toMatchObject({ id: `${KEY}:renewed:${FP_B}`, action: 'No action needed' });
  });

  it('calls a change to an earlier-expiring certificate a replacement, and alerts its thresholds', () => {
    // Prepare
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter: newExpiry, fingerprint: FP_A }) },
      { result: certResult({ now: at(hours(6)), notAfter: oldExpiry, fingerprint: FP_B }) },
    ];

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      [
        'renewed/info: certificate replaced: expires 2026-05-30 → 2026-03-06',
        'threshold/critical: expires in 5 days (2026-03-06)',
      ],
    ]);
    expect(alertsPerStep[1]?.[0]?.action).toBe(
      'Check that this is the intended certificate: it expires earlier than the one it replaced',
    );
  });

  it('does not re-announce or re-alert when one address alternates between two certificates', () => {
    // Prepare: two backends behind one IP, one of them stale.
    const steps: Step[] = [0, 1, 2, 3, 4, 5].map((h) => ({
      result: certResult({
        now: at(hours(h)),
        notAfter: h % 2 === 0 ? oldExpiry : newExpiry,
        fingerprint: h % 2 === 0 ? FP_A : FP_B,
      }),
    }));

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['threshold/critical: expires in 5 days (2026-03-06)'],
      ['renewed/info: renewed: expires 2026-03-06 → 2026-05-30'],
      [],
      [],
      [],
      [],
    ]);
  });
});

describe('evaluateCheck: certificate problems', () => {
  const healthy = at(days(90));

  it('alerts when a problem appears, once, and resolves it when it clears', () => {
    // Prepare
    const incomplete = [
      finding('INCOMPLETE_CHAIN', 'critical', 'The server does not send the intermediate CN=R3.'),
    ];
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter: healthy }) },
      { result: certResult({ now: at(hours(6)), notAfter: healthy, findings: incomplete }) },
      { result: certResult({ now: at(hours(12)), notAfter: healthy, findings: incomplete }) },
      { result: certResult({ now: at(hours(18)), notAfter: healthy }) },
      { result: certResult({ now: at(hours(24)), notAfter: healthy }) },
    ];

    // Act
    const { alertsPerStep, states } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      ['problem/critical: certificate problem: incomplete chain'],
      [],
      ['resolved/info: resolved: incomplete chain'],
      [],
    ]);
    expect(alertsPerStep[1]?.[0]).toMatchObject({
      id: `${KEY}:problem:INCOMPLETE_CHAIN:run-2`,
      action: 'Install the missing intermediate certificate named in the finding on the server',
    });
    expect(states[2]?.alerting.openProblems).toEqual(['INCOMPLETE_CHAIN']);
    expect(states[3]?.alerting.openProblems).toEqual([]);
  });

  it.each([
    {
      name: 'two problems at once make one alert naming both',
      findings: [finding('SELF_SIGNED'), finding('HOSTNAME_MISMATCH')],
      expected: ['problem/critical: certificate problem: hostname mismatch, self-signed certificate'],
      action:
        'Serve a certificate whose subject alternative names include example.com; Replace the self-signed certificate with one issued by a trusted CA',
    },
    {
      name: 'a warning-level problem alerts as a warning',
      findings: [finding('WEAK_SIGNATURE', 'warning')],
      expected: ['problem/warning: certificate problem: weak signature algorithm'],
      action: 'Reissue the certificate with a SHA-256 (or stronger) signature',
    },
    {
      name: 'an info-level finding does not alert',
      findings: [finding('WEAK_KEY', 'info')],
      expected: [],
      action: null,
    },
    {
      name: 'an untrusted chain names the fix',
      findings: [finding('UNTRUSTED_CHAIN')],
      expected: ['problem/critical: certificate problem: untrusted chain'],
      action:
        'Serve a certificate chain that leads to a trusted root CA; for a private CA, trust its root (trust.caFiles in the config, or check --ca-file)',
    },
  ])('$name', ({ findings, expected, action }) => {
    // Prepare
    const result = certResult({ now: T0, notAfter: healthy, findings });

    // Act
    const { alerts } = evaluateCheck(null, result, { endpoint: makeEndpoint(), runId: 'run-1', now: T0 });

    // Assess
    expect(describeAlerts(alerts)).toEqual(expected);
    expect(alerts[0]?.action ?? null).toBe(action);
  });

  it('reminds of an open critical problem after the interval', () => {
    // Prepare
    const untrusted = [finding('UNTRUSTED_CHAIN')];
    const steps = [0, 12, 24].map((h) => ({
      result: certResult({ now: at(hours(h)), notAfter: healthy, findings: untrusted }),
    }));

    // Act
    const { alertsPerStep } = runSteps(steps);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      ['problem/critical: certificate problem: untrusted chain'],
      [],
      ['renotify/critical: still open: untrusted chain'],
    ]);
  });
});

describe('evaluateCheck: unreachable addresses', () => {
  const refused = 'connect ECONNREFUSED 192.0.2.10:443';

  it('alerts when the failure streak reaches failuresBeforeAlert, reminds, and resolves on recovery', () => {
    // Prepare
    const healthy = at(days(60.5));
    const steps: Step[] = [
      { result: failedResult(T0) },
      { result: failedResult(at(hours(6))) },
      { result: failedResult(at(hours(12))) },
      { result: failedResult(at(hours(30))) },
      { result: certResult({ now: at(hours(36)), notAfter: healthy }) },
      { result: certResult({ now: at(hours(42)), notAfter: healthy }) },
    ];

    // Act
    const { alertsPerStep, states } = runSteps(steps);

    // Assess
    const since = T0.toISOString();
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      [`error/critical: unreachable for 2 consecutive checks since ${since}: ${refused}`],
      [],
      [`renotify/critical: still unreachable after 4 consecutive checks since ${since}: ${refused}`],
      ['resolved/info: reachable again after 4 failed checks'],
      [],
    ]);
    expect(alertsPerStep[1]?.[0]).toMatchObject({
      id: `${KEY}:error:${since}`,
      action: 'Check that the server is up and port 443 is reachable from the monitor',
    });
    expect(states.map((s) => [s.consecutiveFailures, s.failingSince, s.alerting.errorAlerted])).toEqual([
      [1, since, false],
      [2, since, true],
      [3, since, true],
      [4, since, true],
      [0, null, false],
      [0, null, false],
    ]);
  });

  it.each([
    {
      name: 'a streak shorter than failuresBeforeAlert recovers silently',
      failuresBeforeAlert: 2,
      failures: 1,
      expected: [[], []],
    },
    {
      name: 'failuresBeforeAlert 1 alerts on the first failure',
      failuresBeforeAlert: 1,
      failures: 1,
      expected: [
        [`error/critical: unreachable for 1 consecutive checks since ${T0.toISOString()}: ${refused}`],
        ['resolved/info: reachable again after 1 failed check'],
      ],
    },
    {
      name: 'failuresBeforeAlert 3 waits for the third failure',
      failuresBeforeAlert: 3,
      failures: 3,
      expected: [
        [],
        [],
        [`error/critical: unreachable for 3 consecutive checks since ${T0.toISOString()}: ${refused}`],
        ['resolved/info: reachable again after 3 failed checks'],
      ],
    },
  ])('$name', ({ failuresBeforeAlert, failures, expected }) => {
    // Prepare
    const endpoint = makeEndpoint({ policy: { failuresBeforeAlert } });
    const steps: Step[] = [
      ...Array.from({ length: failures }, (_, i) => ({ result: failedResult(at(hours(i))) })),
      { result: certResult({ now: at(hours(failures)), notAfter: at(days(60)), endpoint }) },
    ];

    // Act
    const { alertsPerStep } = runSteps(steps, endpoint);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual(expected);
  });

  it('keeps the last known certificate while failing and recomputes its days left', () => {
    // Prepare
    const notAfter = at(days(20.5));
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter }) },
      { result: failedResult(at(days(3)), 'TIMEOUT', 'no TLS handshake within 10000 ms') },
    ];

    // Act
    const { states } = runSteps(steps);

    // Assess
    expect(states[1]).toMatchObject({
      status: 'error',
      fingerprint: FP_A,
      notAfter: notAfter.toISOString(),
      issuer: 'CN=Test Issuing CA',
      daysLeft: 17,
      lastSuccessAt: T0.toISOString(),
      lastCheckedAt: at(days(3)).toISOString(),
      consecutiveFailures: 1,
    });
    expect(states[1]?.alerting.thresholdsSent).toEqual([30]);
  });

  it.each([
    { code: 'DNS_ERROR' as const, action: 'Check that example.com resolves in DNS from the monitor' },
    { code: 'NOT_TLS' as const, action: 'Check that port 443 on example.com serves TLS' },
    {
      code: 'CHECK_FAILED' as const,
      action: 'certwatch itself failed: check the checker logs and report the bug',
    },
  ])('names the next step for $code', ({ code, action }) => {
    // Prepare
    const endpoint = makeEndpoint({ policy: { failuresBeforeAlert: 1 } });

    // Act
    const { alerts } = evaluateCheck(null, failedResult(T0, code, 'it failed'), {
      endpoint,
      runId: 'r',
      now: T0,
    });

    // Assess
    expect(alerts.map((a) => a.action)).toEqual([action]);
  });
});

describe('evaluateCheck: idempotency and alert contents', () => {
  it('returns the stored state unchanged when the same run is applied twice', () => {
    // Prepare
    const result = certResult({ now: T0, notAfter: at(days(3)) });
    const first = evaluateCheck(null, result, { endpoint: makeEndpoint(), runId: 'run-7', now: T0 });

    // Act
    const again = evaluateCheck(first.next, result, {
      endpoint: makeEndpoint(),
      runId: 'run-7',
      now: at(hours(1)),
    });

    // Assess
    expect(first.alerts).toHaveLength(1);
    expect(again.next).toBe(first.next);
    expect(again.alerts).toEqual([]);
  });

  it('decides the same alerts, with the same ids, for the same input', () => {
    // Prepare
    const result = certResult({ now: T0, notAfter: at(days(3)), findings: [finding('INCOMPLETE_CHAIN')] });
    const ctx = { endpoint: makeEndpoint(), runId: 'run-1', now: T0 };

    // Act
    const a = evaluateCheck(null, result, ctx);
    const b = evaluateCheck(null, result, ctx);

    // Assess
    expect(a).toEqual(b);
    expect(a.alerts.map((x) => x.id)).toEqual([
      `${KEY}:problem:INCOMPLETE_CHAIN:run-1`,
      `${KEY}:threshold:${FP_A}:3`,
    ]);
  });

  it('fills every field of an alert', () => {
    // Prepare
    const notAfter = at(days(7.5));
    const result = certResult({ now: T0, notAfter });

    // Act
    const { alerts, next } = evaluateCheck(null, result, {
      endpoint: makeEndpoint(),
      runId: 'run-1',
      now: T0,
    });

    // Assess
    const expected: Alert = {
      id: `${KEY}:threshold:${FP_A}:7`,
      kind: 'threshold',
      severity: 'critical',
      endpoint: 'Example site',
      endpointId: 'example.com:443',
      address: '192.0.2.10',
      status: 'critical',
      daysLeft: 7,
      notAfter: notAfter.toISOString(),
      issuer: 'CN=Test Issuing CA',
      findings: [],
      summary: 'expires in 7 days (2026-03-08)',
      detail:
        'The certificate for example.com at 192.0.2.10 (issued by CN=Test Issuing CA) expires in 7 days (2026-03-08). That is within the 7-day alert threshold.',
      action: 'Renew the certificate for example.com before 2026-03-08 and deploy it to every address',
      occurredAt: T0.toISOString(),
      owner: 'web-team',
      channels: ['slack-ops'],
    };
    expect(alerts).toEqual([expected]);
    const state: AddressState = {
      key: KEY,
      endpointId: 'example.com:443',
      endpointName: 'Example site',
      host: 'example.com',
      port: 443,
      address: '192.0.2.10',
      status: 'critical',
      daysLeft: 7,
      notAfter: notAfter.toISOString(),
      fingerprint: FP_A,
      issuer: 'CN=Test Issuing CA',
      findings: [],
      lastCheckedAt: T0.toISOString(),
      lastSuccessAt: T0.toISOString(),
      consecutiveFailures: 0,
      failingSince: null,
      alerting: {
        fingerprint: FP_A,
        thresholdsSent: [30, 14, 7],
        lastNotifiedAt: T0.toISOString(),
        errorAlerted: false,
        openProblems: [],
        divergenceKey: null,
        recentFingerprints: [],
      },
      lastRunId: 'run-1',
    };
    expect(next).toEqual(state);
  });

  it('keeps the stored key, divergence key and outbox of the previous state', () => {
    // Prepare
    const first = evaluateCheck(null, certResult({ now: T0, notAfter: at(days(60)) }), {
      endpoint: makeEndpoint(),
      runId: 'run-1',
      now: T0,
    }).next;
    const outbox = { entries: [], claimedAt: T0.toISOString() };
    const prev: AddressState = {
      ...first,
      key: 'example.com:443|stored-key',
      alerting: { ...first.alerting, divergenceKey: `${FP_A},${FP_B}` },
      outbox,
    };

    // Act
    const { next } = evaluateCheck(prev, certResult({ now: at(DAY_MS), notAfter: at(days(60)) }), {
      endpoint: makeEndpoint(),
      runId: 'run-2',
      now: at(DAY_MS),
    });

    // Assess
    expect(next.key).toBe('example.com:443|stored-key');
    expect(next.alerting.divergenceKey).toBe(`${FP_A},${FP_B}`);
    expect(next.outbox).toBe(outbox);
  });
});

describe('retiring obsolete states', () => {
  const endpoint = makeEndpoint();
  const stateAfter = (steps: Step[]): AddressState => {
    const { state } = runSteps(steps, endpoint);
    if (state === null) throw new Error('no state');
    return state;
  };
  const dnsFailure = (k: number) => ({
    result: failedResult(at(hours(k)), 'DNS_ERROR', 'no such host', null),
    runId: `run-${String(k).padStart(3, '0')}`,
  });
  const okAt = (k: number) => ({
    result: certResult({ now: at(hours(k)), notAfter: at(days(80)), endpoint }),
    runId: `run-${String(k).padStart(3, '0')}`,
  });

  it.each([
    ['a DNS-failure state, by a later run', stateAfter([dnsFailure(0)]), 'run-006', at(hours(6)), true],
    ['a DNS-failure state, by the same run', stateAfter([dnsFailure(6)]), 'run-006', at(hours(6)), false],
    ['a DNS-failure state, by an older run', stateAfter([dnsFailure(6)]), 'run-000', at(hours(6)), false],
    ['an address checked 2 days ago', stateAfter([okAt(0)]), 'run-048', at(days(2)), false],
    ['an address checked 3 days ago', stateAfter([okAt(0)]), 'run-072', at(RETIRE_ADDRESS_AFTER_MS), true],
  ] as const)('judges %s', (_, state, runId, now, obsolete) => {
    // Act / Assess
    expect(isObsoleteSibling(state, runId, now)).toBe(obsolete);
  });

  it.each([
    [
      'an alerted DNS outage',
      [dnsFailure(0), dnsFailure(6)],
      ['resolved/info: resolves again after 2 failed DNS lookups'],
    ],
    ['a DNS blip that never alerted', [dnsFailure(0)], []],
    ['a healthy address', [okAt(0)], []],
    [
      'an address with an alerted failure streak',
      [okAt(0), { result: failedResult(at(hours(6))) }, { result: failedResult(at(hours(12))) }],
      ['resolved/info: 192.0.2.10 left DNS: no longer checked'],
    ],
  ] as const)('closes %s with the right notice', (_, steps, expected) => {
    // Act
    const alerts = retirementAlerts(stateAfter([...steps]), { endpoint, now: at(days(4)) });

    // Assess
    expect(describeAlerts(alerts)).toEqual(expected);
  });
});
