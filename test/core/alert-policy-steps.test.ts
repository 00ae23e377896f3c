/**
 * The steps `evaluateCheck` is composed of, each on its own. The composition
 * itself is covered by alert-policy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type AlertDraft,
  EXPIRED_THRESHOLD,
  expiryThresholdsStep,
  type FailureStreak,
  failureStreakStep,
  isFailedCheck,
  type PreviousStreak,
  problemsStep,
  type ReminderInput,
  reminderStep,
  renewalStep,
  type ThresholdBook,
} from '../../lambdas/core/alert-policy';
import type { AddressFacts } from '../../lambdas/core/alert-text';
import type { Finding, FindingCode } from '../../lambdas/core/model';
import {
  at,
  certResult,
  days,
  FP_A,
  FP_B,
  FP_C,
  failedResult,
  finding,
  hours,
  makeEndpoint,
  T0,
} from './policy-fixtures';

const POLICY = makeEndpoint().policy;
const SINCE = T0.toISOString();

const FACTS: AddressFacts = {
  host: 'example.com',
  port: 443,
  address: '192.0.2.10',
  daysLeft: 60,
  notAfter: at(days(60.5)).toISOString(),
  issuer: 'CN=Test Issuing CA',
  fingerprint: FP_A,
};

/** "kind/severity event: summary" of each draft: compact and exact for tables. */
function describeDrafts(drafts: readonly AlertDraft[]): string[] {
  return drafts.map((d) => `${d.kind}/${d.severity} ${d.event}: ${d.text.summary}`);
}

describe('isFailedCheck', () => {
  it.each([
    ['a check that obtained a certificate', certResult({ now: T0, notAfter: at(days(60)) }), false],
    ['a check that obtained none', failedResult(T0), true],
    [
      'status error despite a chain',
      { ...certResult({ now: T0, notAfter: at(days(60)) }), status: 'error' as const },
      true,
    ],
    ['an expired certificate', certResult({ now: T0, notAfter: at(days(-3)) }), false],
  ])('%s → %s', (_, result, failed) => {
    // Act & Assess
    expect(isFailedCheck(result)).toBe(failed);
  });
});

