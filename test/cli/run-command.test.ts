import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lambdas/cli/main';
import { daysFromNow, makePki } from '../support/cert-factory';
import { startTlsServer } from '../support/tls-test-servers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _e, cb) {
        append(String(chunk));
        cb();
      },
    });
  const code = await main(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env,
  });
  return { code, stdout, stderr };
}

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
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`shop \\(127\\.0\\.0\\.1:${tls.port}\\)\\s+127\\.0\\.0\\.1\\s+critical\\s+20\\s`),
    );
  });

  it.each([
    [['run', '--config', '/nonexistent/certwatch.yaml'], /\/nonexistent\/certwatch\.yaml/],
    [['run', '--dynamodb-endpoint', 'localhost:8000'], /--dynamodb-endpoint: expected a URL/],
    [['run', '--table', 'x'], /--table: 'x' is not a valid DynamoDB table name/],
    [['notify'], /only --test is supported/],
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
});
