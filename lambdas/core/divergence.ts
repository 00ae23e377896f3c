/**
 * Divergent certificates: the addresses of one host serve different leaf
 * certificates. After a renewal this is the classic "one stale node behind the
 * load balancer" failure that a single-address check never sees, so it gets
 * its own alert. Pure: the caller loads the states and stores the returned key
 * (in `AlertBookkeeping.divergenceKey`) so each divergence alerts once.
 */
import { convergedText, type DivergentAddress, divergenceText, shortFingerprint } from './alert-text';
import { type AlertSubject, buildAlert } from './build-alert';
import { FINDINGS } from './findings';
import {
  type Alert,
  type AddressState,
  type Endpoint,
  type Finding,
  type Severity,
  worstStatus,
} from './model';

/** Context of one divergence evaluation. */
export interface DivergenceContext {
  /** The run being processed: a divergence alert needs two different certificates seen in this run. */
  readonly runId: string;
  /** The injected clock. */
  readonly now: Date;
  /**
   * How long the last certificate an address served still counts when that address
   * was not (successfully) checked since: a node that fails a check still counts
   * with what it served last, so a flaky node cannot make the condition flap, and a
   * node removed from DNS stops counting after this long.
   * @default 3 days
   */
  readonly maxAgeMs?: number;
  /**
   * Key of the address whose check triggered this evaluation (its state in
   * `states` is the new one, from `evaluateCheck`).
   * @default `previous.key`, else the most recently checked state
   */
  readonly key?: string;
  /**
   * That address's stored state before this check (`evaluateCheck`'s `prev`).
   * The key it carries was decided at `previous.lastCheckedAt`; without it, that
   * key is taken to be older than every other address's, which can repeat an
   * alert when checks of one run arrive in a different order than the last run's.
   */
  readonly previous?: AddressState | null;
  /**
   * Key of the previous evaluation, for callers that keep it in one place.
   * @default the latest decision stored in `states` (see `previous`)
   */
  readonly previousKey?: string | null;
}

/** Outcome: the key to store and at most one alert. */
export interface DivergenceDecision {
  /** Sorted distinct leaf fingerprints, comma-separated, while divergent; null once converged. */
  readonly key: string | null;
  readonly alert: Alert | null;
}

const DEFAULT_MAX_AGE_MS = 3 * 86_400_000;

/**
 * Compare the leaf certificates served by the addresses of one endpoint.
 *
 * What each address serves is its latest known certificate: the fingerprint of
 * its state, if it obtained one within `maxAgeMs` (a failed check keeps the last
 * known fingerprint). The previous key is the latest decision stored in the
 * states (or `ctx.previousKey`). Then:
 * - Two or more distinct fingerprints: key = those fingerprints, sorted. A
 *   `divergent` alert (critical if one of the addresses is critical or expired,
 *   else warning) goes out when the key differs from the previous one and the
 *   difference is visible among the addresses checked in this run; while it is
 *   not yet visible (an address checked alone early in a run) the previous key
 *   is kept and nothing is sent.
 * - One fingerprint: key null, and an info `resolved` alert when the previous
 *   key was not null.
 * - No certificate known at all: the previous key is kept, nothing is sent.
 *
 * Why the key is read from the states: the caller stores it on the address it
 * just checked, so the endpoint's condition is spread over its addresses, and
 * the checkers of one run see each other's writes in any order. Passing on the
 * latest decision from every evaluation keeps them all agreeing.
 */
