/**
 * Persistence port for certwatch. The core and the pipeline depend on this
 * interface only; `DynamoDbStateStore` implements it over one DynamoDB table
 * (real AWS, DynamoDB Local, or the embedded dynalite store).
 *
 * Every write is a single-item (conditional) write: no transactions, so the
 * same code runs on dynalite, DynamoDB Local and AWS.
 */
import type { AddressState, CheckResult, DeliveryRecord, Endpoint } from '../core/model';
import type { InventorySegment } from './inventory-partition';

/** One run of the monitor (a dispatch and the checks it fanned out). */
export interface RunRecord {
  readonly runId: string;
  readonly startedAt: string;
  /** Number of address checks dispatched. */
  readonly expected: number;
  /** Number of distinct address checks that completed (duplicates not counted). */
  readonly completed: number;
  /** Set once the watchdog (or the local runner) has judged the run. */
  readonly finishedAt: string | null;
  /**
   * The run's own deadline (ISO): the watchdog never judges it before. A local run records its
   * run lease's expiry and moves it on with every renewal; absent (the dispatcher's runs), the
   * watchdog's grace period after `startedAt` applies.
   */
  readonly deadline?: string;
  /** A canary failure recorded on the run (`markDetectorBroken`); which run it fails: `detectorBrokenFor`. */
  readonly detectorBroken?: DetectorBroken;
  /** The judge's verdict (`finishRun`); absent before the run is judged, or for a run judged before verdicts were kept. */
  readonly verdict?: RunVerdict;
}

/**
 * The canary judged a known-bad fixture wrongly (or could not run): the detector is broken, and the
 * run it belongs to is failed. Recorded on a run item by one conditional update (the first mark wins).
 */
export interface DetectorBroken {
  /** When the canary finished (ISO). */
  readonly at: string;
  /** The first fixture judged wrongly; null when the canary could not run at all. */
  readonly fixture: string | null;
  /** What the detector said of it (`expired (no findings)`), null when the canary could not run. */
  readonly judged: string | null;
  /** What a working detector says (`expired (EXPIRED)`), null when the canary could not run. */
  readonly expected: string | null;
  /** The page's line: "the detector is broken: …" (and how many more fixtures were wrong). */
  readonly reason: string;
  /**
   * The run the canary ran in, when it knew it (`certwatch run` marks its own run): the mark then
   * belongs to that run alone. Absent for the deployed canary, whose run is found by time.
   */
  readonly runId?: string;
}

/** How a judge found a run: every check done, checks missing, or the detector broken (the canary failed). */
export type RunVerdict = 'complete' | 'incomplete' | 'failed';

/**
 * The run lease: one item per store naming the run that may run now. A second
 * `certwatch run` on the same store finds it and refuses; a lease whose holder
 * stopped renewing it (a crash) is taken over after `until`.
 */
export interface RunLease {
  /** The holder's run; also the lease's token (only this run renews or releases it). */
  readonly runId: string;
  /** Host name of the holder's machine. */
  readonly host: string;
  /** Process id of the holder on that host. */
  readonly pid: number;
  /** When the holder took the lease (ISO). */
  readonly acquiredAt: string;
  /** When the lease lapses unless renewed (ISO). */
  readonly until: string;
}

/** Result of `acquireRunLease`. */
export type AcquireRunLeaseOutcome =
  /** `previous`: the lapsed lease of a holder that stopped renewing it (null when the store was free). */
  | { readonly acquired: true; readonly previous: RunLease | null }
  | { readonly acquired: false; readonly holder: RunLease };

/** Result of `claimRunJudgement`: 'judged' = already finished; 'busy' = another judge's claim is live. */
export type JudgementClaimOutcome = 'claimed' | 'judged' | 'busy';

export interface StoredAddressState {
  readonly state: AddressState;
  /** Optimistic-concurrency version; pass it back to `saveAddressState`. */
  readonly version: number;
}

/** Result of a conditional state write. */
export type SaveOutcome = 'saved' | 'conflict';

/** Result of a conditional state delete. */
export type DeleteOutcome = 'deleted' | 'conflict';

/** What a completed check adds to its run's shard (see `run-shards.ts`). */
export interface CheckCompletion {
  /** Address key: chooses the shard. */
  readonly key: string;
  /** Days left of the address's state after the check (null: unknown). */
  readonly daysLeft: number | null;
  /** The check obtained no certificate (the address is failing). */
  readonly failed: boolean;
}

