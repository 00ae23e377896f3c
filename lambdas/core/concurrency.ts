/**
 * Runs `worker` over `items` with at most `limit` in flight, preserving input
 * order in the returned array. A worker that rejects does not stop the others:
 * its slot records the rejection through `onError`, which must return a value.
 *
 * Why not Promise.all over everything: a few thousand simultaneous sockets or
 * DNS lookups exhaust descriptors and make every check slower; a bounded pool
 * keeps each check's deadline meaningful.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number) => Promise<R>,
  onError: (error: unknown, item: T, index: number) => R,
  onSettled?: (result: R, index: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      let result: R;
      try {
        result = await worker(item, index);
      } catch (error) {
        result = onError(error, item, index);
      }
      results[index] = result;
      onSettled?.(result, index);
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
