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
import {
  type Alert,
  type AlertBookkeeping,
  type AlertKind,
  type AddressState,
  addressKey,
  CONNECTION_FINDING_CODES,
  type CheckResult,
  type Endpoint,
  type Finding,
  type FindingCode,
  type FingerprintThresholds,
  type AlertPolicyConfig,
  SEVERITY_RANK,
  type Severity,
} from './model';
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
}

/** What the policy decided for one check. */
export interface PolicyDecision {
  /** The state to store (the same object as `prev` when the check was already applied). */
  readonly next: AddressState;
  /** Alerts to send, in a stable order: notices first, then new conditions, then reminders. */
  readonly alerts: Alert[];
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
 */
export const PROBLEM_CODES: readonly FindingCode[] = [
  'NOT_YET_VALID',
  'HOSTNAME_MISMATCH',
  'SELF_SIGNED',
  'UNTRUSTED_CHAIN',
  'INCOMPLETE_CHAIN',
  'MALFORMED_CERTIFICATE',
  'WEAK_KEY',
  'WEAK_SIGNATURE',
];

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

/**
 * Apply one check result to the stored state of its address.
 *
 * Rules (each alert is built with the text of `alert-text.ts`):
 * - Thresholds: crossing a threshold (`daysLeft <= t`) alerts once per threshold
 *   per leaf fingerprint; crossing several at once sends one alert, for the
 *   lowest, and marks them all sent. A healthy first check sends nothing.
 * - Renewal: a new leaf fingerprint on an address that had one sends an info
 *   'renewed' notice and restarts threshold bookkeeping. Switching back to a
 *   recently served fingerprint restores its bookkeeping silently.
 * - Problems (`PROBLEM_CODES`, severity warning or above): alert once when they
 *   appear (severity = the worst of their findings), 'resolved' when they clear.
 * - Failures (status `error`, or no certificate obtained): counted; the alert goes
 *   out once per streak when the count reaches `failuresBeforeAlert`, and a
 *   'resolved' notice when an alerted streak ends. A shorter streak ends silently.
 *   While failing, the last known certificate (fingerprint, notAfter, issuer) is
 *   kept, `daysLeft` is recomputed from that notAfter and `now`, thresholds and
 *   problems are left untouched (nothing was observed), and `lastSuccessAt` stays.
 * - Reminders: while the status is critical or expired, or an alerted failure
 *   streak goes on, a 'renotify' alert goes out once `renotifyIntervalMs` has
 *   passed since `lastNotifiedAt` (or at once if nothing was ever sent), unless
 *   another alert of warning or above went out in the same check.
 * - Idempotency: if `prev.lastRunId === ctx.runId`, `prev` is returned unchanged
 *   with no alerts.
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

  const { endpoint, runId, now } = ctx;
  const policy = endpoint.policy;
  const nowIso = now.toISOString();
  const leaf = result.chain[0] ?? null;
  const failed = result.status === 'error' || leaf === null;
  const key = prev?.key ?? addressKey(endpoint.id, result.address);
  const address = result.address ?? prev?.address ?? null;
  const before = prev?.alerting ?? EMPTY_BOOKKEEPING;

  const fingerprint = leaf?.fingerprintSha256 ?? prev?.fingerprint ?? null;
  const notAfter = leaf !== null ? result.notAfter : (prev?.notAfter ?? null);
  const daysLeft = leaf !== null ? result.daysLeft : daysUntil(notAfter, now);
  const issuer = leaf?.issuer ?? prev?.issuer ?? null;
  const facts: AddressFacts = {
    host: endpoint.host,
    port: endpoint.port,
    address,
    daysLeft,
    notAfter,
    issuer,
    fingerprint,
  };

  const alerts: Alert[] = [];
  const emit = (kind: AlertKind, severity: Severity, idSuffix: string, text: AlertText): void => {
    alerts.push({
      id: `${key}:${kind}:${idSuffix}`,
      kind,
      severity,
      endpoint: endpoint.name,
      endpointId: endpoint.id,
      address,
      status: result.status,
      daysLeft,
      notAfter,
      issuer,
      findings: result.findings,
      summary: text.summary,
      detail: text.detail,
      action: text.action,
      occurredAt: nowIso,
      owner: endpoint.owner,
      channels: endpoint.channels,
    });
  };

  let errorAlerted = before.errorAlerted;
  let consecutiveFailures: number;
  let failingSince: string | null;
  if (failed) {
    consecutiveFailures = (prev?.consecutiveFailures ?? 0) + 1;
    failingSince = prev?.failingSince ?? result.checkedAt;
    if (!errorAlerted && consecutiveFailures >= Math.max(1, policy.failuresBeforeAlert)) {
      emit(
        'error',
        'critical',
        failingSince,
        unreachableText(facts, consecutiveFailures, failingSince, failure(result)),
      );
      errorAlerted = true;
    }
  } else {
    if (prev !== null && errorAlerted) {
      const since = prev.failingSince ?? prev.lastCheckedAt;
      emit('resolved', 'info', `error:${since}`, recoveredText(facts, prev.consecutiveFailures, since));
    }
    consecutiveFailures = 0;
    failingSince = null;
    errorAlerted = false;
  }

  let bookFingerprint = before.fingerprint;
  let thresholdsSent = before.thresholdsSent;
  let recent = before.recentFingerprints ?? [];
  let openProblems = before.openProblems;

  if (leaf !== null) {
    const leafFingerprint = leaf.fingerprintSha256;
    if (bookFingerprint !== leafFingerprint) {
      const known = recent.find((r) => r.fingerprint === leafFingerprint);
      const remembered: FingerprintThresholds[] =
        bookFingerprint === null ? [] : [{ fingerprint: bookFingerprint, thresholdsSent }];
      recent = [...remembered, ...recent.filter((r) => r.fingerprint !== leafFingerprint)].slice(
        0,
        RECENT_FINGERPRINTS,
      );
      if (known === undefined && prev !== null && prev.fingerprint !== null) {
        const previous = { fingerprint: prev.fingerprint, notAfter: prev.notAfter };
        emit('renewed', 'info', leafFingerprint, renewedText(facts, previous));
      }
      bookFingerprint = leafFingerprint;
      thresholdsSent = known?.thresholdsSent ?? [];
    }

    const current = problemCodes(result.findings);
    const cleared = openProblems.filter((code) => !current.includes(code));
    const appeared = current.filter((code) => !openProblems.includes(code));
    if (cleared.length > 0) {
      emit('resolved', 'info', `${cleared.join('+')}:${runId}`, problemsResolvedText(facts, cleared));
    }
    if (appeared.length > 0) {
      emit(
        'problem',
        worstSeverity(result.findings, appeared),
        `${appeared.join('+')}:${runId}`,
        problemText(facts, appeared, result.findings),
      );
    }
    openProblems = current;

    if (result.daysLeft !== null) {
      const left = result.daysLeft;
      const crossed = effectiveThresholds(policy).filter((t) => left <= t);
      const fresh = crossed.filter((t) => !thresholdsSent.includes(t));
      if (fresh.length > 0) {
        const lowest = Math.min(...fresh);
        const expired = lowest === EXPIRED_THRESHOLD;
        emit(
          'threshold',
          expirySeverity(left, policy),
          `${leafFingerprint}:${expired ? 'expired' : lowest}`,
          thresholdText(facts, expired ? null : lowest),
        );
        thresholdsSent = [...new Set([...thresholdsSent, ...crossed])].sort((a, b) => b - a);
      }
    }
  }

  const needsAttention =
    (leaf !== null && (result.status === 'critical' || result.status === 'expired')) ||
    (failed && errorAlerted);
  const alertedNow = alerts.some((a) => a.severity !== 'info');
  if (needsAttention && !alertedNow) {
    const last = before.lastNotifiedAt;
    const lastMs = last === null ? Number.NaN : Date.parse(last);
    if (Number.isNaN(lastMs) || now.getTime() - lastMs >= policy.renotifyIntervalMs) {
      emit(
        'renotify',
        'critical',
        `${failed ? failingSince : fingerprint}:${last ?? 'first'}`,
        reminderText(facts, result, failed, consecutiveFailures, failingSince, openProblems, policy),
      );
    }
  }

  const notified = alerts.some((a) => a.severity !== 'info');
  const next: AddressState = {
    key,
    endpointId: endpoint.id,
    endpointName: endpoint.name,
    host: endpoint.host,
    port: endpoint.port,
    address,
    status: result.status,
    daysLeft,
    notAfter,
    fingerprint,
    issuer,
    findings: result.findings,
    lastCheckedAt: result.checkedAt,
    lastSuccessAt: leaf !== null ? result.checkedAt : (prev?.lastSuccessAt ?? null),
    consecutiveFailures,
    failingSince,
    alerting: {
      fingerprint: bookFingerprint,
      thresholdsSent,
      lastNotifiedAt: notified ? nowIso : before.lastNotifiedAt,
      errorAlerted,
      openProblems,
      divergenceKey: before.divergenceKey,
      recentFingerprints: recent,
    },
    lastRunId: runId,
    ...(prev?.outbox !== undefined ? { outbox: prev.outbox } : {}),
  };
  return { next, alerts };
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
  return [
    {
      id: `${state.key}:resolved:retired:${state.lastCheckedAt}`,
      kind: 'resolved',
      severity: 'info',
      endpoint: endpoint.name,
      endpointId: endpoint.id,
      address: state.address,
      status: state.status,
      daysLeft,
      notAfter: state.notAfter,
      issuer: state.issuer,
      findings: [],
      summary: text.summary,
      detail: text.detail,
      action: text.action,
      occurredAt: now.toISOString(),
      owner: endpoint.owner,
      channels: endpoint.channels,
    },
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

/** The finding that explains a failed check, for the unreachable alert. */
function failure(result: CheckResult): { code: FindingCode | null; message: string } {
  const finding =
    result.findings.find((f) => CONNECTION_FINDING_CODES.includes(f.code) || f.code === 'CHECK_FAILED') ??
    result.findings[0];
  return finding === undefined
    ? { code: null, message: 'no certificate was obtained' }
    : { code: finding.code, message: oneLine(finding.message) };
}

function reminderText(
  facts: AddressFacts,
  result: CheckResult,
  failed: boolean,
  failures: number,
  failingSince: string | null,
  openProblems: readonly FindingCode[],
  policy: AlertPolicyConfig,
): AlertText {
  if (failed)
    return unreachableText(facts, failures, failingSince ?? result.checkedAt, failure(result), true);
  if (facts.daysLeft !== null && facts.daysLeft <= policy.expiry.criticalDays)
    return expiryReminderText(facts);
  if (openProblems.length > 0) return problemText(facts, openProblems, result.findings, true);
  return stillCriticalText(facts, result.findings);
}
