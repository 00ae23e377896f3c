/**
 * One complete local cycle — dispatch, check every address, judge the run —
 * composed from the same functions the dispatcher, checker and watchdog
 * Lambdas run. `certwatch run` and the multi-run tests call this.
 */
import type { TrustStore } from '../cert/trust-store';
import { mapWithConcurrency } from '../core/concurrency';
import type { CheckResult, Endpoint } from '../core/model';
import type { StateStore } from '../store/state-store';
import type { CheckMessage, CheckQueue } from './check-message';
import { type DispatchDeps, type DispatchResult, dispatchRun } from './dispatch-run';
import {
  type AlertSink,
  type ProcessCheckDeps,
  type ProcessCheckOutcome,
  processCheck,
} from './process-check';
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
  readonly trust: TrustStore;
  readonly now: () => Date;
  readonly resolve?: DispatchDeps['resolve'];
  readonly check?: ProcessCheckDeps['check'];
  /** Called when a message could not be processed at all (a store failure, a bug). */
  readonly onCheckError?: (msg: CheckMessage, error: unknown) => void;
  /** Called after dispatch, before any check runs (for progress output). */
  readonly onDispatched?: (dispatched: DispatchResult) => void;
}

export interface RunCycleOptions {
  readonly concurrency: number;
  /** Schedule interval; the watchdog calls endpoints stale after two. */
  readonly intervalMs: number;
}

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
  const queue = new InMemoryQueue();
  const dispatched = await dispatchRun(
    { store: deps.store, queue, now: deps.now, ...(deps.resolve ? { resolve: deps.resolve } : {}) },
    endpoints,
  );
  deps.onDispatched?.(dispatched);
  const processDeps: ProcessCheckDeps = {
    store: deps.store,
    sink: deps.sink,
    trust: deps.trust,
    now: deps.now,
    ...(deps.check ? { check: deps.check } : {}),
  };
  let failedChecks = 0;
  const outcomes = await mapWithConcurrency(
    queue.messages,
    opts.concurrency,
    (msg) => processCheck(processDeps, msg),
    (error, msg): ProcessCheckOutcome => {
      failedChecks++;
      deps.onCheckError?.(msg, error);
      return { status: 'checked', result: null, state: null, alerts: [], deliveries: [] };
    },
  );
  const watchdog = await runWatchdog(
    { store: deps.store, now: deps.now, page: async (alert) => void (await deps.sink.deliver(alert, null)) },
    { intervalMs: opts.intervalMs, graceMs: 0 },
  );
  return {
    dispatched,
    outcomes,
    results: outcomes.flatMap((o) => (o.result ? [o.result] : [])),
    failedChecks,
    judgement: watchdog.judged.find((j) => j.runId === dispatched.runId) ?? null,
    watchdog,
  };
}
