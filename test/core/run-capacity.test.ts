import { describe, expect, it } from 'vitest';
import {
  backlogAgeLimitMs,
  planCheckerConcurrency,
  type RunCapacityInput,
  watchdogGraceMs,
  worstCaseRunMs,
} from '../../lambdas/core/run-capacity';

const MIN = 60_000;
const HOUR = 60 * MIN;

function input(addresses: number, intervalMs = 6 * HOUR, probeTimeoutMs = 10_000): RunCapacityInput {
  return { addresses, intervalMs, probeTimeoutMs, checksPerInvocation: 10 };
}

describe('planCheckerConcurrency', () => {
  it.each([
    // addresses, interval, probe ms, explicit → concurrency, required, worst-case run ms
    [1, 6 * HOUR, 10_000, undefined, 10, 1, 11_000],
    [2_000, 6 * HOUR, 10_000, undefined, 10, 1, 20 * 11_000],
    // 100,000 endpoints, two addresses each: 981 rounds of 11 s fit in 3 h.
    [200_000, 6 * HOUR, 10_000, undefined, 21, 21, Math.ceil(200_000 / 210) * 11_000],
    // 1,000,000 address states on the default schedule.
    [1_000_000, 6 * HOUR, 10_000, undefined, 102, 102, Math.ceil(1_000_000 / 1_020) * 11_000],
    // An hourly schedule: 30 min hold 163 rounds of 11 s.
    [200_000, HOUR, 10_000, undefined, 123, 123, Math.ceil(200_000 / 1_230) * 11_000],
    // An explicit concurrency at or above the requirement is kept as given.
    [200_000, 6 * HOUR, 10_000, 21, 21, 21, Math.ceil(200_000 / 210) * 11_000],
    [2_000, 6 * HOUR, 10_000, 4, 4, 1, 50 * 11_000],
  ])(
    '%i addresses every %i ms, probe %i ms, explicit %s → %i (needs %i, worst %i ms)',
    (addresses, intervalMs, probeMs, explicit, concurrency, required, worstMs) => {
      // Prepare
      const capacity = input(addresses, intervalMs, probeMs);
      // Act
      const plan = planCheckerConcurrency(capacity, explicit);
      // Assess
      expect(plan).toEqual({
        ok: true,
        concurrency,
        required,
        worstCaseRunMs: worstMs,
        runBudgetMs: intervalMs / 2,
      });
      if (plan.ok) expect(plan.worstCaseRunMs).toBeLessThanOrEqual(plan.runBudgetMs);
    },
  );

  it.each([
    [
      input(200_000),
      20,
      'checker.concurrency: 20 cannot finish 200000 address checks, 11 s each at worst, within 3 h (half the 6 h schedule interval); use at least 21 or leave it out to derive it',
    ],
    [
      input(20_000_000),
      undefined,
      'checker.concurrency: 2039 checkers would be needed for 20000000 address checks, 11 s each at worst, within 3 h (half the 6 h schedule interval), above the limit of 1000; schedule less often or shorten timeouts',
    ],
    [
      input(10, MIN, 40_000),
      undefined,
      'schedule: runs are too close together for 10 address checks, 41 s each at worst, within 30 s (half the 1 min schedule interval); schedule less often',
    ],
  ])('refuses %o with explicit %s in one line', (capacity, explicit, reason) => {
    // Act
    const plan = planCheckerConcurrency(capacity, explicit);
    // Assess
    expect(plan).toEqual({ ok: false, reason });
    expect(reason).not.toContain('\n');
  });
});

describe('worstCaseRunMs', () => {
  it.each([
    [0, 10, 0],
    [1, 10, 11_000],
    [100, 10, 11_000],
    [101, 10, 22_000],
    [101, 11, 11_000],
  ])('%i addresses at concurrency %i → %i ms', (addresses, concurrency, expected) => {
    expect(worstCaseRunMs(input(addresses), concurrency)).toBe(expected);
  });
});

describe('watchdogGraceMs', () => {
  it.each([
    // dispatch, worst-case run, receives, visibility → grace
    [900_000, 11_000, 3, 360_000, 900_000 + 11_000 + 1_080_000 + 900_000],
    [900_000, 3 * HOUR, 3, 360_000, 900_000 + 3 * HOUR + 1_080_000 + 900_000],
  ])('dispatch %i + run %i + %i × %i + 15 min → %i', (dispatchMs, runMs, receives, vtMs, expected) => {
    expect(
      watchdogGraceMs({
        dispatchMs,
        worstCaseRunMs: runMs,
        maxReceiveCount: receives,
        visibilityTimeoutMs: vtMs,
      }),
    ).toBe(expected);
  });
});

describe('backlogAgeLimitMs', () => {
  it.each([
    // interval, receives, visibility → limit
    [6 * HOUR, 3, 360_000, 3 * HOUR + 1_080_000],
    [24 * HOUR, 3, 360_000, 12 * HOUR + 1_080_000],
    // Short intervals: never more than one interval.
    [HOUR, 3, 360_000, 30 * MIN + 1_080_000],
    [15 * MIN, 3, 360_000, 15 * MIN],
  ])('every %i ms, %i × %i ms retries → %i ms', (intervalMs, receives, vtMs, expected) => {
    expect(backlogAgeLimitMs(intervalMs, receives, vtMs)).toBe(expected);
  });
});
