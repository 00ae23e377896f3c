/**
 * A local cycle with maintenance: the windows declared in the config are synced
 * to the store, the maintenance tick announces what is due, the cycle checks
 * every endpoint (which is the end-of-window re-check), and a second tick sends
 * the all-clear of any window that ended. `certwatch run` and the scenario tests
 * call this; the deployed stack runs the same tick from its own schedule.
 */
import type { MaintenanceWindow } from '../core/maintenance';
import type { Endpoint } from '../core/model';
import type { SuppressionStore } from '../store/suppression-store';
import { type MaintenanceTickDeps, type MaintenanceTickReport, runMaintenanceTick } from './maintenance-tick';
import { type RunCycleDeps, type RunCycleOptions, type RunCycleResult, runCycle } from './run-cycle';

export interface MaintenanceCycleDeps extends RunCycleDeps {
  readonly suppressions: SuppressionStore;
  /** See `MaintenanceTickDeps.onAnnounced`. */
  readonly onAnnounced?: MaintenanceTickDeps['onAnnounced'];
}

export interface MaintenanceCycleResult {
  readonly cycle: RunCycleResult;
  /** The tick before the checks and the one after them. */
  readonly ticks: readonly [MaintenanceTickReport, MaintenanceTickReport];
  readonly synced: ConfigWindowSync;
}

export async function runCycleWithMaintenance(
  deps: MaintenanceCycleDeps,
  endpoints: readonly Endpoint[],
  configWindows: readonly MaintenanceWindow[],
  opts: RunCycleOptions,
): Promise<MaintenanceCycleResult> {
  const synced = await syncConfigWindows(deps.suppressions, configWindows, deps.now());
  // The cycle that follows checks every endpoint: that is the end-of-window re-check.
  const tickDeps: MaintenanceTickDeps = {
    store: deps.store,
    suppressions: deps.suppressions,
    sink: deps.sink,
    now: deps.now,
    recheck: async () => {},
    ...(deps.onAnnounced ? { onAnnounced: deps.onAnnounced } : {}),
  };
  const before = await runMaintenanceTick(tickDeps);
  const cycle = await runCycle(deps, endpoints, opts);
  const after = await runMaintenanceTick(tickDeps);
  return { cycle, ticks: [before, after], synced };
}

/** What a config sync changed. */
export interface ConfigWindowSync {
  readonly added: number;
  readonly updated: number;
  readonly cancelled: number;
}

/**
 * Makes the store's config-declared windows match the config: a new one is added (scheduled
 * now), a changed one is updated in place (its announcements so far are kept; a new start, end or
 * scope is announced as rescheduled), and one that left the config is cancelled (ended at once
 * if running). Windows added with `certwatch maintenance add` are left alone.
 */
export async function syncConfigWindows(
  store: SuppressionStore,
  declared: readonly MaintenanceWindow[],
  now: Date,
): Promise<ConfigWindowSync> {
  const stored = new Map((await store.listWindows()).map((s) => [s.window.id, s]));
  let added = 0;
  let updated = 0;
  let cancelled = 0;
  for (const w of declared) {
    const current = stored.get(w.id);
    if (current === undefined) {
      if ((await store.saveWindow({ ...w, createdAt: now.toISOString() }, [], null)) === 'saved') added++;
      continue;
    }
    const next: MaintenanceWindow = { ...w, createdAt: current.window.createdAt, cancelledAt: null };
    if (sameWindow(current.window, next)) continue;
    if ((await store.saveWindow(next, current.announced, current.version)) === 'saved') updated++;
  }
  const ids = new Set(declared.map((w) => w.id));
  for (const current of stored.values()) {
    const w = current.window;
    if (w.source !== 'config' || ids.has(w.id) || w.cancelledAt !== null) continue;
    if (Date.parse(w.end) <= now.getTime()) continue;
    const gone = { ...w, cancelledAt: now.toISOString() };
    if ((await store.saveWindow(gone, current.announced, current.version)) === 'saved') cancelled++;
  }
  return { added, updated, cancelled };
}

const WINDOW_FIELDS = {
  id: true,
  name: true,
  endpoints: true,
  tags: true,
  start: true,
  end: true,
  timeZone: true,
  message: true,
  leadTimeMs: true,
  createdAt: true,
  cancelledAt: true,
  source: true,
} as const satisfies Record<keyof MaintenanceWindow, true>;

function sameWindow(a: MaintenanceWindow, b: MaintenanceWindow): boolean {
  return (Object.keys(WINDOW_FIELDS) as (keyof MaintenanceWindow)[]).every(
    (k) => JSON.stringify(a[k]) === JSON.stringify(b[k]),
  );
}
