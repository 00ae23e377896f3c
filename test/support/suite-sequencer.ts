/**
 * The order in which vitest hands test files to its workers: the heavy files
 * (child processes, JVMs, `cdk synth` with bundling) are spread between the
 * light ones, so that two heavy files rarely run at once.
 *
 * With two workers and vitest's own order (slowest first), the fault suites,
 * the offline synth and the bundle smoke test all start together and fight for
 * the same two cores; on a busy machine that stretches a 10 s test past its
 * timeout. Here the files fill two lanes, one heavy and one light, each by its
 * expected duration (from vitest's cache of the last run, or a rough guess on a
 * fresh clone), and the queue takes whichever lane is behind.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files whose tests start processes (the CLI, DynamoDB Local, a headless browser) or synthesize with
 * bundling: they load the machine, not just wait on it.
 */
const HEAVY = [
  /^test\/infra\//,
  /^test\/faults\//,
  /^test\/store\/dynamodb-local-/,
  /^test\/report\/.*browser/,
];

/** Guesses, in ms, for a file the cache has not seen (a fresh clone, a new file). */
const GUESS_MS = { heavy: 10_000, light: 1_000 } as const;

export class HeavyFilesApartSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const pathOf = (spec: TestSpecification) => relative(root, spec.moduleId).split('\\').join('/');
    const isHeavy = (spec: TestSpecification) => HEAVY.some((pattern) => pattern.test(pathOf(spec)));
    const expectedMs = (spec: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${spec.project.name}:${relative(root, spec.moduleId)}`)?.duration ??
      GUESS_MS[isHeavy(spec) ? 'heavy' : 'light'];

    return twoLanes(sorted, isHeavy, expectedMs);
  }
}

/**
 * Spreads the heavy items between the light ones: each is taken from whichever lane (heavy or light)
 * has less expected time queued so far, keeping the order within each lane.
 */
export function twoLanes<T>(
  items: readonly T[],
  isHeavy: (item: T) => boolean,
  expectedMs: (item: T) => number,
): T[] {
  const heavy = items.filter(isHeavy);
  const light = items.filter((item) => !isHeavy(item));
  const queue: T[] = [];
  let heavyMs = 0;
  let lightMs = 0;
  while (heavy.length > 0 || light.length > 0) {
    const takeHeavy = heavy.length > 0 && (heavyMs <= lightMs || light.length === 0);
    const next = (takeHeavy ? heavy : light).shift() as T;
    if (takeHeavy) heavyMs += expectedMs(next);
    else lightMs += expectedMs(next);
    queue.push(next);
  }
  return queue;
}
