import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInspectCommand } from '../../lambdas/cli/inspect-command';
import { main } from '../../lambdas/cli/main';
import { createCaIssuersFetcher } from '../../lambdas/probe/fetch-ca-issuers';
import { daysFromNow, makeCert, makePki } from '../support/cert-factory';
import { type HttpFileServer, startHttpFileServer } from '../support/http-file-server';
import { tempDir } from '../infra/infra-fixtures';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _e, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
}

const tmp = tempDir('certwatch-inspect-');
const KEY_BODY_LINE = 1;

async function inspect(argv: string[], stdin?: Uint8Array | string) {
  const out = capture();
  const err = capture();
  const code = await main(['inspect', ...argv], {
    stdout: out.stream,
    stderr: err.stream,
    env: {},
    cwd: tmp.dir,
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The JSON fields `check --json` prints, in order (docs/output.md, "JSON Lines"). */
const CHECK_JSON_FIELDS = [
  'target',
  'host',
  'port',
  'address',
  'servername',
  'status',
  'daysLeft',
  'notAfter',
  'findings',
  'chain',
  'protocol',
  'cipher',
  'checkedAt',
  'durationMs',
  'scheme',
];

describe('certwatch inspect', () => {
  const pki = makePki({ notAfter: daysFromNow(40.5) });
  const nameless = makeCert({ cn: 'no names', dnsNames: ['other.example'], issuer: pki.intermediate });
  const file = (name: string, content: string | Uint8Array) => {
    writeFileSync(join(tmp.dir, name), content);
    return name;
  };
  let keyLine = '';

  beforeAll(() => {
    file('root.pem', pki.root.certPem);
    file('chain.pem', pki.leaf.certPem + pki.intermediate.certPem);
    file('chain.der', Buffer.concat([pki.leaf.der, pki.intermediate.der]));
    file('leaf.pem', pki.leaf.certPem);
    file('other-name.pem', nameless.certPem + pki.intermediate.certPem);
    keyLine = pki.leaf.key.privateKeyPem.split('\n')[KEY_BODY_LINE] ?? '';
    file('with-key.pem', pki.leaf.certPem + pki.leaf.key.privateKeyPem + pki.intermediate.certPem);
    file('key.der', Buffer.from(pki.leaf.key.privateKeyPem.split('\n').slice(1, -2).join(''), 'base64'));
    file('garbage.bin', Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20, 0xde, 0xad, 0xbe, 0xef]));
    file('notes.txt', 'these are not the certificates you are looking for\n');
    file('empty.pem', '');
    file('csr.pem', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n');
    mkdirSync(join(tmp.dir, 'a-directory'));
  });
  afterAll(() => tmp.cleanup());

  it.each([
    ['a PEM chain', 'chain.pem'],
    ['a DER chain', 'chain.der'],
  ])('judges %s against a private root given with --ca-file: ok, exit 0', async (_name, chain) => {
    // Act
    const r = await inspect(['--ca-file', 'root.pem', '--host', 'localhost', chain]);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TARGET\s+STATUS\s+DAYS\s+EXPIRES\s+ISSUER\s+FINDINGS$/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${chain.replace('.', '\\.')}\\s+ok\\s+40\\s+\\d{4}-\\d\\d-\\d\\d\\s+certwatch Test Intermediate\\s+-$`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(/1 file inspected: 1 ok/);
    expect(r.stderr).toBe('');
  });

  it('reads the chain from standard input with -', async () => {
    // Act
    const r = await inspect(
      ['--ca-file', 'root.pem', '--host', 'localhost', '-'],
      pki.leaf.certPem + pki.intermediate.certPem,
    );
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stdin\s+ok\s+40\s/m);
  });

  it('names the unknown private root without --ca-file, and says how to trust it', async () => {
    // Act
    const r = await inspect(['--host', 'localhost', 'chain.pem']);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^chain\.pem\s+critical\s+40\s.*UNTRUSTED_CHAIN$/m);
    expect(r.stdout).toMatch(/chain\.pem UNTRUSTED_CHAIN: .*"CN=certwatch Test Root".*--ca-file/);
  });

  it('offline, judges a leaf without its intermediate on what the file holds: an unknown issuer, not a missing intermediate', async () => {
    // Act
    const r = await inspect(['--ca-file', 'root.pem', '--host', 'localhost', 'leaf.pem']);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^leaf\.pem\s+critical\s.*UNTRUSTED_CHAIN$/m);
    expect(r.stdout).not.toContain('INCOMPLETE_CHAIN');
  });

  it('judges no host name without --host, and says so', async () => {
    // Act
    const without = await inspect(['--ca-file', 'root.pem', 'other-name.pem']);
    const withHost = await inspect(['--ca-file', 'root.pem', '--host', 'localhost', 'other-name.pem']);
    // Assess
    expect(without.code).toBe(0);
    expect(without.stdout).not.toContain('HOSTNAME_MISMATCH');
    expect(without.stderr).toBe(
      'certwatch: note: no --host given, so no host name was judged (give --host NAME to judge one)\n',
    );
    expect(withHost.code).toBe(2);
    expect(withHost.stdout).toMatch(
      /HOSTNAME_MISMATCH: certificate does not cover "localhost"; it covers: other\.example/,
    );
  });

  it.each([
    ['in 20 days: a warning', daysFromNow(20).toISOString(), 1, /warning\s+20\s.*EXPIRES_SOON/],
    ['in 60 days: expired', daysFromNow(60).toISOString().slice(0, 10), 2, /expired\s+-\d+\s.*EXPIRED/],
    ['before the leaf was issued: not yet valid', daysFromNow(-10).toISOString(), 2, /NOT_YET_VALID/],
  ])('judges as of --at %s', async (_name, at, code, row) => {
    // Act
    const r = await inspect(['--ca-file', 'root.pem', '--host', 'localhost', '--at', at, 'chain.pem']);
    // Assess
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(row);
  });

  it.each([
    {
      format: 'nagios',
      output: /^CERTWATCH OK - chain\.pem: expires \d{4}-\d\d-\d\d \(in 40 days\) \| days=40;30;7\n$/,
    },
    {
      format: 'csv',
      output:
        /^target,host,port,address,servername,status,daysLeft,notAfter,subject,issuer,findings,protocol,cipher,checkedAt,durationMs,scheme\r\nchain\.pem,localhost,,,,ok,40,[^,]+,CN=localhost,CN=certwatch Test Intermediate,,,,[^,]+,\d+,\r\n$/,
    },
  ])('prints --format $format with the network fields empty', async ({ format, output }) => {
    // Act
    const r = await inspect([
      '--format',
      format,
      '--ca-file',
      'root.pem',
      '--host',
      'localhost',
      'chain.pem',
    ]);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(output);
  });

  it("prints check's JSON object with the file as target and the network fields null", async () => {
    // Act
    const at = '2030-01-01T00:00:00Z';
    const r = await inspect([
      '--json',
      '--ca-file',
      'root.pem',
      '--host',
      'LOCALHOST',
      '--at',
      at,
      'chain.pem',
      'leaf.pem',
    ]);
    const withoutHost = await inspect(['--json', '--ca-file', 'root.pem', 'chain.pem']);
    // Assess
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0])).toEqual(CHECK_JSON_FIELDS);
    expect(lines[0]).toMatchObject({
      target: 'chain.pem',
      host: 'localhost',
      port: null,
      address: null,
      servername: null,
      status: 'expired',
      protocol: null,
      cipher: null,
      checkedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(lines[0].chain).toHaveLength(2);
    expect(lines[1]).toMatchObject({ target: 'leaf.pem' });
    expect(lines[1].findings.map((f: { code: string }) => f.code)).toContain('UNTRUSTED_CHAIN');
    expect(JSON.parse(withoutHost.stdout)).toMatchObject({ host: null, status: 'ok' });
    expect(r.code).toBe(2);
  });

  it.each([
    ['a missing file', ['missing.pem'], /^certwatch: missing\.pem: cannot read \(no such file\)$/],
    ['a directory', ['a-directory'], /^certwatch: a-directory: cannot read \(is a directory\)$/],
    ['an empty file', ['empty.pem'], /^certwatch: empty\.pem: the file is empty$/],
    ['garbage', ['garbage.bin'], /^certwatch: garbage\.bin: no certificate found: expected PEM/],
    ['text without a certificate', ['notes.txt'], /^certwatch: notes\.txt: no certificate found/],
    [
      'a PEM file without a certificate',
      ['csr.pem'],
      /^certwatch: csr\.pem: no certificate in the file: it holds "CERTIFICATE REQUEST"/,
    ],
    [
      'a private key in the chain file',
      ['with-key.pem'],
      /^certwatch: with-key\.pem: the file holds a private key \("BEGIN PRIVATE KEY" at line \d+\); certwatch reads certificates only and has not printed any of the key/,
    ],
    ['a DER private key', ['key.der'], /^certwatch: key\.der: the file holds a private key \(PKCS#8 DER\)/],
    [
      'one bad file among good ones (nothing is judged)',
      ['chain.pem', 'missing.pem'],
      /^certwatch: missing\.pem: cannot read/,
    ],
    ['no file', [], /^certwatch: no files: give one or more chain files, or - for stdin$/],
    ['stdin twice', ['-', '-'], /^certwatch: - \(standard input\) can be given once$/],
    ['a bad --at', ['--at', '2027-02-30', 'chain.pem'], /^certwatch: --at: expected an ISO-8601 date/],
    [
      'a time without a zone',
      ['--at', '2027-01-15T09:00:00', 'chain.pem'],
      /^certwatch: --at: expected an ISO-8601 date/,
    ],
    ['a bad --host', ['--host', 'bad host', 'chain.pem'], /^certwatch: --host: Invalid target "bad host"/],
    [
      'a bad --ca-file',
      ['--ca-file', 'with-key.pem', 'chain.pem'],
      /^certwatch: --ca-file .*with-key\.pem: holds a private key/,
    ],
    [
      '--no-system-roots alone',
      ['--no-system-roots', 'chain.pem'],
      /^certwatch: --no-system-roots without --ca-file would trust no certificate at all$/,
    ],
  ])('exits 3 with one line for %s', async (_name, argv, message) => {
    // Act
    const r = await inspect(argv);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stderr).not.toContain(keyLine);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 3 for a private key on standard input, without echoing it', async () => {
    // Act
    const r = await inspect(['-'], pki.leaf.key.privateKeyPem);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^certwatch: stdin: the file holds a private key/);
    expect(r.stderr).not.toContain(keyLine);
  });

  describe('--fetch-issuers', () => {
    let aia: HttpFileServer;
    const aiaPki = makePki({ caIssuersUrl: 'http://127.0.0.1:1/placeholder' });
    let leafWithUrl: ReturnType<typeof makeCert>;

    beforeAll(async () => {
      aia = await startHttpFileServer((path) =>
        path === '/int.der' ? { body: aiaPki.intermediate.der } : undefined,
      );
      leafWithUrl = makeCert({
        cn: 'localhost',
        dnsNames: ['localhost'],
        issuer: aiaPki.intermediate,
        caIssuersUrl: aia.url('/int.der'),
      });
      file('aia-root.pem', aiaPki.root.certPem);
      file('aia-leaf.pem', leafWithUrl.certPem);
    });
    afterAll(async () => aia.close());

    it('completes the chain from the AIA URL only when asked: then the omitted intermediate is named', async () => {
      // Prepare
      const run = async (argv: string[]) => {
        const out = capture();
        const code = await runInspectCommand(
          argv,
          { stdout: out.stream, stderr: capture().stream, env: {}, cwd: tmp.dir },
          { fetchCaIssuers: createCaIssuersFetcher({ allowLoopback: true }) },
        );
        return { code, stdout: out.text() };
      };
      const base = ['--ca-file', 'aia-root.pem', '--host', 'localhost', 'aia-leaf.pem'];
      // Act
      const offline = await run(base);
      const requestsOffline = aia.requests.length;
      const fetched = await run(['--fetch-issuers', ...base]);
      // Assess
      expect(requestsOffline).toBe(0);
      expect(offline.stdout).toMatch(/UNTRUSTED_CHAIN/);
      expect(aia.requests.map((r) => r.path)).toEqual(['/int.der']);
      expect(fetched.stdout).toMatch(/INCOMPLETE_CHAIN/);
      expect(fetched.code).toBe(2);
    });
  });
});
