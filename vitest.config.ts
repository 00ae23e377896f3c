import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { HeavyFilesApartSequencer } from './test/support/suite-sequencer';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fetches DynamoDB Local on first use, with or without CI; in CI a jar that cannot be fetched fails the run.
    globalSetup: ['test/support/global-setup-dynamodb.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core machine, so every
    // test that waits (on a child process, a JVM, a deadline) left a core idle. At least two workers overlap
    // the waiting with the work; the sequencer keeps the heavy files apart.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: HeavyFilesApartSequencer },
  },
});