describe('failureStreakStep', () => {
  const streak = (consecutiveFailures: number, errorAlerted: boolean, failingSince: string | null = SINCE) =>
    ({
      consecutiveFailures,
      failingSince,
      errorAlerted,
      lastCheckedAt: at(hours(6)).toISOString(),
    }) satisfies PreviousStreak;
  const ok = certResult({ now: at(hours(12)), notAfter: at(days(60)) });
  const refused = failedResult(at(hours(12)));
  const refusedSummary = 'connect ECONNREFUSED 192.0.2.10:443';

  it.each<{
    name: string;
    previous: PreviousStreak | null;
    result: typeof ok;
    failuresBeforeAlert?: number;
    state: FailureStreak;
    alerts: string[];
  }>([
    {
      name: 'a first successful check starts no streak',
      previous: null,
      result: ok,
      state: { consecutiveFailures: 0, failingSince: null, errorAlerted: false },
      alerts: [],
    },
    {
      name: 'a first failure starts the streak at its check time',
      previous: null,
      result: refused,
      state: { consecutiveFailures: 1, failingSince: refused.checkedAt, errorAlerted: false },
      alerts: [],
    },
    {
      name: 'reaching failuresBeforeAlert alerts, with the start of the streak as id',
      previous: streak(1, false),
      result: refused,
      state: { consecutiveFailures: 2, failingSince: SINCE, errorAlerted: true },
      alerts: [
        `error/critical ${SINCE}: unreachable for 2 consecutive checks since ${SINCE}: ${refusedSummary}`,
      ],
    },
    {
      name: 'an alerted streak does not alert again',
      previous: streak(3, true),
      result: refused,
      state: { consecutiveFailures: 4, failingSince: SINCE, errorAlerted: true },
      alerts: [],
    },
    {
      name: 'failuresBeforeAlert below 1 alerts on the first failure',
      previous: null,
      result: refused,
      failuresBeforeAlert: 0,
      state: { consecutiveFailures: 1, failingSince: refused.checkedAt, errorAlerted: true },
      alerts: [
        `error/critical ${refused.checkedAt}: unreachable for 1 consecutive checks since ${refused.checkedAt}: ${refusedSummary}`,
      ],
    },
    {
      name: 'an alerted streak ends with a resolved notice',
      previous: streak(4, true),
      result: ok,
      state: { consecutiveFailures: 0, failingSince: null, errorAlerted: false },
      alerts: [`resolved/info error:${SINCE}: reachable again after 4 failed checks`],
    },
    {
      name: 'a streak that never alerted ends silently',
      previous: streak(1, false),
      result: ok,
      state: { consecutiveFailures: 0, failingSince: null, errorAlerted: false },
      alerts: [],
    },
    {
      name: 'an alerted streak of unknown start is named by its last check',
      previous: streak(2, true, null),
      result: ok,
      state: { consecutiveFailures: 0, failingSince: null, errorAlerted: false },
      alerts: [`resolved/info error:${at(hours(6)).toISOString()}: reachable again after 2 failed checks`],
    },
  ])('$name', ({ previous, result, failuresBeforeAlert = 2, state, alerts }) => {
    // Act
    const outcome = failureStreakStep(previous, result, FACTS, { failuresBeforeAlert });

    // Assess
    expect(outcome.state).toEqual(state);
    expect(describeDrafts(outcome.alerts)).toEqual(alerts);
  });

  it('names the failure-class finding and its next step, whatever comes first', () => {
    // Prepare
    const result = {
      ...failedResult(T0),
      findings: [
        finding('CLIENT_CERT_REQUIRED', 'info', 'wants a client certificate'),
        finding('DNS_ERROR', 'critical', 'no such host'),
      ],
    };

    // Act
    const { alerts } = failureStreakStep(null, result, FACTS, { failuresBeforeAlert: 1 });

    // Assess
    expect(alerts[0]?.text.summary).toBe(`unreachable for 1 consecutive checks since ${SINCE}: no such host`);
    expect(alerts[0]?.text.action).toBe('Check that example.com resolves in DNS from the monitor');
  });
});

describe('renewalStep', () => {
  const book = (
    fingerprint: string | null,
    thresholdsSent: number[] = [],
    recent: ThresholdBook['recentFingerprints'] = [],
  ) => ({ fingerprint, thresholdsSent, recentFingerprints: recent }) satisfies ThresholdBook;
  const servedA = { fingerprint: FP_A, notAfter: at(days(5.5)).toISOString() };
  const newFacts = { ...FACTS, fingerprint: FP_B, notAfter: at(days(90.5)).toISOString(), daysLeft: 90 };

  it.each<{
    name: string;
    before: ThresholdBook;
    previous: { fingerprint: string | null; notAfter: string | null } | null;
    leaf: string;
    after: ThresholdBook;
    alerts: string[];
  }>([
    {
      name: 'the first certificate of an address starts its bookkeeping silently',
      before: book(null),
      previous: null,
      leaf: FP_A,
      after: book(FP_A),
      alerts: [],
    },
    {
      name: 'a new certificate is announced and remembered, and starts from no thresholds',
      before: book(FP_A, [30, 14, 7]),
      previous: servedA,
      leaf: FP_B,
      after: book(FP_B, [], [{ fingerprint: FP_A, thresholdsSent: [30, 14, 7] }]),
      alerts: [`renewed/info ${FP_B}: renewed: expires 2026-03-06 → 2026-05-30`],
    },
    {
      name: 'switching back to a remembered certificate restores its thresholds silently',
      before: book(FP_B, [], [{ fingerprint: FP_A, thresholdsSent: [30, 14, 7] }]),
      previous: { fingerprint: FP_B, notAfter: newFacts.notAfter },
      leaf: FP_A,
      after: book(FP_A, [30, 14, 7], [{ fingerprint: FP_B, thresholdsSent: [] }]),
      alerts: [],
    },
    {
      name: 'a state that never served a certificate announces nothing',
      before: book(null),
      previous: { fingerprint: null, notAfter: null },
      leaf: FP_B,
      after: book(FP_B),
      alerts: [],
    },
    {
      name: 'the memory keeps the four newest certificates',
      before: book(
        FP_A,
        [30],
        [
          { fingerprint: 'F1', thresholdsSent: [] },
          { fingerprint: 'F2', thresholdsSent: [] },
          { fingerprint: 'F3', thresholdsSent: [] },
          { fingerprint: 'F4', thresholdsSent: [] },
        ],
      ),
      previous: servedA,
      leaf: FP_B,
      after: book(
        FP_B,
        [],
        [
          { fingerprint: FP_A, thresholdsSent: [30] },
          { fingerprint: 'F1', thresholdsSent: [] },
          { fingerprint: 'F2', thresholdsSent: [] },
          { fingerprint: 'F3', thresholdsSent: [] },
        ],
      ),
      alerts: [`renewed/info ${FP_B}: renewed: expires 2026-03-06 → 2026-05-30`],
    },
  ])('$name', ({ before, previous, leaf, after, alerts }) => {
    // Act
    const outcome = renewalStep(before, previous, leaf, newFacts);

    // Assess
    expect(outcome.state).toEqual(after);
    expect(describeDrafts(outcome.alerts)).toEqual(alerts);
  });

  it('leaves the bookkeeping untouched while the same certificate is served', () => {
    // Prepare
    const before = book(FP_C, [30], [{ fingerprint: FP_A, thresholdsSent: [] }]);

    // Act
    const outcome = renewalStep(before, servedA, FP_C, FACTS);

    // Assess
    expect(outcome.state).toBe(before);
    expect(outcome.alerts).toEqual([]);
  });
});

