/**
 * Vitest globalSetup: when the DynamoDB Local jar is missing (a fresh clone,
 * with or without CI=true), fetch it once before the suite with
 * scripts/install-dynamodb-local.sh, so `npm test` runs the DynamoDB Local
 * suites instead of skipping or failing them.
 *
 * - Jar present: nothing to do.
 * - Outside CI, without java: nothing is fetched (those suites skip, loudly).
 * - Install fails outside CI: a warning, and those suites skip with the reason.
 * - Install fails in CI (no network, checksum mismatch, no java): the run fails
 *   here, with the reason, before any test runs. CI never skips them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dynamoDbLocalAvailability, dynamoDbLocalDir } from './dynamodb-local';

const INSTALL_TIMEOUT_MS = 300_000;

export default function setup(): void {
  if (existsSync(join(dynamoDbLocalDir(), 'DynamoDBLocal.jar'))) return;
  const inCi = Boolean(process.env.CI);
  if (!inCi && !javaRunnable()) return;
  const root = join(__dirname, '..', '..');
  console.warn('DynamoDB Local missing: running scripts/install-dynamodb-local.sh');
  const install = spawnSync('bash', [join(root, 'scripts', 'install-dynamodb-local.sh')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: INSTALL_TIMEOUT_MS,
  });
  // Available is all that matters: another process may have installed it meanwhile.
  const availability = dynamoDbLocalAvailability();
  if (availability.available) return;
  const reason =
    install.status === 0
      ? availability.reason
      : `scripts/install-dynamodb-local.sh ${install.error ? `failed: ${install.error.message}` : `exited ${install.status ?? install.signal}`}`;
  if (inCi) throw new Error(`DynamoDB Local is required in CI and could not be installed: ${reason}`);
  console.warn(`DynamoDB Local install failed (${reason}); its suites will be skipped.`);
}

function javaRunnable(): boolean {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 });
  return !java.error && java.status === 0;
}
