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

describe('mapWithConcurrency lanes', () => {
  it.each([
    [0, 1],
    [1, 1],
    [2.7, 2],
    [Number.NaN, 1],
    [-3, 1],
    [100, 5],
  ])('a limit of %d runs at most %d at once', async (limit, expectedPeak) => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const settled: [number, number][] = [];

    // Act
    const out = await mapWithConcurrency(
      [0, 1, 2, 3, 4],
      limit,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return i * 10;
      },
      () => -1,
      (result, index) => settled.push([index, result]),
    );

    // Assess
    expect(peak).toBe(expectedPeak);
    expect(out).toEqual([0, 10, 20, 30, 40]);
    expect([...settled].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 0],
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
  });
});
