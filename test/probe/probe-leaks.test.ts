import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../lambdas/core/parse-target';
import { probeAddress } from '../../lambdas/probe/probe-address';
import { probeTarget } from '../../lambdas/probe/probe-target';
import type { ProbeProtocol } from '../../lambdas/probe/protocol-step';
import { makePki } from '../support/cert-factory';
import {
  hostileScript,
  protocolScript,
  STARTTLS_PROTOCOLS,
  startConnectProxy,
  startScriptServer,
} from '../support/starttls-servers';
import {
  NOT_TLS_PAYLOADS,
  startClosingServer,
  startPlainThenTlsServer,
  startEndlessServer,
  startGarbageServer,
  startRawCertificateServer,
  startTarpit,
  startTlsServer,
  startTrickler,
  type TestServer,
} from '../support/tls-test-servers';

/** Handle kinds a probe could leave behind. */
const WATCHED = [
  'TCPSocketWrap',
  'TCPServerWrap',
  'TCPWRAP',
  'TCPConnectWrap',
  'Timeout',
  'GetAddrInfoReqWrap',
];

function watchedHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * The handles above `limit`, by kind. The worker's own timers (vitest's, another module's) may come and
 * go while the test runs, so a kind may drop below its baseline; only a kind above it is left behind.
 */
function excess(counts: Record<string, number>, limit: Record<string, number>): Record<string, number> {
  const over: Record<string, number> = {};
  for (const [kind, n] of Object.entries(counts)) {
    if (n > (limit[kind] ?? 0)) over[kind] = n - (limit[kind] ?? 0);
  }
  return over;
}

/** Closed handles are released on a later loop turn; wait (boundedly) until no kind exceeds `limit`. */
async function handlesAbove(limit: Record<string, number>): Promise<Record<string, number>> {
  let over = excess(watchedHandles(), limit);
  for (let turn = 0; turn < 100 && Object.keys(over).length > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    over = excess(watchedHandles(), limit);
  }
  return over;
}

