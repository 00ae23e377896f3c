/**
 * bench:revocation's `--baseline DIR`: another checkout's checkTargets (say the commit before
 * revocation existed) in a process of its own, so neither code's caches, JIT or heap weigh on the
 * other's runs, as the checker runs in a Lambda or a CLI process of its own.
 *
 * Usage (forked): tsx bench/revocation-baseline.ts DIR
 * Protocol (IPC): receives `{ rootPem }` once, then `{ targets, timeoutMs, concurrency }` per run;
 * replies `{ wallMs, cpuMs, systemMs, timeouts }` after each run, checked with revocation unknown to
 * the code (it runs as "off"). Talks only to the addresses its targets name (127.0.0.1 in the bench).
 */
import { join, resolve } from 'node:path';
import type { loadTrustStore as LoadTrustStore } from '../lambdas/cert/trust-store';
import type { Target } from '../lambdas/core/model';
import type { checkTargets as CheckTargets } from '../lambdas/pipeline/check-target';

interface Setup {
  readonly rootPem: string;
}
interface Run {
  readonly targets: Target[];
  readonly timeoutMs: number;
  readonly concurrency: number;
}

async function main(): Promise<void> {
  const root = resolve(process.argv[2] ?? '.');
  const { checkTargets } = (await import(join(root, 'lambdas/pipeline/check-target.ts'))) as {
    checkTargets: typeof CheckTargets;
  };
  const { loadTrustStore } = (await import(join(root, 'lambdas/cert/trust-store.ts'))) as {
    loadTrustStore: typeof LoadTrustStore;
  };
  let trust: ReturnType<typeof LoadTrustStore> | null = null;
  process.on('message', async (message: Setup | Run) => {
    if ('rootPem' in message) {
      trust = loadTrustStore({ extraCaPem: message.rootPem, includeSystemRoots: false });
      process.send?.({ ready: true });
      return;
    }
    const anchors = trust;
    if (anchors === null) throw new Error('a run before the setup');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await checkTargets(message.targets, {
      timeoutMs: message.timeoutMs,
      address: '127.0.0.1',
      thresholds: { warnDays: 30, criticalDays: 7 },
      firstAddressOnly: true,
      concurrency: message.concurrency,
      trustFor: () => anchors,
      fetchCaIssuers: null,
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const timeouts = results.flat().filter((r) => r.findings.some((f) => f.code === 'TIMEOUT')).length;
    process.send?.({
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      systemMs: cpu.system / 1000,
      timeouts,
    });
  });
  // Exits when the bench closes the channel.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
