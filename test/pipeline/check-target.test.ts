/**
 * The check pipeline hands one probe-settings object from its callers (the CLI's options, an
 * endpoint from the inventory) to the probe, and dates every result with the injected clock.
 * Real TLS servers on loopback, the embedded DynamoDB for the inventory round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore, type TrustStore } from '../../lambdas/cert/trust-store';
import type { Endpoint } from '../../lambdas/core/model';
import { parseTarget } from '../../lambdas/core/parse-target';
import {
  type CheckOptions,
  checkAddress,
  checkTarget,
  checkTargets,
} from '../../lambdas/pipeline/check-target';
import { runCycle } from '../../lambdas/pipeline/run-cycle';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { makePki, type TestPki } from '../support/cert-factory';
import { startTlsServer, type TlsTestServer } from '../support/tls-test-servers';

const DAY = 86_400_000;

let pki: TestPki;
let trust: TrustStore;
let server: TlsTestServer;
const clockAt = (ms: number) => () => new Date(ms);

beforeAll(async () => {
  pki = makePki({ dnsNames: ['localhost', 'pinned.certwatch.test', 'sni.certwatch.test'] });
  trust = loadTrustStore({ extraCaPem: pki.root.certPem, includeSystemRoots: false });
  server = await startTlsServer({
    chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
    keyPem: pki.leaf.key.privateKeyPem,
  });
});

afterAll(async () => {
  await server.close();
});

/** SNI names the server received since `mark` (its length before the act). */
function sniSince(mark: number): readonly string[] {
  return server.servernames.slice(mark);
}

function options(overrides: Partial<CheckOptions> = {}): CheckOptions {
  return {
    timeoutMs: 5000,
    thresholds: { warnDays: 30, criticalDays: 7 },
    firstAddressOnly: false,
    trust,
    ...overrides,
  };
}

describe('checkAddress', () => {
  it('probes with the settings it is given and dates the result with the injected clock', async () => {
    // Prepare
    const now = Date.now() + 2 * DAY;
    const mark = server.servernames.length;

    // Act
    const result = await checkAddress(
      parseTarget(`localhost:${server.port}`),
      '127.0.0.1',
      options({ servername: 'sni.certwatch.test', now: clockAt(now) }),
    );

    // Assess
    expect(result.checkedAt).toBe(new Date(now).toISOString());
    expect(result.servername).toBe('sni.certwatch.test');
    expect(sniSince(mark)).toEqual(['sni.certwatch.test']);
    expect(result.status).toBe('ok');
  });

  it('reports an unknown protocol through the probe rather than failing internally', async () => {
    // Act
    const result = await checkAddress(
      parseTarget(`localhost:${server.port}`),
      '127.0.0.1',
      options({ protocol: 'gopher' as 'tls' }),
    );

    // Assess
    expect(result.findings.map((f) => [f.code, f.message])).toEqual([
      ['HANDSHAKE_FAILED', 'probe error: unknown protocol "gopher"'],
    ]);
  });
});

describe('checkTarget and checkTargets', () => {
  it('probe a pinned address without DNS and date every result with the injected clock', async () => {
    // Prepare
    const now = Date.parse('2031-02-03T04:05:06.000Z');
    const targets = [parseTarget(`pinned.certwatch.test:${server.port}`)];
    const mark = server.servernames.length;

    // Act
    const single = await checkTarget(targets[0]!, options({ address: '127.0.0.1', now: clockAt(now) }));
    const many = await checkTargets(targets, {
      ...options({ address: '127.0.0.1', now: clockAt(now) }),
      concurrency: 2,
    });

    // Assess
    for (const results of [single, many.flat()]) {
      expect(results.map((r) => [r.address, r.servername, r.checkedAt])).toEqual([
        ['127.0.0.1', 'pinned.certwatch.test', '2031-02-03T04:05:06.000Z'],
      ]);
    }
    // The fixed clock is years ahead: the certificate is judged at that time, not the system's.
    expect(single[0]!.status).toBe('expired');
    expect(sniSince(mark)).toEqual(['pinned.certwatch.test', 'pinned.certwatch.test']);
  });
});

describe("an endpoint's probe settings through dispatch, the inventory and the checker", () => {
  let embedded: EmbeddedStateStore;

  beforeAll(async () => {
    embedded = await openEmbeddedStateStore({});
  });

  afterAll(async () => {
    await embedded.close();
  });

  it('reach the probe of every address', async () => {
    // Prepare
    const endpoint: Endpoint = {
      id: `pinned.certwatch.test:${server.port}`,
      host: 'pinned.certwatch.test',
      port: server.port,
      name: 'pinned',
      owner: null,
      tags: [],
      channels: [],
      timeoutMs: 5000,
      address: '127.0.0.1',
      servername: 'sni.certwatch.test',
      protocol: 'tls',
      policy: {
        thresholdsDays: [30],
        expiry: { warnDays: 30, criticalDays: 7 },
        failuresBeforeAlert: 2,
        renotifyIntervalMs: DAY,
      },
    };
    const resolved: string[] = [];
    const mark = server.servernames.length;

    // Act
    const cycle = await runCycle(
      {
        store: embedded.store,
        sink: { channelsFor: () => [], deliver: async () => [] },
        trust,
        now: () => new Date(),
        resolve: async (host) => {
          resolved.push(host);
          return { error: 'no DNS in this test' };
        },
      },
      [endpoint],
      { concurrency: 1, intervalMs: DAY },
    );

    // Assess
    expect(resolved).toEqual([]);
    expect(await embedded.store.getEndpoint(endpoint.id)).toMatchObject({
      address: '127.0.0.1',
      servername: 'sni.certwatch.test',
      protocol: 'tls',
    });
    expect(cycle.results.map((r) => [r.address, r.servername, r.status])).toEqual([
      ['127.0.0.1', 'sni.certwatch.test', 'ok'],
    ]);
    expect(sniSince(mark)).toEqual(['sni.certwatch.test']);
  });
});
