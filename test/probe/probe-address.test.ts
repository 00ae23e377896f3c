import { connect as tlsConnect } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeOutcome } from '../../lambdas/core/model';
import { type ProbeAddressOptions, probeAddress } from '../../lambdas/probe/probe-address';
import { makeCert, makePki, type TestCert, type TestPki } from '../support/cert-factory';
import {
  NOT_TLS_PAYLOADS,
  startClosingServer,
  startEndlessServer,
  startEnormousChainServer,
  startGarbageServer,
  startRawCertificateServer,
  startTarpit,
  startTlsServer,
  startTrickler,
  type TestServer,
} from '../support/tls-test-servers';

const SHORT_TIMEOUT_MS = 400;
const GENEROUS_TIMEOUT_MS = 10_000;

let pki: TestPki;
let stranger: TestCert;
const servers: TestServer[] = [];

beforeAll(() => {
  pki = makePki();
  stranger = makeCert({ cn: 'certwatch Unrelated' });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve<T extends TestServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  servers.push(started);
  return started;
}

function probe(server: TestServer, overrides: Partial<ProbeAddressOptions> = {}): Promise<ProbeOutcome> {
  return probeAddress({
    host: 'localhost',
    port: server.port,
    address: server.host,
    servername: 'localhost',
    timeoutMs: GENEROUS_TIMEOUT_MS,
    ...overrides,
  });
}

/** Certificates as names, so a failure reads "leaf, intermediate" rather than bytes. */
function names(chain: readonly Uint8Array[]): string[] {
  const known: [string, Buffer][] = [
    ['leaf', pki.leaf.der],
    ['intermediate', pki.intermediate.der],
    ['root', pki.root.der],
    ['stranger', stranger.der],
  ];
  return chain.map((der) => known.find(([, k]) => k.equals(der))?.[0] ?? `unknown(${der.length} bytes)`);
}

/** What Node's own API reports for the same server, to show what the probe does differently. */
function nodeLinkedChain(port: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
    });
    socket.on('error', reject);
    socket.on('secureConnect', () => {
      const chain: Buffer[] = [];
      const seen = new Set<object>();
      for (let c = socket.getPeerCertificate(true); c?.raw && !seen.has(c); c = c.issuerCertificate) {
        seen.add(c);
        chain.push(c.raw);
      }
      socket.destroy();
      resolve(chain);
    });
  });
}

