import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Outside CI, fetches DynamoDB Local on first use; in CI, .ci/run installs it and a missing jar fails the suite.
    globalSetup: ['test/support/global-setup-dynamodb.ts', 'test/support/global-setup-cli.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
