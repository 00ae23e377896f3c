/**
 * `certwatch check` reaching certificates off port 443: URL targets and `--starttls`,
 * `--connect-to`, `--sni`, `--proxy` (and HTTPS_PROXY/NO_PROXY) and client certificates,
 * against real loopback servers, through the CLI's own argument handling.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, makePki } from '../support/cert-factory';
import { runCli } from '../support/run-cli';
import {
  type LoopbackServer,
  type MutualTlsServer,
  type ProxyServer,
  protocolScript,
  startConnectProxy,
  startMutualTlsServer,
  startScriptServer,
} from '../support/starttls-servers';

describe('certwatch check: protocols and where it connects', () => {
  const pki = makePki();
  const identity = {
    chainPem: pki.leaf.certPem + pki.intermediate.certPem,
    keyPem: pki.leaf.key.privateKeyPem,
  };
  const clientCa = makeCert({ cn: 'client CA', isCa: true });
  const client = makeCert({ cn: 'certwatch probe', issuer: clientCa, extKeyUsage: ['clientAuth'] });
  let smtp: LoopbackServer;
  let imap: LoopbackServer;
  let refusing: LoopbackServer;
  let proxy: ProxyServer;
  let mutual: MutualTlsServer;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    [smtp, imap, refusing, proxy, mutual] = await Promise.all([
      startScriptServer(identity, protocolScript('smtp')),
      startScriptServer(identity, protocolScript('imap')),
      startScriptServer(identity, protocolScript('smtp', { refuse: true })),
      startConnectProxy(),
      startMutualTlsServer({ ...identity, clientCaPem: clientCa.certPem }),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'certwatch-reach-'));
    caFile = join(dir, 'root.pem');
    writeFileSync(caFile, pki.root.certPem);
    writeFileSync(join(dir, 'client.pem'), client.certPem);
    writeFileSync(join(dir, 'client.key'), client.key.privateKeyPem);
  });

  afterAll(async () => {
    await Promise.all([smtp, imap, refusing, proxy, mutual].map((s) => s?.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const json = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            target: string;
            status: string;
            scheme: string;
            findings: { code: string }[];
          },
      );

  it('speaks each URL scheme, and --starttls for plain host:port targets', async () => {
    // Act
    const r = await runCli([
      'check',
      '--ca-file',
      caFile,
      '--format',
      'json',
      '--starttls',
      'smtp',
      `imap://localhost:${imap.port}`,
      `127.0.0.1:${smtp.port}`,
    ]);
    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const records = json(r.stdout).sort((a, b) => a.scheme.localeCompare(b.scheme));
    expect(records.map((x) => [x.scheme, x.status])).toEqual([
      ['imap', 'ok'],
      ['smtp', 'ok'],
    ]);
    expect(imap.received.some((text) => /STARTTLS/.test(text))).toBe(true);
    expect(smtp.received.some((text) => /^EHLO /m.test(text))).toBe(true);
  });

  it('reports a refused upgrade as STARTTLS_FAILED, exit 2, quoting the server', async () => {
    // Act
    const r = await runCli(['check', '--ca-file', caFile, `smtp://127.0.0.1:${refusing.port}`]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/STARTTLS_FAILED: smtp server 127\.0\.0\.1:\d+ refused STARTTLS: "454 /);
  });

  it('connects to the --connect-to address while SNI and the hostname check keep the name', async () => {
    // Act
    const r = await runCli([
      'check',
      '--ca-file',
      caFile,
      '--format',
      'json',
      '--connect-to',
      `localhost:25:127.0.0.1:${smtp.port}`,
      'smtp://localhost',
    ]);
    // Assess
    expect(r.code).toBe(0);
    const [record] = json(r.stdout);
    expect(record).toMatchObject({ target: 'localhost:25', status: 'ok', scheme: 'smtp' });
    expect(smtp.servernames.at(-1)).toBe('localhost');
  });

  it('sends the --sni name, or none for an empty one', async () => {
    // Act
    const named = await runCli([
      'check',
      '--ca-file',
      caFile,
      '--sni',
      'mail.example',
      `smtp://localhost:${smtp.port}`,
    ]);
    const names = smtp.servernames.length;
    const none = await runCli(['check', '--ca-file', caFile, '--sni', '', `smtp://localhost:${smtp.port}`]);
    // Assess
    expect(named.code).toBe(0);
    expect(smtp.servernames.at(-1)).toBe('mail.example');
    expect(none.code).toBe(0);
    expect(smtp.servernames.length).toBe(names);
  });

  it('tunnels through --proxy, and through HTTPS_PROXY unless NO_PROXY exempts the host', async () => {
    // Act
    const flag = await runCli([
      'check',
      '--ca-file',
      caFile,
      '--proxy',
      `http://127.0.0.1:${proxy.port}`,
      `smtp://localhost:${smtp.port}`,
    ]);
    const viaEnv = await runCli(['check', '--ca-file', caFile, `smtp://localhost:${smtp.port}`], {
      env: { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` },
    });
    const tunnelled = proxy.requests.length;
    const exempt = await runCli(['check', '--ca-file', caFile, `smtp://localhost:${smtp.port}`], {
      env: { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: 'localhost' },
    });
    // Assess
    expect([flag.code, viaEnv.code, exempt.code]).toEqual([0, 0, 0]);
    expect(proxy.requests.slice(0, 2)).toEqual([
      `CONNECT localhost:${smtp.port} HTTP/1.1`,
      `CONNECT localhost:${smtp.port} HTTP/1.1`,
    ]);
    expect(proxy.requests.length).toBe(tunnelled);
  });

  it('presents --client-cert with its key from a file or env:NAME', async () => {
    // Act
    const fromFile = await runCli([
      'check',
      '--ca-file',
      caFile,
      '--client-cert',
      join(dir, 'client.pem'),
      '--client-key',
      join(dir, 'client.key'),
      `127.0.0.1:${mutual.port}`,
    ]);
    const fromEnv = await runCli(
      [
        'check',
        '--ca-file',
        caFile,
        '--client-cert',
        join(dir, 'client.pem'),
        '--client-key',
        'env:KEY',
        `127.0.0.1:${mutual.port}`,
      ],
      { env: { KEY: client.key.privateKeyPem } },
    );
    const without = await runCli(['check', '--ca-file', caFile, `127.0.0.1:${mutual.port}`]);
    // Assess
    expect(fromFile.code).toBe(0);
    expect(fromEnv.code).toBe(0);
    expect(mutual.clients).toHaveLength(2);
    expect(fromFile.stdout).not.toContain('CLIENT_CERT_REQUIRED');
    expect(fromEnv.stdout).not.toContain('CLIENT_CERT_REQUIRED');
    // Without one the chain is still judged (ok), with the server's demand noted.
    expect(without.code).toBe(0);
    expect(without.stdout).toContain('CLIENT_CERT_REQUIRED');
  });

  it.each([
    [
      ['--starttls', 'gopher', 'x'],
      /^certwatch: --starttls: unknown protocol 'gopher' \(expected one of https, .*xmpp-server\)\n$/,
    ],
    [
      ['--connect-to', '::1', 'x'],
      /^certwatch: --connect-to: Invalid --connect-to "::1": expected HOST:PORT:ADDR:PORT/,
    ],
    [
      ['--proxy', 'https://p:3128', 'x'],
      /^certwatch: --proxy: Invalid proxy "https:\/\/p:3128": scheme "https:\/\/" is not supported/,
    ],
    [
      ['--client-cert', 'c.pem', 'x'],
      /^certwatch: --client-cert and --client-key go together: give both or neither\n$/,
    ],
    [
      ['--client-cert', '/nonexistent.pem', '--client-key', 'k', 'x'],
      /^certwatch: --client-cert \/nonexistent\.pem: cannot read \(ENOENT\)\n$/,
    ],
    [['gopher://x'], /^certwatch: argument 1: Invalid target "gopher:\/\/x"/],
  ])('refuses %j with one line and exit 3', async (args, line) => {
    // Act
    const r = await runCli(['check', ...args]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.split('\n').length).toBe(2);
  });
});
