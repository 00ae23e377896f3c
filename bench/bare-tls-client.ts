/**
 * The bench's ceiling probe: bare `tls.connect` handshakes with no chain
 * capture and no analysis, the least work any Node TLS client can do per
 * handshake. bench-check.ts runs one of these per core against the farm's
 * healthy endpoints, to show what this machine allows with the farm sharing
 * its cores.
 *
 * Protocol (IPC): receives `{ ports, count, concurrency }`, replies
 * `{ ok, failed }` when `count` handshakes are done. Talks only to 127.0.0.1.
 */
import { connect, createSecureContext } from 'node:tls';

interface Job {
  readonly ports: number[];
  readonly count: number;
  readonly concurrency: number;
}

const context = createSecureContext({ ca: [] });

function handshake(port: number): Promise<boolean> {
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
