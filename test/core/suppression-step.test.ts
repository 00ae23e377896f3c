import { describe, expect, it } from 'vitest';
import type { SuppressionRef } from '../../lambdas/core/model';
import {
  at,
  certResult,
  days,
  describeAlerts,
  failedResult,
  finding,
  hours,
  makeEndpoint,
  runSteps,
  type Step,
} from './policy-fixtures';

const WINDOW: SuppressionRef = {
  kind: 'maintenance',
  id: 'w1',
  name: 'db upgrade',
  until: at(hours(3)).toISOString(),
};
const SILENCE: SuppressionRef = {
  kind: 'silence',
  id: 's1',
  name: 'known bad chain',
  until: at(days(2)).toISOString(),
};
const notAfter = at(days(60));
const ok = (h: number, suppressors?: SuppressionRef[]): Step => ({
  result: certResult({ now: at(hours(h)), notAfter }),
  ...(suppressors ? { suppressors } : {}),
});
const down = (h: number, suppressors?: SuppressionRef[]): Step => ({
  result: failedResult(at(hours(h))),
  ...(suppressors ? { suppressors } : {}),
});

describe('evaluateCheck with maintenance windows and silences', () => {
  it('quiets an outage inside a window and sends nothing when it ends inside the window', () => {
    // Act
    const { alertsPerStep, states } = runSteps([
      ok(0),
      down(1, [WINDOW]),
      down(2, [WINDOW]),
      ok(2.5, [WINDOW]),
      ok(4),
    ]);
    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([[], [], [], [], []]);
    expect(states[2]?.quieted?.map((q) => `${q.kind}/${q.by.kind}:${q.by.id}`)).toEqual([
      'error/maintenance:w1',
    ]);
    expect(states[2]?.suppressedBy).toMatchObject({
      kind: 'maintenance',
      id: 'w1',
      since: at(hours(1)).toISOString(),
    });
    expect(states[4]?.suppressedBy).toBeNull();
  });

  it('pages at once when the outage outlasts the window, naming it and when it broke', () => {
    // Act
    const { alertsPerStep, states } = runSteps([ok(0), down(1, [WINDOW]), down(2, [WINDOW]), down(3), ok(4)]);
    // Assess
    expect(alertsPerStep[3]?.map((a) => a.kind)).toEqual(['error']);
    expect(alertsPerStep[3]?.[0]?.detail).toContain(
      `Broken since ${at(hours(1)).toISOString()}, outlasted maintenance window db upgrade.`,
    );
    expect(alertsPerStep[4]?.map((a) => a.kind)).toEqual(['resolved']);
    expect(states[3]?.alerting.errorAlerted).toBe(true);
  });

  it('pages an outage that had paged before the window and outlasts it, though no reminder is due', () => {
    // Act
    const { alertsPerStep } = runSteps([ok(0), down(0.5), down(1), down(2, [WINDOW]), down(3.1)]);
    // Assess
    expect(alertsPerStep[2]?.map((a) => a.kind)).toEqual(['error']);
    expect(alertsPerStep[3]).toEqual([]);
    expect(alertsPerStep[4]?.map((a) => `${a.kind}/${a.severity}`)).toEqual(['error/critical']);
    expect(alertsPerStep[4]?.[0]?.id).toBe('example.com:443|192.0.2.10:error:outlasted:w1');
  });

  it('pages as outlasted when a running window is cancelled before its planned end', () => {
    // Prepare: the window was planned until 3 h but is cancelled; the check at 2.5 h is no longer covered
    // Act
    const { alertsPerStep } = runSteps([ok(0), down(1, [WINDOW]), down(2, [WINDOW]), down(2.5)]);
    // Assess
    expect(alertsPerStep[3]?.map((a) => a.kind)).toEqual(['error']);
    expect(alertsPerStep[3]?.[0]?.detail).toContain('outlasted maintenance window db upgrade.');
  });

  it('never quiets expiry in a window: the threshold alert goes out', () => {
    // Prepare: the certificate crosses the 30-day threshold during the window
    const soon = at(days(29));
    const step = (h: number, suppressors?: SuppressionRef[]): Step => ({
      result: certResult({
        now: at(hours(h)),
        notAfter: soon,
        findings: [finding('EXPIRES_SOON', 'warning', 'expires in 28 days')],
      }),
      ...(suppressors ? { suppressors } : {}),
    });
    // Act
    const { alertsPerStep } = runSteps([ok(0), step(1, [WINDOW])]);
    // Assess
    expect(alertsPerStep[1]?.map((a) => a.kind)).toEqual(['threshold']);
  });

  it('quiets a hostname mismatch in a window, but not a revocation next to it', () => {
    // Prepare
    const mismatch = (
      h: number,
      extra: ReturnType<typeof finding>[],
      suppressors?: SuppressionRef[],
    ): Step => ({
      result: certResult({
        now: at(hours(h)),
        notAfter,
        findings: [finding('HOSTNAME_MISMATCH', 'critical'), ...extra],
      }),
      ...(suppressors ? { suppressors } : {}),
    });
    // Act
    const quiet = runSteps([ok(0), mismatch(1, [], [WINDOW])]);
    const loud = runSteps([ok(0), mismatch(1, [finding('REVOKED', 'critical')], [WINDOW])]);
    // Assess
    expect(quiet.alertsPerStep[1]).toEqual([]);
    expect(quiet.states[1]?.alerting.openProblems).toEqual([]);
    expect(loud.alertsPerStep[1]?.map((a) => a.kind)).toEqual(['problem']);
  });

  it('silences a warning threshold until the silence expires, then alerts it', () => {
    // Prepare
    const soon = at(days(20));
    const step = (h: number, suppressors?: SuppressionRef[]): Step => ({
      result: certResult({
        now: at(hours(h)),
        notAfter: soon,
        findings: [finding('EXPIRES_SOON', 'warning')],
      }),
      ...(suppressors ? { suppressors } : {}),
    });
    // Act
    const { alertsPerStep, states } = runSteps([step(0, [SILENCE]), step(1, [SILENCE]), step(49)]);
    // Assess
    expect(alertsPerStep[0]).toEqual([]);
    expect(alertsPerStep[1]).toEqual([]);
    expect(states[1]?.suppressedBy?.kind).toBe('silence');
    expect(alertsPerStep[2]?.map((a) => a.kind)).toEqual(['threshold']);
  });

  it('lets critical expiry and revocation page through a silence', () => {
    // Prepare
    const critical: Step = {
      result: certResult({
        now: at(0),
        notAfter: at(days(3)),
        findings: [finding('EXPIRES_SOON', 'critical')],
      }),
      suppressors: [SILENCE],
    };
    const revoked: Step = {
      result: certResult({ now: at(0), notAfter, findings: [finding('REVOKED', 'critical')] }),
      suppressors: [SILENCE],
    };
    // Act
    const expiry = runSteps([critical]);
    const revocation = runSteps([revoked]);
    // Assess
    expect(expiry.alertsPerStep[0]?.map((a) => `${a.kind}/${a.severity}`)).toEqual(['threshold/critical']);
    expect(revocation.alertsPerStep[0]?.map((a) => a.kind)).toEqual(['problem']);
  });

  it('leaves a state untouched by any window without the new fields', () => {
    // Act
    const { states } = runSteps([ok(0), down(1)], makeEndpoint());
    // Assess
    expect(states[1]).not.toHaveProperty('suppressedBy');
    expect(states[1]).not.toHaveProperty('quieted');
  });
});
