/**
 * What a maintenance window or a silence may quiet. Pure.
 *
 * One table, by finding category (`findings.ts`), says which kind of suppressor
 * may quiet an alert caused by findings of that category; a new category does
 * not compile until it has a row. An alert is quieted only when every cause it
 * has may be quieted (a hostname mismatch next to a revocation still pages):
 * - maintenance quiets connection, handshake and hostname failures, nothing else
 *   (never expiry, never revocation);
 * - a silence quiets everything but revocation, certwatch's own failures and
 *   expiry inside the critical window (or past it).
 *
 * Quieted alerts are recorded in the address state (`quieted`) and shown, never
 * dropped without a trace; notices (`info`: resolved, renewed) are never quieted,
 * because the policy only sends them for a condition that paged.
 */
import { FINDINGS, type FindingCategory, findingCodesWhere } from './findings';
import type { SuppressionRef, SuppressorKind } from './maintenance';
import type { FindingCode } from './model';

/** Which kind of suppressor may quiet alerts caused by findings of each category. */
export const QUIETABLE_BY = {
  expiry: { maintenance: false, silence: true },
  trust: { maintenance: false, silence: true },
  hostname: { maintenance: true, silence: true },
  crypto: { maintenance: false, silence: true },
  malformed: { maintenance: false, silence: true },
  connectivity: { maintenance: true, silence: true },
  consistency: { maintenance: false, silence: true },
  revocation: { maintenance: false, silence: false },
  monitor: { maintenance: false, silence: false },
  info: { maintenance: false, silence: true },
} as const satisfies Record<FindingCategory, Record<SuppressorKind, boolean>>;

/** The finding codes each kind of suppressor may quiet, derived from the registry (for docs and tests). */
export const QUIETABLE_CODES: Readonly<Record<SuppressorKind, readonly FindingCode[]>> = {
  maintenance: findingCodesWhere((f) => QUIETABLE_BY[f.category].maintenance),
  silence: findingCodesWhere((f) => QUIETABLE_BY[f.category].silence),
};

/** Why an alert would go out: the finding codes behind it, and whether expiry is inside the critical window. */
export interface AlertCause {
  readonly codes: readonly FindingCode[];
  /** The certificate is expired or inside its critical window, and that is part of the cause. */
  readonly criticalExpiry: boolean;
}

/** Whether a suppressor of `kind` may quiet an alert with this cause. An alert of unknown cause always goes out. */
export function mayQuiet(kind: SuppressorKind, cause: AlertCause): boolean {
  if (cause.codes.length === 0) return false;
  if (kind === 'silence' && cause.criticalExpiry) return false;
  return cause.codes.every((code) => QUIETABLE_BY[FINDINGS[code].category][kind]);
}

/** The first of `suppressors` (in `suppressorsFor`'s order) that may quiet the cause, or null. */
export function quietingSuppressor(
  suppressors: readonly SuppressionRef[],
  cause: AlertCause,
): SuppressionRef | null {
  return suppressors.find((s) => mayQuiet(s.kind, cause)) ?? null;
}
