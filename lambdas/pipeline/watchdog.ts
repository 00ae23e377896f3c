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
import { type ScopedEndpoint, type SuppressionRef, suppressorsFor } from '../core/maintenance';
import type { AddressState, Alert, Endpoint } from '../core/model';
import { mapWithConcurrency } from '../core/concurrency';
import { quietingSuppressor } from '../core/suppression';
import { failureCause } from '../core/suppression-step';
import type {
  DetectorBroken,
  RunRecord,
  RunVerdict,
  StateStore,
  StoredAddressState,
} from '../store/state-store';
import type { SuppressionStore } from '../store/suppression-store';

export interface RunJudgement {
  readonly runId: string;
  readonly startedAt: string;
  readonly expected: number;
  readonly completed: number;
  readonly complete: boolean;
  /** Endpoints none of whose addresses recorded a check in this run. */
  readonly unchecked: readonly Pick<Endpoint, 'id' | 'name'>[];
  /** The canary failure that fails this run (`detectorBrokenFor`); null when none. */
  readonly detectorBroken: DetectorBroken | null;
  /** `failed` when the detector was broken, else whether every check completed. */
  readonly verdict: RunVerdict;
  /**
   * A run dispatched in shards: the dispatch shards that never recorded their checks (their
   * endpoints were not dispatched). Such a run is incomplete. Absent for a run dispatched whole.
   */
  readonly undispatchedShards?: number;
}

export interface StaleEndpoint {
  readonly id: string;
  readonly name: string;
  /** Newest successful check of any address (ISO), null if never. */
  readonly lastSuccessAt: string | null;
}

/** A stale endpoint a running maintenance window or an active silence quiets: reported, not paged. */
export interface QuietedStaleEndpoint extends StaleEndpoint {
  /** The window or silence that quiets it (the first in `suppressorsFor`'s order that may). */
  readonly by: SuppressionRef;
}

/**
 * Judges one run against the stored state. A run recorded with its per-shard expected counts is
 * judged from its 16 counter items: only the address shards whose completed count fell short are
 * listed (their endpoints and states), so a complete run reads no address state at all. A short
 * shard is also recounted from its states (a state written by this run or a later one is a
 * completed check): a checker that died between its state writes and its counter write (or
 * whose counter write failed) lost counts, not checks, and the recount restores them. A run
 * without per-shard counts (recorded by an older version, or by a test) is judged by reading
 * every state.
 */
export async function judgeRun(
  store: StateStore,
  run: RunRecord,
  /** The runs around it, whose canary marks may belong to it (`detectorBrokenFor`). */
  runs: readonly RunRecord[] = [run],
): Promise<RunJudgement> {
  const progress = await store.getRunProgress(run.runId);
  let unchecked: Array<Pick<Endpoint, 'id' | 'name'>>;
  let completed = run.completed;
  if (progress === null) {
    const [endpoints, states] = await Promise.all([store.listEndpoints(), store.listAllAddressStates()]);
    unchecked = uncheckedIn(endpoints, states, run.runId);
  } else {
    // A shard that never recorded its checks: its partitions are listed whatever their counts say.
    const undispatched = new Set(progress.dispatch?.unrecordedPartitions ?? []);
    const incomplete = progress.shards.filter((s) => s.completed < s.expected || undispatched.has(s.shard));
    const parts = await Promise.all(
      incomplete.map(async (s) => {
        const [endpoints, states] = await Promise.all([
          store.listShardEndpoints(s.shard),
          store.listShardAddressStates(s.shard),
        ]);
        const recount = states.filter(
          (x) => x.state.lastRunId !== null && x.state.lastRunId >= run.runId,
        ).length;
        return {
          unchecked: uncheckedIn(endpoints, states, run.runId),
          lost: Math.max(0, Math.min(s.expected, recount) - s.completed),
        };
      }),
    );
    unchecked = parts.flatMap((p) => p.unchecked).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    completed += parts.reduce((n, p) => n + p.lost, 0);
  }
  const undispatchedShards = progress?.dispatch?.unrecorded;
  const complete = unchecked.length === 0 && completed >= run.expected && !undispatchedShards;
  const detectorBroken = detectorBrokenFor(run, runs);
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    expected: run.expected,
    completed,
    complete,
    unchecked,
    detectorBroken,
    verdict: detectorBroken !== null ? 'failed' : complete ? 'complete' : 'incomplete',
    ...(undispatchedShards === undefined ? {} : { undispatchedShards }),
  };
}

