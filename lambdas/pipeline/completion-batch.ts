/**
 * Collects the run completions of several checks and writes them in one counter write per run
 * (`StateStore.recordCheckCompletions`): a checker's SQS batch of 10 costs one write unit for its
 * counts instead of ten. `processCheck` takes `batch.add` as its `recordCompletion`; the host calls
 * `flush()` once the batch's checks are done, before it reports the batch processed.
 *
 * A count is lost only when the host dies (or the flush fails) after the state writes: the
 * watchdog then finds that address shard short and recounts it from the states (`judgeRun`),
 * so a lost count never pages as a lost check.
 */
import type { CheckCompletion, StateStore } from '../store/state-store';

export class CompletionBatch {
  readonly #store: StateStore;
  #pending = new Map<string, CheckCompletion[]>();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** Queues one completion (for `ProcessCheckDeps.recordCompletion`). */
  readonly add = async (runId: string, completion: CheckCompletion): Promise<void> => {
    const list = this.#pending.get(runId);
    if (list) list.push(completion);
    else this.#pending.set(runId, [completion]);
  };

  /** Completions queued and not yet written. */
  get size(): number {
    let n = 0;
    for (const list of this.#pending.values()) n += list.length;
    return n;
  }

  /** Writes what is queued, one write per run; every run is tried, the first failure is rethrown. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    let failure: { error: unknown } | null = null;
    for (const [runId, completions] of pending) {
      try {
        await this.#store.recordCheckCompletions(runId, completions);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
