import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../lambdas/core/concurrency';

describe('mapWithConcurrency', () => {
  it('keeps input order, never exceeds the limit, and isolates failures', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const items = Array.from({ length: 50 }, (_, i) => i);
    // Act
    const out = await mapWithConcurrency<number, number | string>(
      items,
      7,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, (i * 7) % 5));
        inFlight--;
        if (i === 13) throw new Error('boom');
        return i * 2;
      },
      (error) => `failed: ${(error as Error).message}`,
    );
    // Assess
    expect(peak).toBe(7);
    expect(out[13]).toBe('failed: boom');
    expect(out.filter((v) => typeof v === 'number')).toEqual(items.filter((i) => i !== 13).map((i) => i * 2));
  });

  it('handles an empty list and a limit larger than the list', async () => {
    expect(
      await mapWithConcurrency(
        [],
        10,
        async () => 1,
        () => 0,
      ),
    ).toEqual([]);
    expect(
      await mapWithConcurrency(
        [1, 2],
        100,
        async (x) => x + 1,
        () => 0,
      ),
    ).toEqual([2, 3]);
  });
});
