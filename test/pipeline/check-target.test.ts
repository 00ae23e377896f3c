/**
 * The check pipeline hands one probe-settings object from its callers (the CLI's options, an
 * endpoint from the inventory) to the probe, and dates every result with the injected clock.
 * Real TLS servers on loopback, the embedded DynamoDB for the inventory round trip.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as buildCheckResultModule from '../../lambdas/cert/build-check-result';
import type { CheckResultWithEvidence } from '../../lambdas/cert/build-check-result';
import { loadTrustStore, type TrustStore } from '../../lambdas/cert/trust-store';
import type { CheckResult, Endpoint } from '../../lambdas/core/model';
import { parseTarget } from '../../lambdas/core/parse-target';
import {
  type CheckOptions,
  checkAddress,
  checkTarget,
  checkTargets,
  completeFromAia,
  MAX_AIA_FETCHES,
} from '../../lambdas/pipeline/check-target';
import { runCycle } from '../../lambdas/pipeline/run-cycle';
import type { CaIssuersFetch, CaIssuersFetcher } from '../../lambdas/probe/fetch-ca-issuers';
import { createRevocationFetcher, type RevocationFetcher } from '../../lambdas/probe/fetch-revocation';
import { createCaIssuersFetcher } from '../../lambdas/probe/fetch-ca-issuers';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { makePki, type TestPki } from '../support/cert-factory';
import { type HttpFileServer, startHttpFileServer } from '../support/http-file-server';
import { startTlsServer, type TlsTestServer } from '../support/tls-test-servers';

// buildCheckResultWithEvidence is wrapped, not replaced: the tests below see what the pipeline handed it.
vi.mock('../../lambdas/cert/build-check-result', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../lambdas/cert/build-check-result')>();
  return { ...actual, buildCheckResultWithEvidence: vi.fn(actual.buildCheckResultWithEvidence) };
});
const buildCheckResultWithEvidence = vi.mocked(buildCheckResultModule.buildCheckResultWithEvidence);

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
      trustFor: () => trust,
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

  it.each([
    { name: 'all checks succeed', internalError: false },
    { name: 'a check fails internally', internalError: true },
  ])(
    "checkTargets closes the revocation fetcher's idle connections once the run ends ($name)",
    async ({ internalError }) => {
      // Prepare
      const real = createRevocationFetcher({ allowLoopback: true });
      let closed = 0;
      const fetcher: RevocationFetcher = {
        ...real,
        stats: real.stats,
        closeIdleConnections: () => {
          closed++;
          real.closeIdleConnections();
        },
      };
      const targets = [
        parseTarget(`a.certwatch.test:${server.port}`),
        parseTarget(`b.certwatch.test:${server.port}`),
      ];

      // Act
      const results = await checkTargets(targets, {
        ...options({ address: '127.0.0.1' }),
        trustFor: () => {
          if (internalError) throw new Error('no trust store');
          return trust;
        },
        concurrency: 2,
        fetchRevocation: fetcher,
      });

      // Assess
      expect(results).toHaveLength(2);
      expect(closed).toBe(1);
    },
  );
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
        trustFor: () => trust,
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

/** A fetcher that serves `files` by URL and records every call. */
function fakeFetcher(files: Readonly<Record<string, readonly Uint8Array[]>>) {
  const calls: { url: string; timeoutMs: number }[] = [];
  const fetcher: CaIssuersFetcher = async (url, { timeoutMs }) => {
    calls.push({ url, timeoutMs });
    const certificates = files[url] ?? [];
    return { certificates, error: certificates.length > 0 ? null : 'HTTP 404' } satisfies CaIssuersFetch;
  };
  return { fetcher, calls };
}