/** One address-state shard of a run's progress. */
export interface RunShardProgress {
  readonly shard: number;
  /** Checks dispatched to addresses of this shard. */
  readonly expected: number;
  /** Completions counted for addresses of this shard (a count lost to a crash makes it short, never long). */
  readonly completed: number;
}

/** A run's progress, read from its counter items (`getRunProgress`). */
export interface RunProgress {
  readonly shards: readonly RunShardProgress[];
  /** Completed checks that obtained no certificate. */
  readonly failed: number;
  /** Soonest days left among the completed checks (a bucket's lower bound beyond 60 days); null if none known. */
  readonly soonestDaysLeft: number | null;
  /**
   * A run dispatched in shards (`createRun` with `dispatchShards`): how many shards it was split
   * into, and those that have not recorded their checks (`recordDispatchShard`) with the address
   * partitions they cover. `shards[].expected` counts the recorded ones only.
   */
  readonly dispatch?: {
    readonly shards: number;
    readonly unrecorded: number;
    readonly unrecordedPartitions: readonly number[];
  };
}

/** An address whose last check failed, as the failing index keeps it (see `listFailingAddresses`). */
export interface FailingAddress {
  readonly key: string;
  readonly endpointId: string;
  readonly lastSuccessAt: string | null;
  readonly failingSince: string | null;
  readonly lastCheckedAt: string;
  /** The endpoint's name, as its state has it. */
  readonly endpointName?: string;
  /**
   * Other states the endpoint had when this one was written (unknown for entries written without it):
   * with none, this address alone says whether the endpoint is stale, and no state need be read.
   */
  readonly siblings?: number;
}

export interface InventorySyncResult {
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
}

export interface StateStore {
  /**
   * Make the stored inventory equal to `endpoints`: upsert changed ones, remove missing ones (and their
   * address states). Writes only what changed. With `segments`, only those key ranges of the inventory
   * are read and made equal (a dispatch shard's); every endpoint must lie within them.
   */
  syncInventory(
    endpoints: readonly Endpoint[],
    opts?: { readonly segments?: readonly InventorySegment[] },
  ): Promise<InventorySyncResult>;
  listEndpoints(): Promise<Endpoint[]>;
  getEndpoint(id: string): Promise<Endpoint | null>;

  /**
   * One address state. `eventual`: an eventually consistent read (half the read units; may return the
   * version before a write of the last second), for a reader whose next write is conditional on the
   * version it read, so that a stale read costs a retry, never a lost update.
   */
  getAddressState(key: string, opts?: { readonly eventual?: boolean }): Promise<StoredAddressState | null>;
  /**
   * States of every address of one endpoint. `eventual`: an eventually consistent read (half the
   * read units; may miss a write of the last second), for readers that only report.
   */
  listAddressStates(
    endpointId: string,
    opts?: { readonly eventual?: boolean },
  ): Promise<StoredAddressState[]>;
  /** Every stored address state (for `status`, the watchdog and the dashboard). */
  listAllAddressStates(): Promise<StoredAddressState[]>;
  /**
   * Conditional write: succeeds only if the stored version still equals
   * `expectedVersion` (null = the item must not exist yet). A lost race
   * returns 'conflict' and the caller re-reads and re-applies.
   */
  saveAddressState(
    state: AddressState,
    expectedVersion: number | null,
    /** `siblings`: how many other states the endpoint has (kept in the failing index; see `FailingAddress`). */
    opts?: { readonly siblings?: number },
  ): Promise<SaveOutcome>;
  /**
   * Conditional delete of an address state (an address retired from DNS): succeeds only if the
   * stored version still equals `expectedVersion`. 'conflict' when it changed or is already gone.
   */
  deleteAddressState(key: string, expectedVersion: number): Promise<DeleteOutcome>;

  /** Append one check to the history (expires after the configured TTL). */
  appendHistory(result: CheckResult, endpointId: string): Promise<void>;
  /** History of one address, newest first. */
  listHistory(key: string, limit: number): Promise<CheckResult[]>;

