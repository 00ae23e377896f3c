/**
 * Vitest globalSetup: rebuilds the CLI bundle (dist/cli) from the sources
 * before the suite. Tests that spawn bin/certwatch.js (the fault tests, the
 * built-bin test) then run the code under test, not a bundle left over from
 * the last `npm ci` or `npm run build`. The build takes about a second.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BUILD_TIMEOUT_MS = 120_000;

export default function setup(): void {
  const root = join(__dirname, '..', '..');
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: BUILD_TIMEOUT_MS,
  });
  if (build.status !== 0) {
    throw new Error(
      `the CLI bundle did not build (scripts/build-cli.mjs: ${build.error?.message ?? `exit ${build.status ?? build.signal}`})`,
    );
  }
}