describe('completeFromAia', () => {
  const cert = (n: number) => Uint8Array.of(n);
  /** A verdict whose result records the AIA issuers it was judged with; `urls` null: nothing missing. */
  const verdict = (
    aiaIssuers: readonly Uint8Array[],
    urls: readonly string[] | null,
  ): CheckResultWithEvidence => ({
    result: { target: aiaIssuers.map((c) => c[0]).join(',') } as unknown as CheckResult,
    missingIssuer: urls === null ? null : { caIssuersUrls: urls, issuer: 'CN=Missing', certIndex: 0 },
  });
  /** Each fetched certificate n names the URL of the next issuer, `next`(n). */
  const judgeChain = (next: (fetched: readonly Uint8Array[]) => readonly string[] | null) => {
    const judged: number[][] = [];
    const judge = (aiaIssuers: readonly Uint8Array[]) => {
      judged.push(aiaIssuers.map((c) => c[0]!));
      return verdict(aiaIssuers, next(aiaIssuers));
    };
    return { judge, judged };
  };

  it('fetches the missing issuer and judges again with it', async () => {
    // Prepare
    const { fetcher, calls } = fakeFetcher({ 'http://a/int.der': [cert(1)] });
    const { judge, judged } = judgeChain((fetched) => (fetched.length === 0 ? ['http://a/int.der'] : null));
    // Act
    const result = await completeFromAia(judge([]), judge, fetcher, 5000);
    // Assess
    expect(calls.map((c) => c.url)).toEqual(['http://a/int.der']);
    expect(judged).toEqual([[], [1]]);
    expect(result.target).toBe('1');
  });

  it('tries the next URL when one fails, and keeps the verdict when all fail', async () => {
    // Prepare
    const { fetcher, calls } = fakeFetcher({});
    const { judge, judged } = judgeChain(() => ['http://a/1', 'http://a/2']);
    // Act
    const result = await completeFromAia(judge([]), judge, fetcher, 5000);
    // Assess
    expect(calls.map((c) => c.url)).toEqual(['http://a/1', 'http://a/2']);
    expect(judged).toEqual([[]]);
    expect(result.target).toBe('');
  });

  it('follows issuer after issuer, handing over everything fetched', async () => {
    // Prepare: the leaf's issuer (1) names its own issuer (2), which names nothing missing.
    const { fetcher, calls } = fakeFetcher({ 'http://a/1': [cert(1)], 'http://a/2': [cert(2)] });
    const { judge, judged } = judgeChain(
      (fetched) => [null, ['http://a/2'], null][fetched.length] ?? ['http://a/1'],
    );
    // Act
    const result = await completeFromAia(verdict([], ['http://a/1']), judge, fetcher, 5000);
    // Assess
    expect(calls.map((c) => c.url)).toEqual(['http://a/1', 'http://a/2']);
    expect(judged).toEqual([[1], [1, 2]]);
    expect(result.target).toBe('1,2');
  });

  it('fetches each URL once', async () => {
    // Prepare: the fetched certificate is not the issuer; the analysis asks for the same URL again.
    const { fetcher, calls } = fakeFetcher({ 'http://a/1': [cert(1)] });
    const { judge } = judgeChain(() => ['http://a/1']);
    // Act
    await completeFromAia(judge([]), judge, fetcher, 5000);
    // Assess
    expect(calls.map((c) => c.url)).toEqual(['http://a/1']);
  });

  it(`stops after ${MAX_AIA_FETCHES} URLs on a chain that never ends`, async () => {
    // Prepare: every fetched certificate names yet another URL.
    let n = 0;
    const fetcher: CaIssuersFetcher = async () => ({ certificates: [cert(++n)], error: null });
    const { judge } = judgeChain((fetched) => [`http://a/${fetched.length}`]);
    // Act
    await completeFromAia(judge([]), judge, fetcher, 5000);
    // Assess
    expect(n).toBe(MAX_AIA_FETCHES);
  });

  it('fetches within the budget and not at all without one', async () => {
    // Prepare
    const { fetcher, calls } = fakeFetcher({ 'http://a/1': [cert(1)] });
    const { judge } = judgeChain((fetched) => (fetched.length === 0 ? ['http://a/1'] : null));
    // Act
    await completeFromAia(judge([]), judge, fetcher, 0);
    await completeFromAia(judge([]), judge, fetcher, 1500);
    // Assess
    expect(calls).toHaveLength(1);
    expect(calls[0]!.timeoutMs).toBeGreaterThan(0);
    expect(calls[0]!.timeoutMs).toBeLessThanOrEqual(1500);
  });
});

