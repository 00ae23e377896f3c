/**
 * The maintenance tick: sends the announcements of maintenance windows and
 * silences that are due, and at the end of a window has its endpoints
 * re-checked, then sends the all-clear. `certwatch run` runs it before and
 * after its cycle; in AWS a schedule invokes it every minute in the checker
 * (`{ certwatch: 'maintenance' }`), and the re-check goes through the check queue.
 *
 * Exactly once: each announcement is an alert with a deterministic id
 * (`announcements.ts`), delivered through the delivery records of
 * `outbox-delivery.ts` (claim, send, mark). The phase is then recorded on the
 * window's item by a conditional write. A tick that crashes between the two, or
 * two ticks at once, find the delivery already recorded and send nothing again.
 *
 * The end of a window, in two steps:
 * 1. the re-check is requested once (`recheck@<time>` recorded): locally the cycle that
 *    follows checks every endpoint anyway; in AWS the in-scope endpoints are
 *    dispatched as a run of their own;
 * 2. once every in-scope address was checked after the end (or
 *    `RECHECK_WAIT_MS` passed), the all-clear goes out, listing the endpoints
 *    that are fine, the ones still broken (each of which has paged on its own,
 *    "outlasted maintenance window"), those another window or silence still
 *    covers, and any the re-check did not reach.
 */
import {
  audienceChannels,
  silenceAnnouncement,
  type WindowEndOutcome,
  windowAnnouncement,
} from '../core/announcements';
import {
  dueSilencePhases,
  dueWindowPhases,
  inSilenceScope,
  inWindowScope,
  type MaintenanceWindow,
  silenceSettled,
  suppressorsFor,
  windowEffectiveEnd,
  windowSettled,
} from '../core/maintenance';
import type { AddressState, Alert, DeliveryResult, Endpoint } from '../core/model';
import { SEVERITY_RANK } from '../core/model';
import { QUIETABLE_CODES } from '../core/suppression';
import type { StateStore } from '../store/state-store';
import type { StoredSilence, StoredWindow, SuppressionStore } from '../store/suppression-store';
import { type AlertSink, DEFAULT_OUTBOX_LEASE_MS, deliverOutbox } from './outbox-delivery';

/** How long the all-clear waits for the re-check, once requested, before it says which endpoints it did not reach. */
export const RECHECK_WAIT_MS = 10 * 60_000;

/** The announced-phase key that records when the end-of-window re-check was requested (`recheck@<ISO>`). */
export const RECHECK_KEY = 'recheck';

export interface MaintenanceTickDeps {
  readonly store: StateStore;
  readonly suppressions: SuppressionStore;
  readonly sink: AlertSink;
  readonly now: () => Date;
  /**
   * Has these endpoints checked now (the end of a window). Locally nothing: the cycle that
   * follows the tick checks every endpoint. In AWS: a dispatch of them through the check queue.
   */
  readonly recheck: (endpoints: readonly Endpoint[]) => Promise<void>;
  /** Names the sender in the delivery records. @default 'maintenance-tick' */
  readonly holder?: string;
  /** Claim lease of a delivery. @default DEFAULT_OUTBOX_LEASE_MS */
  readonly leaseMs?: number;
  /** Hears each announcement settled, with the deliveries this tick made of it (none: no channel, or sent before). */
  readonly onAnnounced?: (alert: Alert, deliveries: readonly DeliveryResult[]) => void;
}

/** What one tick did. */
export interface MaintenanceTickReport {
  /** Announcements sent (or found already sent), in order. */
  readonly announced: readonly Alert[];
  readonly deliveries: readonly DeliveryResult[];
  /** Announcements that could not be sent on every channel; the next tick retries them. */
  readonly owed: readonly string[];
  /** Windows whose endpoints this tick had re-checked. */
  readonly rechecked: readonly string[];
}

/** Bound on windows and silences one tick handles, so a flood of them cannot stall it. */
const MAX_PER_TICK = 200;

export async function runMaintenanceTick(deps: MaintenanceTickDeps): Promise<MaintenanceTickReport> {
  const now = deps.now();
  const [windows, silences] = await Promise.all([
    deps.suppressions.listWindows(),
    deps.suppressions.listSilences(),
  ]);
  const openWindows = windows
    .filter((w) => !windowSettled(w.window, w.announced, now))
    .slice(0, MAX_PER_TICK);
  const openSilences = silences
    .filter((s) => !silenceSettled(s.silence, s.announced, now))
    .slice(0, MAX_PER_TICK);
  const report = {
    announced: [] as Alert[],
    deliveries: [] as DeliveryResult[],
    owed: [] as string[],
    rechecked: [] as string[],
  };
  if (openWindows.length === 0 && openSilences.length === 0) return report;
  const endpoints = await deps.store.listEndpoints();
  const allWindows = windows.map((w) => w.window);
  const allSilences = silences.map((s) => s.silence);

  for (const stored of openWindows) {
    const w = stored.window;
    const inScope = endpoints.filter((e) => inWindowScope(w, e));
    const audience = { channels: audienceChannels(inScope), endpoints: inScope.map((e) => e.name) };
    const done: string[] = [];
    for (const due of dueWindowPhases(w, stored.announced, now)) {
      if (due.action === 'skip') {
        done.push(due.key);
        continue;
      }
      let end: WindowEndOutcome | undefined;
      if (due.phase === 'end') {
        const requested = stored.announced.find((a) => a.startsWith(`${RECHECK_KEY}@`));
        if (requested === undefined) {
          await deps.recheck(inScope);
          report.rechecked.push(w.id);
          done.push(`${RECHECK_KEY}@${now.toISOString()}`);
          break;
        }
        const waited = now.getTime() - Date.parse(requested.slice(RECHECK_KEY.length + 1)) >= RECHECK_WAIT_MS;
        const outcome = await endOutcome(deps, w, inScope, allWindows, allSilences, now, waited);
        if (outcome === null) break;
        end = outcome;
      }
      const rescheduled =
        due.phase === 'scheduled' && stored.announced.some((a) => a.startsWith('scheduled@'));
      const alert = windowAnnouncement(w, due.phase, due.key, audience, now, {
        rescheduled,
        ...(end ? { end } : {}),
      });
      if (!(await announce(deps, alert, report))) break;
      done.push(due.key);
    }
    if (done.length > 0) await recordWindow(deps.suppressions, stored, done);
  }

  for (const stored of openSilences) {
    const s = stored.silence;
    const inScope = endpoints.filter((e) => inSilenceScope(s, e));
    const done: string[] = [];
    for (const due of dueSilencePhases(s, stored.announced, now)) {
      const alert = silenceAnnouncement(s, due.phase, audienceChannels(inScope), now);
      if (!(await announce(deps, alert, report))) break;
      done.push(due.key);
    }
    if (done.length > 0) await recordSilence(deps.suppressions, stored, done);
  }
  return report;
}