  /**
   * Record a new run. A run id that already exists is a duplicated dispatch: throws `RunExistsError`.
   * `addressKeys` (one per dispatched check) gives the expected count per shard, so that the watchdog
   * lists only the shards of a run that did not complete (`getRunShards`); without it the run is judged
   * by reading every state.
   */
  createRun(run: {
    runId: string;
    startedAt: string;
    expected: number;
    deadline?: string;
    addressKeys?: readonly string[];
    /**
     * A run dispatched in shards: the address partitions each shard covers. Each shard records its
     * own checks (`recordDispatchShard`); a shard that never does leaves the run incomplete.
     */
    dispatchShards?: readonly (readonly number[])[];
  }): Promise<void>;
  /**
   * Record what one dispatch shard of a run enqueues: its address keys, counted per address shard.
   * Overwrites the shard's earlier record, so a retried shard counts once, as it last dispatched.
   * Throws `RunNotFoundError` when the run was not created with that shard.
   */
  recordDispatchShard(runId: string, shard: number, addressKeys: readonly string[]): Promise<void>;
  /**
   * Count one completed check of a run, on the shard of `completion.key` (no single hot item), with its
   * days left and failure for the shard's aggregates. Call once per address per run (the state write's
   * lastRunId guards duplicates: an SQS redelivery never reaches here). Throws `RunNotFoundError` when
   * the run does not exist.
   */
  recordCheckCompleted(runId: string, completion?: CheckCompletion): Promise<void>;
  /**
   * Count several completed checks of one run in one write (a checker's SQS batch): what
   * `recordCheckCompleted` does for each, at the price of one write unit for all of them.
   */
  recordCheckCompletions(runId: string, completions: readonly CheckCompletion[]): Promise<void>;
  /** Progress of a run created with `addressKeys`; null for a run without them (or no run). */
  getRunProgress(runId: string): Promise<RunProgress | null>;
  /** Number of address-state shards (partitions) of the store. */
  readonly shardCount: number;
  /** The shard an address key belongs to. */
  shardOfKey(key: string): number;
  /** Endpoints of one shard (an endpoint's address states share its shard). */
  listShardEndpoints(shard: number): Promise<Endpoint[]>;
  /** Address states of one shard. */
  listShardAddressStates(shard: number): Promise<StoredAddressState[]>;
  /**
   * Addresses whose stored state is failing (`consecutiveFailures > 0`), from an index the state writes
   * maintain: O(failing addresses), not O(addresses). An entry may lag its state by a crash; callers
   * confirm against the state before acting.
   */
  listFailingAddresses(): Promise<FailingAddress[]>;
  /**
   * The `limit` address states whose certificates expire soonest (by notAfter; unknown last), from an
   * index written only when an address's notAfter changes: reads O(limit), not O(addresses).
   */
  listSoonestAddressStates(limit: number): Promise<StoredAddressState[]>;
  /** Number of stored address states (counts the small index items, not the states). */
  countAddressStates(): Promise<number>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** Most recent runs, newest first. */
  listRuns(limit: number): Promise<RunRecord[]>;
  /**
   * Take the store's run lease with a conditional write: succeeds when no one holds it, or the
   * holder let it lapse (`until` <= `now`), or `takeOverLive` (the caller holds the store
   * exclusively, so any lease in it was left by a process that died).
   */
  acquireRunLease(
    lease: RunLease,
    opts: { readonly now: string; readonly takeOverLive?: boolean },
  ): Promise<AcquireRunLeaseOutcome>;
  /** Move the lease's `until`, if `runId` still holds it: 'lost' when another run took it over. */
  renewRunLease(runId: string, until: string): Promise<'renewed' | 'lost'>;
  /** Give the lease back, if `runId` still holds it (otherwise nothing happens). */
  releaseRunLease(runId: string): Promise<void>;
  /** The current lease, lapsed or not; null when no one holds it. */
  getRunLease(): Promise<RunLease | null>;

