/**
 * The alert policy: given the stored state of one address and a new check
 * result, decide the next state and the alerts to send. Pure (clock injected),
 * so every rule is a table row in a test.
 *
 * Two promises shape it: never silent (every expiry threshold, expiry itself,
 * every problem and every unreachable streak produces an alert, and anything
 * critical is repeated until it is fixed) and never spam (each condition alerts
 * once, reminders wait for the re-notify interval, a redelivered check of the
 * same run changes nothing, and alert ids are deterministic so a duplicate
 * delivery of the same event can be recognised downstream).
 */
import { type AlertSubject, buildAlert } from './build-alert';
import { FINDINGS, findingCodesWhere } from './findings';
import {
  type Alert,
  type AlertBookkeeping,
  type AlertKind,
  type AddressState,
  addressKey,
  type CheckResult,
  type Endpoint,
  type Finding,
  type FindingCode,
  type FingerprintThresholds,
  type AlertPolicyConfig,
  type QuietedAlert,
  SEVERITY_RANK,
  type Severity,
  type SuppressionRef,
} from './model';
import { applySuppression } from './suppression-step';
import {
  type AddressFacts,
  addressRetiredText,
  type AlertText,
  daysUntil,
  dnsRecoveredText,
  expiryReminderText,
  oneLine,
  problemsResolvedText,
  problemText,
  recoveredText,
  stillCriticalText,
  renewedText,
  thresholdText,
  unreachableText,
} from './alert-text';

/** Everything the policy needs besides the state and the result. */
export interface PolicyContext {
  /** The endpoint as configured (policy, name, owner, channels). */
  readonly endpoint: Endpoint;
  /** The run this check belongs to; a second application of the same run is a no-op. */
  readonly runId: string;
  /** The injected clock. */
  readonly now: Date;
  /**
   * Maintenance windows and silences covering the endpoint for this check, in
   * `suppressorsFor`'s order (see `suppression-step.ts`). @default none
   */
  readonly suppressors?: readonly SuppressionRef[];
}

/** What the policy decided for one check. */
export interface PolicyDecision {
  /** The state to store (the same object as `prev` when the check was already applied). */
  readonly next: AddressState;
  /** Alerts to send, in a stable order: notices first, then new conditions, then reminders. */
  readonly alerts: Alert[];
  /** Alerts a maintenance window or silence quieted: recorded in `next.quieted`, not sent. Absent = none. */
  readonly quieted?: readonly QuietedAlert[];
}

/**
 * Pseudo-threshold recorded in `thresholdsSent` when the "certificate expired"
 * alert went out: `daysLeft` is floored, so `daysLeft <= -1` means expired.
 */
export const EXPIRED_THRESHOLD = -1;

/**
 * Findings about the certificate itself that are neither expiry (thresholds
 * handle that) nor connection failures (the failure streak handles those).
 * Each one alerts once when it appears and once more when it clears.
 * Derived from the finding registry (`alerts: 'problem'`), in contract order.
 */
export const PROBLEM_CODES: readonly FindingCode[] = findingCodesWhere((f) => f.alerts === 'problem');

/** How many previously served fingerprints an address remembers (see `AlertBookkeeping.recentFingerprints`). */
const RECENT_FINGERPRINTS = 4;

const EMPTY_BOOKKEEPING: AlertBookkeeping = {
  fingerprint: null,
  thresholdsSent: [],
  lastNotifiedAt: null,
  errorAlerted: false,
  openProblems: [],
  divergenceKey: null,
  recentFingerprints: [],
};

/**
 * The thresholds that alert, highest first: the configured `thresholdsDays`
 * plus the critical boundary and expiry itself, so that entering the critical
 * band and expiring always alert whatever the configured list says.
 */
export function effectiveThresholds(policy: AlertPolicyConfig): number[] {
  const all = new Set<number>([...policy.thresholdsDays, EXPIRED_THRESHOLD]);
  if (policy.expiry.criticalDays >= 0) all.add(policy.expiry.criticalDays);
  return [...all].sort((a, b) => b - a);
}

/** An alert one policy step decided; `evaluateCheck` adds the facts every alert of the check shares. */
export interface AlertDraft {
  readonly kind: AlertKind;
  readonly severity: Severity;
  /** The event part of the alert id (`alertId`): the same event always gives the same value. */
  readonly event: string;
  readonly text: AlertText;
}

