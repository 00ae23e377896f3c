/**
 * The revocation fetcher against a loopback HTTP server, with an injected cache clock: CRLs kept
 * until their nextUpdate and evicted beyond the byte cap, bodies bounded in size, failures
 * remembered briefly, OCSP sent as a POST of application/ocsp-request.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevocationVerdict } from '../../lambdas/cert/revocation/revocation-verdict';
import { createRevocationFetcher } from '../../lambdas/probe/fetch-revocation';
import { makeCert, type TestCert } from '../support/cert-factory';
import { type HttpFileServer, startHttpFileServer } from '../support/http-file-server';
import { makeCrl } from '../support/ocsp-responder';

const DAY = 86_400_000;
const T0 = Date.now();

let ca: TestCert;
let server: HttpFileServer;
let crlA: Buffer;
let crlB: Buffer;

beforeAll(async () => {
  ca = makeCert({ cn: 'certwatch Fetch CA', isCa: true });
  const spec = {
    issuer: ca,
    revoked: [],
    thisUpdate: new Date(T0 - DAY),
    nextUpdate: new Date(T0 + 2 * DAY),
  };
  crlA = makeCrl(spec);
  crlB = makeCrl({ ...spec, nextUpdate: new Date(T0 + 3 * DAY) });
  server = await startHttpFileServer({
    '/a.crl': { body: crlA },
    '/b.crl': { body: crlB },
    '/big.crl': { body: Buffer.alloc(10_000, 0x30) },
    '/ocsp': {
      body: Buffer.from('30030a0103', 'hex'),
      headers: { 'content-type': 'application/ocsp-response' },
    },
  });
});

afterAll(async () => {
  await server.close();
});

function requestsTo(path: string): number {
  return server.requests.filter((r) => r.path === path).length;
}

describe('createRevocationFetcher', () => {
  it('keeps a CRL until its nextUpdate, then fetches it again', async () => {
    // Prepare
    let now = T0;
    const fetcher = createRevocationFetcher({ allowLoopback: true, now: () => now, maxTtlMs: 7 * DAY });
    const before = requestsTo('/a.crl');

    // Act
    const first = await fetcher.crl(server.url('/a.crl'), { timeoutMs: 2000 });
    now = T0 + DAY;
    const cached = await fetcher.crl(server.url('/a.crl'), { timeoutMs: 2000 });
    now = T0 + 2 * DAY + 1;
    const refetched = await fetcher.crl(server.url('/a.crl'), { timeoutMs: 2000 });

    // Assess
    expect([first, cached, refetched].map((c) => typeof c)).toEqual(['object', 'object', 'object']);
    expect(cached).toBe(first);
    expect(requestsTo('/a.crl') - before).toBe(2);
    expect(fetcher.stats).toMatchObject({ crlRequests: 2, crlCacheHits: 1 });
  });

  it('keeps a CRL no longer than maxTtlMs, whatever its nextUpdate says', async () => {
    // Prepare
    let now = T0;
    const fetcher = createRevocationFetcher({ allowLoopback: true, now: () => now });
    const before = requestsTo('/b.crl');

    // Act: the default cap is 6 hours; the CRL's nextUpdate is 3 days away.
    await fetcher.crl(server.url('/b.crl'), { timeoutMs: 2000 });
    now = T0 + 5 * 3_600_000;
    await fetcher.crl(server.url('/b.crl'), { timeoutMs: 2000 });
    now = T0 + 6 * 3_600_000 + 1;
    await fetcher.crl(server.url('/b.crl'), { timeoutMs: 2000 });

    // Assess
    expect(requestsTo('/b.crl') - before).toBe(2);
    expect(fetcher.stats).toMatchObject({ crlRequests: 2, crlCacheHits: 1 });
  });

  it('evicts the least recently used CRL beyond the byte cap', async () => {
    // Prepare: room for one of the two CRLs only.
    const fetcher = createRevocationFetcher({ allowLoopback: true, crlCacheBytes: crlA.length + 100 });
    const before = requestsTo('/a.crl');

    // Act
    await fetcher.crl(server.url('/a.crl'), { timeoutMs: 2000 });
    await fetcher.crl(server.url('/b.crl'), { timeoutMs: 2000 });
    await fetcher.crl(server.url('/a.crl'), { timeoutMs: 2000 });

    // Assess
    expect(requestsTo('/a.crl') - before).toBe(2);
    expect(fetcher.stats.crlCacheHits).toBe(0);
  });

  it('refuses a CRL larger than maxCrlBytes, and remembers the failure for failureTtlMs', async () => {
    // Prepare
    let now = T0;
    const fetcher = createRevocationFetcher({ allowLoopback: true, maxCrlBytes: 4096, now: () => now });
    const before = requestsTo('/big.crl');

    // Act
    const first = await fetcher.crl(server.url('/big.crl'), { timeoutMs: 2000 });
    const remembered = await fetcher.crl(server.url('/big.crl'), { timeoutMs: 2000 });
    now = T0 + 61_000;
    await fetcher.crl(server.url('/big.crl'), { timeoutMs: 2000 });

    // Assess
    expect(first).toBe(`CRL ${server.url('/big.crl')}: the response is larger than 4096 bytes`);
    expect(remembered).toBe(`CRL ${server.url('/big.crl')}: the response is larger than 4096 bytes`);
    expect(requestsTo('/big.crl') - before).toBe(2);
  });

  it('POSTs the OCSP request and hands the body to the judge', async () => {
    // Prepare
    const fetcher = createRevocationFetcher({ allowLoopback: true });
    const seen: Buffer[] = [];
    const judge = (body: Uint8Array): RevocationVerdict => {
      seen.push(Buffer.from(body));
      return { status: 'unknown', reason: 'the OCSP responder answered tryLater' };
    };

    // Act
    const verdict = await fetcher.ocsp(server.url('/ocsp'), Buffer.from('3000', 'hex'), judge, {
      timeoutMs: 2000,
    });

    // Assess
    expect(verdict).toEqual({
      status: 'unknown',
      reason: `OCSP ${server.url('/ocsp')}: the OCSP responder answered tryLater`,
    });
    expect(seen.map((b) => b.toString('hex'))).toEqual(['30030a0103']);
    expect(server.requests.at(-1)?.headers['content-type']).toBe('application/ocsp-request');
  });

  it('asks a responder over one kept-alive connection, which closeIdleConnections() closes', async () => {
    // Prepare
    const open = new Set<Socket>();
    let connections = 0;
    const responder = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(Buffer.from('30030a0103', 'hex')));
    });
    responder.on('connection', (socket: Socket) => {
      connections++;
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(responder.address() as AddressInfo).port}/`;
    const fetcher = createRevocationFetcher({ allowLoopback: true });
    const judge = (): RevocationVerdict => ({ status: 'unknown', reason: 'tryLater' });

    // Act
    for (let serial = 1; serial <= 5; serial++) {
      await fetcher.ocsp(url, Buffer.from([0x30, 0x01, serial]), judge, { timeoutMs: 2000 });
    }
    const openBeforeClose = open.size;
    fetcher.closeIdleConnections();
    for (let turn = 0; turn < 100 && open.size > 0; turn++) await new Promise((r) => setTimeout(r, 10));
    const openAfterClose = open.size;
    await new Promise<void>((resolve) => responder.close(() => resolve()));

    // Assess
    expect(fetcher.stats.ocspRequests).toBe(5);
    expect(connections).toBe(1);
    expect(openBeforeClose).toBe(1);
    expect(openAfterClose).toBe(0);
  });

  it('refuses loopback unless allowed', async () => {
    // Act
    const refused = await createRevocationFetcher().crl(server.url('/a.crl'), { timeoutMs: 2000 });

    // Assess
    expect(refused).toBe(`CRL ${server.url('/a.crl')}: not fetched from 127.0.0.1: a loopback address`);
  });
});
