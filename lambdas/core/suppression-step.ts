/**
 * The alert policy's last step: maintenance windows and silences. Pure.
 *
 * A draft whose every cause the covering suppressor may quiet (`suppression.ts`)
 * is not sent: it is recorded (`quieted`), and the bookkeeping that sending it
 * would have moved stays where it was, so that the condition is decided again on
 * the next check. That gives the two promises without any further state:
 * - an outage that ends inside the window leaves no trace on the channels (its
 *   streak never alerted, so no "resolved" follows);
 * - an outage that outlasts the window is decided again by the first check after
 *   it and pages at once, its detail saying "broken since <time>, outlasted
 *   maintenance window <name>". When the policy decides nothing of warning or
 *   above for it (the streak had paged before the window, and no reminder is due
 *   yet), an alert of its own pages.
 */
import type { AlertDraft, FailureStreak } from './alert-policy';
import { FINDINGS } from './findings';
import type {
  AddressState,
  AlertPolicyConfig,
  CheckResult,
  FindingCode,
  QuietedAlert,
  SuppressionMark,
  SuppressionRef,
} from './model';
import { SEVERITY_RANK } from './model';
import { type AlertCause, mayQuiet, quietingSuppressor } from './suppression';

export interface SuppressionInput {
  readonly prev: AddressState | null;
  readonly result: CheckResult;
  /** What the other steps decided, in order. */
  readonly drafts: readonly AlertDraft[];
  readonly suppressors: readonly SuppressionRef[];
  readonly policy: AlertPolicyConfig;
  /** Problems open before this check. */
  readonly openProblemsBefore: readonly FindingCode[];
  /** The failure streak after this check. */
  readonly streak: FailureStreak;
  readonly now: Date;
}

export interface SuppressionOutcome {
  /** Drafts to send (an outlasted window may have added one, or a line to one). */
  readonly drafts: AlertDraft[];
  readonly quieted: { readonly draft: AlertDraft; readonly by: SuppressionRef }[];
  /** Which bookkeeping a quieted draft leaves as it was. */
  readonly undo: { readonly thresholds: boolean; readonly problems: boolean };
  /** The streak's `errorAlerted` after quieting. */
  readonly errorAlerted: boolean;
  /** The state fields this step owns. */
  marks(
    prev: AddressState | null,
    quieted: readonly QuietedAlert[],
    now: Date,
  ): Pick<AddressState, 'suppressedBy' | 'quieted'>;
}

/** How many quieted alerts an address keeps (state stays small). */
export const QUIETED_KEPT = 5;

export function applySuppression(input: SuppressionInput): SuppressionOutcome {
  const { prev, result, suppressors } = input;
  const kept: AlertDraft[] = [];
  const quieted: { draft: AlertDraft; by: SuppressionRef }[] = [];
  let errorAlerted = input.streak.errorAlerted;
  const undo = { thresholds: false, problems: false };
  for (const draft of input.drafts) {
    const cause = draftCause(draft, input);
    const by = cause === null ? null : quietingSuppressor(suppressors, cause);
    if (by === null) {
      kept.push(draft);
      continue;
    }
    quieted.push({ draft, by });
    if (draft.kind === 'error') errorAlerted = false;
    if (draft.kind === 'problem') undo.problems = true;
    if (draft.kind === 'threshold') undo.thresholds = true;
  }

  const ended = prev?.suppressedBy;
  // The window that covered the last check covers this one no more: it ended, was cancelled, or left the scope.
  if (ended?.kind === 'maintenance' && !suppressors.some((s) => s.id === ended.id)) {
    const cause = brokenCause(result);
    if (cause !== null && mayQuiet('maintenance', cause) && quietingSuppressor(suppressors, cause) === null) {
      const failed = isFailed(result);
      const since = (failed ? input.streak.failingSince : null) ?? ended.quietedSince ?? ended.since;
      const line = `Broken since ${since}, outlasted maintenance window ${ended.name}.`;
      const paging = kept.findIndex((d) => d.severity !== 'info');
      const existing = kept[paging];
      if (existing !== undefined) {
        kept[paging] = { ...existing, text: { ...existing.text, detail: `${existing.text.detail} ${line}` } };
      } else {
        kept.push({
          kind: failed ? 'error' : 'problem',
          severity: 'critical',
          event: failed ? `outlasted:${ended.id}` : `${cause.codes.join('+')}:outlasted-${ended.id}`,
          text: {
            summary: `still broken after maintenance window ${ended.name} (${cause.codes.join(', ')})`,
            detail: line,
            action: 'Find out why the endpoint did not come back after the maintenance, and fix it',
          },
        });
        if (failed) errorAlerted = true;
      }
    }
  }

  return {
    drafts: kept,
    quieted,
    undo,
    errorAlerted,
    marks(previous, recorded, at) {
      const primary = suppressors[0];
      const fields: { suppressedBy?: SuppressionMark | null; quieted?: readonly QuietedAlert[] } = {};
      if (primary !== undefined) {
        const same = previous?.suppressedBy?.id === primary.id ? previous.suppressedBy : null;
        fields.suppressedBy = {
          ...primary,
          since: same?.since ?? at.toISOString(),
          quietedSince: same?.quietedSince ?? (recorded.length > 0 ? at.toISOString() : null),
        };
      } else if (previous?.suppressedBy) {
        fields.suppressedBy = null;
      }
      const ids = new Set(recorded.map((q) => q.id));
      const all = [...(previous?.quieted ?? []).filter((q) => !ids.has(q.id)), ...recorded];
      if (all.length > 0) fields.quieted = all.slice(-QUIETED_KEPT);
      return fields;
    },
  };
}