/** What one policy step decided: its part of the next state, and its alerts. */
export interface StepOutcome<T> {
  readonly state: T;
  readonly alerts: readonly AlertDraft[];
}

/** Whether a check obtained no certificate: status `error`, or no chain. */
export function isFailedCheck(result: CheckResult): boolean {
  return result.status === 'error' || result.chain.length === 0;
}

/** The failure-streak part of an address's state. */
export interface FailureStreak {
  readonly consecutiveFailures: number;
  /** Start of the streak (ISO); null when the last check succeeded. */
  readonly failingSince: string | null;
  /** Whether the streak's alert went out. */
  readonly errorAlerted: boolean;
}

/** The streak a stored state is in, and when it was last checked (the start of a streak of unknown age). */
export type PreviousStreak = FailureStreak & { readonly lastCheckedAt: string };

/**
 * Failure streaks. A failed check (`isFailedCheck`) extends the streak; its alert goes out
 * once per streak, when the count reaches `failuresBeforeAlert` (at least 1). A successful
 * check ends the streak, with a 'resolved' notice if its alert went out; a shorter streak
 * ends silently. Ids name the start of the streak.
 */
export function failureStreakStep(
  previous: PreviousStreak | null,
  result: CheckResult,
  facts: AddressFacts,
  policy: Pick<AlertPolicyConfig, 'failuresBeforeAlert'>,
): StepOutcome<FailureStreak> {
  const errorAlerted = previous?.errorAlerted ?? false;
  if (!isFailedCheck(result)) {
    const ended: FailureStreak = { consecutiveFailures: 0, failingSince: null, errorAlerted: false };
    if (previous === null || !errorAlerted) return { state: ended, alerts: [] };
    const since = previous.failingSince ?? previous.lastCheckedAt;
    const text = recoveredText(facts, previous.consecutiveFailures, since);
    return { state: ended, alerts: [{ kind: 'resolved', severity: 'info', event: `error:${since}`, text }] };
  }
  const consecutiveFailures = (previous?.consecutiveFailures ?? 0) + 1;
  const failingSince = previous?.failingSince ?? result.checkedAt;
  if (errorAlerted || consecutiveFailures < Math.max(1, policy.failuresBeforeAlert)) {
    return { state: { consecutiveFailures, failingSince, errorAlerted }, alerts: [] };
  }
  const text = unreachableText(facts, consecutiveFailures, failingSince, failureCause(result));
  return {
    state: { consecutiveFailures, failingSince, errorAlerted: true },
    alerts: [{ kind: 'error', severity: 'critical', event: failingSince, text }],
  };
}

/** The threshold bookkeeping of an address: which leaf it refers to, and what it remembers of earlier ones. */
export interface ThresholdBook {
  readonly fingerprint: string | null;
  readonly thresholdsSent: readonly number[];
  readonly recentFingerprints: readonly FingerprintThresholds[];
}

/**
 * Renewal. A leaf fingerprint other than the bookkept one moves the bookkeeping to it: the
 * old one is remembered (newest first, a few at most), and the new one starts from what was
 * remembered of it, or from nothing. A fingerprint not remembered, on an address that served
 * a certificate before (`previous`, its stored state), sends an info 'renewed' notice (id: the
 * new fingerprint); switching back to a recently served one is silent.
 */
export function renewalStep(
  book: ThresholdBook,
  previous: { readonly fingerprint: string | null; readonly notAfter: string | null } | null,
  leafFingerprint: string,
  facts: AddressFacts,
): StepOutcome<ThresholdBook> {
  if (book.fingerprint === leafFingerprint) return { state: book, alerts: [] };
  const known = book.recentFingerprints.find((r) => r.fingerprint === leafFingerprint);
  const remembered: FingerprintThresholds[] =
    book.fingerprint === null ? [] : [{ fingerprint: book.fingerprint, thresholdsSent: book.thresholdsSent }];
  const recentFingerprints = [
    ...remembered,
    ...book.recentFingerprints.filter((r) => r.fingerprint !== leafFingerprint),
  ].slice(0, RECENT_FINGERPRINTS);
  const state = {
    fingerprint: leafFingerprint,
    thresholdsSent: known?.thresholdsSent ?? [],
    recentFingerprints,
  };
  if (known !== undefined || previous === null || previous.fingerprint === null) return { state, alerts: [] };
  const text = renewedText(facts, { fingerprint: previous.fingerprint, notAfter: previous.notAfter });
  return { state, alerts: [{ kind: 'renewed', severity: 'info', event: leafFingerprint, text }] };
}