/**
 * The canary failure that fails `run`, among the marks on `runs` (and on `run`). The deployed canary
 * fires with the dispatcher and marks the newest run it finds, which is the previous run when it
 * finishes before the dispatcher records the new one; so a mark belongs to the run that started
 * nearest to the canary (the earlier of two as near), wherever it was written. A local run marks
 * its own run and pins it on the mark (`runId`): that mark belongs to that run alone, however soon
 * the next run starts. Null when no mark belongs to `run`.
 */
export function detectorBrokenFor(run: RunRecord, runs: readonly RunRecord[]): DetectorBroken | null {
  const all = runs.some((r) => r.runId === run.runId) ? runs : [run, ...runs];
  const distance = (r: RunRecord, at: number) => Math.abs(Date.parse(r.startedAt) - at);
  let found: DetectorBroken | null = null;
  for (const marked of all) {
    const mark = marked.detectorBroken;
    if (mark === undefined) continue;
    if (mark.runId !== undefined) {
      // Pinned to the run it was recorded for (the local run knows its own).
      if (mark.runId === run.runId && (found === null || mark.at < found.at)) found = mark;
      continue;
    }
    const at = Date.parse(mark.at);
    let nearest = all[0] as RunRecord;
    for (const r of all) {
      const d = distance(r, at) - distance(nearest, at);
      if (d < 0 || (d === 0 && r.startedAt < nearest.startedAt)) nearest = r;
    }
    if (nearest.runId === run.runId && (found === null || mark.at < found.at)) found = mark;
  }
  return found;
}

/** Endpoints none of whose states was written by `runId` or a later run (run ids sort by time). */
function uncheckedIn(
  endpoints: readonly Endpoint[],
  states: readonly StoredAddressState[],
  runId: string,
): Array<Pick<Endpoint, 'id' | 'name'>> {
  const checked = new Set<string>();
  for (const { state } of states) {
    if (state.lastRunId !== null && state.lastRunId >= runId) checked.add(state.endpointId);
  }
  return endpoints.filter((e) => !checked.has(e.id)).map((e) => ({ id: e.id, name: e.name }));
}

/** The smallest days left among `states` (a loop: a spread of 100,000+ arguments overflows the stack). */
export function soonestDaysLeft(states: Iterable<Pick<AddressState, 'daysLeft'>>): number | null {
  let soonest: number | null = null;
  for (const s of states)
    if (s.daysLeft !== null && (soonest === null || s.daysLeft < soonest)) soonest = s.daysLeft;
  return soonest;
}

