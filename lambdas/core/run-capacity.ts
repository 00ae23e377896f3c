/**
 * How many checkers a run needs to finish in time, and when the watchdog may judge it.
 *
 * One set of numbers drives three deployment facts: the checker concurrency (the SQS event
 * source's maximum), the watchdog's grace (WATCHDOG_GRACE_MS) and the check queue's backlog
 * alarm. Sizing is for the worst case: every address takes its full probe deadline (a dead
 * endpoint times out), because a run of dead endpoints is exactly when the monitor must not fall
 * behind.
 *
 * Pure: no SDK, no CDK, no process.env.
 */

/** A run may take at most this share of the schedule interval, so the next run starts on a drained queue. */
export const RUN_SHARE_OF_INTERVAL = 0.5;

/** Per check beyond its probe deadline: the state read and conditional writes, alert publishing. */
export const CHECK_OVERHEAD_MS = 1_000;

/**
 * Addresses checked per endpoint, assumed at synth (names are resolved at dispatch): a dual-stack
 * host resolves to an IPv4 and an IPv6 address, and each is checked.
 */
export const ADDRESSES_PER_ENDPOINT = 2;

/** The concurrency small inventories get (the former fixed default): cold starts amortise, bursts drain fast. */
export const MIN_CHECKER_CONCURRENCY = 10;

/** The largest maximum concurrency an SQS event source accepts. */
export const MAX_CHECKER_CONCURRENCY = 1_000;

/** Slack added to the watchdog's grace beyond the computed worst case (clock skew, scheduler jitter). */
export const GRACE_SLACK_MS = 15 * 60_000;

/** What one run must do and what one checker invocation can do. */
export interface RunCapacityInput {
  /** Address checks a run enqueues. */
  readonly addresses: number;
  /** Longest gap between two runs, in ms. */
  readonly intervalMs: number;
  /** The longest probe deadline of any endpoint, in ms. */
  readonly probeTimeoutMs: number;
  /** Checks one checker invocation has in flight at once (min of batch size and in-handler concurrency). */
  readonly checksPerInvocation: number;
}

/** The checker concurrency of a deployment and how long its run takes at worst. */
export type ConcurrencyPlan =
  | {
      readonly ok: true;
      /** The concurrency to deploy: the explicit one, else the required one (at least the minimum). */
      readonly concurrency: number;
      /** The least concurrency that finishes a run within its budget. */
      readonly required: number;
      /** How long a run takes when every check takes its full probe deadline, in ms. */
      readonly worstCaseRunMs: number;
      /** The share of the interval a run may take, in ms. */
      readonly runBudgetMs: number;
    }
  | { readonly ok: false; readonly reason: string };

/** Worst-case time of one check, in ms. */
export function worstCaseCheckMs(probeTimeoutMs: number): number {
  return probeTimeoutMs + CHECK_OVERHEAD_MS;
}

/** The time a run may take, in ms: `RUN_SHARE_OF_INTERVAL` of the interval. */
export function runBudgetMs(intervalMs: number): number {
  return Math.floor(intervalMs * RUN_SHARE_OF_INTERVAL);
}

/**
 * Worst-case duration of a run at `concurrency` checkers: the queue drains in rounds of
 * `concurrency × checksPerInvocation` checks, each round as long as the slowest check.
 */
export function worstCaseRunMs(input: RunCapacityInput, concurrency: number): number {
  const perRound = Math.max(1, Math.floor(concurrency)) * Math.max(1, Math.floor(input.checksPerInvocation));
  return Math.ceil(Math.max(0, input.addresses) / perRound) * worstCaseCheckMs(input.probeTimeoutMs);
}

/**
 * The checker concurrency of a deployment.
 *
 * required = ceil(addresses ÷ (checksPerInvocation × floor(runBudget ÷ worstCaseCheck))), where
 * runBudget = interval × RUN_SHARE_OF_INTERVAL and worstCaseCheck = probe deadline + CHECK_OVERHEAD_MS.
 * Without an explicit concurrency the plan deploys max(required, MIN_CHECKER_CONCURRENCY); an
 * explicit one below `required`, or a required one above MAX_CHECKER_CONCURRENCY, is refused with
 * the reason as one line.
 *
 * @param explicit `checker.concurrency` when the config sets it
 */
export function planCheckerConcurrency(input: RunCapacityInput, explicit?: number): ConcurrencyPlan {
  const budget = runBudgetMs(input.intervalMs);
  const checkMs = worstCaseCheckMs(input.probeTimeoutMs);
  const rounds = Math.floor(budget / checkMs);
  const where = `${input.addresses} address checks, ${formatMs(checkMs)} each at worst, within ${formatMs(budget)} (half the ${formatMs(input.intervalMs)} schedule interval)`;
  if (rounds < 1) {
    return { ok: false, reason: `schedule: runs are too close together for ${where}; schedule less often` };
  }
  const perInvocation = Math.max(1, Math.floor(input.checksPerInvocation));
  const required = Math.max(1, Math.ceil(Math.max(0, input.addresses) / (perInvocation * rounds)));
  if (required > MAX_CHECKER_CONCURRENCY) {
    return {
      ok: false,
      reason: `checker.concurrency: ${required} checkers would be needed for ${where}, above the limit of ${MAX_CHECKER_CONCURRENCY}; schedule less often or shorten timeouts`,
    };
  }
  if (explicit !== undefined && Math.floor(explicit) < required) {
    return {
      ok: false,
      reason: `checker.concurrency: ${explicit} cannot finish ${where}; use at least ${required} or leave it out to derive it`,
    };
  }
  const concurrency = explicit ?? Math.max(required, MIN_CHECKER_CONCURRENCY);
  return {
    ok: true,
    concurrency,
    required,
    worstCaseRunMs: worstCaseRunMs(input, concurrency),
    runBudgetMs: budget,
  };
}

/** What a run's deadline is made of, in ms. */
export interface GraceInput {
  /** The dispatcher's timeout: the longest it may take to enqueue a run. */
  readonly dispatchMs: number;
  /** `worstCaseRunMs` at the deployed concurrency. */
  readonly worstCaseRunMs: number;
  /** Times a failing check is received before it is parked. */
  readonly maxReceiveCount: number;
  /** The check queue's visibility timeout: how long a failed check waits before its retry. */
  readonly visibilityTimeoutMs: number;
}

/**
 * How long after its start the watchdog judges a run: dispatch, the worst-case drain, every
 * retry of a failing check, plus GRACE_SLACK_MS. A run judged earlier would page "incomplete"
 * while its checks are still on their way.
 */
export function watchdogGraceMs(input: GraceInput): number {
  return (
    input.dispatchMs +
    input.worstCaseRunMs +
    input.maxReceiveCount * input.visibilityTimeoutMs +
    GRACE_SLACK_MS
  );
}

/**
 * Age of the oldest check message at which the queue is backlogged: the run budget plus the
 * retries of a failing check, and never more than one interval (by then the next run's checks
 * queue behind the last one's).
 */
export function backlogAgeLimitMs(
  intervalMs: number,
  maxReceiveCount: number,
  visibilityTimeoutMs: number,
): number {
  return Math.min(intervalMs, runBudgetMs(intervalMs) + maxReceiveCount * visibilityTimeoutMs);
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
