/**
 * `npm run check:install`: installs certwatch as a user would, from the package tarball, and
 * runs it from outside the checkout. Not a test: `npm install -g` fetches the runtime
 * dependencies from the registry (seconds to minutes), which the suite must not depend on.
 *
 * 1. `npm pack` (runs `prepare`: the bundle is built into the tarball);
 * 2. `npm install -g --prefix TMP ./certwatch-VERSION.tgz`;
 * 3. from a temporary directory: `certwatch --version`, `certwatch check` of a loopback TLS
 *    server (nagios line), `certwatch run` with a config and `certwatch status` (the embedded
 *    store: dynalite and level's native bindings, installed as dependencies).
 *
 * Prints one line per step and exits 1 at the first that fails. Talks only to 127.0.0.1
 * (and npm's registry, through npm); removes what it made.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkg from '../package.json';
import { makePki } from '../test/support/cert-factory';
import { startTlsServer } from '../test/support/tls-test-servers';

const ROOT = join(__dirname, '..');
const run = promisify(execFile);

async function certwatch(bin: string, cwd: string, ...args: string[]) {
  try {
    const r = await run(bin, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

function step(name: string, ok: boolean, detail: string): void {
  process.stdout.write(`${ok ? 'ok    ' : 'FAILED'}  ${name}${ok ? '' : `: ${detail.trim()}`}\n`);
  if (!ok) throw new Error(`${name} failed`);
}

async function checkInstall(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'certwatch-install-'));
  const prefix = join(tmp, 'prefix');
  const work = join(tmp, 'work');
  const pki = makePki();
  const server = await startTlsServer({
    chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
    keyPem: pki.leaf.key.privateKeyPem,
  });
  try {
    const packed = execFileSync('npm', ['pack', '--pack-destination', tmp, '--silent'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const tarball = join(tmp, packed.trim().split('\n').pop() ?? '');
    step(`npm pack -> ${tarball}`, true, '');
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', prefix, tarball, '--no-audit', '--no-fund', '--silent'],
      {
        cwd: tmp,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const bin = join(prefix, 'bin', 'certwatch');
    step(`npm install -g --prefix ${prefix}`, true, '');
    mkdirSync(work);
    writeFileSync(join(work, 'root.pem'), pki.root.certPem);

    const version = await certwatch(bin, work, '--version');
    step(
      'certwatch --version',
      version.code === 0 && version.out === `certwatch ${pkg.version}\n`,
      version.out,
    );

    const target = `127.0.0.1:${server.port}`;
    const check = await certwatch(bin, work, 'check', '--format', 'nagios', '--ca-file', 'root.pem', target);
    step(
      'certwatch check (loopback TLS)',
      check.code === 0 && /^CERTWATCH OK - .*\| days=\d+;30;7\n$/.test(check.out),
      check.out,
    );

    writeFileSync(
      join(work, 'certwatch.config.yaml'),
      `defaults: { trust: { caFiles: [root.pem] } }\nendpoints:\n  - { host: "${target}", name: shop }\n`,
    );
    const cycle = await certwatch(bin, work, 'run');
    step(
      'certwatch run (embedded store)',
      cycle.code === 0 && /run complete: 1 of 1 checks/.test(cycle.out),
      cycle.out,
    );

    const status = await certwatch(bin, work, 'status', '--config', 'certwatch.config.yaml');
    step(
      'certwatch status',
      status.code === 0 && /shop \(127\.0\.0\.1:\d+\)\s+127\.0\.0\.1\s+ok/.test(status.out),
      status.out,
    );
  } finally {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

checkInstall().then(
  () => process.stdout.write('certwatch installs from its tarball and runs from any directory\n'),
  (error: unknown) => {
    process.stderr.write(`check:install: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