/** Endpoints whose newest successful check (over all addresses) is older than `maxAgeMs`. */
export function findStaleEndpoints(
  endpoints: readonly Pick<Endpoint, 'id' | 'name'>[],
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
export function incompleteRunAlert(j: Omit<RunJudgement, 'detectorBroken' | 'verdict'>, now: Date): Alert {
  const missing = j.unchecked.length;
  const shards = j.undispatchedShards ?? 0;
  const undispatched =
    shards > 0
      ? ` ${shards} dispatch shard${shards === 1 ? '' : 's'} never dispatched ${shards === 1 ? 'its' : 'their'} checks (see the dispatch-shard queue's DLQ and the dispatcher's errors).`
      : '';
  return monitorAlert(`run:${j.runId}:incomplete`, now, {
    summary: `certwatch run ${j.runId} incomplete: ${j.completed} of ${j.expected} checks completed, ${missing} endpoint${missing === 1 ? '' : 's'} not checked`,
    detail:
      (missing > 0
        ? `Not checked in this run: ${listNames(j.unchecked)}.`
        : 'Some dispatched checks never completed.') + undispatched,
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
   * Maintenance windows and silences, read once per pass when an endpoint is stale: a stale
   * endpoint that one of them covers now, and whose failure it may quiet, is reported in
   * {@link WatchdogReport.quietedStale} instead of paged.
   * @default - none: every stale endpoint pages
   */
  readonly suppressions?: SuppressionStore;
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
  /** Stale endpoints that page (and count in the StaleEndpoints metric). */
  readonly stale: readonly StaleEndpoint[];
  /** Stale endpoints a running window or an active silence quiets: neither paged nor counted as stale. */
  readonly quietedStale: readonly QuietedStaleEndpoint[];
  /**
   * Soonest days to expiry over the addresses of the newest judged run (from its counter shards;
   * a bucket's lower bound beyond 60 days), or over every state when no judged run has shards;
   * null when nothing is known.
   */
  readonly soonestDaysLeft: number | null;
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
    const j = await judgeRun(deps.store, run, runs);
    judged.push(j);
    // A failed page leaves the run claimed but unfinished: the next watchdog after the claim judges it again.
    if (!j.complete) await deps.page(incompleteRunAlert(j, now));
    // A broken detector is not paged again (the canary paged it), and is no sign of life for the heartbeat.
    else if (j.detectorBroken === null && deps.heartbeat) await deps.heartbeat();
    await deps.store.finishRun(run.runId, now.toISOString(), {
      verdict: j.verdict,
      detectorBroken: j.detectorBroken,
    });
  }
  const maxAgeMs = 2 * opts.intervalMs;
  const judgedIds = new Set(judged.map((j) => j.runId));
  const latest = runs.find((r) => r.finishedAt !== null || judgedIds.has(r.runId)) ?? null;
  const found = await staleAndSoonest(deps.store, latest, now, maxAgeMs);
  const soonest = found.soonestDaysLeft;
  const { stale, quietedStale } = await quietStale(deps.store, deps.suppressions, found.stale, now);
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
  return { judged, stale, quietedStale, soonestDaysLeft: soonest, reportPublished, reportError };
}

/**
 * Splits stale endpoints into those that page and those a window or silence quiets now: an
 * endpoint is quieted when a suppressor covers it now (`suppressorsFor`) and may quiet the failure
 * of every one of its addresses (`quietingSuppressor` over each state's failure findings), as it
 * quiets that failure's own alert; an endpoint stale for any other reason (not checked at all)
 * still pages. The windows and silences are read once; only an endpoint some suppressor may cover
 * is read further (its states, and its tags when a suppressor is scoped by tag): O(stale) reads.
 */
async function quietStale(
  store: StateStore,
  suppressions: SuppressionStore | undefined,
  found: readonly StaleEndpoint[],
  now: Date,
): Promise<{ stale: StaleEndpoint[]; quietedStale: QuietedStaleEndpoint[] }> {
  if (suppressions === undefined || found.length === 0) return { stale: [...found], quietedStale: [] };
  const [storedWindows, storedSilences] = await Promise.all([
    suppressions.listWindows(),
    suppressions.listSilences(),
  ]);
  const windows = storedWindows.map((w) => w.window);
  const silences = storedSilences.map((s) => s.silence);
  if (windows.length === 0 && silences.length === 0) return { stale: [...found], quietedStale: [] };
  const byTag = windows.some((w) => w.tags.length > 0) || silences.some((s) => s.tag !== null);
  const verdicts = await mapWithConcurrency(
    found,
    16,
    async (e): Promise<SuppressionRef | null> => {
      let scoped: ScopedEndpoint = { id: e.id, name: e.name, tags: [] };
      let covering = suppressorsFor(scoped, windows, silences, now);
      if (covering.length === 0 && byTag) {
        const full = await store.getEndpoint(e.id);
        if (full !== null) scoped = full;
        covering = suppressorsFor(scoped, windows, silences, now);
      }
      if (covering.length === 0) return null;
      const states = await store.listAddressStates(e.id, { eventual: true });
      const by = states.map((s) => quietingSuppressor(covering, failureCause(s.state)));
      return by.length > 0 && by.every((b) => b !== null) ? (by[0] ?? null) : null;
    },
    (error) => {
      throw error;
    },
  );
  const stale: StaleEndpoint[] = [];
  const quietedStale: QuietedStaleEndpoint[] = [];
  found.forEach((e, i) => {
    const by = verdicts[i] ?? null;
    if (by === null) stale.push(e);
    else quietedStale.push({ ...e, by });
  });
  return { stale, quietedStale };
}

/**
 * Stale endpoints and the soonest expiry, read in O(shards + failing addresses + incomplete shards),
 * not O(addresses), when the newest judged run has counter shards and started within `maxAgeMs`:
 * - an address that succeeded in that run is not stale (its success is newer than the cutoff);
 * - an address whose check failed is in the failing index;
 * - an address that was not checked in it is in one of its incomplete shards, which are listed.
 * Candidates are confirmed against the states of their endpoint (all of an endpoint's addresses
 * count). Otherwise (no such run: a new or upgraded store, or no run for `maxAgeMs`, when anything
 * may be stale) every state is read.
 */
async function staleAndSoonest(
  store: StateStore,
  latest: RunRecord | null,
  now: Date,
  maxAgeMs: number,
): Promise<{ stale: StaleEndpoint[]; soonestDaysLeft: number | null }> {
  const cutoff = now.getTime() - maxAgeMs;
  const progress =
    latest !== null && Date.parse(latest.startedAt) >= cutoff
      ? await store.getRunProgress(latest.runId)
      : null;
  if (progress === null) {
    const [endpoints, states] = await Promise.all([store.listEndpoints(), store.listAllAddressStates()]);
    const plain = states.map((s) => s.state);
    return {
      stale: findStaleEndpoints(endpoints, plain, now, maxAgeMs),
      soonestDaysLeft: soonestDaysLeft(plain),
    };
  }
  const soonest = progress.soonestDaysLeft;
  const old = (a: { lastSuccessAt: string | null; failingSince: string | null; lastCheckedAt: string }) =>
    Date.parse(a.lastSuccessAt ?? a.failingSince ?? a.lastCheckedAt) < cutoff;
  const stale: StaleEndpoint[] = [];
  const listedShards = new Set<number>();
  for (const s of progress.shards.filter((x) => x.completed < x.expected)) {
    listedShards.add(s.shard);
    const [endpoints, states] = await Promise.all([
      store.listShardEndpoints(s.shard),
      store.listShardAddressStates(s.shard),
    ]);
    stale.push(
      ...findStaleEndpoints(
        endpoints,
        states.map((x) => x.state),
        now,
        maxAgeMs,
      ),
    );
  }
  const candidates = new Set<string>();
  for (const f of await store.listFailingAddresses()) {
    if (!old(f) || listedShards.has(store.shardOfKey(f.key))) continue;
    if (f.siblings === 0 && f.endpointName !== undefined) {
      // The endpoint's only address: its index entry says it all, no state is read.
      stale.push({ id: f.endpointId, name: f.endpointName, lastSuccessAt: f.lastSuccessAt });
    } else {
      candidates.add(f.endpointId);
    }
  }
  const confirmed = await mapWithConcurrency(
    [...candidates],
    16,
    async (id) => {
      // One Query per candidate endpoint: its states carry its name, so the endpoint item is not read.
      // Eventually consistent: half the read units, and a report may lag a second behind.
      const states = (await store.listAddressStates(id, { eventual: true })).map((x) => x.state);
      const name = states[0]?.endpointName;
      return name === undefined ? [] : findStaleEndpoints([{ id, name }], states, now, maxAgeMs);
    },
    (error) => {
      throw error;
    },
  );
  stale.push(...confirmed.flat());
  return { stale: stale.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), soonestDaysLeft: soonest };
}
