import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { monotonicMs } from '../../lambdas/probe/monotonic-clock';

describe('monotonicMs', () => {
  it.each([{ waitMs: 0 }, { waitMs: 5 }, { waitMs: 25 }])(
    'measures in milliseconds what performance.now() measures, around a wait of $waitMs ms',
    async ({ waitMs }) => {
      // Prepare
      const before = monotonicMs();
      const perfBefore = performance.now();

      // Act
      await sleep(waitMs);
      const perfAfter = performance.now();
      const after = monotonicMs();

      // Assess: its interval encloses performance.now()'s, so it is at least as long (and in ms, not ns or s)
      expect(after - before).toBeGreaterThanOrEqual(perfAfter - perfBefore);
      expect(after - before).toBeLessThan(perfAfter - perfBefore + 1000);
      expect(perfAfter - perfBefore).toBeGreaterThanOrEqual(waitMs - 1);
    },
  );

  it('never goes back', () => {
    // Prepare
    const readings: number[] = [];

    // Act
    for (let i = 0; i < 1000; i++) readings.push(monotonicMs());

    // Assess
    for (let i = 1; i < readings.length; i++)
      expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1] as number);
  });
});