describe('problemsStep', () => {
  it.each<{ name: string; open: FindingCode[]; findings: Finding[]; state: FindingCode[]; alerts: string[] }>(
    [
      { name: 'no problems, none open', open: [], findings: [], state: [], alerts: [] },
      {
        name: 'a problem appears',
        open: [],
        findings: [finding('INCOMPLETE_CHAIN')],
        state: ['INCOMPLETE_CHAIN'],
        alerts: ['problem/critical INCOMPLETE_CHAIN:run-7: certificate problem: incomplete chain'],
      },
      {
        name: 'an open problem stays open without a word',
        open: ['INCOMPLETE_CHAIN'],
        findings: [finding('INCOMPLETE_CHAIN')],
        state: ['INCOMPLETE_CHAIN'],
        alerts: [],
      },
      {
        name: 'an open problem clears',
        open: ['INCOMPLETE_CHAIN'],
        findings: [],
        state: [],
        alerts: ['resolved/info INCOMPLETE_CHAIN:run-7: resolved: incomplete chain'],
      },
      {
        name: 'one clears while another appears: the notice comes first',
        open: ['SELF_SIGNED'],
        findings: [finding('WEAK_KEY')],
        state: ['WEAK_KEY'],
        alerts: [
          'resolved/info SELF_SIGNED:run-7: resolved: self-signed certificate',
          'problem/critical WEAK_KEY:run-7: certificate problem: weak key',
        ],
      },
      {
        name: 'problems that appear together are one alert, in contract order',
        open: [],
        findings: [finding('SELF_SIGNED'), finding('HOSTNAME_MISMATCH')],
        state: ['HOSTNAME_MISMATCH', 'SELF_SIGNED'],
        alerts: [
          'problem/critical HOSTNAME_MISMATCH+SELF_SIGNED:run-7: certificate problem: hostname mismatch, self-signed certificate',
        ],
      },
      {
        name: 'warning-level problems alert as a warning',
        open: [],
        findings: [finding('WEAK_SIGNATURE', 'warning')],
        state: ['WEAK_SIGNATURE'],
        alerts: ['problem/warning WEAK_SIGNATURE:run-7: certificate problem: weak signature algorithm'],
      },
      {
        name: 'the worst finding of the new problems sets the severity',
        open: [],
        findings: [finding('WEAK_SIGNATURE', 'warning'), finding('WEAK_KEY', 'critical')],
        state: ['WEAK_KEY', 'WEAK_SIGNATURE'],
        alerts: [
          'problem/critical WEAK_KEY+WEAK_SIGNATURE:run-7: certificate problem: weak key, weak signature algorithm',
        ],
      },
      {
        name: 'info-level findings are no problem',
        open: [],
        findings: [finding('WEAK_KEY', 'info')],
        state: [],
        alerts: [],
      },
      {
        name: 'expiry and connection findings are left to their own steps',
        open: [],
        findings: [
          finding('EXPIRED'),
          finding('CHAIN_CERT_EXPIRES_SOON'),
          finding('TIMEOUT'),
          finding('CLIENT_CERT_REQUIRED'),
        ],
        state: [],
        alerts: [],
      },
    ],
  )('$name', ({ open, findings, state, alerts }) => {
    // Act
    const outcome = problemsStep(open, findings, 'run-7', FACTS);

    // Assess
    expect(outcome.state).toEqual(state);
    expect(describeDrafts(outcome.alerts)).toEqual(alerts);
  });
});

