/**
 * The canary through the CLI: `certwatch selftest` exit codes and lines, and `certwatch run`
 * failing (exit 2) and paging every channel when the detector is broken.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryDeps } from '../../lambdas/canary/run-canary';
import type { CliIo } from '../../lambdas/cli/cli-io';
import { runRunCommand } from '../../lambdas/cli/run-command';
import { runSelftestCommand } from '../../lambdas/cli/selftest-command';
import { daysFromNow, makePki } from '../support/cert-factory';
import { runCli } from '../support/run-cli';
import { startTlsServer } from '../support/tls-test-servers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { ignoresNotAfter } from './broken-detector';

const BROKEN = 'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)';

/** Runs a command function in-process with captured output, like `runCli` but with stand-ins. */
async function capture(
  run: (argv: string[], io: CliIo) => Promise<number>,
  argv: string[],
  env: Record<string, string> = {},
) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await run(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env,
  });
  return { code, stdout, stderr };
}

describe('certwatch selftest', () => {
  it('prints one ok line per fixture and exits 0 with the real detector', async () => {
    // Act
    const r = await runCli(['selftest']);
    // Assess
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 6).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['ok', 'expired'],
      ['ok', 'hostname-mismatch'],
      ['ok', 'self-signed'],
      ['ok', 'malformed'],
      ['ok', 'no-answer'],
      ['ok', 'good'],
    ]);
    expect(lines[6]).toMatch(/^canary: 6 of 6 fixtures judged right in \d+ ms$/);
  });

  it('exits 2 and names the wrong verdict when the detector is broken', async () => {
    // Prepare
    const deps: CanaryDeps = { check: ignoresNotAfter };
    // Act
    const r = await capture((argv, io) => runSelftestCommand(argv, io, deps), []);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`FAIL  expired            ${BROKEN}\n`);
    expect(r.stdout).toMatch(/canary: 5 of 6 fixtures judged right in \d+ ms\n$/);
  });

  it.each([
    [['selftest', '--bogus'], 3, /^certwatch: .*--bogus/],
    [['selftest', 'extra'], 3, /^certwatch: /],
  ])('%j exits %i with one line', async (argv, code, line) => {
    // Act
    const r = await runCli(argv);
    // Assess
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(line);
  });

  it('prints its usage with --help', async () => {
    // Act
    const r = await runCli(['selftest', '--help']);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: certwatch selftest\n/);
  });
});

describe('certwatch run with the canary', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let tls: { port: number; close(): Promise<void> };
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-canary-'));
    receiver = await startWebhookReceiver();
    const pki = makePki({ notAfter: daysFromNow(200) });
    tls = await startTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    writeFileSync(join(dir, 'root.pem'), pki.root.certPem);
    config = join(dir, 'certwatch.config.yaml');
    writeFileSync(
      config,
      [
        'defaults:',
        '  trust: { caFiles: [root.pem] }',
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

  it("says the canary passed, and exits with the endpoints' status, when the detector works", async () => {
    // Prepare
    const env = { HOOK_URL: receiver.url('/hook'), HOOK_SECRET: 'k', NO_COLOR: '1' };
    // Act
    const r = await runCli(['run', '--config', config, '--state-dir', join(dir, 'state-ok')], { env });
    // Assess
    expect(r.stderr).toMatch(/^canary: 6 of 6 fixtures judged right \(\d+ ms\)$/m);
    expect(r.stderr).not.toContain('the detector is broken');
    expect(r.code).toBe(0);
  });

  it('fails the run (exit 2) and pages every channel when the detector is broken', async () => {
    // Prepare
    const env = { HOOK_URL: receiver.url('/hook'), HOOK_SECRET: 'k', NO_COLOR: '1' };
    const before = receiver.requests.length;
    // Act
    const r = await capture(
      (argv, io) => runRunCommand(argv, io, { canary: { check: ignoresNotAfter } }),
      ['--config', config, '--state-dir', join(dir, 'state-broken')],
      env,
    );
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`certwatch: ${BROKEN}\n`);
    expect(r.stderr).toContain(`ALERT CRITICAL certwatch: ${BROKEN} -> hook ok`);
    const pages = receiver.requests.slice(before).filter((q) => q.body.includes(BROKEN));
    expect(pages).toHaveLength(1);
    expect(r.stderr).toMatch(/^run FAILED \(the detector is broken\): 1 of 1 checks; /m);
  });

  it('leaves the run failed in the store: status names the reason (table, JSON) and exits 2, until a run with a working detector', async () => {
    // Prepare: a run with a broken detector, on a store of its own
    const env = { HOOK_URL: receiver.url('/hook'), HOOK_SECRET: 'k', NO_COLOR: '1' };
    const state = join(dir, 'state-status');
    const broken = await capture(
      (argv, io) => runRunCommand(argv, io, { canary: { check: ignoresNotAfter } }),
      ['--config', config, '--state-dir', state],
      env,
    );
    const runId = /^certwatch run (\S+):/m.exec(broken.stderr)?.[1];
    // Act
    const table = await runCli(['status', '--state-dir', state], { env });
    const json = await runCli(['status', '--state-dir', state, '--json'], { env });
    const fixed = await runCli(['run', '--config', config, '--state-dir', state], { env });
    const after = await runCli(['status', '--state-dir', state, '--json'], { env });
    // Assess
    expect(broken.code).toBe(2);
    expect(table.code).toBe(2);
    expect(table.stdout).toMatch(
      new RegExp(
        `\\nlatest run ${runId} FAILED: ${BROKEN.replace(/[()]/g, '\\$&')} \\(canary at \\S+Z\\)\\n$`,
      ),
    );
    expect(json.code).toBe(2);
    const line = JSON.parse(json.stdout.trim().split('\n')[0] ?? '{}');
    expect(line.status).toBe('ok');
    expect(line.latestRunFailed).toMatchObject({
      runId,
      reason: BROKEN,
      detectorBroken: {
        fixture: 'expired',
        judged: 'ok (no findings)',
        expected: 'expired (EXPIRED)',
        reason: BROKEN,
      },
    });
    expect(fixed.code).toBe(0);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout.trim().split('\n')[0] ?? '{}').latestRunFailed).toBeUndefined();
  });
});
