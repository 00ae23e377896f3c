/**
 * The watchdog: makes the monitor's own failures loud. After each run's
 * deadline it compares the checks dispatched with those completed and names
 * every endpoint that was not checked; it also finds endpoints whose last
 * successful check is too old. The watchdog Lambda calls this on a schedule for
 * every run past its deadline; `certwatch run` calls it at its end for its own
 * run only. Either way a run is judged once, by whoever wins its judgement claim.
 */
import { randomUUID } from 'node:crypto';
import type { AlertText } from '../core/alert-text';
import { type AlertAudience, bareSubject, buildAlert } from '../core/build-alert';
import type { AddressState, Alert, Endpoint } from '../core/model';
import type { RunRecord, StateStore } from '../store/state-store';

export interface RunJudgement {
  readonly runId: string;
  readonly startedAt: string;
  readonly expected: number;
  readonly completed: number;
  readonly complete: boolean;
  /** Endpoints none of whose addresses recorded a check in this run. */
  readonly unchecked: readonly Pick<Endpoint, 'id' | 'name'>[];
}

export interface StaleEndpoint {
  readonly id: string;
  readonly name: string;
  /** Newest successful check of any address (ISO), null if never. */
  readonly lastSuccessAt: string | null;
}

/** Judges one run against the stored state. */
export async function judgeRun(store: StateStore, run: RunRecord): Promise<RunJudgement> {
  const [endpoints, states] = await Promise.all([store.listEndpoints(), store.listAllAddressStates()]);
  const checked = new Set<string>();
  for (const { state } of states) {
    // Run ids sort by time: a state from this run or a later one proves the endpoint was checked.
    if (state.lastRunId !== null && state.lastRunId >= run.runId) checked.add(state.endpointId);
  }
  const unchecked = endpoints.filter((e) => !checked.has(e.id)).map((e) => ({ id: e.id, name: e.name }));
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    expected: run.expected,
    completed: run.completed,
    complete: unchecked.length === 0 && run.completed >= run.expected,
    unchecked,
  };
}

/** Endpoints whose newest successful check (over all addresses) is older than `maxAgeMs`. */
export function findStaleEndpoints(
  endpoints: readonly Endpoint[],
  states: readonly AddressState[],
  now: Date,
  maxAgeMs: number,
): StaleEndpoint[] {
  const newest = new Map<string, string | null>();
  const firstSeen = new Map<string, string>();
  for (const s of states) {
    const prev = newest.get(s.endpointId) ?? null;
    if (s.lastSuccessAt !== null && (prev === null || s.lastSuccessAt > prev))
      newest.set(s.endpointId, s.lastSuccessAt);
    else if (!newest.has(s.endpointId)) newest.set(s.endpointId, prev);
    const seen = s.failingSince ?? s.lastCheckedAt;
    if (!firstSeen.has(s.endpointId) || seen < (firstSeen.get(s.endpointId) ?? seen))
      firstSeen.set(s.endpointId, seen);
  }
  const cutoff = now.getTime() - maxAgeMs;
  return endpoints
    .filter((e) => newest.has(e.id))
    .map((e) => ({ id: e.id, name: e.name, lastSuccessAt: newest.get(e.id) ?? null }))
    .filter((e) => Date.parse(e.lastSuccessAt ?? firstSeen.get(e.id) ?? now.toISOString()) < cutoff);
}

const MAX_LISTED = 50;

function listNames(items: readonly { name: string; id: string }[]): string {
  const shown = items.slice(0, MAX_LISTED).map((e) => (e.name === e.id ? e.id : `${e.name} (${e.id})`));
  const more = items.length - shown.length;
  return shown.join(', ') + (more > 0 ? `, and ${more} more` : '');
}

/** Monitor pages are about certwatch itself, not about any endpoint, and go to every ops channel. */
const CERTWATCH: AlertAudience = { name: 'certwatch', id: 'certwatch', owner: null, channels: [] };

/** A page about certwatch itself (not about any one certificate). `event` names it within the `monitor` kind. */
function monitorAlert(event: string, now: Date, text: AlertText): Alert {
  return buildAlert({
    kind: 'monitor',
    severity: 'critical',
    scope: null,
    event,
    audience: CERTWATCH,
    subject: bareSubject('error'),
    text,
    now,
  });
}

/** The page sent to ops when a run did not check everything. */
export function incompleteRunAlert(j: RunJudgement, now: Date): Alert {
  const missing = j.unchecked.length;
  return monitorAlert(`run:${j.runId}:incomplete`, now, {
    summary: `certwatch run ${j.runId} incomplete: ${j.completed} of ${j.expected} checks completed, ${missing} endpoint${missing === 1 ? '' : 's'} not checked`,
    detail:
      missing > 0
        ? `Not checked in this run: ${listNames(j.unchecked)}.`
        : 'Some dispatched checks never completed.',
    action:
      'Look at the checker errors and the check queue DLQ; certificates of the endpoints above are not being watched until this is fixed.',
  });
}

