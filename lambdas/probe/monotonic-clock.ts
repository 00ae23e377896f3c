/**
 * Milliseconds on a monotonic clock (not wall time: immune to clock steps), with an arbitrary
 * origin, for durations and deadlines inside one process.
 *
 * `performance.now()` would do the same, but the global `performance` loads `perf_hooks` and its
 * seven internal modules on first use, which a one-host `certwatch check` pays in full at start.
 * `process.hrtime` is part of every Node start. The two clocks have different origins: a value of
 * one is never compared with a value of the other.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
