import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectRouteError,
  connectToFor,
  parseConnectTo,
  parseProxyUrl,
  proxyFromEnv,
} from '../../lambdas/core/connect-route';
import { parseTarget } from '../../lambdas/core/parse-target';
import { probeAddress } from '../../lambdas/probe/probe-address';
import { probeTarget } from '../../lambdas/probe/probe-target';
import { ecKey, makeCert, makePki, type TestPki } from '../support/cert-factory';
import {
  type LoopbackServer,
  type MutualTlsServer,
  type ProxyServer,
  protocolScript,
  startConnectProxy,
  startMutualTlsServer,
  startScriptServer,
} from '../support/starttls-servers';
import { startTlsServer, type TestServer } from '../support/tls-test-servers';

const GENEROUS_TIMEOUT_MS = 10_000;
const SHORT_TIMEOUT_MS = 400;

describe('parseConnectTo', () => {
  it.each([
    [
      'example.com:443:10.0.0.5:8443',
      { host: 'example.com', port: 443, toAddress: '10.0.0.5', toPort: 8443 },
    ],
    ['example.com:443:10.0.0.5:', { host: 'example.com', port: 443, toAddress: '10.0.0.5' }],
    ['::127.0.0.1:', { toAddress: '127.0.0.1' }],
    ['Example.COM::[::1]:9443', { host: 'example.com', toAddress: '::1', toPort: 9443 }],
    ['[2001:db8::1]:443::8443', { host: '2001:db8::1', port: 443, toPort: 8443 }],
    [
      'a.example:443:backend.internal:443',
      { host: 'a.example', port: 443, toAddress: 'backend.internal', toPort: 443 },
    ],
  ])('%j → %j', (text, expected) => {
    // Act / Assess
    expect(parseConnectTo(text)).toEqual(expected);
  });

  it.each([
    ['example.com:443:10.0.0.5', 'expected HOST:PORT:ADDR:PORT'],
    ['example.com:443:10.0.0.5:1:2', 'expected HOST:PORT:ADDR:PORT'],
    ['example.com:https:10.0.0.5:443', 'port "https" is not a port (1-65535)'],
    ['example.com:443:10.0.0.5:70000', 'port "70000" is not a port (1-65535)'],
    ['exa mple.com:443:10.0.0.5:443', 'host "exa mple.com" is not a host name or IP address'],
    ['example.com:443::', 'names neither an address nor a port to connect to'],
  ])('refuses %j with one line: %s', (text, problem) => {
    // Act
    const act = () => parseConnectTo(text);

    // Assess
    expect(act).toThrow(ConnectRouteError);
    expect(act).toThrow(`Invalid --connect-to ${JSON.stringify(text)}: ${problem}`);
  });
});

describe('connectToFor', () => {
  const rules = [
    parseConnectTo('a.example:443:10.0.0.1:8443'),
    parseConnectTo('a.example::10.0.0.2:'),
    parseConnectTo(':25::2525'),
  ];

  it.each([
    ['a.example:443', { address: '10.0.0.1', connectPort: 8443 }],
    ['a.example:993', { address: '10.0.0.2' }],
    ['b.example:25', { connectPort: 2525 }],
    ['b.example:443', undefined],
  ])('%s → %j (first matching rule)', (target, expected) => {
    // Act / Assess
    expect(connectToFor(rules, parseTarget(target))).toEqual(expected);
  });
});

describe('parseProxyUrl', () => {
  it.each([
    ['http://proxy.internal:3128', { host: 'proxy.internal', port: 3128 }],
    ['http://proxy.internal', { host: 'proxy.internal', port: 80 }],
    ['http://[::1]:8080/', { host: '::1', port: 8080 }],
    ['proxy.internal:3128', { host: 'proxy.internal', port: 3128 }],
  ])('%j → %j', (text, expected) => {
    // Act / Assess
    expect(parseProxyUrl(text)).toEqual(expected);
  });

  it.each([
    ['https://proxy.internal:3128', 'scheme "https://" is not supported; give http://host:port'],
    ['socks5://proxy.internal:1080', 'scheme "socks5://" is not supported'],
    ['http://user:secret@proxy.internal:3128', 'proxy credentials are not supported'],
    ['http://proxy.internal:3128/path', 'a proxy URL has no path'],
    ['http://proxy.internal:99999', 'port 99999 is out of range'],
  ])('refuses %j: %s', (text, problem) => {
    // Act
    const act = () => parseProxyUrl(text);

    // Assess
    expect(act).toThrow(ConnectRouteError);
    expect(act).toThrow(problem);
  });
});

