/**
 * The built CLI, as a user runs it: bin/certwatch.js over the esbuild bundle, each in a child
 * process. Every other CLI test runs the sources in-process; this one fails when the bundle
 * is broken (a module left out, an external that does not resolve, a lazy import that fails).
 * The bundle is built fresh from the sources into a private directory inside the checkout
 * (so `node_modules` resolves for the externals), with the real bin script beside it.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { makePki } from '../support/cert-factory';
import { startTlsServer, type TlsTestServer } from '../support/tls-test-servers';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('built certwatch (bin/certwatch.js over dist/cli)', () => {
  let build: string;
  let work: string;
  let server: TlsTestServer;
  let caFile: string;
  /** XDG_CACHE_HOME of every run: where certwatch keeps a code cache of its own (never the real home). */
  let cacheHome: string;

  /** `node <build>/bin/certwatch.js ...args` from a directory outside the checkout. */
  function certwatch(...args: string[]): Promise<Exit> {
    return certwatchWith({}, ...args);
  }

  /** {@link certwatch} with these environment variables too. */
  async function certwatchWith(env: Record<string, string>, ...args: string[]): Promise<Exit> {
    try {
      const r = await run(process.execPath, [join(build, 'bin', 'certwatch.js'), ...args], {
        cwd: work,
        env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cacheHome, ...env },
        timeout: 60_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (error) {
      const e = error as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw error;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  beforeAll(async () => {
    build = join(ROOT, '.cache', `built-cli-test-${process.pid}`);
    await run(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs'), join(build, 'dist', 'cli')], {
      cwd: ROOT,
      timeout: 120_000,
    });
    mkdirSync(join(build, 'bin'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'certwatch.js'), join(build, 'bin', 'certwatch.js'));
    work = mkdtempSync(join(tmpdir(), 'certwatch-built-'));
    cacheHome = join(work, 'cache-home');
    const pki = makePki();
    server = await startTlsServer({
      chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
      keyPem: pki.leaf.key.privateKeyPem,
    });
    caFile = join(work, 'root.pem');
    writeFileSync(caFile, pki.root.certPem);
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    rmSync(build, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it.each([['--version'], ['-V'], ['version']])('%s prints the version', async (flag) => {
    // Act
    const r = await certwatch(flag);
    // Assess
    expect(r).toEqual({ code: 0, stdout: `certwatch ${pkg.version}\n`, stderr: '' });
  });

  it('checks a loopback TLS server and prints the Nagios line', async () => {
    // Act
    const r = await certwatch('check', '--format', 'nagios', '--ca-file', caFile, `127.0.0.1:${server.port}`);
    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^CERTWATCH OK - 127\\.0\\.0\\.1:${server.port} \\[127\\.0\\.0\\.1\\]: expires .* \\| days=\\d+;30;7\\n$`,
      ),
    );
  });

  it('checks with the code cache it ships, keeping none of its own', async () => {
    // Prepare
    cacheHome = join(work, 'cache-home-shipped');
    // Act
    const r = await certwatch('check', '--format', 'nagios', '--ca-file', caFile, `127.0.0.1:${server.port}`);
    // Assess: had V8 refused the shipped cache, certwatch would have written one of its own
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(cacheHome, 'certwatch'))).toBe(false);
  });

  it('checks with --config (its parser is a bundle of its own)', async () => {
    // Prepare
    const config = join(work, 'certwatch.config.yaml');
    writeFileSync(config, `endpoints:\n  - host: 127.0.0.1\n    port: ${server.port}\n`);
    // Act
    const r = await certwatch('check', '--format', 'nagios', '--config', config, '--ca-file', caFile);
    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^CERTWATCH OK - 127\\.0\\.0\\.1:${server.port} `));
  });

  it('prints every line of a check whose output waits in the pipe for a slow reader', async () => {
    // Prepare: a port nothing listens on, on 300 loopback addresses: one JSON line each, over
    // 100 KB, more than the pipe holds, so most of it is still waiting when the check is done
    const refusing = createServer();
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as AddressInfo).port;
    await new Promise((resolve) => refusing.close(resolve));
    const targets = Array.from(
      { length: 300 },
      (_, i) => `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${port}`,
    );
    const child = spawn(
      process.execPath,
      [join(build, 'bin', 'certwatch.js'), 'check', '--format', 'json', ...targets],
      { cwd: work, env: { ...process.env, XDG_CACHE_HOME: cacheHome }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    // Act: read nothing until the child has exited or had ample time to finish its checks
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const code = await closed;
    // Assess: exit 2 (every address CRITICAL), and not one line lost
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
    expect(stderr).toBe('');
    expect(code).toBe(2);
    expect(lines.map((line) => (JSON.parse(line) as { target: string }).target).sort()).toEqual(
      [...targets].sort(),
    );
  });

  it('checks the same under flags the shipped cache was not made for: with a cache of its own, or none when it cannot', async () => {
    // Prepare: a V8 flag (as NODE_OPTIONS often carries one) makes V8 refuse the shipped cache
    cacheHome = join(work, 'cache-home-flags');
    const env = { NODE_OPTIONS: '--max-old-space-size=1536' };
    const args = ['check', '--format', 'nagios', '--ca-file', caFile, `127.0.0.1:${server.port}`];
    const own = join(cacheHome, 'certwatch', `check.cjs-${process.version}-${process.arch}.v8cache`);
    // Act
    const first = await certwatchWith(env, ...args);
    const written = statSync(own);
    const second = await certwatchWith(env, ...args);
    const reused = statSync(own);
    cacheHome = join(work, 'a-file');
    writeFileSync(cacheHome, '');
    const unwritable = await certwatchWith(env, ...args);
    // Assess: the second run used the cache the first wrote (written whole by a rename, never in place)
    for (const r of [first, second, unwritable]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^CERTWATCH OK - 127\\.0\\.0\\.1:${server.port} `));
    }
    expect(written.mode & 0o777).toBe(0o600);
    expect([reused.ino, reused.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('opens the embedded store (dynalite and level, external to the bundle)', async () => {
    // Act
    const r = await certwatch('status', '--state-dir', join(work, 'state'));
    // Assess: an empty store is UNKNOWN
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^No stored state in embedded DynamoDB in .*state\. Run 'certwatch run' first\.\n$/,
    );
  });

  it('puts an argument error in one line', async () => {
    // Act
    const r = await certwatch('check', '--bogus');
    // Assess
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr: 'certwatch: unknown option --bogus (see certwatch check --help)\n',
    });
  });
});