describe('probeAddress', () => {
  describe('against a working TLS server', () => {
    it.each(['TLSv1.2', 'TLSv1.3'] as const)(
      'captures the chain in order, protocol and cipher over %s',
      async (version) => {
        // Prepare
        const server = await serve(
          startTlsServer({
            chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
            keyPem: pki.leaf.key.privateKeyPem,
            maxVersion: version,
            minVersion: version,
          }),
        );

        // Act
        const outcome = await probe(server);

        // Assess
        expect(outcome).toMatchObject({
          host: 'localhost',
          port: server.port,
          address: '127.0.0.1',
          servername: 'localhost',
          protocol: version,
          error: null,
        });
        expect(outcome.cipher).toMatch(/^TLS_[A-Z0-9_]+$/);
        expect(names(outcome.chainDer)).toEqual(['leaf', 'intermediate']);
        expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
      },
    );

    it.each(['TLSv1.2', 'TLSv1.3'] as const)(
      'reports the chain as sent, misordered and with an unrelated extra, over %s',
      async (version) => {
        // Prepare
        const server = await serve(
          startTlsServer({
            chainPem: [pki.leaf.certPem, stranger.certPem, pki.intermediate.certPem],
            keyPem: pki.leaf.key.privateKeyPem,
            maxVersion: version,
            minVersion: version,
          }),
        );

        // Act
        const outcome = await probe(server);
        const nodeView = await nodeLinkedChain(server.port);

        // Assess
        expect(names(outcome.chainDer)).toEqual(['leaf', 'stranger', 'intermediate']);
        expect(names(nodeView)).toEqual(['leaf', 'intermediate']);
      },
    );

    it.each(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'])(
      'opens the TLS 1.3 flight encrypted with %s',
      async (suite) => {
        // Prepare
        const server = await serve(
          startTlsServer({
            chainPem: [pki.leaf.certPem, stranger.certPem, pki.intermediate.certPem],
            keyPem: pki.leaf.key.privateKeyPem,
            minVersion: 'TLSv1.3',
            ciphers: suite,
          }),
        );

        // Act
        const outcome = await probe(server);

        // Assess
        expect(outcome.cipher).toBe(suite);
        expect(names(outcome.chainDer)).toEqual(['leaf', 'stranger', 'intermediate']);
      },
    );

    it('reads the TLS 1.3 flight after a HelloRetryRequest', async () => {
      // Prepare
      const server = await serve(
        startTlsServer({
          chainPem: [pki.leaf.certPem, stranger.certPem, pki.intermediate.certPem],
          keyPem: pki.leaf.key.privateKeyPem,
          minVersion: 'TLSv1.3',
          ecdhCurve: 'P-256',
        }),
      );

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ protocol: 'TLSv1.3', error: null });
      expect(names(outcome.chainDer)).toEqual(['leaf', 'stranger', 'intermediate']);
    });

    it.each(['TLSv1', 'TLSv1.1'] as const)('still reads a server that only speaks %s', async (version) => {
      // Prepare
      const server = await serve(
        startTlsServer({
          chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
          keyPem: pki.leaf.key.privateKeyPem,
          minVersion: version,
          maxVersion: version,
          ciphers: 'DEFAULT:@SECLEVEL=0',
        }),
      );

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ protocol: version, error: null });
      expect(names(outcome.chainDer)).toEqual(['leaf', 'intermediate']);
    });

    it('sends the servername as SNI', async () => {
      // Prepare
      const server = await serve(
        startTlsServer({ chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem }),
      );

      // Act
      const outcome = await probe(server, { servername: 'sni.certwatch.test' });

      // Assess
      expect(outcome).toMatchObject({ servername: 'sni.certwatch.test', error: null });
      expect(server.servernames).toEqual(['sni.certwatch.test']);
    });

    it('sends no SNI for an IP-literal target', async () => {
      // Prepare
      const server = await serve(
        startTlsServer({ chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem }),
      );

      // Act
      const outcome = await probe(server, { host: '127.0.0.1', servername: null });

      // Assess
      expect(outcome).toMatchObject({ host: '127.0.0.1', servername: null, error: null });
      expect(names(outcome.chainDer)).toEqual(['leaf']);
      // The handshake completed, so the server has processed the ClientHello: no SNI callback means no SNI.
      expect(server.connections()).toBe(1);
      expect(server.servernames).toEqual([]);
    });

    it('connects over IPv6 loopback', async () => {
      // Prepare
      const server = await serve(
        startTlsServer({ host: '::1', chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem }),
      );

      // Act
      const outcome = await probe(server, { host: '::1', address: '::1', servername: null });

      // Assess
      expect(outcome).toMatchObject({ address: '::1', error: null });
      expect(names(outcome.chainDer)).toEqual(['leaf']);
    });
  });

  describe('against a server that wants a client certificate (mutual TLS)', () => {
    const mutualTls = (clientCertificate: 'required' | 'optional', maxVersion?: 'TLSv1.2') =>
      serve(
        startTlsServer({
          chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
          keyPem: pki.leaf.key.privateKeyPem,
          clientCertificate,
          ...(maxVersion ? { maxVersion } : {}),
        }),
      );

    it('reads the chain and reports CLIENT_CERT_REQUIRED when TLS 1.2 rejects the missing client certificate', async () => {
      // Prepare
      const server = await mutualTls('required', 'TLSv1.2');

      // Act
      const outcome = await probe(server);

      // Assess
      expect(names(outcome.chainDer)).toEqual(['leaf', 'intermediate']);
      expect(outcome.error?.code).toBe('CLIENT_CERT_REQUIRED');
      expect(outcome.error?.message).toMatch(
        /^127\.0\.0\.1:\d+ requires a client certificate: it asked for one and ended the handshake without it \(.+\); the certificate it sent was checked$/,
      );
    });

    it('completes over TLS 1.3, where the server rejects only after the handshake', async () => {
      // Prepare
      const server = await mutualTls('required');

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: null, protocol: 'TLSv1.3' });
      expect(names(outcome.chainDer)).toEqual(['leaf', 'intermediate']);
    });

    it('completes when the client certificate is optional', async () => {
      // Prepare
      const server = await mutualTls('optional', 'TLSv1.2');

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: null, protocol: 'TLSv1.2' });
      expect(names(outcome.chainDer)).toEqual(['leaf', 'intermediate']);
    });
  });

  describe('when nothing accepts the connection', () => {
    it('reports CONNECTION_REFUSED', async () => {
      // Prepare
      const closed = await startTarpit();
      await closed.close();

      // Act
      const outcome = await probe(closed);

      // Assess
      expect(outcome).toMatchObject({
        error: { code: 'CONNECTION_REFUSED' },
        chainDer: [],
        protocol: null,
        cipher: null,
      });
      expect(outcome.error?.message).toContain(`127.0.0.1:${closed.port}`);
    });
  });

  describe('against servers that stall', () => {
    it('times out on a server that never answers', async () => {
      // Prepare
      const server = await serve(startTarpit());

      // Act
      const outcome = await probe(server, { timeoutMs: SHORT_TIMEOUT_MS });

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'TIMEOUT' }, chainDer: [], protocol: null });
      expect(outcome.error?.message).toContain('(0 bytes received)');
    });

    it('times out on a server that trickles a record forever', async () => {
      // Prepare
      const server = await serve(startTrickler({ intervalMs: 50 }));

      // Act
      const outcome = await probe(server, { timeoutMs: SHORT_TIMEOUT_MS });

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'TIMEOUT' }, chainDer: [] });
      expect(outcome.error?.message).toContain('TLS handshake not complete');
    });
  });

  describe('against servers that do not speak TLS', () => {
    it.each([
      ['an HTTP response', NOT_TLS_PAYLOADS.http, 'after-client-hello', 'close', 'HTTP/1.1 400 Bad'],
      ['an SSH banner', NOT_TLS_PAYLOADS.ssh, 'on-connect', 'hang', 'SSH-2.0-OpenSSH_'],
      ['an SMTP greeting', NOT_TLS_PAYLOADS.smtp, 'on-connect', 'close', '220 mail.example'],
    ] as const)('reports NOT_TLS for %s', async (_, payload, when, afterwards, preview) => {
      // Prepare
      const server = await serve(startGarbageServer({ payload, when, afterwards }));

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'NOT_TLS' }, chainDer: [] });
      expect(outcome.error?.message).toContain(JSON.stringify(preview));
    });
  });

  describe('against servers that hang up', () => {
    it.each([
      [
        'closes after the ClientHello',
        { mode: 'close' },
        'closed the connection before sending any TLS data',
      ],
      ['resets after the ClientHello', { mode: 'reset' }, 'reset the connection before sending any TLS data'],
      [
        'closes after its ServerHello',
        { afterServerHello: true },
        'closed the connection during the TLS handshake',
      ],
    ] as const)('reports HANDSHAKE_FAILED when the server %s', async (_, options, message) => {
      // Prepare
      const server = await serve(startClosingServer(options));

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'HANDSHAKE_FAILED' }, chainDer: [] });
      expect(outcome.error?.message).toContain(message);
    });
  });

  describe('against servers that send too much', () => {
    it('stops reading a server that sends endless garbage', async () => {
      // Prepare
      const server = await serve(startEndlessServer({ kind: 'garbage' }));

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'NOT_TLS' }, chainDer: [] });
    });

    it('stops reading a Certificate message that never ends', async () => {
      // Prepare
      const server = await serve(startEndlessServer({ kind: 'certificate' }));

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'HANDSHAKE_FAILED' }, chainDer: [] });
    });

    it('fails cleanly on a multi-megabyte chain', async () => {
      // Prepare
      const server = await serve(startEnormousChainServer({ certificate: pki.leaf.der, count: 4000 }));

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'HANDSHAKE_FAILED' }, chainDer: [] });
      expect(outcome.error?.message).toContain('excessive message size');
    });

    it('keeps a long chain that fits the budget', async () => {
      // Prepare
      const server = await serve(startEnormousChainServer({ certificate: pki.leaf.der, count: 60 }));

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome.error?.code).toBe('HANDSHAKE_FAILED');
      expect(names(outcome.chainDer)).toEqual(new Array(60).fill('leaf'));
    });

    it('drops a chain larger than its budget instead of growing', async () => {
      // Prepare
      const server = await serve(startEnormousChainServer({ certificate: pki.leaf.der, count: 60 }));

      // Act
      const outcome = await probe(server, { maxHandshakeBytes: 16 * 1024 });

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'HANDSHAKE_FAILED' }, chainDer: [] });
    });
  });

  describe('against servers that send certificates OpenSSL cannot parse', () => {
    it.each(['TLSv1.2', 'TLSv1.3'] as const)('keeps the raw bytes sent over %s', async (version) => {
      // Prepare
      const truncatedLeaf = pki.leaf.der.subarray(0, pki.leaf.der.length - 40);
      const server = await serve(
        startRawCertificateServer({ version, certificates: [truncatedLeaf, pki.intermediate.der] }),
      );

      // Act
      const outcome = await probe(server);

      // Assess
      expect(outcome).toMatchObject({ error: { code: 'HANDSHAKE_FAILED' }, protocol: null, cipher: null });
      expect(outcome.error?.message).toContain('after the server sent 2 certificates');
      expect(outcome.chainDer.map((c) => Buffer.from(c))).toEqual([truncatedLeaf, pki.intermediate.der]);
    });

    it.each(['TLSv1.2', 'TLSv1.3'] as const)(
      'keeps bytes that are not DER at all over %s',
      async (version) => {
        // Prepare
        const junk = Buffer.from('-----BEGIN CERTIFICATE----- this is not DER');
        const server = await serve(startRawCertificateServer({ version, certificates: [junk] }));

        // Act
        const outcome = await probe(server);

        // Assess
        expect(outcome.error?.code).toBe('HANDSHAKE_FAILED');
        expect(outcome.chainDer.map((c) => Buffer.from(c))).toEqual([junk]);
      },
    );

    it('keeps the chain when the handshake stalls after the Certificate message', async () => {
      // Prepare
      const server = await serve(
        startRawCertificateServer({ version: 'TLSv1.3', certificates: [pki.leaf.der, pki.intermediate.der] }),
      );

      // Act (the deadline must leave time for the flight to arrive on a busy machine)
      const outcome = await probe(server, { timeoutMs: 1000 });

      // Assess
      expect(outcome.error?.code).toBe('TIMEOUT');
      expect(names(outcome.chainDer)).toEqual(['leaf', 'intermediate']);
    });
  });
});
