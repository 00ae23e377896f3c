/**
 * The AIA caIssuers fetcher against a real HTTP server on 127.0.0.1: what it accepts (DER,
 * PKCS#7, PEM, redirects), what it refuses (other schemes, loopback by default, oversize,
 * garbage), its deadline and its cache. No assertion is about timing: a slow server is cut off
 * by the deadline, and the test asserts only how the fetch ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaIssuersFetcherSettings,
  certificatesFromIssuerResponse,
  createCaIssuersFetcher,
} from '../../lambdas/probe/fetch-ca-issuers';
import { makePki, type TestPki } from '../support/cert-factory';
import { type FileReply, type HttpFileServer, startHttpFileServer } from '../support/http-file-server';

const SIGNED_DATA = '06092a864886f70d010702';
const DATA = '06092a864886f70d010701';

/** A DER TLV with a definite length. */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

/** A certs-only PKCS#7 SignedData (a `.p7c`), DER. */
function p7c(...certs: Buffer[]): Buffer {
  const signedData = tlv(
    0x30,
    Buffer.from('020101', 'hex'), // version
    Buffer.from('3100', 'hex'), // digestAlgorithms
    tlv(0x30, Buffer.from(DATA, 'hex')), // encapContentInfo
    tlv(0xa0, ...certs), // certificates [0] IMPLICIT
    Buffer.from('3100', 'hex'), // signerInfos
  );
  return tlv(0x30, Buffer.from(SIGNED_DATA, 'hex'), tlv(0xa0, signedData));
}

/** The same with BER indefinite lengths, as some Windows tools write it. */
function p7cIndefinite(...certs: Buffer[]): Buffer {
  const open = (tag: number) => Buffer.from([tag, 0x80]);
  const eoc = Buffer.from([0, 0]);
  return Buffer.concat([
    open(0x30),
    Buffer.from(SIGNED_DATA, 'hex'),
    open(0xa0),
    open(0x30),
    Buffer.from('0201013100', 'hex'),
    tlv(0x30, Buffer.from(DATA, 'hex')),
    open(0xa0),
    ...certs,
    eoc,
    Buffer.from('3100', 'hex'),
    eoc,
    eoc,
    eoc,
  ]);
}

const hex = (bytes: readonly Uint8Array[]) => bytes.map((b) => Buffer.from(b).toString('hex'));

let pki: TestPki;
let other: TestPki;

beforeAll(() => {
  pki = makePki();
  other = makePki();
});

