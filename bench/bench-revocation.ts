/**
 * `npm run bench:revocation`: N endpoints per population (each its own leaf, all from one issuing
 * CA) behind one loopback TLS server that picks the leaf by SNI, checked through checkTargets three
 * ways: revocation off, a cold run with revocation on (a fresh process-wide fetcher), and the next
 * run on the same fetcher (a warm Lambda, or `run`'s next cycle). An OCSP responder and a loopback
 * HTTP server serving the CRL answer (bench/revocation-farm.ts). Prints, per run and for each
 * population of leaves (OCSP and CRL, OCSP only, CRL only): wall time, the checker's CPU time (and
 * the kernel's part of it), OCSP and CRL requests, and the cache hit rate; then the median of the
 * per-repetition ratios to "off" (each repetition runs off, cold and warm back to back), steadier
 * on a shared machine.
 *
 * `--servers child` (the default) runs the servers and the responder in a child process, as
 * `npm run bench` runs its endpoint farm, so the checker's process does only the checker's work;
 * `--servers inprocess` runs them on the bench's own event loop (what this bench did first: the
 * responder's and servers' CPU is then counted against the checker).
 *
 * `--responder presigned` (the default) answers OCSP from responses signed before the timed runs, as
 * CAs serve them (RFC 5019: pre-produced responses behind a CDN); `--responder openssl` runs one
 * `openssl ocsp` process that signs every answer on request, one at a time, which measures that
 * process more than certwatch.
 *
 * `--profile cpu` (the default) is the stress view: concurrency 32, no dead endpoints, so the run is
 * CPU-bound and every microsecond of revocation work shows. `--profile main` reproduces
 * `npm run bench`'s conditions: `--tarpits 5` (5% of each population's endpoints point at a loopback
 * tarpit in the farm that accepts and never answers), `--concurrency default` (the CLI's default)
 * and `--timeout 5000`. An explicit option overrides the profile's.
 *
 * `--baseline DIR` also runs, in each repetition before the others, an "off" run through another checkout's
 * checkTargets (DIR: e.g. a worktree of the commit before revocation existed) in a process of its own
 * (bench/revocation-baseline.ts), on the same farm, and prints each run's wall time paired against it:
 * what checking with revocation costs against the code as it was, side by side under the same load.
 *
 * `--cpu-profile DIR` writes the checker's V8 CPU profile of each population's last off, cold and
 * warm runs to DIR (`<population>-<run>.cpuprofile`, for Chrome DevTools or bench/profile-summary.ts).
 *
 * Usage: npm run bench:revocation -- [--profile cpu|main] [--endpoints 1000] [--concurrency 32|default]
 *   [--timeout 5000] [--tarpits 0] [--repeat 3]
 *   [--responder presigned|openssl] [--servers child|inprocess] [--populations both,ocsp,crl]
 *   [--cpu-profile DIR] [--baseline DIR]
 * Talks only to 127.0.0.1; every server, the child and the responder are stopped at the end.
 */
import { fork, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTrustStore } from '../lambdas/cert/trust-store';
import { DEFAULT_CONCURRENCY } from '../lambdas/cli/check-command';
import type { CheckResult, RevocationMode, Target } from '../lambdas/core/model';
import { checkTargets } from '../lambdas/pipeline/check-target';
import { createRevocationFetcher, type RevocationFetcher } from '../lambdas/probe/fetch-revocation';
import {
  POPULATIONS,
  type Population,
  type ResponderKind,
  type RevocationFarmInfo,
  startRevocationFarm,
} from './revocation-farm';

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'cpu' },
    endpoints: { type: 'string', default: '1000' },
    concurrency: { type: 'string' },
    timeout: { type: 'string' },
    tarpits: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    responder: { type: 'string', default: 'presigned' },
    servers: { type: 'string', default: 'child' },
    populations: { type: 'string', default: POPULATIONS.join(',') },
    'cpu-profile': { type: 'string' },
    baseline: { type: 'string' },
  },
});
const RESPONDER: ResponderKind = values.responder === 'openssl' ? 'openssl' : 'presigned';
const SERVERS = values.servers === 'inprocess' ? 'inprocess' : 'child';
/** What each profile sets unless the option is given. */
const PROFILES = {
  cpu: { concurrency: '32', timeout: '5000', tarpits: '0' },
  main: { concurrency: 'default', timeout: '5000', tarpits: '5' },
} satisfies Record<string, { concurrency: string; timeout: string; tarpits: string }>;
const PROFILE_NAME = values.profile === 'main' ? 'main' : 'cpu';
if (values.profile !== PROFILE_NAME) {
  console.error(`--profile must be cpu or main, not "${values.profile}"`);
  process.exit(2);
}
const PROFILE = PROFILES[PROFILE_NAME];
const N = Number(values.endpoints);
const CONCURRENCY_OPTION = values.concurrency ?? PROFILE.concurrency;
const CONCURRENCY = CONCURRENCY_OPTION === 'default' ? DEFAULT_CONCURRENCY : Number(CONCURRENCY_OPTION);
const TIMEOUT = Number(values.timeout ?? PROFILE.timeout);
const TARPIT_PCT = Number(values.tarpits ?? PROFILE.tarpits);
const REPEAT = Number(values.repeat);
const RUN_POPULATIONS = POPULATIONS.filter((p) => values.populations.split(',').includes(p));
const PROFILE_DIR = values['cpu-profile'];
const BASELINE_DIR = values.baseline;

