import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProbeErrorCode, type ProbeProtocolName, PROBE_PROTOCOLS } from '../../lambdas/core/model';
import { type ProbeAddressOptions, probeAddress } from '../../lambdas/probe/probe-address';
import { makePki, type TestPki } from '../support/cert-factory';
import {
  type HostileBehaviour,
  hostileScript,
  type LoopbackServer,
  protocolScript,
  STARTTLS_PROTOCOLS,
  type StartTlsProtocol,
  startScriptServer,
} from '../support/starttls-servers';

const GENEROUS_TIMEOUT_MS = 10_000;
const SHORT_TIMEOUT_MS = 500;

let pki: TestPki;
const servers: LoopbackServer[] = [];

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(script: Parameters<typeof startScriptServer>[1]): Promise<LoopbackServer> {
  const server = await startScriptServer(
    { chainPem: pki.leaf.certPem + pki.intermediate.certPem, keyPem: pki.leaf.key.privateKeyPem },
    script,
  );
  servers.push(server);
  return server;
}

function probe(
  server: LoopbackServer,
  protocol: ProbeProtocolName,
  overrides: Partial<ProbeAddressOptions> = {},
) {
  return probeAddress({
    host: 'localhost',
    port: server.port,
    address: server.host,
    protocol,
    timeoutMs: GENEROUS_TIMEOUT_MS,
    ...overrides,
  });
}

