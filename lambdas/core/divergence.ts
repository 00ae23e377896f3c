/**
 * Divergent certificates: the addresses of one host serve different leaf
 * certificates. After a renewal this is the classic "one stale node behind the
 * load balancer" failure that a single-address check never sees, so it gets
 * its own alert. Pure: the caller loads the states and stores the returned key
 * (in `AlertBookkeeping.divergenceKey`) so each divergence alerts once.
 */
import { convergedText, type DivergentAddress, divergenceText, shortFingerprint } from './alert-text';
import {
  type Alert,
  type AddressState,
  type Endpoint,
  type Severity,
  STATUS_RANK,
  type Status,
  worstStatus,
} from './model';

/** Context of one divergence evaluation. */
export interface DivergenceContext {
  /** Only addresses checked in this run are compared. */
  readonly runId: string;
  /** The injected clock. */
  readonly now: Date;
  /**
   * Addresses dispatched for the endpoint in this run. When given, convergence is
   * declared only once every one of them has been checked in this run, so a checker
   * that sees a partial run cannot flap "resolved" / "divergent".
   * @default every address of `states` checked in this run (call after the endpoint's checks are done)
   */
  readonly expectedAddresses?: readonly (string | null)[];
  /**
   * Key stored by the previous evaluation.
   * @default the `alerting.divergenceKey` stored in `states` (the most recently checked non-null one)
   */
  readonly previousKey?: string | null;
}

/** Outcome: the key to store and at most one alert. */
export interface DivergenceDecision {
  /** Sorted distinct leaf fingerprints, comma-separated, while divergent; null once converged. */
  readonly key: string | null;
  readonly alert: Alert | null;
}

/**
 * Compare the leaf certificates that the addresses of one endpoint served in this run.
 *
 * - Two or more distinct fingerprints: a `divergent` alert (critical if one of those
 *   addresses is critical or expired, else warning) when the key differs from the
 *   previous one; no alert while it stays the same.
 * - One fingerprint across every address checked in this run (and every expected
 *   address checked, all successfully): key null, and an info `resolved` alert if it
 *   had diverged.
 * - Not enough evidence (failed or unchecked addresses): the previous key is kept and
 *   nothing is sent, so a failing node never makes the condition flap.
 *
 * Only states whose last check in this run obtained a certificate count: a failed
 * check keeps the last known fingerprint, which says nothing about what is served now.
 */
export function evaluateDivergence(
  endpoint: Endpoint,
  states: readonly AddressState[],
  ctx: DivergenceContext,
): DivergenceDecision {
  const previousKey = ctx.previousKey !== undefined ? ctx.previousKey : storedKey(states);
  const checked = states.filter((s) => s.lastRunId === ctx.runId);
  const fresh = checked
    .filter((s) => s.fingerprint !== null && s.lastSuccessAt !== null && s.lastSuccessAt === s.lastCheckedAt)
    .sort((a, b) => compare(a.address ?? '', b.address ?? ''));
  const distinct = [...new Set(fresh.map((s) => s.fingerprint as string))].sort(compare);

  if (distinct.length >= 2) {
    const key = distinct.join(',');
    if (key === previousKey) return { key, alert: null };
    return { key, alert: divergentAlert(endpoint, fresh, distinct, ctx) };
  }

  const complete =
    ctx.expectedAddresses === undefined ||
    ctx.expectedAddresses.every((address) => checked.some((s) => s.address === address));
  const converged = complete && fresh.length > 0 && fresh.length === checked.length;
  if (previousKey === null) return { key: null, alert: null };
  if (!converged) return { key: previousKey, alert: null };
  return { key: null, alert: convergedAlert(endpoint, fresh, ctx) };
}

function storedKey(states: readonly AddressState[]): string | null {
  const newestFirst = [...states].sort((a, b) => compare(b.lastCheckedAt, a.lastCheckedAt));
  return newestFirst.find((s) => s.alerting.divergenceKey !== null)?.alerting.divergenceKey ?? null;
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
  const text = divergenceText(endpoint.host, addresses);
  const severity: Severity = fresh.some((s) => STATUS_RANK[s.status] >= STATUS_RANK.critical)
    ? 'critical'
    : 'warning';
  return {
    ...summaryFields(endpoint, fresh, ctx),
    id: `${endpoint.id}:divergent:${distinct.map(shortFingerprint).join('+')}:${ctx.runId}`,
    kind: 'divergent',
    severity,
    findings: [{ code: 'DIVERGENT_CERTIFICATES', severity, message: text.summary }],
    summary: text.summary,
    detail: text.detail,
    action: text.action,
  };
}

function convergedAlert(endpoint: Endpoint, fresh: readonly AddressState[], ctx: DivergenceContext): Alert {
  const text = convergedText(endpoint.host, fresh.length, fresh[0]?.fingerprint ?? '');
  return {
    ...summaryFields(endpoint, fresh, ctx),
    id: `${endpoint.id}:resolved:divergent:${ctx.runId}`,
    kind: 'resolved',
    severity: 'info',
    findings: [],
    summary: text.summary,
    detail: text.detail,
    action: text.action,
  };
}

/** Endpoint-level fields: the soonest expiry and the worst status across the addresses. */
function summaryFields(endpoint: Endpoint, fresh: readonly AddressState[], ctx: DivergenceContext) {
  const soonest = fresh
    .filter((s) => s.daysLeft !== null)
    .sort((a, b) => (a.daysLeft as number) - (b.daysLeft as number))[0];
  const status: Status = worstStatus(fresh.map((s) => s.status));
  return {
    endpoint: endpoint.name,
    endpointId: endpoint.id,
    address: null,
    status,
    daysLeft: soonest?.daysLeft ?? null,
    notAfter: soonest?.notAfter ?? null,
    issuer: soonest?.issuer ?? null,
    occurredAt: ctx.now.toISOString(),
    owner: endpoint.owner,
    channels: endpoint.channels,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