/** Runs `body` under the V8 CPU profiler and writes the profile to `file` in PROFILE_DIR. */
async function profiled<T>(file: string, body: () => Promise<T>): Promise<T> {
  if (PROFILE_DIR === undefined) return body();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const result = await body();
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, file), JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}

interface RunStats {
  readonly wallMs: number;
  /** This process's CPU time (user + system) during the run. */
  readonly cpuMs: number;
  /** The part of cpuMs spent in the kernel (loopback TCP's delivery to the servers is counted here). */
  readonly systemMs: number;
  /** The part of cpuMs on the main thread (the rest: GC helpers, the JIT compiler, libuv's pool). */
  readonly mainMs: number;
  readonly revoked: number;
  readonly unknown: number;
  readonly timeouts: number;
  readonly ocspRequests: number;
  readonly ocspCacheHits: number;
  readonly crlRequests: number;
  readonly crlCacheHits: number;
  readonly crlShared: number;
  readonly connectionsOpened: number;
}

/** Baseline runs' measures, from bench/revocation-baseline.ts. */
interface BaselineStats {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly systemMs: number;
  readonly timeouts: number;
}

/**
 * Another checkout's checkTargets in a child process of its own (bench/revocation-baseline.ts):
 * `run` checks the targets with it and resolves with its measures; `close` ends the child.
 */
async function startBaseline(
  dir: string,
  rootPem: string,
): Promise<{ run(targets: Target[]): Promise<BaselineStats>; close(): Promise<void> }> {
  const child = fork(join(__dirname, 'revocation-baseline.ts'), [resolve(dir)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const reply = <T>() =>
    new Promise<T>((resolveReply, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the baseline checker exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolveReply(m as T);
      });
    });
  const ready = reply<{ ready: true }>();
  child.send({ rootPem });
  await ready;
  return {
    run: (targets) => {
      const stats = reply<BaselineStats>();
      child.send({ targets, timeoutMs: TIMEOUT, concurrency: CONCURRENCY });
      return stats;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        if (child.exitCode !== null) return resolveClose();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolveClose();
        });
        child.disconnect();
      }),
  };
}

interface Farm extends RevocationFarmInfo {
  close(): Promise<void>;
}

