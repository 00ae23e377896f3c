/**
 * A revocation alerts at once, critical, whatever failuresBeforeAlert says: REVOKED is a problem
 * (the failure streak counts checks that obtained no certificate, and a revoked one was obtained).
 * REVOCATION_UNKNOWN alerts only when `revocation: require` raises it to a warning.
 */
import { describe, expect, it } from 'vitest';
import { evaluateCheck } from '../../lambdas/core/alert-policy';
import type { Finding } from '../../lambdas/core/model';
import {
  at,
  certResult,
  days,
  describeAlerts,
  finding,
  hours,
  makeEndpoint,
  runSteps,
  T0,
} from './policy-fixtures';

const healthy = at(days(90.5));
const slowToAlert = makeEndpoint({ policy: { failuresBeforeAlert: 5 } });

describe('evaluateCheck: revocation', () => {
  it.each([
    {
      name: 'REVOKED on a new address',
      findings: [finding('REVOKED', 'critical', 'certificate 0 (leaf) was revoked')],
      expected: ['problem/critical: certificate problem: certificate revoked'],
    },
    {
      name: 'MUST_STAPLE_MISSING',
      findings: [finding('MUST_STAPLE_MISSING', 'critical')],
      expected: ['problem/critical: certificate problem: OCSP staple missing'],
    },
    {
      name: 'REVOCATION_UNKNOWN under revocation: require (warning)',
      findings: [finding('REVOCATION_UNKNOWN', 'warning')],
      expected: ['problem/warning: certificate problem: revocation status unknown'],
    },
    {
      name: 'REVOCATION_UNKNOWN under revocation: check (info)',
      findings: [finding('REVOCATION_UNKNOWN', 'info')],
      expected: [],
    },
  ] satisfies { name: string; findings: Finding[]; expected: string[] }[])(
    '$name alerts on first sight with failuresBeforeAlert 5: $expected',
    ({ findings, expected }) => {
      // Prepare
      const result = certResult({ now: T0, notAfter: healthy, findings, endpoint: slowToAlert });

      // Act
      const { alerts } = evaluateCheck(null, result, { endpoint: slowToAlert, runId: 'run-1', now: T0 });

      // Assess
      expect(describeAlerts(alerts)).toEqual(expected);
    },
  );

  it('alerts a revocation the first time it is seen on a known address, then not again in the same condition', () => {
    // Prepare
    const revoked = [finding('REVOKED', 'critical', 'certificate 0 (leaf) was revoked')];
    const steps = [
      { result: certResult({ now: T0, notAfter: healthy, endpoint: slowToAlert }) },
      {
        result: certResult({
          now: at(hours(6)),
          notAfter: healthy,
          findings: revoked,
          endpoint: slowToAlert,
        }),
      },
      {
        result: certResult({
          now: at(hours(12)),
          notAfter: healthy,
          findings: revoked,
          endpoint: slowToAlert,
        }),
      },
    ];

    // Act
    const { alertsPerStep, states } = runSteps(steps, slowToAlert);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      ['problem/critical: certificate problem: certificate revoked'],
      [],
    ]);
    expect(states.map((s) => s.consecutiveFailures)).toEqual([0, 0, 0]);
  });
});
