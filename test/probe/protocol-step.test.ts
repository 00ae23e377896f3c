import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_PROTOCOLS } from '../../lambdas/core/model';
import { type ProbeAddressOptions, probeAddress } from '../../lambdas/probe/probe-address';
import { PROBE_PROTOCOL_REGISTRY, probeProtocol } from '../../lambdas/probe/protocol-registry';
import {
  type ProbeProtocol,
  type ProtocolStepContext,
  ProtocolStepError,
} from '../../lambdas/probe/protocol-step';
import { makePki, type TestPki } from '../support/cert-factory';
import {
  type PlainThenTlsServerOptions,
  startPlainThenTlsServer,
  startTlsServer,
  type TestServer,
} from '../support/tls-test-servers';

const SHORT_TIMEOUT_MS = 400;
const GENEROUS_TIMEOUT_MS = 10_000;

let pki: TestPki;
const servers: TestServer[] = [];

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve<T extends TestServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  servers.push(started);
  return started;
}

function plainThenTls(overrides: Partial<PlainThenTlsServerOptions> = {}) {
  return serve(
    startPlainThenTlsServer({
      chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
      keyPem: pki.leaf.key.privateKeyPem,
      command: 'STARTTLS',
      reply: '220 go ahead',
      ...overrides,
    }),
  );
}

function probe(server: TestServer, overrides: Partial<ProbeAddressOptions> = {}) {
  return probeAddress({
    host: 'localhost',
    port: server.port,
    address: server.host,
    timeoutMs: GENEROUS_TIMEOUT_MS,
    ...overrides,
  });
}

/** Reads one CRLF-terminated line from the socket, and only that line. */
function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.pause();
      if (end + 2 < buffered.length) socket.unshift(buffered.subarray(end + 2));
      resolve(buffered.subarray(0, end).toString('latin1'));
    };
    socket.on('data', onData);
  });
}

/** A test-only STARTTLS protocol: send one command, wait for a 2xx reply, then let TLS start. */
const lineStartTls: ProbeProtocol = {
  name: 'line-test',
  async startTls(socket) {
    socket.write('STARTTLS\r\n');
    const reply = await readLine(socket);
    if (!reply.startsWith('2')) throw new ProtocolStepError('HANDSHAKE_FAILED', `refused STARTTLS: ${reply}`);
  },
};

