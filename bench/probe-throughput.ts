/**
 * Probe throughput: handshakes per second and client CPU per handshake of
 * `probeAddress`, next to a bare `tls.connect` + `getPeerCertificate(true)`
 * baseline against the same server, so the cost of reading the chain off the
 * wire is visible.
 *
 * The TLS server runs in a child process so its signing work does not share
 * the measured event loop. On a 2-core machine the server competes for CPU,
 * so "client CPU per handshake" is the figure that tells how many handshakes
 * one core of the checker can do.
 *
 * Usage: tsx bench/probe-throughput.ts [HANDSHAKES=2000] [CONCURRENCY=50]
 */
import { fork } from 'node:child_process';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { probeAddress } from '../lambdas/probe/probe-address';
import { makePki } from '../test/support/cert-factory';
import { startTlsServer } from '../test/support/tls-test-servers';

const [handshakes = 2000, concurrency = 50] = process.argv.slice(2).map(Number);

async function serve(version: 'TLSv1.2' | 'TLSv1.3'): Promise<void> {
  const pki = makePki();
  const server = await startTlsServer({
    chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
    keyPem: pki.leaf.key.privateKeyPem,
    maxVersion: version,
  });
  process.send?.(server.port);
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

type Handshake = (port: number) => Promise<boolean>;

const probe: Handshake = async (port) => {
  const outcome = await probeAddress({
    host: 'localhost',
    port,
    address: '127.0.0.1',
    servername: 'localhost',
    timeoutMs: 10_000,
  });
  return outcome.error === null && outcome.chainDer.length === 2;
};

const baselineContext = createSecureContext({ ca: [] });
const nativeTls: Handshake = (port) =>
  new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      secureContext: baselineContext,
      rejectUnauthorized: false,
    });
    socket.on('secureConnect', () => {
      socket.getPeerCertificate(true);
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      socket.destroy();
      resolve(false);
    });
  });

async function measure(handshake: Handshake, port: number, count: number) {
  let started = 0;
  let ok = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started++;
        if (await handshake(port)) ok++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    ok: `${ok}/${count}`,
    perSecond: Math.round(count / seconds),
    clientCpuUsPerHandshake: Math.round((used.user + used.system) / count),
  };
}

async function main(): Promise<void> {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    const child = fork(__filename, ['serve', version], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
    await measure(probe, port, 200);
    await measure(nativeTls, port, 200);
    // Interleaved rounds, so background load affects both sides alike.
    for (let round = 1; round <= 2; round++) {
      const native = await measure(nativeTls, port, handshakes);
      const probed = await measure(probe, port, handshakes);
      console.log(JSON.stringify({ version, round, concurrency, native, probe: probed }));
    }
    child.disconnect();
  }
}

if (process.argv[2] === 'serve') {
  void serve(process.argv[3] === 'TLSv1.2' ? 'TLSv1.2' : 'TLSv1.3');
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