describe('probe resource hygiene', () => {
  it('leaves no sockets, servers or timers behind, whatever the outcome', async () => {
    // Prepare
    const pki = makePki();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const baseline = watchedHandles();
    const refused = await startTarpit();
    await refused.close();
    const stalling: TestServer[] = await Promise.all([startTarpit(), startTrickler({ intervalMs: 20 })]);
    const servers: TestServer[] = await Promise.all([
      startTlsServer({
        chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
        keyPem: pki.leaf.key.privateKeyPem,
      }),
      startTlsServer({
        chainPem: pki.leaf.certPem,
        keyPem: pki.leaf.key.privateKeyPem,
        maxVersion: 'TLSv1.2',
      }),
      ...stalling,
      startGarbageServer({ payload: NOT_TLS_PAYLOADS.http }),
      startClosingServer({ mode: 'reset' }),
      startEndlessServer({ kind: 'garbage' }),
      startRawCertificateServer({ version: 'TLSv1.3', certificates: [Buffer.from('junk')] }),
      startRawCertificateServer({ certificates: [pki.leaf.der] }),
    ]);

    // Act
    const outcomes = await Promise.all([
      ...[...servers, refused].map((server) =>
        probeAddress({
          host: 'localhost',
          port: server.port,
          address: server.host,
          servername: 'localhost',
          // Long deadlines where the probe ends on its own, so a deadline timer left running would be seen.
          timeoutMs: stalling.includes(server) ? 300 : 60_000,
        }),
      ),
      probeTarget(parseTarget('certwatch-leaks.invalid'), { timeoutMs: 300 }).then((o) => o[0]!),
    ]);
    // Checked while the servers still run: a client socket left open would keep its server side open too.
    const serving = { ...baseline, TCPServerWrap: (baseline['TCPServerWrap'] ?? 0) + servers.length };
    const leftWhileServing = await handlesAbove(serving);
    const serversStillOpen = watchedHandles()['TCPServerWrap'] ?? 0;
    await Promise.all(servers.map((s) => s.close()));
    const leftAfter = await handlesAbove(baseline);

    // Assess
    expect(outcomes.map((o) => o.error?.code ?? 'ok')).toEqual([
      'ok',
      'ok',
      'TIMEOUT',
      'TIMEOUT',
      'NOT_TLS',
      'HANDSHAKE_FAILED',
      'NOT_TLS',
      'HANDSHAKE_FAILED',
      'HANDSHAKE_FAILED',
      'CONNECTION_REFUSED',
      'DNS_ERROR',
    ]);
    expect(leftWhileServing).toEqual({});
    // The servers themselves are counted, so the check above would see a client socket kept open.
    expect(serversStillOpen).toBe(serving.TCPServerWrap);
    expect(leftAfter).toEqual({});
  });
  it('leaves nothing behind when a protocol step never finishes: the deadline ends it', async () => {
    // Prepare
    const pki = makePki();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const baseline = watchedHandles();
    const servers: TestServer[] = await Promise.all([
      startTarpit(),
      startPlainThenTlsServer({
        chainPem: pki.leaf.certPem,
        keyPem: pki.leaf.key.privateKeyPem,
        command: 'STARTTLS',
        reply: '220 go ahead',
        onCommand: 'hang',
      }),
    ]);
    const stuck: ProbeProtocol = {
      name: 'stuck',
      startTls: (socket) => {
        socket.write('STARTTLS\r\n');
        socket.on('data', () => {});
        return new Promise<void>(() => {});
      },
    };

    // Act
    const outcomes = await Promise.all(
      servers.map((server) =>
        probeAddress({
          host: 'localhost',
          port: server.port,
          address: server.host,
          timeoutMs: 300,
          protocolImpl: stuck,
        }),
      ),
    );
    const serving = { ...baseline, TCPServerWrap: (baseline['TCPServerWrap'] ?? 0) + servers.length };
    const leftWhileServing = await handlesAbove(serving);
    await Promise.all(servers.map((s) => s.close()));
    const leftAfter = await handlesAbove(baseline);

    // Assess
    expect(outcomes.map((o) => o.error?.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect(outcomes.map((o) => o.error?.message)).toEqual(
      servers.map((s) => `stuck exchange before TLS not complete with 127.0.0.1:${s.port} within 300 ms`),
    );
    expect(leftWhileServing).toEqual({});
    expect(leftAfter).toEqual({});
  });

  it('leaves nothing behind after the real protocols and a proxy, whether they succeed, refuse or stall', async () => {
    // Prepare
    const pki = makePki();
    const identity = { chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem };
    await new Promise((resolve) => setTimeout(resolve, 20));
    const baseline = watchedHandles();
    const running: { close(): Promise<void> }[] = [];
    const probes: Promise<string>[] = [];
    for (const protocol of STARTTLS_PROTOCOLS) {
      const cases = [
        { script: protocolScript(protocol), timeoutMs: 10_000 },
        { script: hostileScript(protocol, 'refuse'), timeoutMs: 10_000 },
        { script: hostileScript(protocol, 'silent'), timeoutMs: 300 },
      ];
      for (const { script, timeoutMs } of cases) {
        const server = await startScriptServer(identity, script);
        running.push(server);
        probes.push(
          probeAddress({
            host: 'localhost',
            port: server.port,
            address: server.host,
            protocol,
            timeoutMs,
          }).then((o) => o.error?.code ?? 'ok'),
        );
      }
    }
    const proxy = await startConnectProxy({ answer: 'silent' });
    running.push(proxy);
    probes.push(
      probeAddress({
        host: 'localhost',
        port: 9,
        address: '127.0.0.1',
        proxy: `http://127.0.0.1:${proxy.port}`,
        timeoutMs: 300,
      }).then((o) => o.error?.code ?? 'ok'),
    );

    // Act
    const codes = await Promise.all(probes);
    await Promise.all(running.map((s) => s.close()));
    const leftAfter = await handlesAbove(baseline);

    // Assess
    expect(codes).toEqual([
      ...STARTTLS_PROTOCOLS.flatMap(() => ['ok', 'STARTTLS_FAILED', 'TIMEOUT']),
      'TIMEOUT',
    ]);
    expect(leftAfter).toEqual({});
  });
});