describe('probeAddress protocol step', () => {
  it('runs the step on the plain socket, then completes TLS on the same connection', async () => {
    // Prepare
    const server = await plainThenTls();

    // Act
    const outcome = await probe(server, { protocolImpl: lineStartTls });

    // Assess
    expect(outcome.error).toBeNull();
    expect(outcome.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(outcome.chainDer.map((der) => Buffer.from(der))).toEqual([pki.leaf.der, pki.intermediate.der]);
    expect(server.lines).toEqual(['STARTTLS']);
    expect(server.servernames).toEqual(['localhost']);
    expect(server.connections()).toBe(1);
  });

  it('hands the step the probe context: target, SNI, the deadline and a live signal', async () => {
    // Prepare
    const server = await plainThenTls();
    const seen: ProtocolStepContext[] = [];
    const before = performance.now();
    const recording: ProbeProtocol = {
      name: 'recording',
      startTls: (socket, context) => {
        seen.push(context);
        return lineStartTls.startTls!(socket, context);
      },
    };

    // Act
    const outcome = await probe(server, { protocolImpl: recording, servername: 'sni.example' });

    // Assess
    expect(outcome.error).toBeNull();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ host: 'localhost', port: server.port, servername: 'sni.example' });
    expect(seen[0]!.deadline).toBeGreaterThanOrEqual(before + GENEROUS_TIMEOUT_MS);
    expect(seen[0]!.deadline).toBeLessThanOrEqual(performance.now() + GENEROUS_TIMEOUT_MS);
    // Settling aborts the signal, so a step that is still waiting on something can let go of it.
    expect(seen[0]!.signal.aborted).toBe(true);
    expect(server.servernames).toEqual(['sni.example']);
  });

  it('removes listeners the step left on the socket before TLS starts', async () => {
    // Prepare
    const server = await plainThenTls();
    const leftOver: Buffer[] = [];
    const careless: ProbeProtocol = {
      name: 'careless',
      async startTls(socket, context) {
        socket.on('data', (chunk: Buffer) => leftOver.push(chunk));
        socket.on('end', () => leftOver.push(Buffer.from('end')));
        await lineStartTls.startTls!(socket, context);
      },
    };

    // Act
    const outcome = await probe(server, { protocolImpl: careless });

    // Assess
    expect(outcome.error).toBeNull();
    expect(Buffer.concat(leftOver).toString('latin1')).toBe('220 go ahead\r\n');
  });

  it.each([
    [
      'a step that reports its own failure',
      {},
      {
        name: 'refusing',
        startTls: async () => {
          throw new ProtocolStepError('NOT_TLS', 'server does not offer STARTTLS');
        },
      },
      { code: 'NOT_TLS', message: 'server does not offer STARTTLS' },
    ],
    [
      'a reply the step refuses',
      { reply: '454 TLS not available' },
      lineStartTls,
      { code: 'HANDSHAKE_FAILED', message: 'refused STARTTLS: 454 TLS not available' },
    ],
    [
      'a step that fails in any other way',
      {},
      {
        name: 'buggy',
        startTls: async () => {
          throw new Error('unexpected greeting');
        },
      },
      {
        code: 'HANDSHAKE_FAILED',
        message: 'buggy exchange with 127.0.0.1:PORT failed before TLS: unexpected greeting',
      },
    ],
    [
      'a step that throws instead of rejecting',
      {},
      {
        name: 'throwing',
        startTls: () => {
          throw new Error('no promise');
        },
      },
      {
        code: 'HANDSHAKE_FAILED',
        message: 'throwing exchange with 127.0.0.1:PORT failed before TLS: no promise',
      },
    ],
    [
      'a server that hangs up during the exchange',
      { onCommand: 'close' as const },
      {
        name: 'line-test',
        startTls: (socket: Socket) => {
          socket.write('STARTTLS\r\n');
          // Waits for a reply that never comes: only the close can end it.
          return new Promise<void>(() => {});
        },
      },
      {
        code: 'HANDSHAKE_FAILED',
        message: '127.0.0.1:PORT closed the connection during the line-test exchange before TLS',
      },
    ],
  ])('reports %s', async (_case, serverOptions, protocol, expected) => {
    // Prepare
    const server = await plainThenTls(serverOptions);

    // Act
    const outcome = await probe(server, { protocolImpl: protocol as ProbeProtocol });

    // Assess
    expect(outcome.error).toEqual({
      code: expected.code,
      message: expected.message.replace('PORT', String(server.port)),
    });
    expect(outcome.protocol).toBeNull();
    expect(outcome.chainDer).toEqual([]);
  });

  it('ends a step that never finishes with the same deadline, and aborts its signal', async () => {
    // Prepare
    const server = await plainThenTls({ onCommand: 'hang' });
    let signal: AbortSignal | undefined;
    const waiting: ProbeProtocol = {
      name: 'line-test',
      startTls: (socket, context) => {
        signal = context.signal;
        return lineStartTls.startTls!(socket, context);
      },
    };

    // Act
    const outcome = await probe(server, { protocolImpl: waiting, timeoutMs: SHORT_TIMEOUT_MS });

    // Assess
    expect(outcome.error).toEqual({
      code: 'TIMEOUT',
      message: `line-test exchange before TLS not complete with 127.0.0.1:${server.port} within ${SHORT_TIMEOUT_MS} ms`,
    });
    expect(signal?.aborted).toBe(true);
    expect(server.lines).toEqual(['STARTTLS']);
  });

  it('reports a protocol this build does not know without connecting', async () => {
    // Prepare
    const server = await serve(
      startTlsServer({ chainPem: [pki.leaf.certPem], keyPem: pki.leaf.key.privateKeyPem }),
    );

    // Act
    const outcome = await probe(server, { protocol: 'gopher' as 'tls' });

    // Assess
    expect(outcome.error).toEqual({
      code: 'HANDSHAKE_FAILED',
      message: 'probe error: unknown protocol "gopher"',
    });
    expect(server.connections()).toBe(0);
  });

  it('speaks implicit TLS by default and when named', async () => {
    // Prepare
    const server = await serve(
      startTlsServer({ chainPem: [pki.leaf.certPem], keyPem: pki.leaf.key.privateKeyPem }),
    );

    // Act
    const byDefault = await probe(server);
    const named = await probe(server, { protocol: 'tls' });

    // Assess
    expect([byDefault.error, named.error]).toEqual([null, null]);
    expect(server.servernames).toEqual(['localhost', 'localhost']);
  });
});

describe('protocol registry', () => {
  it('implements every protocol core names, under its own name', () => {
    // Act
    const entries = Object.entries(PROBE_PROTOCOL_REGISTRY).map(([key, protocol]) => [key, protocol.name]);

    // Assess
    expect(Object.keys(PROBE_PROTOCOL_REGISTRY).sort()).toEqual(Object.keys(PROBE_PROTOCOLS).sort());
    for (const [key, name] of entries) expect(name).toBe(key);
  });

  it.each([
    ['tls', 'tls'],
    [undefined, 'tls'],
    ['smtp', 'smtp'],
    ['xmpp-server', 'xmpp-server'],
    ['gopher', undefined],
    ['SMTP', undefined],
    ['constructor', undefined],
    ['__proto__', undefined],
  ])('looks up %j → %j', (name, expected) => {
    // Act / Assess
    expect(probeProtocol(name)?.name).toBe(expected);
  });
});