describe('proxyFromEnv', () => {
  const target = (text: string) => parseTarget(text);

  it.each([
    [{}, 'a.example:443', undefined],
    [{ HTTPS_PROXY: 'http://p.internal:3128' }, 'a.example:443', 'http://p.internal:3128'],
    [{ https_proxy: 'p.internal:3128' }, 'a.example:443', 'http://p.internal:3128'],
    [{ ALL_PROXY: 'http://p.internal' }, 'a.example:443', 'http://p.internal:80'],
    [{ HTTPS_PROXY: ' ' }, 'a.example:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }, 'a.example:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'xample' }, 'a.example:443', 'http://p:1'],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'example' }, 'a.example:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'a.example' }, 'a.example:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: '.example' }, 'deep.a.example:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'b.example, a.example:8443' }, 'a.example:443', 'http://p:1'],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'a.example:8443' }, 'a.example:8443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', no_proxy: '10.0.0.1' }, '10.0.0.1:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: '[::1]:443' }, '[::1]:443', undefined],
    [{ HTTPS_PROXY: 'http://p:1', NO_PROXY: '10.0.0.1' }, '10.0.0.10:443', 'http://p:1'],
  ])('%j, %s → %j', (env, text, expected) => {
    // Act / Assess
    expect(proxyFromEnv(env, target(text))).toBe(expected);
  });

  it('refuses an unusable proxy variable with one line', () => {
    // Act / Assess
    expect(() => proxyFromEnv({ HTTPS_PROXY: 'socks5://p:1080' }, target('a.example'))).toThrow(
      'Invalid proxy "socks5://p:1080": scheme "socks5://" is not supported',
    );
  });
});

let pki: TestPki;
const running: { close(): Promise<void> }[] = [];

beforeAll(() => {
  pki = makePki();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function started<T extends { close(): Promise<void> }>(server: Promise<T>): Promise<T> {
  const value = await server;
  running.push(value);
  return value;
}

function tlsServer(): Promise<TestServer & { servernames: readonly string[] }> {
  return started(
    startTlsServer({
      chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
      keyPem: pki.leaf.key.privateKeyPem,
    }),
  );
}

describe('probeAddress through an HTTP CONNECT proxy', () => {
  it('tunnels to the target and reads its chain, with SNI and the target unchanged', async () => {
    // Prepare
    const server = await tlsServer();
    const proxy: ProxyServer = await started(startConnectProxy());

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: server.port,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      proxy: `http://127.0.0.1:${proxy.port}`,
    });

    // Assess
    expect(outcome.error).toBeNull();
    expect(outcome.chainDer.map((der) => Buffer.from(der))).toEqual([pki.leaf.der, pki.intermediate.der]);
    expect(proxy.requests).toEqual([`CONNECT 127.0.0.1:${server.port} HTTP/1.1`]);
    expect(server.servernames).toEqual(['localhost']);
    expect(outcome.port).toBe(server.port);
  });

  it('runs a STARTTLS exchange inside the tunnel', async () => {
    // Prepare
    const server: LoopbackServer = await started(
      startScriptServer(
        { chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem },
        protocolScript('smtp'),
      ),
    );
    const proxy = await started(startConnectProxy());

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: server.port,
      address: '127.0.0.1',
      protocol: 'smtp',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      proxy: `http://127.0.0.1:${proxy.port}`,
    });

    // Assess
    expect(outcome.error).toBeNull();
    expect(server.received[0]).toBe('EHLO certwatch.invalid\r\nSTARTTLS\r\n');
  });

  it('lets the proxy resolve the name: probeTarget asks for the host itself, not its addresses', async () => {
    // Prepare
    const server = await tlsServer();
    const proxy = await started(startConnectProxy());
    const lookups: string[] = [];

    // Act
    const outcomes = await probeTarget(parseTarget(`localhost:${server.port}`), {
      timeoutMs: GENEROUS_TIMEOUT_MS,
      proxy: `http://127.0.0.1:${proxy.port}`,
      lookup: async (name) => {
        lookups.push(name);
        return [{ address: '192.0.2.1', family: 4 }];
      },
    });

    // Assess
    expect(lookups).toEqual([]);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ address: 'localhost', error: null });
    expect(proxy.requests).toEqual([`CONNECT localhost:${server.port} HTTP/1.1`]);
  });

  it.each([
    [
      'HTTP/1.1 403 Forbidden',
      'CONNECTION_REFUSED',
      'refused CONNECT 127.0.0.1:PORT: "HTTP/1.1 403 Forbidden"',
    ],
    [
      'HTTP/1.1 502 Bad Gateway',
      'CONNECTION_REFUSED',
      'refused CONNECT 127.0.0.1:PORT: "HTTP/1.1 502 Bad Gateway"',
    ],
    [
      'SSH-2.0-OpenSSH_9.6',
      'CONNECTION_REFUSED',
      'answered "SSH-2.0-OpenSSH_9.6" to CONNECT 127.0.0.1:PORT, not HTTP',
    ],
  ] as const)('a proxy answering %j is %s, naming the proxy', async (answer, code, detail) => {
    // Prepare
    const proxy = await started(startConnectProxy({ answer }));

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: 9,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      proxy: `http://127.0.0.1:${proxy.port}`,
    });

    // Assess
    expect(outcome.error).toEqual({
      code,
      message: `proxy 127.0.0.1:${proxy.port} ${detail.replace('PORT', '9')}`,
    });
  });

  it('counts a silent proxy against the deadline: TIMEOUT naming the proxy', async () => {
    // Prepare
    const proxy = await started(startConnectProxy({ answer: 'silent' }));

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: 9,
      address: '127.0.0.1',
      timeoutMs: SHORT_TIMEOUT_MS,
      proxy: `http://127.0.0.1:${proxy.port}`,
    });

    // Assess
    expect(outcome.error).toEqual({
      code: 'TIMEOUT',
      message: `proxy http://127.0.0.1:${proxy.port} did not open a tunnel with 127.0.0.1:9 within ${SHORT_TIMEOUT_MS} ms`,
    });
  });

  it('reports a proxy that takes no connection as CONNECTION_REFUSED naming the proxy', async () => {
    // Prepare: a port nothing listens on (a server started and closed).
    const gone = await startConnectProxy();
    await gone.close();

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: 443,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      proxy: `http://127.0.0.1:${gone.port}`,
    });

    // Assess
    expect(outcome.error).toEqual({
      code: 'CONNECTION_REFUSED',
      message: `cannot connect to proxy http://127.0.0.1:${gone.port} (for 127.0.0.1:443): connection refused (ECONNREFUSED)`,
    });
  });

  it('refuses a malformed proxy setting with one line, without connecting', async () => {
    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: 443,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      proxy: 'socks5://127.0.0.1:1080',
    });

    // Assess
    expect(outcome.error).toEqual({
      code: 'CONNECTION_REFUSED',
      message:
        'Invalid proxy "socks5://127.0.0.1:1080": scheme "socks5://" is not supported; give http://host:port (an HTTP CONNECT proxy)',
    });
  });
});