/** Each run's wall time, in ms, in the order run. */
function spread(runs: readonly { readonly wallMs: number }[]): string {
  return runs.map((r) => r.wallMs.toFixed(0)).join('/');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** CPU time (user + system) of process `pid` so far, in ms, from /proc (Linux); NaN elsewhere. */
function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** This process's main thread's CPU time so far, in ms (Linux; NaN elsewhere): the event loop's part of cpuMs. */
function mainThreadCpuMs(): number {
  return statCpuMs(`/proc/${process.pid}/task/${process.pid}/stat`);
}

function statCpuMs(path: string): number {
  try {
    const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** bench/revocation-farm.ts as a child process: its TLS and HTTP serving off this event loop. */
async function startChildFarm(): Promise<Farm & { cpuMs(): number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'revocation-farm.ts'), String(N), RESPONDER, String(TARPIT_PCT)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error('the revocation farm did not start within 600 s')),
      600_000,
    );
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
      reject(new Error(`the revocation farm exited early (${code})`));
    });
  });
  return {
    ...(JSON.parse(line) as RevocationFarmInfo),
    cpuMs: () => processCpuMs(child.pid ?? -1),
    close: () =>
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

async function main(): Promise<void> {
  const farm: Farm & { cpuMs?(): number } =
    SERVERS === 'child' ? await startChildFarm() : await startRevocationFarm(N, RESPONDER, TARPIT_PCT);
  console.log(
    `profile ${PROFILE_NAME}: concurrency ${CONCURRENCY}, timeout ${TIMEOUT} ms, tarpits ${TARPIT_PCT}%`,
  );
  console.log(
    `setup (${SERVERS === 'child' ? 'servers in a child process' : 'servers in this process'}): ${farm.setup}`,
  );
  const trust = loadTrustStore({ extraCaPem: farm.rootPem, includeSystemRoots: false });
  const targetsOf = (population: Population): Target[] => {
    const tarpits = new Set(farm.tarpits[population]);
    return farm.names[population].map((host) => {
      const port = tarpits.has(host) && farm.tarpitPort !== null ? farm.tarpitPort : farm.port;
      return { host, port, id: `${host}:${port}` };
    });
  };
  const run = async (
    population: Population,
    mode: RevocationMode,
    fetcher: RevocationFetcher,
  ): Promise<RunStats> => {
    const targets = targetsOf(population);
    const before = { ...fetcher.stats };
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const t0 = performance.now();
    const results = await checkTargets(targets, {
      timeoutMs: TIMEOUT,
      address: '127.0.0.1',
      thresholds: { warnDays: 30, criticalDays: 7 },
      firstAddressOnly: true,
      concurrency: CONCURRENCY,
      trustFor: () => trust,
      fetchCaIssuers: null,
      revocation: mode,
      fetchRevocation: fetcher,
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const mainMs = mainThreadCpuMs() - main0;
    const flat: CheckResult[] = results.flat();
    const count = (code: string) => flat.filter((r) => r.findings.some((f) => f.code === code)).length;
    const after = fetcher.stats;
    return {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      systemMs: cpu.system / 1000,
      mainMs,
      revoked: count('REVOKED'),
      unknown: count('REVOCATION_UNKNOWN'),
      timeouts: count('TIMEOUT'),
      ocspRequests: after.ocspRequests - before.ocspRequests,
      ocspCacheHits: after.ocspCacheHits - before.ocspCacheHits,
      crlRequests: after.crlRequests - before.crlRequests,
      crlCacheHits: after.crlCacheHits - before.crlCacheHits,
      crlShared: after.crlShared - before.crlShared,
      connectionsOpened: after.connectionsOpened - before.connectionsOpened,
    };
  };

  const baseline = BASELINE_DIR === undefined ? null : await startBaseline(BASELINE_DIR, farm.rootPem);
  try {
    const farmCpu0 = farm.cpuMs?.();
    for (const population of RUN_POPULATIONS) {
      // Warm-up, untimed: JIT, the trust store, the TLS contexts, and this population's 1,000 leaves
      // parsed once (certificates are parsed once per process), which would otherwise fall on the
      // first "off" run alone and make its pair look cheaper for revocation than it is.
      await run(population, 'off', createRevocationFetcher({ allowLoopback: true }));
      if (baseline) await baseline.run(targetsOf(population));
      const base: BaselineStats[] = [];
      const off: RunStats[] = [];
      const cold: RunStats[] = [];
      const warm: RunStats[] = [];
      for (let r = 0; r < REPEAT; r++) {
        // The last repetition is profiled when asked (--cpu-profile).
        const last = r === REPEAT - 1;
        const timed = (kind: string, body: () => Promise<RunStats>) =>
          last ? profiled(`${population}-${kind}.cpuprofile`, body) : body();
        if (baseline) base.push(await baseline.run(targetsOf(population)));
        off.push(
          await timed('off', () => run(population, 'off', createRevocationFetcher({ allowLoopback: true }))),
        );
        const fetcher = createRevocationFetcher({ allowLoopback: true });
        cold.push(await timed('cold', () => run(population, 'check', fetcher)));
        warm.push(await timed('warm', () => run(population, 'check', fetcher)));
      }
      const offWall = median(off.map((x) => x.wallMs));
      const offCpu = median(off.map((x) => x.cpuMs));
      const offSystem = median(off.map((x) => x.systemMs));
      const offMain = median(off.map((x) => x.mainMs));
      const line = (label: string, runs: RunStats[]) => {
        const s = runs[runs.length - 1]!;
        const crlAsks = s.crlRequests + s.crlCacheHits + s.crlShared;
        const hitRate =
          crlAsks === 0 ? 'n/a' : `${(((s.crlCacheHits + s.crlShared) / crlAsks) * 100).toFixed(1)}%`;
        const wall = median(runs.map((x) => x.wallMs));
        const cpu = median(runs.map((x) => x.cpuMs));
        const system = median(runs.map((x) => x.systemMs));
        const mainThread = median(runs.map((x) => x.mainMs));
        const delta = ((wall / offWall - 1) * 100).toFixed(1);
        const cpuDelta = ((cpu / offCpu - 1) * 100).toFixed(1);
        console.log(
          `  ${label}: wall ${wall.toFixed(0)} ms (${delta}% vs off; runs ${spread(runs)}), checker CPU ${cpu.toFixed(0)} ms (${cpuDelta}%; system ${system.toFixed(0)} ms, main thread ${mainThread.toFixed(0)} ms), ` +
            `REVOKED ${s.revoked}, REVOCATION_UNKNOWN ${s.unknown}, TIMEOUT ${s.timeouts}, ` +
            `OCSP requests ${s.ocspRequests} (+${s.ocspCacheHits} cached), CRL requests ${s.crlRequests}, ` +
            `CRL asks answered without a request ${s.crlCacheHits + s.crlShared} (${s.crlCacheHits} cache, ${s.crlShared} shared in flight): hit rate ${hitRate}, ` +
            `connections opened ${s.connectionsOpened}`,
        );
      };
      console.log(
        `population "${population}" (${N} endpoints, ${farm.tarpits[population].length} tarpits, concurrency ${CONCURRENCY}, ` +
          `timeout ${TIMEOUT} ms, median of ${REPEAT}, load ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' ')}):`,
      );
      console.log(
        `  off : wall ${offWall.toFixed(0)} ms (runs ${spread(off)}), checker CPU ${offCpu.toFixed(0)} ms (system ${offSystem.toFixed(0)} ms, main thread ${offMain.toFixed(0)} ms), ` +
          `TIMEOUT ${off[off.length - 1]!.timeouts}`,
      );
      line('cold', cold);
      line('warm', warm);
      // Each repetition runs off, cold and warm back to back: the ratio within a repetition is paired
      // (the same load), so its median holds steadier than the ratio of the medians when the machine
      // is shared.
      const paired = (runs: RunStats[], of: (r: RunStats) => number) =>
        `${((median(runs.map((r, i) => of(r) / of(off[i]!))) - 1) * 100).toFixed(1)}%`;
      console.log(
        `  paired, median of per-repetition ratios to off: cold wall ${paired(cold, (r) => r.wallMs)}, CPU ${paired(cold, (r) => r.cpuMs)}; ` +
          `warm wall ${paired(warm, (r) => r.wallMs)}, CPU ${paired(warm, (r) => r.cpuMs)}`,
      );
      if (baseline) {
        const vsBase = (runs: RunStats[], of: (r: BaselineStats) => number = (r) => r.wallMs) =>
          `${((median(runs.map((r, i) => of(r) / of(base[i]!))) - 1) * 100).toFixed(1)}%`;
        console.log(
          `  baseline (${BASELINE_DIR}, revocation unknown to it): wall ${median(base.map((x) => x.wallMs)).toFixed(0)} ms ` +
            `(runs ${spread(base)}), CPU ${median(base.map((x) => x.cpuMs)).toFixed(0)} ms, TIMEOUT ${base[base.length - 1]!.timeouts}; ` +
            `paired against it: wall off ${vsBase(off)}, cold ${vsBase(cold)}, warm ${vsBase(warm)}; ` +
            `CPU off ${vsBase(off, (r) => r.cpuMs)}, cold ${vsBase(cold, (r) => r.cpuMs)}`,
        );
      }
    }
    if (farmCpu0 !== undefined && farm.cpuMs) {
      console.log(`servers' CPU over the runs, warm-ups included: ${Math.round(farm.cpuMs() - farmCpu0)} ms`);
    }
  } finally {
    await baseline?.close();
    await farm.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