describe('checkAddress with AIA chain completion', () => {
  let aia: HttpFileServer;
  let privatePki: TestPki;
  let leafOnly: TlsTestServer;
  let privateTrust: TrustStore;
  let aiaUrl: string;

  beforeAll(async () => {
    aia = await startHttpFileServer((path) =>
      path === '/int.der' ? { body: privatePki.intermediate.der } : undefined,
    );
    aiaUrl = aia.url('/int.der');
    privatePki = makePki({ caIssuersUrl: aiaUrl });
    privateTrust = loadTrustStore({ extraCaPem: privatePki.root.certPem, includeSystemRoots: false });
    // The server sends the leaf alone: its intermediate is published only at the AIA URL.
    leafOnly = await startTlsServer({
      chainPem: [privatePki.leaf.certPem],
      keyPem: privatePki.leaf.key.privateKeyPem,
    });
  });

  afterAll(async () => {
    await leafOnly.close();
    await aia.close();
  });

  const check = (fetchCaIssuers: CaIssuersFetcher | null) =>
    checkAddress(
      parseTarget(`localhost:${leafOnly.port}`),
      '127.0.0.1',
      options({ trust: privateTrust, fetchCaIssuers }),
    );

  it("hands the certificates fetched from the leaf's caIssuers URL to the analysis", async () => {
    // Prepare
    const { fetcher, calls } = fakeFetcher({ [aiaUrl]: [privatePki.intermediate.der] });
    buildCheckResultWithEvidence.mockClear();
    // Act
    const result = await check(fetcher);
    // Assess
    expect(calls.map((c) => c.url)).toEqual([aiaUrl]);
    expect(calls[0]!.timeoutMs).toBeLessThanOrEqual(5000);
    expect(buildCheckResultWithEvidence.mock.calls.map(([, opts]) => opts.aiaIssuers)).toEqual([
      undefined,
      [privatePki.intermediate.der],
    ]);
    expect(result.findings.map((f) => f.code)).toEqual(['INCOMPLETE_CHAIN']);
  });

  it('does not fetch when told not to', async () => {
    // Prepare
    const mark = aia.requests.length;
    buildCheckResultWithEvidence.mockClear();
    // Act
    const result = await check(null);
    // Assess
    expect(aia.requests.length).toBe(mark);
    expect(buildCheckResultWithEvidence).toHaveBeenCalledTimes(1);
    // No evidence that an intermediate was omitted: the root is unknown.
    expect(result.findings.map((f) => f.code)).toEqual(['UNTRUSTED_CHAIN']);
  });

  it('end to end: fetches the intermediate over HTTP and reports the omitted intermediate', async () => {
    // Prepare
    const mark = aia.requests.length;
    // Act
    const result = await check(createCaIssuersFetcher({ allowLoopback: true }));
    // Assess
    expect(aia.requests.slice(mark).map((r) => r.path)).toEqual(['/int.der']);
    // The fetched intermediate chains to the trusted root: evidence that the server omitted it.
    expect(result.findings.map((f) => f.code)).toEqual(['INCOMPLETE_CHAIN']);
    expect(result.status).toBe('critical');
  });

  // Without evidence from AIA, a chain that stops short of a trusted root is an unknown root
  // (UNTRUSTED_CHAIN), not INCOMPLETE_CHAIN.
  it('end to end: without the intermediate at its URL, the root is unknown', async () => {
    // Prepare
    const fetcher = createCaIssuersFetcher({ allowLoopback: true });
    const { fetcher: nothing } = fakeFetcher({});
    // Act
    const refused = await check(createCaIssuersFetcher()); // loopback refused: nothing fetched
    const missing = await check(nothing);
    const found = await check(fetcher);
    // Assess
    expect(refused.findings.map((f) => f.code)).toEqual(['UNTRUSTED_CHAIN']);
    expect(missing.findings.map((f) => f.code)).toEqual(['UNTRUSTED_CHAIN']);
    expect(found.findings.map((f) => f.code)).toEqual(['INCOMPLETE_CHAIN']);
  });
});