/**
 * Certificate problems (`PROBLEM_CODES` at warning or worse): those that cleared get one
 * 'resolved' notice, those that appeared one 'problem' alert whose severity is the worst of
 * their findings. Ids name the codes and the run. The state is the problems now open.
 */
export function problemsStep(
  openProblems: readonly FindingCode[],
  findings: readonly Finding[],
  runId: string,
  facts: AddressFacts,
): StepOutcome<readonly FindingCode[]> {
  const current = problemCodes(findings);
  const cleared = openProblems.filter((code) => !current.includes(code));
  const appeared = current.filter((code) => !openProblems.includes(code));
  const alerts: AlertDraft[] = [];
  if (cleared.length > 0) {
    const text = problemsResolvedText(facts, cleared);
    alerts.push({ kind: 'resolved', severity: 'info', event: `${cleared.join('+')}:${runId}`, text });
  }
  if (appeared.length > 0) {
    alerts.push({
      kind: 'problem',
      severity: worstSeverity(findings, appeared),
      event: `${appeared.join('+')}:${runId}`,
      text: problemText(facts, appeared, findings),
    });
  }
  return { state: current, alerts };
}

/**
 * Expiry thresholds (`effectiveThresholds`). Crossing a threshold (`daysLeft <= t`) alerts
 * once per threshold of the bookkept fingerprint; crossing several at once sends one alert,
 * for the lowest, and marks them all sent. Unknown days left change nothing. Ids name the
 * fingerprint and the threshold (`expired` for expiry itself).
 */
export function expiryThresholdsStep(
  thresholdsSent: readonly number[],
  daysLeft: number | null,
  fingerprint: string,
  policy: AlertPolicyConfig,
  facts: AddressFacts,
): StepOutcome<readonly number[]> {
  if (daysLeft === null) return { state: thresholdsSent, alerts: [] };
  const crossed = effectiveThresholds(policy).filter((t) => daysLeft <= t);
  const fresh = crossed.filter((t) => !thresholdsSent.includes(t));
  if (fresh.length === 0) return { state: thresholdsSent, alerts: [] };
  const lowest = Math.min(...fresh);
  const expired = lowest === EXPIRED_THRESHOLD;
  return {
    state: [...new Set([...thresholdsSent, ...crossed])].sort((a, b) => b - a),
    alerts: [
      {
        kind: 'threshold',
        severity: expirySeverity(daysLeft, policy),
        event: `${fingerprint}:${expired ? 'expired' : lowest}`,
        text: thresholdText(facts, expired ? null : lowest),
      },
    ],
  };
}

/** Inputs of `reminderStep`: the check and what the other steps decided for it. */
export interface ReminderInput {
  readonly result: CheckResult;
  readonly facts: AddressFacts;
  /** The streak after this check (`failureStreakStep`). */
  readonly streak: FailureStreak;
  /** Problems open after this check (`problemsStep`). */
  readonly openProblems: readonly FindingCode[];
  /** The alerts the other steps decided for this check. */
  readonly decided: readonly AlertDraft[];
  /** When the last alert of warning or above went out (ISO), null if never. */
  readonly lastNotifiedAt: string | null;
  readonly now: Date;
  readonly policy: AlertPolicyConfig;
}

/**
 * Reminders. While the status is critical or expired (a certificate was obtained), or an
 * alerted failure streak goes on, a 'renotify' alert goes out once `renotifyIntervalMs` has
 * passed since `lastNotifiedAt` (at once if nothing was ever sent), unless an alert of
 * warning or above was decided for this check anyway. Ids name the streak start (failing)
 * or the fingerprint, and the last notification.
 */