describe('expiryThresholdsStep', () => {
  // Expires 2026-04-10T12:00Z; the text reads the days left from the facts.
  const notAfter = at(days(40.5)).toISOString();

  it.each<{ name: string; daysLeft: number | null; sent: number[]; state: number[]; alerts: string[] }>([
    { name: 'unknown days left change nothing', daysLeft: null, sent: [30], state: [30], alerts: [] },
    { name: 'far from expiry', daysLeft: 31, sent: [], state: [], alerts: [] },
    {
      name: 'crossing the first threshold',
      daysLeft: 30,
      sent: [],
      state: [30],
      alerts: [`threshold/warning ${FP_A}:30: expires in 30 days (2026-04-10)`],
    },
    {
      name: 'crossing the next one',
      daysLeft: 13,
      sent: [30],
      state: [30, 14],
      alerts: [`threshold/warning ${FP_A}:14: expires in 13 days (2026-04-10)`],
    },
    {
      name: 'crossing several at once alerts for the lowest and marks them all',
      daysLeft: 5,
      sent: [],
      state: [30, 14, 7],
      alerts: [`threshold/critical ${FP_A}:7: expires in 5 days (2026-04-10)`],
    },
    {
      name: 'a threshold already sent stays quiet',
      daysLeft: 4,
      sent: [30, 14, 7],
      state: [30, 14, 7],
      alerts: [],
    },
    {
      name: 'expiry itself',
      daysLeft: -1,
      sent: [30, 14, 7, 3, 1],
      state: [30, 14, 7, 3, 1, EXPIRED_THRESHOLD],
      alerts: [`threshold/critical ${FP_A}:expired: expired 1 day ago (2026-04-10)`],
    },
  ])('$name', ({ daysLeft, sent, state, alerts }) => {
    // Prepare
    const facts = { ...FACTS, daysLeft, notAfter };

    // Act
    const outcome = expiryThresholdsStep(sent, daysLeft, FP_A, POLICY, facts);

    // Assess
    expect(outcome.state).toEqual(state);
    expect(describeDrafts(outcome.alerts)).toEqual(alerts);
  });

  it('alerts the configured critical boundary even when thresholdsDays leaves it out', () => {
    // Prepare
    const policy = makeEndpoint({
      policy: { thresholdsDays: [3], expiry: { warnDays: 30, criticalDays: 10 } },
    }).policy;

    // Act
    const outcome = expiryThresholdsStep([], 9, FP_A, policy, { ...FACTS, daysLeft: 9, notAfter });

    // Assess
    expect(outcome.state).toEqual([10]);
    expect(describeDrafts(outcome.alerts)).toEqual([
      `threshold/critical ${FP_A}:10: expires in 9 days (2026-04-10)`,
    ]);
  });
});