describe('certificatesFromIssuerResponse', () => {
  const pem = (der: Buffer, label: string) =>
    `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
  const cases: [string, () => Uint8Array, () => Buffer[]][] = [
    ['one DER certificate', () => pki.intermediate.der, () => [pki.intermediate.der]],
    ['PKCS#7 with one certificate', () => p7c(pki.intermediate.der), () => [pki.intermediate.der]],
    [
      'PKCS#7 with several certificates, in order',
      () => p7c(pki.intermediate.der, pki.root.der),
      () => [pki.intermediate.der, pki.root.der],
    ],
    [
      'PKCS#7 with BER indefinite lengths',
      () => p7cIndefinite(pki.intermediate.der, pki.root.der),
      () => [pki.intermediate.der, pki.root.der],
    ],
    [
      'a PEM certificate',
      () => Buffer.from(pem(pki.intermediate.der, 'CERTIFICATE')),
      () => [pki.intermediate.der],
    ],
    [
      'PEM PKCS#7 and a PEM certificate',
      () => Buffer.from(pem(p7c(pki.intermediate.der), 'PKCS7') + pem(pki.root.der, 'CERTIFICATE')),
      () => [pki.intermediate.der, pki.root.der],
    ],
  ];
  it.each(cases)('reads %s', (_name, body, expected) => {
    // Act
    const result = certificatesFromIssuerResponse(body());
    // Assess
    expect(result.error).toBeNull();
    expect(hex(result.certificates)).toEqual(hex(expected()));
  });

  const refused: [string, () => Uint8Array, string][] = [
    ['an empty body', () => new Uint8Array(), 'the response is empty'],
    ['HTML', () => Buffer.from('<html>Not here</html>'), 'the response is not usable: it is neither a DER'],
    ['a truncated header', () => Buffer.from([0x30]), 'the response is not usable: it is neither a DER'],
    ['an INTEGER', () => Buffer.from('020101', 'hex'), 'the response is not usable: it is neither a DER'],
    [
      'PKCS#7 data rather than signedData',
      () => tlv(0x30, Buffer.from(DATA, 'hex'), tlv(0xa0, Buffer.from('0400', 'hex'))),
      'the response is not usable: it is PKCS#7 of type 1.2.840.113549.1.7.1, not signedData',
    ],
    ['PKCS#7 without certificates', () => p7c(), 'the response holds no certificate'],
    [
      'PEM holding only a key',
      () => Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      'the response is PEM without a certificate',
    ],
  ];
  it.each(refused)('refuses %s', (_name, body, error) => {
    // Act
    const result = certificatesFromIssuerResponse(body());
    // Assess
    expect(result.certificates).toEqual([]);
    expect(result.error).toContain(error);
  });

  it('takes at most maxCertificates from a bundle', () => {
    // Act
    const result = certificatesFromIssuerResponse(p7c(pki.intermediate.der, pki.root.der, other.root.der), 2);
    // Assess
    expect(hex(result.certificates)).toEqual(hex([pki.intermediate.der, pki.root.der]));
  });
});

describe('createCaIssuersFetcher', () => {
  let server: HttpFileServer;
  const routes: Record<string, FileReply> = {};
  const loopback = (settings: CaIssuersFetcherSettings = {}) =>
    createCaIssuersFetcher({ allowLoopback: true, ...settings });
  const hits = (path: string) => server.requests.filter((r) => r.path === path).length;

  beforeAll(async () => {
    Object.assign(routes, {
      '/int.der': { body: pki.intermediate.der },
      '/int.p7c': {
        body: p7c(pki.intermediate.der, pki.root.der),
        headers: { 'content-type': 'application/pkcs7-mime' },
      },
      '/missing.der': { status: 404 },
      '/garbage.der': { body: Buffer.from('<html>moved</html>') },
      '/exactly-64k.der': { body: Buffer.alloc(64 * 1024, 0x41) },
      '/declared-too-large.der': {
        body: Buffer.alloc(64 * 1024 + 1),
        headers: { 'content-length': String(64 * 1024 + 1) },
      },
      '/endless.der': { body: Buffer.alloc(4 * 1024 * 1024, 0x30) },
      '/slow.der': { drip: Buffer.from([0x30]), intervalMs: 20 },
      '/hang.der': { hang: true },
      '/redirect-once': { status: 302, headers: { location: '/int.der' } },
      '/redirect-3': { status: 301, headers: { location: '/redirect-2' } },
      '/redirect-2': { status: 307, headers: { location: '/redirect-1' } },
      '/redirect-1': { status: 308, headers: { location: '/int.der' } },
      '/redirect-4': { status: 302, headers: { location: '/redirect-3' } },
      '/redirect-loop': { status: 302, headers: { location: '/redirect-loop' } },
      '/redirect-https': { status: 302, headers: { location: 'https://127.0.0.1/int.der' } },
      '/redirect-nowhere': { status: 302 },
    } satisfies Record<string, FileReply>);
    server = await startHttpFileServer((path) => routes[path.split('?')[0]!]);
  });

  afterAll(async () => {
    await server.close();
  });

  describe('fetching', () => {
    const cases: [string, string, () => Buffer[]][] = [
      ['DER', '/int.der', () => [pki.intermediate.der]],
      ['PKCS#7', '/int.p7c', () => [pki.intermediate.der, pki.root.der]],
      ['a redirect', '/redirect-once', () => [pki.intermediate.der]],
      ['three redirects', '/redirect-3', () => [pki.intermediate.der]],
    ];
    it.each(cases)('%s', async (_name, path, expected) => {
      // Act
      const result = await loopback()(server.url(path), { timeoutMs: 5000 });
      // Assess
      expect(result.error).toBeNull();
      expect(hex(result.certificates)).toEqual(hex(expected()));
    });

    it('reads a body of exactly the limit', async () => {
      // Act
      const result = await loopback()(server.url('/exactly-64k.der'), { timeoutMs: 5000 });
      // Assess: 64 KB were read and judged, not refused for size.
      expect(result.error).toMatch(/^the response is not usable/);
    });
  });

  describe('failures are data', () => {
    const cases: [string, string, string][] = [
      ['404', '/missing.der', 'HTTP 404'],
      ['garbage', '/garbage.der', 'the response is not usable: it is neither a DER certificate nor PKCS#7'],
      ['a declared oversize body', '/declared-too-large.der', 'the response is larger than 65536 bytes'],
      ['an undeclared oversize body', '/endless.der', 'the response is larger than 65536 bytes'],
      ['four redirects', '/redirect-4', 'more than 3 redirects'],
      ['a redirect loop', '/redirect-loop', 'more than 3 redirects'],
      ['a redirect to https', '/redirect-https', 'redirected: only http:// URLs are fetched, not https:'],
      ['a redirect without Location', '/redirect-nowhere', 'HTTP 302 without a Location'],
    ];
    it.each(cases)('%s', async (_name, path, error) => {
      // Act
      const result = await loopback()(server.url(path), { timeoutMs: 5000 });
      // Assess
      expect(result).toEqual({ certificates: [], error });
    });

    it('stops reading an oversize body', async () => {
      // Prepare
      const mark = server.requests.length;
      // Act
      await loopback()(server.url('/endless.der'), { timeoutMs: 5000 });
      await expect.poll(() => server.requests[mark]?.cutOff).toBe(true);
      // Assess: the client hung up long before the 4 MB were sent.
      expect(server.requests[mark]!.bytesSent).toBeLessThan(4 * 1024 * 1024);
    });

    const deadlines: [string, string][] = [
      ['a server that never answers', '/hang.der'],
      ['a body that never ends', '/slow.der'],
    ];
    it.each(deadlines)('gives up on %s at the deadline', async (_name, path) => {
      // Act
      const result = await loopback()(server.url(path), { timeoutMs: 300 });
      // Assess
      expect(result).toEqual({ certificates: [], error: 'timed out after 300 ms' });
    });

    it('does not start without time left', async () => {
      // Prepare
      const mark = server.requests.length;
      // Act
      const result = await loopback()(server.url('/int.der'), { timeoutMs: 0 });
      // Assess
      expect(result).toEqual({ certificates: [], error: 'no time left before the deadline' });
      expect(server.requests.length).toBe(mark);
    });

    const refusedUrls: [string, string][] = [
      ['https://127.0.0.1/int.der', 'only http:// URLs are fetched, not https:'],
      ['ldap://ldap.example.com/cn=CA?cACertificate', 'only http:// URLs are fetched, not ldap:'],
      ['file:///etc/passwd', 'only http:// URLs are fetched, not file:'],
      ['not a url', 'not a url is not a URL'],
      ['http://169.254.169.254/latest/meta-data/', 'not fetched from 169.254.169.254: a link-local address'],
      ['http://[fe80::1]/x', 'not fetched from fe80::1: a link-local address'],
      ['http://0.0.0.0/x', 'not fetched from 0.0.0.0: an unspecified address'],
      ['http://[::ffff:169.254.169.254]/x', 'not fetched from ::ffff:a9fe:a9fe: a link-local address'],
      ['http://[fd00:ec2::254]/x', 'not fetched from fd00:ec2::254: an instance metadata address'],
    ];
    it.each(refusedUrls)('refuses %s', async (url, error) => {
      // Act
      const result = await loopback()(url, { timeoutMs: 5000 });
      // Assess
      expect(result).toEqual({ certificates: [], error });
    });

    const loopbackUrls: [string, string][] = [
      ['127.0.0.1', 'not fetched from 127.0.0.1: a loopback address'],
      ['localhost', 'not fetched from 127.0.0.1: a loopback address'],
    ];
    it.each(loopbackUrls)('refuses loopback (%s) unless allowed', async (host, error) => {
      // Prepare
      const mark = server.requests.length;
      // Act
      const result = await createCaIssuersFetcher()(`http://${host}:${server.port}/int.der`, {
        timeoutMs: 5000,
      });
      // Assess
      expect(result).toEqual({ certificates: [], error });
      expect(server.requests.length).toBe(mark);
    });
  });

  describe('cache', () => {
    it('fetches a URL once and serves it from the cache until it expires', async () => {
      // Prepare
      let now = 1_000_000;
      const fetcher = loopback({ now: () => now, successTtlMs: 10_000 });
      const url = server.url('/int.der?cache-success');
      const before = hits('/int.der?cache-success');
      // Act
      const first = await fetcher(url, { timeoutMs: 5000 });
      const second = await fetcher(url, { timeoutMs: 5000 });
      now += 10_000;
      const third = await fetcher(url, { timeoutMs: 5000 });
      // Assess
      expect(hits('/int.der?cache-success') - before).toBe(2);
      expect(second).toEqual(first);
      expect(third).toEqual(first);
    });

    it('remembers a failure for failureTtlMs only', async () => {
      // Prepare
      let now = 1_000_000;
      const fetcher = loopback({ now: () => now, failureTtlMs: 1000 });
      const url = server.url('/missing.der?cache-failure');
      // Act
      await fetcher(url, { timeoutMs: 5000 });
      const cached = await fetcher(url, { timeoutMs: 5000 });
      now += 1000;
      await fetcher(url, { timeoutMs: 5000 });
      // Assess
      expect(cached.error).toBe('HTTP 404');
      expect(hits('/missing.der?cache-failure')).toBe(2);
    });

    it('does not remember a timeout: a later check with more time tries again', async () => {
      // Prepare
      const fetcher = loopback();
      const url = server.url('/hang.der?cache-timeout');
      // Act
      await fetcher(url, { timeoutMs: 100 });
      await fetcher(url, { timeoutMs: 100 });
      // Assess
      expect(hits('/hang.der?cache-timeout')).toBe(2);
    });

    it('evicts the least recently used URL beyond cacheEntries', async () => {
      // Prepare
      const fetcher = loopback({ cacheEntries: 2 });
      const url = (n: string) => server.url(`/int.der?lru-${n}`);
      // Act: a, b, a (a is now the most recent), c evicts b.
      for (const n of ['a', 'b', 'a', 'c', 'a', 'b']) await fetcher(url(n), { timeoutMs: 5000 });
      // Assess
      expect(['a', 'b', 'c'].map((n) => hits(`/int.der?lru-${n}`))).toEqual([1, 2, 1]);
    });

    it('keeps no more than cacheBytes of certificates', async () => {
      // Prepare: room for one intermediate only.
      const fetcher = loopback({ cacheBytes: pki.intermediate.der.length + 100 });
      const url = (n: string) => server.url(`/int.der?bytes-${n}`);
      // Act
      for (const n of ['a', 'b', 'a']) await fetcher(url(n), { timeoutMs: 5000 });
      // Assess
      expect(['a', 'b'].map((n) => hits(`/int.der?bytes-${n}`))).toEqual([2, 1]);
    });

    it('shares one request among concurrent callers', async () => {
      // Prepare
      const fetcher = loopback();
      const url = server.url('/int.der?in-flight');
      // Act
      const results = await Promise.all([1, 2, 3].map(() => fetcher(url, { timeoutMs: 5000 })));
      // Assess
      expect(hits('/int.der?in-flight')).toBe(1);
      expect(results.map((r) => r.certificates.length)).toEqual([1, 1, 1]);
    });
  });
});
