/**
 * One complete local cycle — take the run lease, dispatch, check every
 * address, judge the run, give the lease back — composed from the same
 * functions the dispatcher, checker and watchdog Lambdas run. `certwatch run`
 * and the multi-run tests call this.
 *
 * The cycle judges its own run only, never another one: another run's
 * judgement is the deployed watchdog's, after that run's deadline. A store
 * failure stops the cycle (no check after it starts) and is rethrown once,
 * rather than failing every remaining check with the same error.
 */
import { hostname } from 'node:os';
import type { TrustStore } from '../cert/trust-store';
import { mapWithConcurrency } from '../core/concurrency';
import type { CheckResult, Endpoint } from '../core/model';
import { MalformedItemError, type RunLease, type StateStore, StateStoreError } from '../store/state-store';
import type { CheckMessage, CheckQueue } from './check-message';
import { CompletionBatch } from './completion-batch';
import { type DispatchDeps, type DispatchResult, dispatchRun, newRunId } from './dispatch-run';
import {
  type AlertSink,
  type ProcessCheckDeps,
  type ProcessCheckOutcome,
  processCheck,
} from './process-check';
import { type RunLeaseOptions, takeRunLease } from './run-lease';
import { type RunJudgement, runWatchdog, type WatchdogReport } from './watchdog';

/** Collects dispatched messages in memory; the cycle processes them right after dispatch. */
export class InMemoryQueue implements CheckQueue {
  readonly messages: CheckMessage[] = [];
  async sendAll(messages: readonly CheckMessage[]): Promise<void> {
    this.messages.push(...messages);
  }
}

export interface RunCycleDeps {
  readonly store: StateStore;
  readonly sink: AlertSink;
  /** See `ProcessCheckDeps.trustFor`. */
  readonly trustFor: (endpoint: Endpoint) => TrustStore;
  readonly now: () => Date;
  readonly resolve?: DispatchDeps['resolve'];
  readonly check?: ProcessCheckDeps['check'];
  /** See `ProcessCheckDeps.clientKey`. */
  readonly clientKey?: ProcessCheckDeps['clientKey'];
  /** Called when a message could not be processed at all (a store failure, a bug). */
  readonly onCheckError?: (msg: CheckMessage, error: unknown) => void;
  /** Called after dispatch, before any check runs (for progress output). */
  readonly onDispatched?: (dispatched: DispatchResult) => void;
  /** Called once the run lease is taken; `previous` is the lapsed lease of a holder that died. */
  readonly onLeaseTaken?: (lease: RunLease, previous: RunLease | null) => void;
  /** See `DispatchDeps.suppressions`. */
  readonly suppressions?: DispatchDeps['suppressions'];
}

export interface RunCycleOptions {
  readonly concurrency: number;
  /** Schedule interval; the watchdog calls endpoints stale after two. */
  readonly intervalMs: number;
  /**
   * The run lease: how long it lasts unrenewed, who holds it, whether the store is this process's alone.
   * @default 2 minutes, this host and process, not exclusive
   */
  readonly lease?: Partial<RunLeaseOptions>;
}

/** How long a run lease lasts without renewal unless the caller says otherwise. */
export const DEFAULT_RUN_LEASE_MS = 120_000;

export interface RunCycleResult {
  readonly dispatched: DispatchResult;
  readonly outcomes: readonly ProcessCheckOutcome[];
  readonly results: readonly CheckResult[];
  /** Messages whose processing threw. */
  readonly failedChecks: number;
  readonly judgement: RunJudgement | null;
  readonly watchdog: WatchdogReport;
}

export async function runCycle(
  deps: RunCycleDeps,
  endpoints: readonly Endpoint[],
  opts: RunCycleOptions,
): Promise<RunCycleResult> {
  const runId = newRunId(deps.now());
  const leaseMs = opts.lease?.leaseMs ?? DEFAULT_RUN_LEASE_MS;
  // Taken before anything is written: a refused run has changed nothing.
  const held = await takeRunLease(deps.store, runId, deps.now, {
    ...opts.lease,
    leaseMs,
    holder: opts.lease?.holder ?? { host: hostname(), pid: process.pid },
  });
  deps.onLeaseTaken?.(held.lease, held.previous);
  try {
    const queue = new InMemoryQueue();
    const dispatched = await dispatchRun(
      {
        store: deps.store,
        queue,
        now: deps.now,
        newRunId: () => runId,
        ...(deps.resolve ? { resolve: deps.resolve } : {}),
        ...(deps.suppressions ? { suppressions: deps.suppressions } : {}),
      },
      endpoints,
      { deadline: held.until },
    );
    held.runRecorded();
    deps.onDispatched?.(dispatched);
    // The run's counts are written once, after the checks (the watchdog recounts a shard whose count was lost).
    const completions = new CompletionBatch(deps.store);
    const processDeps: ProcessCheckDeps = {
      recordCompletion: completions.add,
      store: deps.store,
      sink: deps.sink,
      trustFor: deps.trustFor,
      now: deps.now,
      ...(deps.check ? { check: deps.check } : {}),
      ...(deps.clientKey ? { clientKey: deps.clientKey } : {}),
    };
    let failedChecks = 0;
    let storeFailure: { error: unknown } | null = null;
    const notProcessed: ProcessCheckOutcome = {
      status: 'checked',
      result: null,
      state: null,
      alerts: [],
      deliveries: [],
    };
    const outcomes = await mapWithConcurrency(
      queue.messages,
      opts.concurrency,
      // After a store failure, or once another run holds the lease, no further check starts.
      async (msg) => (storeFailure || held.lost() ? notProcessed : processCheck(processDeps, msg)),
      (error, msg): ProcessCheckOutcome => {
        if (isStoreFailure(error)) storeFailure ??= { error };
        else {
          failedChecks++;
          deps.onCheckError?.(msg, error);
        }
        return notProcessed;
      },
    );
    try {
      await completions.flush();
    } catch (error) {
      storeFailure ??= { error };
    }
    if (storeFailure) throw (storeFailure as { error: unknown }).error;
    const lost = held.lost();
    if (lost) throw lost;
    const watchdog = await runWatchdog(
      {
        store: deps.store,
        now: deps.now,
        page: async (alert) => void (await deps.sink.deliver(alert, null)),
        judge: runId,
        ...(deps.suppressions ? { suppressions: deps.suppressions } : {}),
      },
      { intervalMs: opts.intervalMs, graceMs: 0, only: runId, claimMs: leaseMs },
    );
    return {
      dispatched,
      outcomes,
      results: outcomes.flatMap((o) => (o.result ? [o.result] : [])),
      failedChecks,
      judgement: watchdog.judged.find((j) => j.runId === dispatched.runId) ?? null,
      watchdog,
    };
  } finally {
    await held.release();
  }
}

/**
 * The store itself failed (unreachable, throttled beyond the SDK's retries, the run item gone):
 * every further check would fail alike. A malformed item is one address's fault and is not.
 */
function isStoreFailure(error: unknown): boolean {
  return error instanceof StateStoreError && !(error instanceof MalformedItemError);
}