describe('probeAddress with each STARTTLS protocol', () => {
  it.each(STARTTLS_PROTOCOLS)(
    '%s: runs the exchange, then reads the chain over TLS on the same connection',
    async (protocol) => {
      // Prepare
      const server = await serve(protocolScript(protocol));

      // Act
      const outcome = await probe(server, protocol);

      // Assess
      expect(outcome.error).toBeNull();
      expect(outcome.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(outcome.chainDer.map((der) => Buffer.from(der))).toEqual([pki.leaf.der, pki.intermediate.der]);
      expect(server.servernames).toEqual(['localhost']);
    },
  );

  it.each([
    ['smtp', 'EHLO certwatch.invalid\r\nSTARTTLS\r\n'],
    ['submission', 'EHLO certwatch.invalid\r\nSTARTTLS\r\n'],
    ['imap', 'a1 STARTTLS\r\n'],
    ['pop3', 'STLS\r\n'],
    ['ftp', 'AUTH TLS\r\n'],
    ['postgres', '\x00\x00\x00\x08\x04\xd2\x16\x2f'],
    ['ldap', '\x30\x1d\x02\x01\x01\x77\x18\x80\x16' + '1.3.6.1.4.1.1466.20037'],
  ] as const)('%s: sends exactly the commands of the protocol before TLS', async (protocol, expected) => {
    // Prepare
    const server = await serve(protocolScript(protocol));

    // Act
    await probe(server, protocol);

    // Assess: everything the server read before it upgraded.
    expect(server.received[0]).toBe(expected);
  });

  it('mysql: answers the greeting with an SSL request carrying CLIENT_SSL, sequence 1', async () => {
    // Prepare
    const server = await serve(protocolScript('mysql'));

    // Act
    await probe(server, 'mysql');

    // Assess
    const request = Buffer.from(server.received[0]!, 'latin1');
    expect([...request.subarray(0, 4)]).toEqual([32, 0, 0, 1]);
    expect(request.readUInt32LE(4) & 0x0800).toBe(0x0800);
    expect(request.subarray(13, 36)).toEqual(Buffer.alloc(23));
    // The ClientHello follows at once (the server does not answer an SSL request).
    expect(request[36]).toBe(0x16);
  });

  it.each([
    ['xmpp', "xmlns='jabber:client'"],
    ['xmpp-server', "xmlns='jabber:server'"],
  ] as const)(
    '%s: opens a stream to the domain in its namespace, then asks for STARTTLS',
    async (protocol, ns) => {
      // Prepare
      const server = await serve(protocolScript(protocol));

      // Act
      await probe(server, protocol, { servername: 'chat.example' });

      // Assess
      expect(server.received[0]).toContain("to='chat.example'");
      expect(server.received[0]).toContain(ns);
      expect(server.received[0]).toContain("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    },
  );

  it.each(Object.keys(PROBE_PROTOCOLS).filter((p) => !STARTTLS_PROTOCOLS.includes(p as StartTlsProtocol)))(
    '%s is implicit TLS: nothing is sent before the ClientHello',
    async (protocol) => {
      // Prepare: a STARTTLS server sees a ClientHello where it expects a command.
      const server = await serve(async (c) => {
        await c.bytes(1);
        c.socket.destroy();
      });

      // Act
      await probe(server, protocol as ProbeProtocolName, { timeoutMs: SHORT_TIMEOUT_MS });

      // Assess
      expect(server.received[0]!.charCodeAt(0)).toBe(0x16);
    },
  );
});

/**
 * What each hostile server yields, per protocol. Silence and trickling run into the deadline; a
 * flood, endless lines, another protocol's banner and a refusal are STARTTLS_FAILED, except where
 * the protocol cannot tell: a PostgreSQL server answers one byte, so an SSH banner's "S" reads as
 * "go ahead" and the TLS handshake then finds no TLS.
 */
const EXPECTED: Readonly<
  Record<HostileBehaviour, Partial<Record<StartTlsProtocol, readonly ProbeErrorCode[]>>>
> = {
  silent: {},
  trickle: { postgres: ['TIMEOUT', 'NOT_TLS'] },
  'endless-lines': {},
  flood: {},
  'wrong-protocol': { postgres: ['NOT_TLS'] },
  refuse: {},
};
const DEFAULT_EXPECTED: Readonly<Record<HostileBehaviour, readonly ProbeErrorCode[]>> = {
  silent: ['TIMEOUT'],
  trickle: ['TIMEOUT'],
  'endless-lines': ['STARTTLS_FAILED'],
  flood: ['STARTTLS_FAILED'],
  'wrong-protocol': ['STARTTLS_FAILED'],
  refuse: ['STARTTLS_FAILED'],
};

const HOSTILE_CASES = STARTTLS_PROTOCOLS.flatMap((protocol) =>
  (Object.keys(DEFAULT_EXPECTED) as HostileBehaviour[]).map(
    (behaviour) =>
      [protocol, behaviour, EXPECTED[behaviour][protocol] ?? DEFAULT_EXPECTED[behaviour]] as const,
  ),
);

describe('probeAddress with hostile plaintext servers', () => {
  it.each(HOSTILE_CASES)('%s, %s server → %j', async (protocol, behaviour, codes) => {
    // Prepare
    const server = await serve(hostileScript(protocol, behaviour));
    const timeoutMs =
      behaviour === 'silent' || behaviour === 'trickle' ? SHORT_TIMEOUT_MS : GENEROUS_TIMEOUT_MS;

    // Act
    const outcome = await probe(server, protocol, { timeoutMs });

    // Assess
    expect(codes).toContain(outcome.error?.code);
    expect(outcome.chainDer).toEqual([]);
    expect(server.handshakes()).toBe(0);
  });

  it.each([
    [
      'smtp',
      'smtp server localhost:PORT refused STARTTLS: "454 4.7.0 TLS not available due to local problem"',
    ],
    ['imap', 'imap server localhost:PORT refused STARTTLS: "a1 NO STARTTLS is disabled"'],
    ['pop3', 'pop3 server localhost:PORT refused STLS: "-ERR TLS not available"'],
    [
      'ftp',
      'ftp server localhost:PORT refused AUTH TLS: "534 Policy requires SSL, but it is not configured"',
    ],
    [
      'ldap',
      'ldap server localhost:PORT refused StartTLS: resultCode 2 (protocolError) "unsupported extended operation"',
    ],
    ['postgres', 'postgres server localhost:PORT refused SSL: it answered N (ssl = off)'],
    ['mysql', 'mysql server localhost:PORT does not offer SSL (server "8.0.36", have_ssl off)'],
    [
      'xmpp',
      `xmpp server localhost:PORT refused STARTTLS: "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"`,
    ],
  ] as const)('%s: a refusal names the server and quotes its answer', async (protocol, message) => {
    // Prepare
    const server = await serve(hostileScript(protocol, 'refuse'));

    // Act
    const outcome = await probe(server, protocol);

    // Assess
    expect(outcome.error).toEqual({
      code: 'STARTTLS_FAILED',
      message: message.replace('PORT', String(server.port)),
    });
  });

  it('quotes another protocol escaped and truncated', async () => {
    // Prepare: a banner with terminal escapes and a very long line.
    const server = await serve(async (c) => {
      c.write(`\x1b[31mEVIL\x1b[0m ${'x'.repeat(500)}\r\n`);
    });

    // Act
    const outcome = await probe(server, 'smtp');

    // Assess
    expect(outcome.error?.code).toBe('STARTTLS_FAILED');
    expect(outcome.error?.message).toContain('answered "\\x1b[31mEVIL\\x1b[0m xxx');
    expect(outcome.error?.message).toContain('…" where an SMTP greeting (220) was expected');
    expect(outcome.error?.message).not.toContain('\x1b');
    expect(outcome.error!.message.length).toBeLessThan(300);
  });

  it('reports a server that does not offer STARTTLS with its EHLO reply', async () => {
    // Prepare
    const server = await serve(async (c) => {
      c.write('220 mail.test ESMTP\r\n');
      await c.line();
      c.write('250-mail.test\r\n250 8BITMIME\r\n');
      await c.line();
    });

    // Act
    const outcome = await probe(server, 'smtp');

    // Assess
    expect(outcome.error).toEqual({
      code: 'STARTTLS_FAILED',
      message: `smtp server localhost:${server.port} does not offer STARTTLS (EHLO reply: "250-mail.test / 250 8BITMIME")`,
    });
  });

  it('reports a server that says it goes ahead but then sends no TLS as NOT_TLS', async () => {
    // Prepare
    const server = await serve(async (c) => {
      c.write('+OK ready\r\n');
      await c.line();
      c.write('+OK go\r\nHTTP/1.1 400 Bad Request\r\n\r\n');
    });

    // Act
    const outcome = await probe(server, 'pop3');

    // Assess
    expect(outcome.error?.code).toBe('NOT_TLS');
  });

  it('reports a close during the exchange as a failed handshake, naming the protocol', async () => {
    // Prepare
    const server = await serve(async (c) => {
      c.write('220 mail.test ESMTP\r\n');
      await c.line();
      c.socket.destroy();
    });

    // Act
    const outcome = await probe(server, 'smtp');

    // Assess
    expect(outcome.error?.code).toBe('HANDSHAKE_FAILED');
    expect(outcome.error?.message).toContain('during the smtp exchange before TLS');
  });
});
