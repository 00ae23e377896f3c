/**
 * `npm run bench`: checks N local endpoints (5% tarpits, 5% malformed
 * certificates, the rest valid or expiring) through the CLI's own code path
 * (`certwatch check --json`, in-process) and prints wall time, handshakes per
 * second, p50/p99 per address, peak RSS and the theoretical bound.
 *
 * Usage: npm run bench -- [--endpoints 1000] [--timeout 5000] (milliseconds) [--concurrency 32,default]
 * Talks only to 127.0.0.1; the farm child process is always stopped.
 */
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { DEFAULT_CONCURRENCY } from '../lambdas/cli/check-command';
import { main } from '../lambdas/cli/main';
import type { EndpointKind } from './endpoint-farm';

const { values } = parseArgs({
  options: {
    endpoints: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: `default,32` },
  },
});
const N = Number(values.endpoints);
const TIMEOUT = Number(values.timeout);

interface Farm {
  endpoints: { port: number; kind: EndpointKind }[];
  /** CPU time (ms) the farm process has used so far. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** utime + stime of a process from /proc (Linux), in ms. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function startFarm(dir: string): Promise<Farm> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'endpoint-farm.ts'), String(N), '5', '5', join(dir, 'ca.pem')],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('farm did not start within 120 s')), 120_000);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`farm exited early (${code})`));
    });
  });
  return {
    endpoints: JSON.parse(line).endpoints,
    cpuMs: () => processCpuMs(child.pid ?? -1),
    stop: () =>
      new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.stdin.end();
      }),
  };
}

interface Result {
  target: string;
  status: string;
  durationMs: number;
  findings: { code: string }[];
}

async function runCli(args: string[]): Promise<{ results: Result[]; wallMs: number; code: number }> {
  let buf = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      buf += chunk;
      cb();
    },
  });
  const started = performance.now();
  const code = await main(['check', ...args], {
    stdout: sink,
    stderr: process.stderr,
    env: { NO_COLOR: '1' },
  });
  const wallMs = performance.now() - started;
  const results = buf
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Result);
  return { results, wallMs, code };
}

/**
 * One reference client process per core against the same healthy endpoints, while the farm
 * shares those cores (see bare-tls-client.ts): `bare` is Node's own TLS with no capture or
 * analysis, the most any Node client reaches here; `certwatch` is checkAddress itself.
 */
async function perCoreRate(
  ports: number[],
  mode: 'bare' | 'certwatch',
  caFile: string,
): Promise<{ rate: number; failed: number }> {
  const clients = cpus().length;
  const perClient = Math.max(1, Math.round((ports.length * 2) / clients));
  const workers = Array.from({ length: clients }, () =>
    fork(join(__dirname, 'bare-tls-client.ts'), [mode, caFile], {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
    }),
  );
  const ask = (count: number) =>
    Promise.all(
      workers.map(
        (w, i) =>
          new Promise<{ ok: number; failed: number }>((resolve, reject) => {
            w.once('message', (m) => resolve(m as { ok: number; failed: number }));
            w.once('exit', (code) => reject(new Error(`reference client exited (${code})`)));
            // Each client starts at a different endpoint, so no two hit one port together.
            const offset = Math.floor((ports.length * i) / clients);
            w.send({ ports: [...ports.slice(offset), ...ports.slice(0, offset)], count, concurrency: 64 });
          }),
      ),
    );
  try {
    await ask(100); // warm-up
    const started = performance.now();
    const replies = await ask(perClient);
    const seconds = (performance.now() - started) / 1000;
    const ok = replies.reduce((sum, r) => sum + r.ok, 0);
    return { rate: ok / seconds, failed: replies.reduce((sum, r) => sum + r.failed, 0) };
  } finally {
    for (const w of workers) w.kill();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-bench-'));
  const farmStart = performance.now();
  const farm = await startFarm(dir);
  try {
    const count = (k: EndpointKind) => farm.endpoints.filter((e) => e.kind === k).length;
    const tarpits = count('tarpit');
    console.log(
      `farm: ${farm.endpoints.length} endpoints on 127.0.0.1 (${count('valid')} valid, ${count('expiring')} expiring, ` +
        `${tarpits} tarpits, ${count('malformed')} malformed) in ${fmt(performance.now() - farmStart)}`,
    );
    const all = join(dir, 'all.txt');
    writeFileSync(all, farm.endpoints.map((e) => `127.0.0.1:${e.port}`).join('\n'));
    const healthy = join(dir, 'healthy.txt');
    const healthyEndpoints = farm.endpoints.filter((e) => e.kind === 'valid' || e.kind === 'expiring');
    writeFileSync(healthy, healthyEndpoints.map((e) => `127.0.0.1:${e.port}`).join('\n'));
    const common = ['--ca-file', join(dir, 'ca.pem'), '--timeout', `${TIMEOUT}ms`, '--json'];

    // Warm-up (JIT, root store parsing), then the handshake rate on the healthy endpoints alone.
    await runCli([...common, '--file', healthy]);
    const cpuBefore = process.cpuUsage();
    const farmBefore = farm.cpuMs();
    const hs = await runCli([...common, '--file', healthy]);
    const cpu = process.cpuUsage(cpuBefore);
    const checkerCpuPer = (cpu.user + cpu.system) / 1000 / healthyEndpoints.length;
    const farmCpuPer = (farm.cpuMs() - farmBefore) / healthyEndpoints.length;
    const rate = (healthyEndpoints.length / hs.wallMs) * 1000;
    console.log(
      `handshakes: ${healthyEndpoints.length} healthy endpoints in ${fmt(hs.wallMs)} = ${rate.toFixed(0)} handshakes/s ` +
        `(default concurrency ${DEFAULT_CONCURRENCY}; goal >= 1000/s)`,
    );
    console.log(
      `  CPU per handshake: checker ${checkerCpuPer.toFixed(2)} ms (incl. analysis), endpoint farm ${farmCpuPer.toFixed(2)} ms; ` +
        `${cpus().length} cores shared by both processes`,
    );

    const ports = healthyEndpoints.map((e) => e.port);
    for (const mode of ['bare', 'certwatch'] as const) {
      const { rate: perCore, failed } = await perCoreRate(ports, mode, join(dir, 'ca.pem'));
      const what =
        mode === 'bare'
          ? 'bare tls.connect (no chain capture, no analysis): the ceiling for any Node TLS client here'
          : 'certwatch checkAddress (wire-exact chain capture + analysis)';
      console.log(
        `  one process per core (${cpus().length}), ${what}: ${perCore.toFixed(0)} handshakes/s` +
          (failed ? ` (${failed} failed)` : ''),
      );
    }

    for (const c of String(values.concurrency).split(',')) {
      const concurrency = c === 'default' ? DEFAULT_CONCURRENCY : Number(c);
      const args =
        c === 'default' ? [...common, '--file', all] : [...common, '--concurrency', c, '--file', all];
      const run = await runCli(args);
      const durations = run.results.map((r) => r.durationMs).sort((a, b) => a - b);
      const byStatus = new Map<string, number>();
      for (const r of run.results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
      const workMs = ((N - tarpits) / rate) * 1000;
      const bound = Math.ceil(tarpits / concurrency) * TIMEOUT + workMs;
      const label = c === 'default' ? `default (${DEFAULT_CONCURRENCY})` : c;
      console.log(
        `\nconcurrency ${label}: ${run.results.length} addresses in ${fmt(run.wallMs)} (exit ${run.code}); ` +
          `statuses ${JSON.stringify(Object.fromEntries(byStatus))}`,
      );
      console.log(
        `  per address: p50 ${percentile(durations, 50).toFixed(0)} ms, p99 ${percentile(durations, 99).toFixed(0)} ms`,
      );
      console.log(
        `  bound: ceil(${tarpits} tarpits / ${concurrency}) x ${TIMEOUT} ms + ${workMs.toFixed(0)} ms handshake work = ${fmt(bound)}; ` +
          `actual is ${((run.wallMs / bound - 1) * 100).toFixed(1)}% over the bound`,
      );
      if (c === 'default') console.log(`  goal: under 7 s -> ${run.wallMs < 7000 ? 'met' : 'MISSED'}`);
      if (c !== 'default')
        console.log(`  goal: within 10% of bound -> ${run.wallMs <= bound * 1.1 ? 'met' : 'MISSED'}`);
    }
    const peakMb = process.resourceUsage().maxRSS / 1024;
    console.log(`\npeak RSS (checker process): ${peakMb.toFixed(0)} MB (goal < 300 MB)`);
  } finally {
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

bench().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