/** The page sent to ops when endpoints have had no successful check for too long. */
export function staleEndpointsAlert(stale: readonly StaleEndpoint[], now: Date, maxAgeMs: number): Alert {
  const hours = Math.round(maxAgeMs / 3_600_000);
  return monitorAlert(`stale:${now.toISOString().slice(0, 13)}:${stale.length}`, now, {
    summary: `${stale.length} endpoint${stale.length === 1 ? '' : 's'} without a successful certificate check for over ${hours} h`,
    detail: `Stale: ${listNames(stale)}.`,
    action:
      'Check whether these endpoints are reachable from the monitor and whether the checker is running.',
  });
}

export interface WatchdogDeps {
  readonly store: StateStore;
  readonly now: () => Date;
  /** Sends a monitor alert to ops (ops SNS topic in AWS; every channel locally). */
  readonly page: (alert: Alert) => Promise<void>;
  /** Pinged after each complete run (an external dead-man's switch). */
  readonly heartbeat?: () => Promise<void>;
  /**
   * Writes the HTML report, once per watchdog pass that judged a run complete (the deployed
   * stack's S3 page). Its failure is reported in {@link WatchdogReport.reportError}, not thrown,
   * so the judgements and their metrics still count.
   * @default - no report
   */
  readonly publishReport?: (now: Date) => Promise<void>;
  /**
   * Who judges (the Lambda's request id, the local run's id), written into the judgement claim.
   * @default a random id per call
   */
  readonly judge?: string;
}

export interface WatchdogOptions {
  /** Schedule interval; stale = no success for two intervals. */
  readonly intervalMs: number;
  /** How long after its start a run without a deadline of its own is judged. */
  readonly graceMs: number;
  /**
   * Judge only this run, whatever its deadline: the local runner judges its own run at its
   * end, and never another one. Absent: every unjudged run past its deadline.
   */
  readonly only?: string;
  /**
   * How long a judgement claim keeps other judges off while its judge pages; a judge that dies
   * within it leaves the run to the next watchdog after it.
   * @default 10 minutes (twice the watchdog Lambda's timeout)
   */
  readonly claimMs?: number;
}

export interface WatchdogReport {
  readonly judged: readonly RunJudgement[];
  readonly stale: readonly StaleEndpoint[];
  /** Whether `publishReport` wrote the report in this pass. */
  readonly reportPublished: boolean;
  /** Why `publishReport` failed, when it did; null otherwise. */
  readonly reportError: string | null;
}

const DEFAULT_CLAIM_MS = 10 * 60_000;

/** When the watchdog may judge `run`: its own deadline, else `graceMs` after its start. */
export function runDeadlineMs(run: Pick<RunRecord, 'startedAt' | 'deadline'>, graceMs: number): number {
  return run.deadline === undefined ? Date.parse(run.startedAt) + graceMs : Date.parse(run.deadline);
}

/**
 * Judges every unjudged run past its deadline (or only `opts.only`), pages on gaps, and reports
 * stale endpoints. Each run is judged once: a conditional write claims it first, so of two
 * watchdogs at once one judges and pages and the other leaves it.
 */
export async function runWatchdog(deps: WatchdogDeps, opts: WatchdogOptions): Promise<WatchdogReport> {
  const now = deps.now();
  const judge = deps.judge ?? `watchdog-${randomUUID()}`;
  const claimUntil = new Date(now.getTime() + (opts.claimMs ?? DEFAULT_CLAIM_MS)).toISOString();
  const runs =
    opts.only === undefined
      ? await deps.store.listRuns(20)
      : [await deps.store.getRun(opts.only)].filter((r) => r !== null);
  const judged: RunJudgement[] = [];
  const due = runs
    .filter(
      (r) =>
        r.finishedAt === null && (opts.only !== undefined || runDeadlineMs(r, opts.graceMs) <= now.getTime()),
    )
    .reverse();
  for (const run of due) {
    const claim = await deps.store.claimRunJudgement(run.runId, {
      by: judge,
      now: now.toISOString(),
      until: claimUntil,
    });
    if (claim !== 'claimed') continue;
    const j = await judgeRun(deps.store, run);
    judged.push(j);
    // A failed page leaves the run claimed but unfinished: the next watchdog after the claim judges it again.
    if (!j.complete) await deps.page(incompleteRunAlert(j, now));
    else if (deps.heartbeat) await deps.heartbeat();
    await deps.store.finishRun(run.runId, now.toISOString());
  }
  const [endpoints, states] = await Promise.all([
    deps.store.listEndpoints(),
    deps.store.listAllAddressStates(),
  ]);
  const maxAgeMs = 2 * opts.intervalMs;
  const stale = findStaleEndpoints(
    endpoints,
    states.map((s) => s.state),
    now,
    maxAgeMs,
  );
  // Paged once per judged run, not on every watchdog tick; the StaleEndpoints alarm covers the rest.
  if (stale.length > 0 && judged.length > 0) await deps.page(staleEndpointsAlert(stale, now, maxAgeMs));
  let reportPublished = false;
  let reportError: string | null = null;
  if (deps.publishReport && judged.some((j) => j.complete)) {
    try {
      await deps.publishReport(now);
      reportPublished = true;
    } catch (error) {
      reportError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return { judged, stale, reportPublished, reportError };
}
