/**
 * `npm run bench:cli`: start-up of the built CLI, measured side by side, as a user runs it
 * (`node bin/certwatch.js`, a fresh process per run):
 *
 * - `certwatch check` of one loopback TLS server against `ssl-cert-check -s 127.0.0.1 -p PORT`
 *   (goal: at most 0.6x its wall time);
 * - `certwatch --help` against a bare `node -e 0` (goal: at most 2x).
 *
 * Runs are paired and interleaved (A B, then B A, ...), so a machine that slows down or speeds
 * up mid-run affects both sides alike; the verdict is the median of the per-pair ratios, with
 * the median wall times beside it. The bundle is rebuilt first, so the numbers are the sources'.
 *
 * Usage: npm run bench:cli -- [--runs 21]
 * Talks only to 127.0.0.1; the TLS server is stopped at the end. ssl-cert-check is Debian's
 * package (apt-get install -y ssl-cert-check); without it that comparison prints a skip line.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { makePki } from '../test/support/cert-factory';
import { startTlsServer } from '../test/support/tls-test-servers';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'certwatch.js');
const WARMUP = 2;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 3 || RUNS > 200) {
  process.stderr.write(`bench:cli: --runs: expected a whole number from 3 to 200, got '${values.runs}'\n`);
  process.exit(2);
}

interface Timed {
  readonly ms: number;
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to completion (asynchronously: the TLS server lives in this process) and times it. */
function timed(command: string, args: readonly string[], cwd: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      if (output.length < 4096) output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      if (output.length < 4096) output += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, output });
    });
  });
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

interface Command {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** `runs` interleaved pairs after a warm-up; the medians of A, B and of the per-pair ratio A/B. */
async function compare(a: Command, b: Command, cwd: string) {
  for (let i = 0; i < WARMUP; i++) {
    await timed(a.command, a.args, cwd);
    await timed(b.command, b.args, cwd);
  }
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither side always runs on the warmer machine.
    let ta: Timed;
    let tb: Timed;
    if (i % 2 === 0) {
      ta = await timed(a.command, a.args, cwd);
      tb = await timed(b.command, b.args, cwd);
    } else {
      tb = await timed(b.command, b.args, cwd);
      ta = await timed(a.command, a.args, cwd);
    }
    as.push(ta.ms);
    bs.push(tb.ms);
    ratios.push(ta.ms / tb.ms);
  }
  return {
    a: median(as),
    b: median(bs),
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
  };
}

function report(name: string, a: Command, b: Command, r: Awaited<ReturnType<typeof compare>>, goal: number) {
  const verdict = r.ratio <= goal ? 'goal met' : 'GOAL MISSED';
  process.stdout.write(
    `${name}\n` +
      `  ${a.label.padEnd(44)} median ${r.a.toFixed(1).padStart(7)} ms\n` +
      `  ${b.label.padEnd(44)} median ${r.b.toFixed(1).padStart(7)} ms\n` +
      `  ratio (median of ${RUNS} paired runs)             ${r.ratio.toFixed(2)}  (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)}; goal <= ${goal}: ${verdict})\n\n`,
  );
}

/** The machine's load average, printed beside the numbers: ratios on a busy machine read differently. */
function load(): string {
  const [one, five] = loadavg();
  return `load average ${one?.toFixed(2)} (1 min), ${five?.toFixed(2)} (5 min)`;
}

/** ssl-cert-check on PATH or where Debian installs it; null when it is not installed. */
function findSslCertCheck(): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const path = join(dir, 'ssl-cert-check');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

async function benchMain(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { stdio: 'inherit' });
  const work = mkdtempSync(join(tmpdir(), 'certwatch-bench-cli-'));
  const pki = makePki();
  const server = await startTlsServer({
    chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
    keyPem: pki.leaf.key.privateKeyPem,
  });
  try {
    const caFile = join(work, 'root.pem');
    writeFileSync(caFile, pki.root.certPem);
    process.stdout.write(
      `certwatch CLI start-up: node ${process.version}, ${RUNS} paired runs after ${WARMUP} warm-up pairs, wall time per process; ${load()}\n\n`,
    );

    const check: Command = {
      label: `certwatch check 127.0.0.1:${server.port}`,
      command: process.execPath,
      args: [BIN, 'check', '--ca-file', caFile, `127.0.0.1:${server.port}`],
    };
    const first = await timed(check.command, check.args, work);
    if (first.code !== 0) throw new Error(`certwatch check exited ${first.code}: ${first.output}`);
    const scc = findSslCertCheck();
    if (scc === null) {
      process.stdout.write(
        'check vs ssl-cert-check: SKIPPED, ssl-cert-check is not installed (Debian: apt-get install -y ssl-cert-check)\n\n',
      );
    } else {
      const other: Command = {
        label: `ssl-cert-check -s 127.0.0.1 -p ${server.port}`,
        command: scc,
        args: ['-s', '127.0.0.1', '-p', String(server.port)],
      };
      const probe = await timed(other.command, other.args, work);
      if (!/Valid|Expiring/.test(probe.output)) {
        throw new Error(`ssl-cert-check did not read the certificate: ${probe.output.trim()}`);
      }
      report('check of one loopback TLS host', check, other, await compare(check, other, work), 0.6);
    }

    const help: Command = { label: 'certwatch --help', command: process.execPath, args: [BIN, '--help'] };
    const bare: Command = { label: 'node -e 0', command: process.execPath, args: ['-e', '0'] };
    report('--help against a bare node start-up', help, bare, await compare(help, bare, work), 2);
    process.stdout.write(`at the end: ${load()}\n`);
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

benchMain().catch((error: unknown) => {
  process.stderr.write(`bench:cli: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