export function reminderStep(input: ReminderInput): AlertDraft[] {
  const { result, facts, streak, policy, lastNotifiedAt: last } = input;
  const failed = isFailedCheck(result);
  const needsAttention =
    (result.chain.length > 0 && (result.status === 'critical' || result.status === 'expired')) ||
    (failed && streak.errorAlerted);
  if (!needsAttention || input.decided.some((a) => a.severity !== 'info')) return [];
  const lastMs = last === null ? Number.NaN : Date.parse(last);
  if (!Number.isNaN(lastMs) && input.now.getTime() - lastMs < policy.renotifyIntervalMs) return [];
  return [
    {
      kind: 'renotify',
      severity: 'critical',
      event: `${failed ? streak.failingSince : facts.fingerprint}:${last ?? 'first'}`,
      text: reminderText(facts, result, failed, streak, input.openProblems, policy),
    },
  ];
}

/**
 * Apply one check result to the stored state of its address.
 *
 * The steps, in order (each alert is built with the text of `alert-text.ts`):
 * `failureStreakStep`; then, when a certificate was obtained, `renewalStep`, `problemsStep`
 * and `expiryThresholdsStep`; then `reminderStep`. While failing, the last known
 * certificate (fingerprint, notAfter, issuer) is kept, `daysLeft` is recomputed from that
 * notAfter and `now`, thresholds and problems are left untouched (nothing was observed),
 * and `lastSuccessAt` stays. A healthy first check sends nothing.
 *
 * Idempotency: if `prev.lastRunId === ctx.runId`, `prev` is returned unchanged with no alerts.
 *
 * The address key is `prev.key` when there is a previous state, else
 * `addressKey(endpoint.id, result.address)`. `divergenceKey` and any outbox are
 * carried over untouched: their owners update them.
 */
export function evaluateCheck(
  prev: AddressState | null,
  result: CheckResult,
  ctx: PolicyContext,
): PolicyDecision {
  if (prev !== null && prev.lastRunId === ctx.runId) return { next: prev, alerts: [] };
  const { endpoint, now } = ctx;
  const before = prev?.alerting ?? EMPTY_BOOKKEEPING;
  const facts = addressFacts(prev, result, endpoint, now);

  const streak = failureStreakStep(previousStreak(prev), result, facts, endpoint.policy);
  const certificate = certificateSteps(prev, result, ctx, facts);
  const { book, openProblems } = certificate.state;
  const decided = [...streak.alerts, ...certificate.alerts];
  const lastNotifiedAt = before.lastNotifiedAt;
  const reminder = reminderStep({
    result,
    facts,
    streak: streak.state,
    openProblems,
    decided,
    lastNotifiedAt,
    now,
    policy: endpoint.policy,
  });
  const decidedDrafts = [...decided, ...reminder];
  const suppression = applySuppression({
    prev,
    result,
    drafts: decidedDrafts,
    suppressors: ctx.suppressors ?? [],
    policy: endpoint.policy,
    openProblemsBefore: before.openProblems,
    streak: streak.state,
    now,
  });
  const drafts = suppression.drafts;

  const key = prev?.key ?? addressKey(endpoint.id, result.address);
  const subject = alertSubject(facts, result);
  const build = (d: AlertDraft) => buildAlert({ ...d, scope: key, audience: endpoint, subject, now });
  const alerts = drafts.map(build);
  const quieted: QuietedAlert[] = suppression.quieted.map(({ draft, by }) => {
    const alert = build(draft);
    return {
      id: alert.id,
      kind: alert.kind,
      severity: alert.severity,
      summary: alert.summary,
      at: alert.occurredAt,
      by,
    };
  });
  const alerting: AlertBookkeeping = {
    fingerprint: book.fingerprint,
    thresholdsSent: suppression.undo.thresholds ? certificate.state.thresholdsBefore : book.thresholdsSent,
    lastNotifiedAt: drafts.some((d) => d.severity !== 'info') ? now.toISOString() : lastNotifiedAt,
    errorAlerted: suppression.errorAlerted,
    openProblems: suppression.undo.problems
      ? openProblems.filter((code) => before.openProblems.includes(code))
      : openProblems,
    divergenceKey: before.divergenceKey,
    recentFingerprints: book.recentFingerprints,
  };
  const state = nextState(
    prev,
    result,
    ctx,
    key,
    facts,
    { ...streak.state, errorAlerted: suppression.errorAlerted },
    alerting,
  );
  const next: AddressState = {
    ...state,
    ...suppression.marks(prev, quieted, now),
  };
  return { next, alerts, ...(quieted.length > 0 ? { quieted } : {}) };
}

/**
 * The steps that need a certificate, in order: renewal, problems, thresholds. Without one
 * nothing was observed, so the threshold bookkeeping and the open problems stay as they were.
 */
