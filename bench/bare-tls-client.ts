/**
 * The bench's multi-process reference client. bench-check.ts runs one per
 * core against the farm's healthy endpoints, in one of two modes:
 * - `bare`: `tls.connect` handshakes with no chain capture and no analysis,
 *   the least work any Node TLS client can do per handshake: the ceiling
 *   this machine allows with the farm sharing its cores;
 * - `certwatch`: `checkAddress`, certwatch's own unit of work (wire-exact
 *   chain capture plus analysis), to show what one process per core buys.
 *
 * Usage (forked): tsx bench/bare-tls-client.ts bare|certwatch CA_PEM
 * Protocol (IPC): receives `{ ports, count, concurrency }`, replies
 * `{ ok, failed }` when `count` handshakes are done. Talks only to 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { connect, createSecureContext } from 'node:tls';
import { loadTrustStore } from '../lambdas/cert/trust-store';
import { checkAddress } from '../lambdas/pipeline/check-target';

interface Job {
  readonly ports: number[];
  readonly count: number;
  readonly concurrency: number;
}

const [mode = 'bare', caFile = ''] = process.argv.slice(2);
const context = createSecureContext({ ca: [] });
const trust =
  mode === 'certwatch'
    ? loadTrustStore({ extraCaPem: readFileSync(caFile, 'utf8'), extraCaSource: caFile })
    : null;

function bareHandshake(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      secureContext: context,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => done(false), 10_000);
    function done(ok: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function certwatchCheck(port: number): Promise<boolean> {
  if (trust === null) return false;
  const target = { id: `127.0.0.1:${port}`, host: '127.0.0.1', port };
  const result = await checkAddress(target, '127.0.0.1', {
    timeoutMs: 10_000,
    thresholds: { warnDays: 30, criticalDays: 7 },
    firstAddressOnly: false,
    trust,
  });
  return result.chain.length > 0;
}

const handshake = mode === 'certwatch' ? certwatchCheck : bareHandshake;

process.on('message', async (job: Job) => {
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: Math.min(job.concurrency, job.count) }, async () => {
      while (next < job.count) {
        const port = job.ports[next++ % job.ports.length] ?? 0;
        if (await handshake(port)) ok++;
      }
    }),
  );
  process.send?.({ ok, failed: job.count - ok });
});
process.on('disconnect', () => process.exit(0));
