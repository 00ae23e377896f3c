/**
 * Persistence port for certwatch. The core and the pipeline depend on this
 * interface only; `DynamoDbStateStore` implements it over one DynamoDB table
 * (real AWS, DynamoDB Local, or the embedded dynalite store).
 *
 * Every write is a single-item (conditional) write: no transactions, so the
 * same code runs on dynalite, DynamoDB Local and AWS.
 */
import type { AddressState, CheckResult, Endpoint } from '../core/model';

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
}

export interface StoredAddressState {
  readonly state: AddressState;
  /** Optimistic-concurrency version; pass it back to `saveAddressState`. */
  readonly version: number;
}

/** Result of a conditional state write. */
export type SaveOutcome = 'saved' | 'conflict';

export interface InventorySyncResult {
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
}

export interface StateStore {
  /** Make the stored inventory equal to `endpoints`: upsert changed ones, remove missing ones (and their address states). Writes only what changed. */
  syncInventory(endpoints: readonly Endpoint[]): Promise<InventorySyncResult>;
  listEndpoints(): Promise<Endpoint[]>;
  getEndpoint(id: string): Promise<Endpoint | null>;

  getAddressState(key: string): Promise<StoredAddressState | null>;
  /** States of every address of one endpoint. */
  listAddressStates(endpointId: string): Promise<StoredAddressState[]>;
  /** Every stored address state (for `status`, the watchdog and the dashboard). */
  listAllAddressStates(): Promise<StoredAddressState[]>;
  /**
   * Conditional write: succeeds only if the stored version still equals
   * `expectedVersion` (null = the item must not exist yet). A lost race
   * returns 'conflict' and the caller re-reads and re-applies.
   */
  saveAddressState(state: AddressState, expectedVersion: number | null): Promise<SaveOutcome>;

  /** Append one check to the history (expires after the configured TTL). */
  appendHistory(result: CheckResult, endpointId: string): Promise<void>;
  /** History of one address, newest first. */
  listHistory(key: string, limit: number): Promise<CheckResult[]>;

  createRun(run: { runId: string; startedAt: string; expected: number }): Promise<void>;
  /** Count one completed check of a run. Call once per address per run (the state write's lastRunId guards duplicates). */
  recordCheckCompleted(runId: string): Promise<void>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** Most recent runs, newest first. */
  listRuns(limit: number): Promise<RunRecord[]>;
  finishRun(runId: string, finishedAt: string): Promise<void>;
}