function certificateSteps(
  prev: AddressState | null,
  result: CheckResult,
  ctx: PolicyContext,
  facts: AddressFacts,
): StepOutcome<{
  readonly book: ThresholdBook;
  readonly openProblems: readonly FindingCode[];
  /** The thresholds sent before this check's threshold step (what a quieted threshold alert leaves). */
  readonly thresholdsBefore: readonly number[];
}> {
  const before = prev?.alerting ?? EMPTY_BOOKKEEPING;
  const { fingerprint, thresholdsSent, openProblems } = before;
  const book: ThresholdBook = {
    fingerprint,
    thresholdsSent,
    recentFingerprints: before.recentFingerprints ?? [],
  };
  const leaf = result.chain[0];
  if (leaf === undefined)
    return { state: { book, openProblems, thresholdsBefore: thresholdsSent }, alerts: [] };
  const leafFingerprint = leaf.fingerprintSha256;
  const renewal = renewalStep(book, prev, leafFingerprint, facts);
  const problems = problemsStep(openProblems, result.findings, ctx.runId, facts);
  const sent = renewal.state.thresholdsSent;
  const thresholds = expiryThresholdsStep(sent, result.daysLeft, leafFingerprint, ctx.endpoint.policy, facts);
  return {
    state: {
      book: { ...renewal.state, thresholdsSent: thresholds.state },
      openProblems: problems.state,
      thresholdsBefore: sent,
    },
    alerts: [...renewal.alerts, ...problems.alerts, ...thresholds.alerts],
  };
}

/** What every alert of one check reports about the address. */
function alertSubject(facts: AddressFacts, result: CheckResult): AlertSubject {
  const { address, daysLeft, notAfter, issuer } = facts;
  return { address, status: result.status, daysLeft, notAfter, issuer, findings: result.findings };
}

/** What the alert texts may say about the address: the new certificate, or while failing the last known one. */
function addressFacts(
  prev: AddressState | null,
  result: CheckResult,
  endpoint: Endpoint,
  now: Date,
): AddressFacts {
  const leaf = result.chain[0] ?? null;
  const notAfter = leaf !== null ? result.notAfter : (prev?.notAfter ?? null);
  return {
    host: endpoint.host,
    port: endpoint.port,
    address: result.address ?? prev?.address ?? null,
    daysLeft: leaf !== null ? result.daysLeft : daysUntil(notAfter, now),
    notAfter,
    issuer: leaf?.issuer ?? prev?.issuer ?? null,
    fingerprint: leaf?.fingerprintSha256 ?? prev?.fingerprint ?? null,
  };
}

function previousStreak(prev: AddressState | null): PreviousStreak | null {
  if (prev === null) return null;
  const { consecutiveFailures, failingSince, lastCheckedAt } = prev;
  return { consecutiveFailures, failingSince, lastCheckedAt, errorAlerted: prev.alerting.errorAlerted };
}

function nextState(
  prev: AddressState | null,
  result: CheckResult,
  ctx: PolicyContext,
  key: string,
  facts: AddressFacts,
  streak: FailureStreak,
  alerting: AlertBookkeeping,
): AddressState {
  const { endpoint } = ctx;
  return {
    key,
    endpointId: endpoint.id,
    endpointName: endpoint.name,
    host: endpoint.host,
    port: endpoint.port,
    address: facts.address,
    status: result.status,
    daysLeft: facts.daysLeft,
    notAfter: facts.notAfter,
    fingerprint: facts.fingerprint,
    issuer: facts.issuer,
    findings: result.findings,
    lastCheckedAt: result.checkedAt,
    lastSuccessAt: result.chain.length > 0 ? result.checkedAt : (prev?.lastSuccessAt ?? null),
    consecutiveFailures: streak.consecutiveFailures,
    failingSince: streak.failingSince,
    alerting,
    lastRunId: ctx.runId,
    ...(prev?.outbox !== undefined ? { outbox: prev.outbox } : {}),
  };
}

/** How long an address may go unchecked (not resolved) before it is retired. Matches divergence's window. */
export const RETIRE_ADDRESS_AFTER_MS = 3 * 86_400_000;

