import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { daysFromNow, makePki } from '../support/cert-factory';
import { startTlsServer } from '../support/tls-test-servers';
import { runCli } from '../support/run-cli';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const cli = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { env });

describe('certwatch run / status', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let tls: { port: number; close(): Promise<void> };
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-run-'));
    receiver = await startWebhookReceiver();
    const pki = makePki({ notAfter: daysFromNow(20.5) });
    tls = await startTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    config = join(dir, 'certwatch.config.yaml');
    writeFileSync(
      config,
      [
        'channels:',
        '  - { name: hook, type: webhook, url: env:HOOK_URL, secret: env:HOOK_SECRET }',
        'endpoints:',
        `  - { host: "127.0.0.1:${tls.port}", name: shop }`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await tls.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks, stores, alerts through the channel, and is quiet on a second run', async () => {
    // Prepare
    const env = { HOOK_URL: receiver.url('/hook'), HOOK_SECRET: 'k', NO_COLOR: '1' };
    const args = ['run', '--config', config, '--state-dir', join(dir, 'state')];
    // Act
    const first = await cli(args, env);
    const second = await cli(args, env);
    const status = await cli(['status', '--state-dir', join(dir, 'state')], env);
    // Assess: the test CA is not in Node's roots, so the chain is untrusted (critical) and it expires in 20 days
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${tls.port}\\s+127\\.0\\.0\\.1\\s+critical\\s+20\\s`),
    );
    expect(first.stderr).toMatch(/ALERT CRITICAL shop \[127\.0\.0\.1\]: .* -> hook ok/);
    expect(first.stderr).toMatch(/run complete: 1 of 1 checks; \d+ new alerts?, 0 failed deliveries/);
    const firstCount = receiver.requests.length;
    expect(firstCount).toBeGreaterThanOrEqual(1);
    expect(second.stderr).toMatch(/run complete: 1 of 1 checks; 0 new alerts, 0 failed deliveries/);
    expect(receiver.requests.length).toBe(firstCount);
    // status exits with the Nagios code of the worst stored result: the critical row makes it 2
    expect(status.code).toBe(2);
    expect(status.stdout).toMatch(
      new RegExp(`shop \\(127\\.0\\.0\\.1:${tls.port}\\)\\s+127\\.0\\.0\\.1\\s+critical\\s+20\\s`),
    );
  });

  it.each([
    [['run', '--config', '/nonexistent/certwatch.yaml'], /\/nonexistent\/certwatch\.yaml/],
    [['run', '--dynamodb-endpoint', 'localhost:8000'], /--dynamodb-endpoint: expected a URL/],
    [['run', '--table', 'x'], /--table: 'x' is not a valid DynamoDB table name/],
    [['notify'], /only --test is supported/],
    [['run', '--lease', '500ms'], /--lease: must be at least 1s, got '500ms'/],
  ])('exits 3 with one clear line for %j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the missing environment variable of a channel', async () => {
    const r = await cli(['run', '--config', config, '--state-dir', join(dir, 'state2')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /certwatch\.config\.yaml:2:\d+: channels\[0\]\.url: environment variable HOOK_URL is not set/,
    );
  });

  it.each([
    ['run', ['run', '--config', 'CONFIG'], /ensureTable\(certwatch\): .*ECONNREFUSED 127\.0\.0\.1:\d+$/],
    ['status', ['status'], /ensureTable\(certwatch\): .*ECONNREFUSED/],
    ['notify --test', ['notify', '--test', '--config', 'CONFIG'], /ensureTable\(certwatch\): .*ECONNREFUSED/],
  ])(
    '%s against a store that does not answer exits 2 with one line naming the store',
    async (_name, argv, cause) => {
      // Prepare: a loopback port nothing listens on
      const port = await closedPort();
      const endpoint = `http://127.0.0.1:${port}`;
      const env = { HOOK_URL: receiver.url('/hook'), HOOK_SECRET: 'k' };
      const args = argv.map((a) => (a === 'CONFIG' ? config : a));
      // Act
      const r = await cli([...args, '--dynamodb-endpoint', endpoint], env);
      // Assess
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^certwatch: state store table certwatch at ${endpoint} failed: `));
      expect(lines[0]).toMatch(cause);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    },
  );

  it('refuses to run, and status waits, while a run has the embedded state directory, naming that run', async () => {
    // Prepare: a run in progress holds the directory (LevelDB allows one process) and left its lease note
    const stateDir = join(dir, 'busy');
    const holding = await openEmbeddedStateStore({ stateDir });
    const note = { runId: '20261122T000000000Z-abcd1234', host: hostname(), pid: process.pid };
    writeFileSync(
      join(stateDir, 'run-lease.json'),
      JSON.stringify({ ...note, acquiredAt: 'T1', until: 'T2' }),
    );
    const env = { HOOK_URL: receiver.url('/hook'), HOOK_SECRET: 'k' };
    const before = receiver.requests.length;
    try {
      // Act
      const run = await cli(['run', '--config', config, '--state-dir', stateDir], env);
      const status = await cli(['status', '--state-dir', stateDir], env);
      // Assess
      const holder = `run ${note.runId} on host ${note.host}, pid ${note.pid}, since T1`;
      expect(run).toMatchObject({
        code: 3,
        stderr: `certwatch: another run holds embedded DynamoDB in ${stateDir}: ${holder}; not running\n`,
      });
      expect(status).toMatchObject({
        code: 3,
        stderr: `certwatch: another run holds embedded DynamoDB in ${stateDir}: ${holder}; try again when it has finished\n`,
      });
      expect(receiver.requests).toHaveLength(before);
    } finally {
      await holding.close();
    }
  });
});

describe('certwatch run with a private CA (trust: in the config)', () => {
  let dir: string;
  let tls: { port: number; close(): Promise<void> };
  const pki = makePki({ notAfter: daysFromNow(60.5) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-run-trust-'));
    // The server sends leaf + intermediate, as it should; the root is the private CA's.
    tls = await startTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    mkdirSync(join(dir, 'ca'));
    writeFileSync(join(dir, 'ca', 'corp-root.pem'), pki.root.certPem);
  });

  afterAll(async () => {
    await tls.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a config with one endpoint (and `trust` lines, when given) and runs it on its own state. */
  async function runWith(name: string, trust: string[]) {
    const config = join(dir, `${name}.yaml`);
    writeFileSync(
      config,
      [...trust, 'endpoints:', `  - { host: "127.0.0.1:${tls.port}", name: intranet }`, ''].join('\n'),
    );
    return cli(['run', '--config', config, '--state-dir', join(dir, `state-${name}`)], { NO_COLOR: '1' });
  }

  it('judges the chain ok when the root is in caFiles (relative to the config file)', async () => {
    // Act
    const r = await runWith('trusted', ['defaults:', '  trust: { caFiles: [ca/corp-root.pem] }']);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${tls.port}\\s+127\\.0\\.0\\.1\\s+ok\\s+60\\s`));
    expect(r.stderr).toMatch(/run complete: 1 of 1 checks; 0 new alerts, 0 failed deliveries/);
  });

  it('without trust, says UNTRUSTED_CHAIN and names the root, not INCOMPLETE_CHAIN', async () => {
    // Act
    const r = await runWith('untrusted', []);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/critical\s+60\s.*UNTRUSTED_CHAIN$/m);
    expect(r.stdout).toMatch(/UNTRUSTED_CHAIN: .*"CN=certwatch Test Root".*trust\.caFiles in the config/);
    expect(r.stdout).not.toContain('INCOMPLETE_CHAIN');
    expect(r.stderr).toMatch(/run complete: 1 of 1 checks; 1 new alert, 0 failed deliveries/);
  });

  it('refuses a bad CA file with one line naming it, before checking anything', async () => {
    // Prepare
    writeFileSync(join(dir, 'ca', 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n');
    // Act
    const r = await runWith('broken', ['defaults:', '  trust: { caFiles: [ca/broken.pem] }']);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /broken\.yaml:2:22: defaults\.trust\.caFiles\[0\]: ca\/broken\.pem: certificate 1 \(line 1\) has no matching "END CERTIFICATE" line$/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** A loopback port that nothing listens on (bound once, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