describe('reminderStep', () => {
  const critical = certResult({ now: T0, notAfter: at(days(5.5)) });
  const criticalFacts = { ...FACTS, daysLeft: 5, notAfter: at(days(5.5)).toISOString() };
  const base: ReminderInput = {
    result: critical,
    facts: criticalFacts,
    streak: { consecutiveFailures: 0, failingSince: null, errorAlerted: false },
    openProblems: [],
    decided: [],
    lastNotifiedAt: null,
    now: T0,
    policy: POLICY,
  };
  const notifiedAgo = (h: number) => at(-hours(h)).toISOString();
  const draft = (severity: AlertDraft['severity']): AlertDraft => ({
    kind: 'renewed',
    severity,
    event: 'x',
    text: { summary: 's', detail: 'd', action: 'a' },
  });
  const healthy = at(days(60.5));

  it.each<{ name: string; input: Partial<ReminderInput>; alerts: string[] }>([
    {
      name: 'critical and never notified: at once',
      input: {},
      alerts: [`renotify/critical ${FP_A}:first: still not renewed: expires in 5 days (2026-03-06)`],
    },
    { name: 'critical, notified 23 h ago: not yet', input: { lastNotifiedAt: notifiedAgo(23) }, alerts: [] },
    {
      name: 'critical, notified 24 h ago: again',
      input: { lastNotifiedAt: notifiedAgo(24) },
      alerts: [
        `renotify/critical ${FP_A}:${notifiedAgo(24)}: still not renewed: expires in 5 days (2026-03-06)`,
      ],
    },
    {
      name: 'an unreadable last notification counts as never',
      input: { lastNotifiedAt: 'garbage' },
      alerts: [`renotify/critical ${FP_A}:garbage: still not renewed: expires in 5 days (2026-03-06)`],
    },
    {
      name: 'a warning alert of this check is reminder enough',
      input: { decided: [draft('warning')] },
      alerts: [],
    },
    {
      name: 'an info notice of this check is not',
      input: { decided: [draft('info')] },
      alerts: [`renotify/critical ${FP_A}:first: still not renewed: expires in 5 days (2026-03-06)`],
    },
    {
      name: 'a warning status is not reminded',
      input: { result: certResult({ now: T0, notAfter: at(days(20.5)) }) },
      alerts: [],
    },
    {
      name: 'an open critical problem is reminded by name',
      input: {
        result: certResult({ now: T0, notAfter: healthy, findings: [finding('UNTRUSTED_CHAIN')] }),
        facts: { ...FACTS, daysLeft: 60 },
        openProblems: ['UNTRUSTED_CHAIN'],
      },
      alerts: [`renotify/critical ${FP_A}:first: still open: untrusted chain`],
    },
    {
      name: 'any other critical status is reminded with its finding',
      input: {
        result: certResult({
          now: T0,
          notAfter: healthy,
          findings: [
            finding('CHAIN_CERT_EXPIRES_SOON', 'critical', 'intermediate CN=Old CA expires in 2 days'),
          ],
        }),
        facts: { ...FACTS, daysLeft: 60 },
      },
      alerts: [`renotify/critical ${FP_A}:first: still critical: intermediate CN=Old CA expires in 2 days`],
    },
    {
      name: 'an alerted failure streak is reminded by its start',
      input: {
        result: failedResult(at(hours(30))),
        now: at(hours(30)),
        streak: { consecutiveFailures: 4, failingSince: SINCE, errorAlerted: true },
        lastNotifiedAt: at(hours(6)).toISOString(),
      },
      alerts: [
        `renotify/critical ${SINCE}:${at(hours(6)).toISOString()}: still unreachable after 4 consecutive checks since ${SINCE}: connect ECONNREFUSED 192.0.2.10:443`,
      ],
    },
    {
      name: 'a failure streak that has not alerted yet is not reminded',
      input: {
        result: failedResult(T0),
        streak: { consecutiveFailures: 1, failingSince: SINCE, errorAlerted: false },
      },
      alerts: [],
    },
  ])('$name', ({ input, alerts }) => {
    // Act
    const drafts = reminderStep({ ...base, ...input });

    // Assess
    expect(describeDrafts(drafts)).toEqual(alerts);
  });
});