/**
 * Whether the stored state `sibling` is obsolete, judged while processing a check of another
 * address of the same endpoint in run `runId` (which proves the host resolved in that run):
 * - the DNS-failure state (`address` null) as soon as a later run resolved the host;
 * - an address not checked for `RETIRE_ADDRESS_AFTER_MS` (it left DNS), by a later run.
 * Run ids sort by time, so an older run's late message never retires a newer state.
 */
export function isObsoleteSibling(sibling: AddressState, runId: string, now: Date): boolean {
  if (sibling.lastRunId !== null && sibling.lastRunId >= runId) return false;
  if (sibling.address === null) return true;
  return now.getTime() - Date.parse(sibling.lastCheckedAt) >= RETIRE_ADDRESS_AFTER_MS;
}

/**
 * The alerts that close an obsolete state before it is deleted (see `isObsoleteSibling`), so
 * nothing that was alerted is left hanging without a word:
 * - the DNS-failure state: 'resolved' when its failure streak had alerted ("resolves again");
 * - an address that left DNS: 'resolved' when it had an alerted failure streak, open problems,
 *   or a critical or expired certificate ("left DNS: no longer checked").
 * Anything else is retired silently. Pure; ids are deterministic per retired state.
 */
export function retirementAlerts(state: AddressState, ctx: Pick<PolicyContext, 'endpoint' | 'now'>): Alert[] {
  const { endpoint, now } = ctx;
  const open =
    state.alerting.errorAlerted ||
    (state.address !== null &&
      (state.alerting.openProblems.length > 0 || state.status === 'critical' || state.status === 'expired'));
  if (!open) return [];
  const daysLeft = daysUntil(state.notAfter, now);
  const facts: AddressFacts = {
    host: endpoint.host,
    port: endpoint.port,
    address: state.address,
    daysLeft,
    notAfter: state.notAfter,
    issuer: state.issuer,
    fingerprint: state.fingerprint,
  };
  const text =
    state.address === null
      ? dnsRecoveredText(facts, state.consecutiveFailures, state.failingSince ?? state.lastCheckedAt)
      : addressRetiredText(facts, state.lastCheckedAt);
  const { address, status, notAfter, issuer } = state;
  return [
    buildAlert({
      kind: 'resolved',
      severity: 'info',
      scope: state.key,
      event: `retired:${state.lastCheckedAt}`,
      audience: endpoint,
      subject: { address, status, daysLeft, notAfter, issuer, findings: [] },
      text,
      now,
    }),
  ];
}

/** Problem codes present in the findings (warning or worse), in contract order, without duplicates. */
export function problemCodes(findings: readonly Finding[]): FindingCode[] {
  return PROBLEM_CODES.filter((code) =>
    findings.some((f) => f.code === code && SEVERITY_RANK[f.severity] >= SEVERITY_RANK.warning),
  );
}

function worstSeverity(findings: readonly Finding[], codes: readonly FindingCode[]): Severity {
  let worst: Severity = 'warning';
  for (const f of findings) {
    if (codes.includes(f.code) && SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  }
  return worst;
}

function expirySeverity(daysLeft: number, policy: AlertPolicyConfig): Severity {
  if (daysLeft < 0 || daysLeft <= policy.expiry.criticalDays) return 'critical';
  if (daysLeft <= policy.expiry.warnDays) return 'warning';
  return 'info';
}

/** The finding that explains a failed check (the first of the registry's failure class), for the unreachable alert. */
function failureCause(result: CheckResult): { code: FindingCode | null; message: string } {
  const finding = result.findings.find((f) => FINDINGS[f.code].alerts === 'failure') ?? result.findings[0];
  return finding === undefined
    ? { code: null, message: 'no certificate was obtained' }
    : { code: finding.code, message: oneLine(finding.message) };
}

function reminderText(
  facts: AddressFacts,
  result: CheckResult,
  failed: boolean,
  streak: FailureStreak,
  openProblems: readonly FindingCode[],
  policy: AlertPolicyConfig,
): AlertText {
  if (failed) {
    const since = streak.failingSince ?? result.checkedAt;
    return unreachableText(facts, streak.consecutiveFailures, since, failureCause(result), true);
  }
  if (facts.daysLeft !== null && facts.daysLeft <= policy.expiry.criticalDays)
    return expiryReminderText(facts);
  if (openProblems.length > 0) return problemText(facts, openProblems, result.findings, true);
  return stillCriticalText(facts, result.findings);
}