export function evaluateDivergence(
  endpoint: Endpoint,
  states: readonly AddressState[],
  ctx: DivergenceContext,
): DivergenceDecision {
  const maxAgeMs = ctx.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const nowMs = ctx.now.getTime();
  const previousKey = ctx.previousKey !== undefined ? ctx.previousKey : latestDecision(states, ctx);

  const known = states
    .filter((s) => s.fingerprint !== null && s.lastSuccessAt !== null)
    .filter((s) => nowMs - Date.parse(s.lastSuccessAt as string) <= maxAgeMs)
    .sort((a, b) => compare(a.address ?? '', b.address ?? ''));
  const distinct = fingerprints(known);

  if (distinct.length >= 2) {
    const key = distinct.join(',');
    if (key === previousKey) return { key, alert: null };
    const visible = fingerprints(
      known.filter((s) => s.lastRunId === ctx.runId && s.lastSuccessAt === s.lastCheckedAt),
    );
    if (visible.length < 2) return { key: previousKey, alert: null };
    return { key, alert: divergentAlert(endpoint, known, distinct, ctx) };
  }
  // Nothing known at all (every address failing for long): no evidence either way.
  if (distinct.length === 0) return { key: previousKey, alert: null };
  if (previousKey === null) return { key: null, alert: null };
  return { key: null, alert: convergedAlert(endpoint, known, ctx) };
}

/**
 * The endpoint's condition as last decided. Each address stores the key decided
 * at its own check, so the key stored with the newest check is the latest
 * decision; the address just checked carries the key of its previous check.
 */
function latestDecision(states: readonly AddressState[], ctx: DivergenceContext): string | null {
  const newestFirst = [...states].sort((a, b) => compare(b.lastCheckedAt, a.lastCheckedAt));
  const currentKey = ctx.key ?? ctx.previous?.key;
  const current = currentKey !== undefined ? newestFirst.find((s) => s.key === currentKey) : newestFirst[0];
  const decisions = newestFirst
    .filter((s) => s !== current)
    .map((s) => ({ at: s.lastCheckedAt, key: s.alerting.divergenceKey }));
  if (ctx.previous)
    decisions.push({ at: ctx.previous.lastCheckedAt, key: ctx.previous.alerting.divergenceKey });
  else if (ctx.previous === undefined && current)
    decisions.push({ at: '', key: current.alerting.divergenceKey });
  decisions.sort((a, b) => compare(b.at, a.at));
  return decisions[0]?.key ?? null;
}

function fingerprints(states: readonly AddressState[]): string[] {
  return [...new Set(states.map((s) => s.fingerprint as string))].sort(compare);
}

function divergentAlert(
  endpoint: Endpoint,
  fresh: readonly AddressState[],
  distinct: readonly string[],
  ctx: DivergenceContext,
): Alert {
  const addresses: DivergentAddress[] = fresh.map((s) => ({
    address: s.address,
    fingerprint: s.fingerprint as string,
    notAfter: s.notAfter,
  }));
  const text = divergenceText(endpoint, addresses);
  const severity: Severity = fresh.some((s) => s.status === 'critical' || s.status === 'expired')
    ? 'critical'
    : FINDINGS.DIVERGENT_CERTIFICATES.defaultSeverity;
  const findings: Finding[] = [{ code: 'DIVERGENT_CERTIFICATES', severity, message: text.summary }];
  return buildAlert({
    kind: 'divergent',
    severity,
    scope: endpoint.id,
    event: `${distinct.map(shortFingerprint).join('+')}:${ctx.runId}`,
    audience: endpoint,
    subject: { ...endpointSubject(fresh), findings },
    text,
    now: ctx.now,
  });
}

function convergedAlert(endpoint: Endpoint, fresh: readonly AddressState[], ctx: DivergenceContext): Alert {
  return buildAlert({
    kind: 'resolved',
    severity: 'info',
    scope: endpoint.id,
    event: `divergent:${ctx.runId}`,
    audience: endpoint,
    subject: { ...endpointSubject(fresh), findings: [] },
    text: convergedText(endpoint.host, fresh.length, fresh[0]?.fingerprint ?? ''),
    now: ctx.now,
  });
}

/** Endpoint-level facts: no one address, the soonest expiry and the worst status across the addresses. */
function endpointSubject(fresh: readonly AddressState[]): Omit<AlertSubject, 'findings'> {
  const soonest = fresh
    .filter((s) => s.daysLeft !== null)
    .sort((a, b) => (a.daysLeft as number) - (b.daysLeft as number))[0];
  return {
    address: null,
    status: worstStatus(fresh.map((s) => s.status)),
    daysLeft: soonest?.daysLeft ?? null,
    notAfter: soonest?.notAfter ?? null,
    issuer: soonest?.issuer ?? null,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
