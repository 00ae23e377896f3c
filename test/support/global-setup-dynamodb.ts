/**
 * Vitest globalSetup: on a developer machine with java but without the
 * DynamoDB Local jar (a fresh clone), install it once before the suite, so
 * `npm test` runs the DynamoDB Local contract suite instead of skipping it.
 *
 * Best effort: a failed install only warns (the suite then skips with the
 * reason). In CI nothing is installed here: .ci/run installs it, and a
 * missing jar must fail the suite rather than be papered over.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dynamoDbLocalAvailability, dynamoDbLocalDir } from './dynamodb-local';

const INSTALL_TIMEOUT_MS = 300_000;

export default function setup(): void {
  if (process.env.CI) return;
  if (existsSync(join(dynamoDbLocalDir(), 'DynamoDBLocal.jar'))) return;
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 });
  if (java.error || java.status !== 0) return;
  const root = join(__dirname, '..', '..');
  console.warn('DynamoDB Local missing: running scripts/install-dynamodb-local.sh');
  const install = spawnSync('bash', [join(root, 'scripts', 'install-dynamodb-local.sh')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: INSTALL_TIMEOUT_MS,
  });
  const availability = dynamoDbLocalAvailability();
  if (install.status !== 0 || !availability.available) {
    const reason = availability.available ? `exit ${install.status ?? install.signal}` : availability.reason;
    console.warn(`DynamoDB Local install failed (${reason}); its suite will be skipped.`);
  }
}