describe('probeAddress with --connect-to settings', () => {
  it('connects to the pinned address and port while SNI and the result keep the name and its port', async () => {
    // Prepare
    const server = await tlsServer();
    const route = connectToFor(
      [parseConnectTo(`shop.example:443:127.0.0.1:${server.port}`)],
      parseTarget('shop.example'),
    );

    // Act
    const outcomes = await probeTarget(parseTarget('shop.example'), {
      timeoutMs: GENEROUS_TIMEOUT_MS,
      ...route,
      lookup: async () => {
        throw new Error('no DNS for a pinned address');
      },
    });

    // Assess
    expect(route).toEqual({ address: '127.0.0.1', connectPort: server.port });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      host: 'shop.example',
      port: 443,
      address: '127.0.0.1',
      servername: 'shop.example',
      error: null,
    });
    expect(server.servernames).toEqual(['shop.example']);
  });

  it.each([
    [null, []],
    ['override.example', ['override.example']],
  ] as const)('sends SNI %j when told to', async (servername, expected) => {
    // Prepare
    const server = await tlsServer();

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: server.port,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      servername,
    });

    // Assess
    expect(outcome.error).toBeNull();
    expect(outcome.servername).toBe(servername);
    expect(server.servernames).toEqual(expected);
  });
});

describe('probeAddress with a client certificate (mutual TLS)', () => {
  function clientIdentity(issuer = pki.intermediate) {
    const cert = makeCert({ cn: 'certwatch probe', issuer, extKeyUsage: ['clientAuth'] });
    return { certPem: cert.certPem + issuer.certPem, keyPem: cert.key.privateKeyPem };
  }

  async function mutualServer(): Promise<MutualTlsServer> {
    return started(
      startMutualTlsServer({
        chainPem: pki.leaf.certPem + pki.intermediate.certPem,
        keyPem: pki.leaf.key.privateKeyPem,
        clientCaPem: pki.root.certPem,
      }),
    );
  }

  it('presents the certificate and completes the handshake with a server that demands one', async () => {
    // Prepare
    const server = await mutualServer();

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: server.port,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      clientIdentity: clientIdentity(),
    });

    // Assess
    expect(outcome.error).toBeNull();
    expect(outcome.chainDer.map((der) => Buffer.from(der))).toEqual([pki.leaf.der, pki.intermediate.der]);
  });

  it('without one, the server still shows its chain and the probe says a client certificate is required', async () => {
    // Prepare
    const server = await mutualServer();

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: server.port,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
    });

    // Assess
    expect(outcome.error?.code).toBe('CLIENT_CERT_REQUIRED');
    expect(server.clients).toEqual([]);
  });

  it('reports a key that does not match the certificate as a failed handshake naming why', async () => {
    // Prepare
    const server = await mutualServer();
    const identity = clientIdentity();
    const other = makeCert({
      cn: 'other',
      issuer: pki.intermediate,
      key: ecKey('P-256'),
      extKeyUsage: ['clientAuth'],
    });

    // Act
    const outcome = await probeAddress({
      host: 'localhost',
      port: server.port,
      address: '127.0.0.1',
      timeoutMs: GENEROUS_TIMEOUT_MS,
      clientIdentity: { certPem: identity.certPem, keyPem: other.key.privateKeyPem },
    });

    // Assess
    expect(outcome.error?.code).toBe('HANDSHAKE_FAILED');
    expect(outcome.error?.message).toContain('client certificate or key not usable');
  });
});