/** Sends one announcement through its delivery records; true once every channel is settled. */
async function announce(
  deps: MaintenanceTickDeps,
  alert: Alert,
  report: { announced: Alert[]; deliveries: DeliveryResult[]; owed: string[] },
): Promise<boolean> {
  const leaseMs = deps.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  const pass = await deliverOutbox(
    {
      store: deps.store,
      sink: deps.sink,
      now: deps.now,
      holder: deps.holder ?? 'maintenance-tick',
      leaseMs,
      retryHoldMs: leaseMs,
    },
    [{ alert, channels: null, attempts: 0, lastError: null }],
  );
  report.deliveries.push(...pass.deliveries);
  if (pass.settled.has(alert.id)) {
    report.announced.push(alert);
    deps.onAnnounced?.(alert, pass.deliveries);
    return true;
  }
  report.owed.push(alert.id);
  return false;
}

/**
 * How the window's endpoints stand after its end; null while the re-check is still owed (an
 * in-scope address not checked since the end, and `RECHECK_WAIT_MS` not passed).
 */
async function endOutcome(
  deps: MaintenanceTickDeps,
  w: MaintenanceWindow,
  inScope: readonly Endpoint[],
  windows: readonly MaintenanceWindow[],
  silences: Parameters<typeof suppressorsFor>[2],
  now: Date,
  waited: boolean,
): Promise<WindowEndOutcome | null> {
  const endedAt = Date.parse(windowEffectiveEnd(w));
  const fine: string[] = [];
  const broken: { name: string; since: string }[] = [];
  const stillCovered: { name: string; by: string }[] = [];
  const unchecked: string[] = [];
  for (const endpoint of inScope) {
    const states = (await deps.store.listAddressStates(endpoint.id))
      .map((s) => s.state)
      .filter((s) => !s.retiredAt);
    const checked = states.length > 0 && states.every((s) => Date.parse(s.lastCheckedAt) >= endedAt);
    if (!checked) {
      if (!waited) return null;
      unchecked.push(endpoint.name);
      continue;
    }
    const failing = states.filter(isBrokenAsMaintenanceSeesIt);
    if (failing.length === 0) {
      fine.push(endpoint.name);
      continue;
    }
    const other = suppressorsFor(endpoint, windows, silences, now).find((r) => r.id !== w.id);
    if (other) {
      stillCovered.push({ name: endpoint.name, by: other.name });
      continue;
    }
    const since = failing
      .map((s) => s.failingSince ?? s.suppressedBy?.quietedSince ?? s.lastCheckedAt)
      .sort()[0] as string;
    broken.push({ name: endpoint.name, since });
  }
  return { fine, broken, stillCovered, unchecked };
}

/** Failing, or showing a finding a window quiets (hostname mismatch) at warning or worse. */
function isBrokenAsMaintenanceSeesIt(s: AddressState): boolean {
  if (s.consecutiveFailures > 0) return true;
  return s.findings.some(
    (f) => QUIETABLE_CODES.maintenance.includes(f.code) && SEVERITY_RANK[f.severity] >= SEVERITY_RANK.warning,
  );
}

/** Adds `phases` to what the window announced; re-reads and retries on a concurrent write. */
async function recordWindow(
  store: SuppressionStore,
  stored: StoredWindow,
  phases: readonly string[],
): Promise<void> {
  let current: StoredWindow | null = stored;
  for (let attempt = 0; attempt < 3 && current !== null; attempt++) {
    const announced = [...new Set([...current.announced, ...phases])];
    if ((await store.saveWindow(current.window, announced, current.version)) === 'saved') return;
    current = await store.getWindow(stored.window.id);
  }
}

async function recordSilence(
  store: SuppressionStore,
  stored: StoredSilence,
  phases: readonly string[],
): Promise<void> {
  let current: StoredSilence | null = stored;
  for (let attempt = 0; attempt < 3 && current !== null; attempt++) {
    const announced = [...new Set([...current.announced, ...phases])];
    if ((await store.saveSilence(current.silence, announced, current.version)) === 'saved') return;
    current = await store.getSilence(stored.silence.id);
  }
}