function isFailed(result: CheckResult): boolean {
  return result.status === 'error' || result.chain.length === 0;
}

const failureCodes = (result: Pick<CheckResult, 'findings'>) =>
  codesWhere(result, (c) => FINDINGS[c].alerts === 'failure');
const problemCodesOf = (result: CheckResult) =>
  codesWhere(result, (c, severity) => FINDINGS[c].alerts === 'problem' && severity >= SEVERITY_RANK.warning);

function codesWhere(
  result: Pick<CheckResult, 'findings'>,
  test: (code: FindingCode, severityRank: number) => boolean,
): FindingCode[] {
  return [
    ...new Set(result.findings.filter((f) => test(f.code, SEVERITY_RANK[f.severity])).map((f) => f.code)),
  ];
}

/**
 * Why an address's failure would page, from its findings (a check result, or a stored state whose
 * last check failed): the cause of its `error` alert. No failure finding: an empty cause, which
 * nothing quiets.
 */
export function failureCause(checked: Pick<CheckResult, 'findings'>): AlertCause {
  return { codes: failureCodes(checked), criticalExpiry: false };
}

/** Why a draft would go out; null for notices, which are never quieted. */
export function draftCause(
  draft: AlertDraft,
  input: Pick<SuppressionInput, 'result' | 'policy' | 'openProblemsBefore'>,
): AlertCause | null {
  const { result, policy } = input;
  switch (draft.kind) {
    case 'error':
      return failureCause(result);
    case 'problem':
      return {
        codes: problemCodesOf(result).filter((c) => !input.openProblemsBefore.includes(c)),
        criticalExpiry: false,
      };
    case 'threshold':
      return { codes: expiryCodes(result), criticalExpiry: draft.severity === 'critical' };
    case 'renotify': {
      if (isFailed(result)) return { codes: failureCodes(result), criticalExpiry: false };
      const criticalExpiry = result.daysLeft !== null && result.daysLeft <= policy.expiry.criticalDays;
      const critical = codesWhere(result, (_c, severity) => severity >= SEVERITY_RANK.critical);
      const codes = [
        ...new Set([...(criticalExpiry ? expiryCodes(result) : []), ...problemCodesOf(result), ...critical]),
      ];
      return { codes, criticalExpiry };
    }
    case 'divergent':
      return { codes: ['DIVERGENT_CERTIFICATES'], criticalExpiry: false };
    default:
      return null;
  }
}

function expiryCodes(result: CheckResult): FindingCode[] {
  const codes = codesWhere(result, (c) => FINDINGS[c].category === 'expiry');
  // A threshold crossed with no expiry finding (the thresholds reach further than warnDays) is still about expiry.
  return codes.length > 0 ? codes : ['EXPIRES_SOON'];
}

/** What is still broken after a window, as the window would have quieted it; null when nothing is. */
function brokenCause(result: CheckResult): AlertCause | null {
  const codes = isFailed(result) ? failureCodes(result) : problemCodesOf(result);
  return codes.length === 0 ? null : { codes, criticalExpiry: false };
}
