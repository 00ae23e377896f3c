import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../lambdas/core/parse-target';
import { probeTarget } from '../../lambdas/probe/probe-target';
import type { LookupFunction } from '../../lambdas/probe/resolve-addresses';
import { makePki, type TestPki } from '../support/cert-factory';
import { startTarpit, startTlsServer, type TestServer } from '../support/tls-test-servers';

const TIMEOUT_MS = 400;

let pki: TestPki;
const servers: TestServer[] = [];

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function lookupAnswering(...addresses: string[]): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const lookup: LookupFunction = async (hostname) => {
    calls.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

function tlsServerOn(host: string, port = 0): Promise<TestServer> {
  return startTlsServer({ host, port, chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem });
}

/**
 * Servers on two loopback addresses sharing one port, as one name with two addresses would be.
 * The second listen can collide with a port in use on the other address, so try a few ports.
 */
async function onSamePort(
  first: (port: number) => Promise<TestServer>,
  second: (port: number) => Promise<TestServer>,
): Promise<[TestServer, TestServer]> {
  for (let attempt = 1; ; attempt++) {
    const a = await first(0);
    try {
      const b = await second(a.port);
      servers.push(a, b);
      return [a, b];
    } catch (error) {
      await a.close();
      if (attempt === 5) throw error;
    }
  }
}

describe('probeTarget', () => {
  it('probes every address of a name, one outcome per address, each with the same SNI', async () => {
    // Prepare
    const [v4] = await onSamePort(
      (port) => tlsServerOn('127.0.0.1', port),
      (port) => tlsServerOn('::1', port),
    );
    const lookup = lookupAnswering('::1', '127.0.0.1');

    // Act
    const outcomes = await probeTarget(parseTarget(`multi.certwatch.test:${v4.port}`), {
      timeoutMs: 5000,
      lookup,
    });

    // Assess
    expect(lookup.calls).toEqual(['multi.certwatch.test']);
    expect(outcomes.map((o) => [o.address, o.servername, o.error, o.chainDer.length])).toEqual([
      ['127.0.0.1', 'multi.certwatch.test', null, 1],
      ['::1', 'multi.certwatch.test', null, 1],
    ]);
  });

  it('keeps a stalled address from affecting a healthy one', async () => {
    // Prepare
    const [healthy] = await onSamePort(
      (port) => tlsServerOn('127.0.0.1', port),
      (port) => startTarpit({ host: '127.0.0.2', port }),
    );
    const lookup = lookupAnswering('127.0.0.2', '127.0.0.1');

    // Act
    // The deadline is what the tarpit costs, and what the healthy address has to finish on a busy machine.
    const outcomes = await probeTarget(parseTarget(`mixed.certwatch.test:${healthy.port}`), {
      timeoutMs: 1500,
      lookup,
    });

    // Assess
    expect(outcomes.map((o) => [o.address, o.error?.code ?? 'ok', o.chainDer.length])).toEqual([
      ['127.0.0.1', 'ok', 1],
      ['127.0.0.2', 'TIMEOUT', 0],
    ]);
  });

  it('probes only the first address when asked to', async () => {
    // Prepare
    const server = await tlsServerOn('127.0.0.1');
    servers.push(server);
    const lookup = lookupAnswering('127.0.0.3', '::1', '127.0.0.1');

    // Act
    const outcomes = await probeTarget(parseTarget(`first.certwatch.test:${server.port}`), {
      timeoutMs: TIMEOUT_MS,
      firstAddressOnly: true,
      lookup,
    });

    // Assess
    expect(outcomes.map((o) => [o.address, o.error])).toEqual([['127.0.0.1', null]]);
  });

  it('probes an IP-literal target without DNS and without SNI', async () => {
    // Prepare
    const server = await tlsServerOn('127.0.0.1');
    servers.push(server);
    const lookup = lookupAnswering('192.0.2.1');

    // Act
    const outcomes = await probeTarget(parseTarget(`127.0.0.1:${server.port}`), { timeoutMs: 5000, lookup });

    // Assess
    expect(lookup.calls).toEqual([]);
    expect(outcomes.map((o) => [o.host, o.address, o.servername, o.error])).toEqual([
      ['127.0.0.1', '127.0.0.1', null, null],
    ]);
  });

  it('turns a DNS failure into a single DNS_ERROR outcome without an address', async () => {
    // Prepare
    const lookup: LookupFunction = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND gone.certwatch.test'), { code: 'ENOTFOUND' });
    };

    // Act
    const outcomes = await probeTarget(parseTarget('gone.certwatch.test'), { timeoutMs: TIMEOUT_MS, lookup });

    // Assess
    expect(outcomes).toEqual([
      {
        host: 'gone.certwatch.test',
        port: 443,
        address: null,
        servername: 'gone.certwatch.test',
        chainDer: [],
        protocol: null,
        cipher: null,
        error: {
          code: 'DNS_ERROR',
          message: 'DNS lookup of gone.certwatch.test failed: no such host (ENOTFOUND)',
        },
        durationMs: expect.any(Number),
      },
    ]);
  });

  it('turns a lookup that never answers into DNS_ERROR', async () => {
    // Prepare
    const lookup: LookupFunction = () => new Promise(() => {});

    // Act
    const outcomes = await probeTarget(parseTarget('slow.certwatch.test'), {
      timeoutMs: 5000,
      dnsTimeoutMs: 50,
      lookup,
    });

    // Assess
    expect(outcomes.map((o) => [o.address, o.error?.code])).toEqual([[null, 'DNS_ERROR']]);
  });

  it('fails a real .invalid name with DNS_ERROR', async () => {
    // Act
    const outcomes = await probeTarget(parseTarget('certwatch-probe.invalid'), { timeoutMs: 5000 });

    // Assess
    expect(outcomes.map((o) => [o.address, o.error?.code])).toEqual([[null, 'DNS_ERROR']]);
  });

  it('resolves localhost for real and checks it', async () => {
    // Prepare
    const server = await tlsServerOn('127.0.0.1');
    servers.push(server);

    // Act
    const outcomes = await probeTarget(parseTarget(`localhost:${server.port}`), { timeoutMs: 5000 });

    // Assess
    const v4 = outcomes.find((o) => o.address === '127.0.0.1');
    expect(v4).toMatchObject({ servername: 'localhost', error: null });
  });

  it('probes a name with many addresses in bounded batches, and still probes every one', async () => {
    // Prepare: 7 loopback addresses that accept and never answer, all on one port.
    const hosts = Array.from({ length: 7 }, (_, i) => `127.0.0.${i + 1}`);
    const pool = await tarpitPool(hosts);
    servers.push(pool);

    // Act
    const outcomes = await probeTarget(parseTarget(`pool.example:${pool.port}`), {
      timeoutMs: 400,
      lookup: lookupAnswering(...hosts),
      maxParallelAddresses: 3,
    });

    // Assess
    expect(outcomes.map((o) => [o.address, o.error?.code])).toEqual(hosts.map((h) => [h, 'TIMEOUT']));
    // Three waves: a connection of the next wave only starts once one of the last wave timed out.
    const at = pool.acceptedAt();
    expect(at).toHaveLength(7);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps.map((gap) => gap >= 250)).toEqual([false, false, true, false, false, true]);
  });

  it('probes a pinned address instead of resolving the host, still naming the host in SNI', async () => {
    // Prepare
    const server = await startTlsServer({
      host: '127.0.0.1',
      chainPem: pki.leaf.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    servers.push(server);
    const lookup = lookupAnswering('192.0.2.1');

    // Act
    const outcomes = await probeTarget(parseTarget(`pinned.certwatch.test:${server.port}`), {
      timeoutMs: 5000,
      address: '127.0.0.1',
      lookup,
    });

    // Assess
    expect(lookup.calls).toEqual([]);
    expect(outcomes.map((o) => [o.host, o.address, o.servername, o.error])).toEqual([
      ['pinned.certwatch.test', '127.0.0.1', 'pinned.certwatch.test', null],
    ]);
    expect(server.servernames).toEqual(['pinned.certwatch.test']);
  });

  it("resolves a pinned name in the host's place", async () => {
    // Prepare
    const server = await startTlsServer({
      host: '127.0.0.1',
      chainPem: pki.leaf.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    servers.push(server);
    const lookup = lookupAnswering('127.0.0.1');

    // Act
    const outcomes = await probeTarget(parseTarget(`www.certwatch.test:${server.port}`), {
      timeoutMs: 5000,
      address: 'backend.certwatch.test',
      lookup,
    });

    // Assess
    expect(lookup.calls).toEqual(['backend.certwatch.test']);
    expect(outcomes.map((o) => [o.host, o.address, o.servername, o.error])).toEqual([
      ['www.certwatch.test', '127.0.0.1', 'www.certwatch.test', null],
    ]);
  });

  it.each([
    ['a configured SNI', 'sni.certwatch.test', ['sni.certwatch.test']],
    ['no SNI at all', null, []],
  ])('sends %s to every address', async (_case, servername, seen) => {
    // Prepare
    const server = await startTlsServer({
      host: '127.0.0.1',
      chainPem: pki.leaf.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    servers.push(server);

    // Act
    const outcomes = await probeTarget(parseTarget(`named.certwatch.test:${server.port}`), {
      timeoutMs: 5000,
      servername,
      lookup: lookupAnswering('127.0.0.1'),
    });

    // Assess
    expect(outcomes.map((o) => [o.servername, o.error])).toEqual([[servername, null]]);
    expect(server.servernames).toEqual(seen);
  });

  it('hands the protocol to the probe of every address', async () => {
    // Prepare
    const server = await startTlsServer({
      host: '127.0.0.1',
      chainPem: pki.leaf.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    servers.push(server);

    // Act
    const outcomes = await probeTarget(parseTarget(`proto.certwatch.test:${server.port}`), {
      timeoutMs: 5000,
      protocol: 'gopher' as 'tls',
      lookup: lookupAnswering('127.0.0.1', '127.0.0.2'),
    });

    // Assess
    expect(outcomes.map((o) => [o.address, o.error?.message])).toEqual([
      ['127.0.0.1', 'probe error: unknown protocol "gopher"'],
      ['127.0.0.2', 'probe error: unknown protocol "gopher"'],
    ]);
  });
});

/**
 * Tarpits on several loopback addresses sharing one port, recording when each connection arrives. Retries a few ports, as one may be taken on another address.
 */
async function tarpitPool(hosts: readonly string[]): Promise<TestServer & { acceptedAt: () => number[] }> {
  const acceptedAt: number[] = [];
  const sockets = new Set<Socket>();
  const listenOn = (host: string, port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer((socket) => {
        acceptedAt.push(performance.now());
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
      });
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  const closeAll = async (list: readonly Server[]) => {
    for (const s of sockets) s.destroy();
    await Promise.all(list.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  for (let attempt = 1; ; attempt++) {
    const listening: Server[] = [];
    try {
      listening.push(await listenOn(hosts[0]!, 0));
      const address = listening[0]!.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      for (const host of hosts.slice(1)) listening.push(await listenOn(host, port));
      return {
        host: hosts[0]!,
        port,
        acceptedAt: () => [...acceptedAt],
        close: () => closeAll(listening),
      };
    } catch (error) {
      await closeAll(listening);
      if (attempt === 5) throw error;
    }
  }
}
