import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import { HeavyFilesApartSequencer } from './test/support/suite-sequencer';

/**
 * Test files that may share one module graph per worker (`isolate: false`): they change no global
 * state that outlives them (no mocks, no fake timers, no env left behind). Loading aws-cdk-lib cold
 * costs each infra file about 3 s of CPU, and a warm synth about 0.2 s, so the infra files share it;
 * the pure core, certificate and config tests spend more on loading modules than on testing.
 */
const SHARED_MODULES = ['test/{core,cert,config,infra}/**/*.test.ts'];

/**
 * Fault scenarios: each test starts DynamoDB Local JVMs and several `certwatch run` processes, kills
 * and restarts them. That is seconds of CPU per test; on a busy 2-core machine one took 20 s of its
 * 30 s, so these get more time. Their assertions are on outcomes, never on durations.
 */
const PROCESS_FAULTS = ['test/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    // Fetches DynamoDB Local on first use, with or without CI; in CI a jar that cannot be fetched fails the run.
    globalSetup: ['test/support/global-setup-dynamodb.ts', 'test/support/global-setup-cli.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core machine, so every
    // test that waits (on a child process, a JVM, a deadline) left a core idle. At least two workers overlap
    // the waiting with the work; the sequencer keeps the heavy files apart.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: HeavyFilesApartSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SHARED_MODULES, ...PROCESS_FAULTS],
        },
      },
      { extends: true, test: { name: 'shared', include: SHARED_MODULES, isolate: false } },
      {
        extends: true,
        test: { name: 'faults', include: PROCESS_FAULTS, testTimeout: 90_000, hookTimeout: 120_000 },
      },
    ],
  },
});