  /** Move a run's deadline (a local run, with each renewal of its lease). Throws `RunNotFoundError` when the run does not exist. */
  extendRunDeadline(runId: string, deadline: string): Promise<void>;
  /**
   * Conditional write that makes `claim.by` the one judge of an unfinished run until `claim.until`:
   * two watchdogs at once get one 'claimed' and one 'busy', so the run is judged (and paged) once.
   * A claim whose judge died (past its `until`) is taken over; the same judge may claim again.
   * Throws `RunNotFoundError` when the run does not exist.
   */
  claimRunJudgement(
    runId: string,
    claim: { readonly by: string; readonly now: string; readonly until: string },
  ): Promise<JudgementClaimOutcome>;
  /**
   * Mark a run judged. The first `finishedAt` wins (a repeated call keeps it), and so do the first
   * `verdict` and the first `detectorBroken` (the judge copies there a canary failure recorded on the
   * run before, see `detectorBrokenFor`). Throws `RunNotFoundError` when the run does not exist.
   */
  finishRun(
    runId: string,
    finishedAt: string,
    outcome?: { readonly verdict: RunVerdict; readonly detectorBroken?: DetectorBroken | null },
  ): Promise<void>;
  /**
   * Record a canary failure on run `runId`, or on the newest run when none is named (the deployed
   * canary runs beside the dispatcher and does not know its run): one conditional update of the run
   * item, the first mark wins. Reads the run pointers only (no counter items). Returns the run marked,
   * null when no run is recorded. Throws `RunNotFoundError` when the named run does not exist.
   */
  markDetectorBroken(mark: DetectorBroken, runId?: string): Promise<string | null>;

  // Delivery records (per alert and channel)
  /** The record of delivering `alertId` to `channel`, or null when none was ever claimed. */
  getDelivery(alertId: string, channel: string): Promise<StoredDelivery | null>;
  /** Every channel's record of one alert (one read per outbox entry). */
  listDeliveries(alertId: string): Promise<StoredDelivery[]>;
  /**
   * Conditional write of a delivery record: succeeds only if the stored version still equals
   * `expectedVersion` (null = no record may exist yet). This is the claim before a send and
   * the mark after it: of two senders, exactly one gets 'saved'.
   */
  saveDelivery(record: DeliveryRecord, expectedVersion: number | null): Promise<SaveOutcome>;
}

/** A delivery record as stored, with its optimistic-concurrency version. */
export interface StoredDelivery {
  readonly record: DeliveryRecord;
  /** Pass it back to `saveDelivery`. */
  readonly version: number;
}

/**
 * A store operation failed for a reason other than a lost optimistic-concurrency
 * race (which is the 'conflict' outcome, not an error). Says which operation
 * and which key failed; the SDK error is the `cause`. Callers decide whether to
 * retry (Lambda: let the message be redelivered).
 */
export class StateStoreError extends Error {
  override name = 'StateStoreError';
  /** Store operation, e.g. `saveAddressState`. */
  readonly operation: string;
  /** Key the operation was about (address key, endpoint id, run id, table name). */
  readonly key: string;

  constructor(operation: string, key: string, message: string, options?: { cause?: unknown }) {
    super(`${operation}(${key}): ${message}`, options);
    this.operation = operation;
    this.key = key;
  }
}

/**
 * An item read back from the table does not fit its schema (written by another
 * version, or edited by hand). Names the item and the first field that is wrong,
 * so the fault is found at the store boundary rather than deep in the policy.
 */
export class MalformedItemError extends StateStoreError {
  override name = 'MalformedItemError';
  /** Partition key of the bad item. */
  readonly pk: string;
  /** Sort key of the bad item. */
  readonly sk: string;
  /** Path of the first bad field, e.g. `state.alerting.thresholdsSent[1]`; `(value)` for the item itself. */
  readonly field: string;

  constructor(
    operation: string,
    key: string,
    item: { readonly pk: string; readonly sk: string; readonly field: string; readonly problem: string },
  ) {
    super(operation, key, `malformed item (pk ${item.pk}, sk ${item.sk}): ${item.field}: ${item.problem}`);
    this.pk = item.pk;
    this.sk = item.sk;
    this.field = item.field;
  }
}

/** `createRun` for a run id that already exists (a duplicated dispatch). */
export class RunExistsError extends StateStoreError {
  override name = 'RunExistsError';

  constructor(runId: string, options?: { cause?: unknown }) {
    super('createRun', runId, 'run already exists', options);
  }
}

/** `recordCheckCompleted` / `finishRun` for a run that was never created (or has expired). */
export class RunNotFoundError extends StateStoreError {
  override name = 'RunNotFoundError';

  constructor(operation: string, runId: string, options?: { cause?: unknown }) {
    super(operation, runId, 'run does not exist', options);
  }
}
