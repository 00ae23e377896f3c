/**
 * The run lease as a local run holds it. Two `certwatch run` processes on one
 * store would check the same addresses, race for the same state and judge each
 * other's unfinished runs, so a run first takes the store's lease (one
 * conditional write), renews it while it is alive, and gives it back at its
 * end. A second run finds the lease held and refuses; a lease whose holder
 * died lapses and the next run takes it over.
 */
import type { RunLease, StateStore } from '../store/state-store';

/** Another run holds the store's run lease: this run did nothing. */
export class RunLeaseHeldError extends Error {
  override readonly name = 'RunLeaseHeldError';
  readonly holder: RunLease;

  constructor(holder: RunLease) {
    super(`run lease held by run ${holder.runId} (${holder.host}, pid ${holder.pid}) until ${holder.until}`);
    this.holder = holder;
  }
}

/** The lease lapsed while this run was still going and another run took it over: this run stopped early. */
export class RunLeaseLostError extends Error {
  override readonly name = 'RunLeaseLostError';
  /** The run that holds it now, when it could be read. */
  readonly holder: RunLease | null;

  constructor(runId: string, holder: RunLease | null) {
    super(
      `run ${runId} lost its run lease${holder ? ` to run ${holder.runId} (${holder.host}, pid ${holder.pid})` : ''}`,
    );
    this.holder = holder;
  }
}

/** Schedules `fn` after `ms`; returns a cancel function. `fn` resolves when its renewal has settled. */
export type Scheduler = (fn: () => Promise<void>, ms: number) => () => void;

export interface RunLeaseOptions {
  /** How long the lease lasts without renewal; it is renewed every third of it. */
  readonly leaseMs: number;
  /** Who holds it, as the refusal names it. */
  readonly holder: { readonly host: string; readonly pid: number };
  /**
   * This process holds the store exclusively (the embedded store's directory lock), so a lease
   * found in it was left by a process that died: take it over at once.
   */
  readonly exclusive?: boolean;
  /** Timer for renewals. @default setTimeout, unref'd */
  readonly schedule?: Scheduler;
}

/** A lease this run holds. */
export interface HeldRunLease {
  readonly lease: RunLease;
  /** The lapsed lease this run took over (its holder died), or null. */
  readonly previous: RunLease | null;
  /** Current expiry (ISO), moved on by each renewal. */
  until(): string;
  /** Set once another run has taken the lease over. */
  lost(): RunLeaseLostError | null;
  /** The run record now exists: from here on each renewal also moves the run's deadline. */
  runRecorded(): void;
  /** Stops renewing, waits for a renewal in flight, and gives the lease back. Never rejects; false if it could not. */
  release(): Promise<boolean>;
}

const defaultSchedule: Scheduler = (fn, ms) => {
  const timer = setTimeout(() => void fn(), ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * Takes the store's run lease for `runId` and keeps it renewed until `release()`.
 * @throws RunLeaseHeldError when another run holds it
 * @throws StateStoreError (from the store) when the store fails
 */
export async function takeRunLease(
  store: StateStore,
  runId: string,
  now: () => Date,
  opts: RunLeaseOptions,
): Promise<HeldRunLease> {
  const started = now();
  const lease: RunLease = {
    runId,
    host: opts.holder.host,
    pid: opts.holder.pid,
    acquiredAt: started.toISOString(),
    until: new Date(started.getTime() + opts.leaseMs).toISOString(),
  };
  const outcome = await store.acquireRunLease(lease, {
    now: started.toISOString(),
    ...(opts.exclusive ? { takeOverLive: true } : {}),
  });
  if (!outcome.acquired) throw new RunLeaseHeldError(outcome.holder);

  const schedule = opts.schedule ?? defaultSchedule;
  const everyMs = Math.max(1, Math.floor(opts.leaseMs / 3));
  let until = lease.until;
  let recorded = false;
  let stopped = false;
  let lost: RunLeaseLostError | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let cancel: () => void = () => undefined;

  const renew = async (): Promise<void> => {
    const next = new Date(now().getTime() + opts.leaseMs).toISOString();
    try {
      if ((await store.renewRunLease(runId, next)) === 'lost') {
        lost = new RunLeaseLostError(runId, await store.getRunLease().catch(() => null));
        return;
      }
      until = next;
      if (recorded) await store.extendRunDeadline(runId, next);
    } catch {
      // A store failure is the run's own to report (its next write fails the same way); keep trying.
    }
  };
  // One renewal at a time, each scheduled after the previous one settled: the loop ends with the run.
  const tick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    inFlight = renew().finally(() => {
      if (!stopped && lost === null) cancel = schedule(tick, everyMs);
    });
    return inFlight;
  };
  cancel = schedule(tick, everyMs);

  return {
    lease,
    previous: outcome.previous,
    until: () => until,
    lost: () => lost,
    runRecorded: () => {
      recorded = true;
    },
    release: async () => {
      stopped = true;
      cancel();
      await inFlight.catch(() => undefined);
      if (lost !== null) return false;
      try {
        await store.releaseRunLease(runId);
        return true;
      } catch {
        // The store is down: the lease lapses at `until` and the next run takes it over.
        return false;
      }
    },
  };
}
