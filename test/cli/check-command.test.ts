import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lambdas/cli/main';
import { daysFromNow, makeCert, makePki, type TestCert } from '../support/cert-factory';

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

async function cli(argv: string[], cwd?: string) {
  const out = capture();
  const err = capture();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env: {}, ...(cwd ? { cwd } : {}) });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('certwatch check', () => {
  const pki = makePki();
  const soon = makeCert({
    cn: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: pki.intermediate,
    notAfter: daysFromNow(20.5),
  });
  const expired = makeCert({
    cn: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: pki.intermediate,
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(-2.5),
  });
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  let dir: string;
  let caFile: string;

  async function serve(name: string, leaf: TestCert) {
    const server = createServer({
      cert: leaf.certPem + pki.intermediate.certPem,
      key: leaf.key.privateKeyPem,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    ports[name] = (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    await serve('ok', pki.leaf);
    await serve('soon', soon);
    await serve('expired', expired);
    dir = mkdtempSync(join(tmpdir(), 'certwatch-cli-'));
    caFile = join(dir, 'root.pem');
    writeFileSync(caFile, pki.root.certPem);
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a table and exits 0 when every certificate is fine', async () => {
    // Act
    const r = await cli(['check', '--ca-file', caFile, `127.0.0.1:${ports.ok}`]);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TARGET\s+ADDRESS\s+STATUS\s+DAYS\s+EXPIRES\s+ISSUER\s+FINDINGS$/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `127\\.0\\.0\\.1:${ports.ok}\\s+127\\.0\\.0\\.1\\s+ok\\s+\\d+\\s+\\d{4}-\\d\\d-\\d\\d\\s+certwatch Test Intermediate\\s+-`,
      ),
    );
    expect(r.stdout).toMatch(/1 address checked: 1 ok/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('exits 1 when the worst result is a warning and 2 when one is expired', async () => {
    const warn = await cli([
      'check',
      '--ca-file',
      caFile,
      `127.0.0.1:${ports.ok}`,
      `127.0.0.1:${ports.soon}`,
    ]);
    expect(warn.code).toBe(1);
    expect(warn.stdout).toMatch(/warning\s+20\s/);
    const crit = await cli([
      'check',
      '--ca-file',
      caFile,
      `127.0.0.1:${ports.soon}`,
      `127.0.0.1:${ports.expired}`,
    ]);
    expect(crit.code).toBe(2);
    expect(crit.stdout).toMatch(/expired\s+-3\s/);
    expect(crit.stdout).toMatch(/EXPIRED: /);
  });

  it('prints one JSON object per address with the documented fields', async () => {
    // Act
    const r = await cli(['check', '--json', '--ca-file', caFile, `127.0.0.1:${ports.soon}`]);
    // Assess
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const obj = JSON.parse(lines[0] ?? '{}');
    expect(Object.keys(obj)).toEqual(
      expect.arrayContaining([
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
        'durationMs',
      ]),
    );
    expect(obj).toMatchObject({
      target: `127.0.0.1:${ports.soon}`,
      host: '127.0.0.1',
      port: ports.soon,
      address: '127.0.0.1',
      servername: null,
      status: 'warning',
      daysLeft: 20,
      findings: [{ code: 'EXPIRES_SOON', severity: 'warning' }],
    });
    expect(obj.chain).toHaveLength(2);
    expect(Object.keys(obj.chain[0]).sort()).toEqual(
      [
        'fingerprintSha256',
        'issuer',
        'keyBits',
        'keyType',
        'notAfter',
        'notBefore',
        'selfSigned',
        'serialNumber',
        'signatureAlgorithm',
        'subject',
      ].sort(),
    );
    expect(obj.chain[0]).toMatchObject({
      keyType: 'RSA',
      keyBits: 2048,
      signatureAlgorithm: 'sha256WithRSAEncryption',
      selfSigned: false,
    });
  });

  it('reads targets from a file with comments and blank lines', async () => {
    // Prepare
    const list = join(dir, 'targets.txt');
    writeFileSync(list, `# production\n127.0.0.1:${ports.ok}   # the shop\n\n  127.0.0.1:${ports.ok}\n`);
    // Act
    const r = await cli(['check', '--json', '--ca-file', caFile, '--file', list]);
    // Assess: duplicates collapse to one check
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [['check'], /no targets/],
    [['check', 'bad host name'], /argument 1: /],
    [['check', 'example.com:99999'], /argument 1: .*port/i],
    [['check', '--timeout', 'soon', 'example.com'], /--timeout: expected a duration/],
    [['check', '--concurrency', '0', 'example.com'], /--concurrency: must be between 1/],
    [
      ['check', '--warn-days', '5', '--critical-days', '9', 'example.com'],
      /--critical-days \(9\) must not exceed --warn-days \(5\)/,
    ],
    [
      ['check', '--file', '/nonexistent/targets.txt'],
      /--file \/nonexistent\/targets.txt: cannot read target list \(no such file\)/,
    ],
    [['check', '--ca-file', '/nonexistent/ca.pem', 'example.com'], /--ca-file .*cannot read/],
    [
      ['check', '--no-system-roots', 'example.com'],
      /--no-system-roots without --ca-file would trust no certificate/,
    ],
    [
      ['check', '--at', 'next friday', 'example.com'],
      /--at: expected an ISO-8601 date or date-time with a zone/,
    ],
    [['check', '--bogus', 'example.com'], /bogus/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 3 with one line naming the problem for %j', async (argv, message) => {
    // Act
    const r = await cli(argv);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the file and line of a bad target in a list', async () => {
    const list = join(dir, 'bad.txt');
    writeFileSync(list, 'example.com\n\nexample.org:http\n');
    const r = await cli(['check', '--file', list]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${list}:3: `);
  });

  it('names the unknown private root without --ca-file, and says how to trust it', async () => {
    // Act
    const r = await cli(['check', `127.0.0.1:${ports.ok}`]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/critical\s+\d+\s.*UNTRUSTED_CHAIN$/m);
    expect(r.stdout).toMatch(
      /UNTRUSTED_CHAIN: .*"CN=certwatch Test Root".*trust its root certificate \(trust\.caFiles in the config, or check --ca-file\)/,
    );
  });

  it('trusts every --ca-file given, and only them with --no-system-roots', async () => {
    // Prepare
    const other = join(dir, 'other-root.pem');
    writeFileSync(other, makeCert({ cn: 'Other Root', isCa: true }).certPem);
    const target = `127.0.0.1:${ports.ok}`;
    // Act
    const both = await cli(['check', '--no-system-roots', '--ca-file', other, '--ca-file', caFile, target]);
    const otherOnly = await cli(['check', '--no-system-roots', '--ca-file', other, target]);
    // Assess
    expect(both.code).toBe(0);
    expect(otherOnly.code).toBe(2);
    expect(otherOnly.stdout).toMatch(/UNTRUSTED_CHAIN: .*"CN=certwatch Test Root"/);
  });

  it('judges as of --at while probing now', async () => {
    // Prepare: the leaf expires in 90 days; 85 days from now it has 5 left
    const at = daysFromNow(85).toISOString();
    // Act
    const r = await cli(['check', '--json', '--ca-file', caFile, '--at', at, `127.0.0.1:${ports.ok}`]);
    // Assess
    const obj = JSON.parse(r.stdout);
    expect(r.code).toBe(2);
    expect(obj).toMatchObject({ status: 'critical', daysLeft: 4, checkedAt: at, address: '127.0.0.1' });
    expect(obj.findings.map((f: { code: string }) => f.code)).toEqual(['EXPIRES_SOON']);
  });

  it("judges --config endpoints against the config's trust, unless the command line gives trust", async () => {
    // Prepare: the CA file sits beside the config and is named relative to it
    const configDir = join(dir, 'with-trust');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'corp-root.pem'), pki.root.certPem);
    const other = join(dir, 'other-root-2.pem');
    writeFileSync(other, makeCert({ cn: 'Other Root', isCa: true }).certPem);
    const config = join(configDir, 'certwatch.config.yaml');
    writeFileSync(
      config,
      [
        'endpoints:',
        `  - host: 127.0.0.1:${ports.ok}`,
        '    trust: { caFiles: [corp-root.pem], systemRoots: false }',
        `  - host: 127.0.0.1:${ports.soon}`,
        '',
      ].join('\n'),
    );
    // Act
    const own = await cli(['check', '--json', '--config', config]);
    const overridden = await cli([
      'check',
      '--json',
      '--config',
      config,
      '--no-system-roots',
      '--ca-file',
      other,
    ]);
    // Assess: the endpoint with trust is ok; the other one has the system roots only
    const codes = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { target: string; findings: { code: string }[] })
        .sort((a, b) => a.target.localeCompare(b.target))
        .map((o) => [o.target, o.findings.map((f) => f.code)]);
    expect(codes(own.stdout)).toEqual(
      [
        [`127.0.0.1:${ports.ok}`, []],
        [`127.0.0.1:${ports.soon}`, ['EXPIRES_SOON', 'UNTRUSTED_CHAIN']],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(codes(overridden.stdout).map(([, c]) => c)).toEqual([
      expect.arrayContaining(['UNTRUSTED_CHAIN']),
      expect.arrayContaining(['UNTRUSTED_CHAIN']),
    ]);
  });

  it('refuses a config whose CA file is bad, naming the config position, the file and the certificate', async () => {
    // Prepare
    const configDir = join(dir, 'bad-trust');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      join(configDir, 'ca.pem'),
      `${pki.root.certPem}-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n`,
    );
    const config = join(configDir, 'c.yaml');
    writeFileSync(config, 'defaults:\n  trust: { caFiles: [ca.pem] }\nendpoints: [{ host: example.com }]\n');
    // Act
    const r = await cli(['check', '--config', config]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /c\.yaml:2:22: defaults\.trust\.caFiles\[0\]: ca\.pem: certificate 2 \(line \d+\) is not valid base64/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a CA file without certificates', async () => {
    const bad = join(dir, 'bad-ca.pem');
    writeFileSync(bad, 'not a certificate\n');
    const r = await cli(['check', '--ca-file', bad, 'example.com']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--ca-file .*bad-ca\.pem/);
  });
  it.each([
    {
      name: 'PEM text as a target',
      arg: () => pki.leaf.certPem,
      line: /^certwatch: argument 1 is a PEM certificate, not a host: save it to a file and run certwatch inspect FILE$/,
    },
    {
      name: 'a PEM file as a target',
      arg: () => join(dir, 'leaf.pem'),
      line: /^certwatch: argument 1 is the certificate file .*leaf\.pem, not a host: to judge it, run certwatch inspect .*leaf\.pem$/,
    },
  ])('recognises $name and points at inspect', async ({ arg, line }) => {
    // Prepare
    writeFileSync(join(dir, 'leaf.pem'), pki.leaf.certPem);
    // Act
    const r = await cli(['check', arg()]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(line);
  });

  it('recognises a certificate given as -f (check_ssl_cert habit) and points at inspect', async () => {
    // Prepare
    const pem = join(dir, 'cert.pem');
    writeFileSync(pem, pki.leaf.certPem);
    // Act
    const r = await cli(['check', '-f', pem]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `certwatch: --file ${pem} is a certificate, not a list of targets: to judge it, run certwatch inspect ${pem}\n`,
    );
  });

  it('prints one Nagios plugin line with perfdata, and the plugin exit code', async () => {
    // Act
    const r = await cli(['check', '--format', 'nagios', '--ca-file', caFile, `127.0.0.1:${ports.soon}`]);
    // Assess
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^CERTWATCH WARNING - 127\\.0\\.0\\.1:${ports.soon} \\[127\\.0\\.0\\.1\\]: expires \\d{4}-\\d\\d-\\d\\d \\(in 20 days\\)[^|]* \\| days=20;30;7\\n$`,
      ),
    );
  });

  it('prints RFC 4180 CSV with a header, one row per address', async () => {
    // Act
    const r = await cli([
      'check',
      '--format',
      'csv',
      '--ca-file',
      caFile,
      `127.0.0.1:${ports.ok}`,
      `127.0.0.1:${ports.expired}`,
    ]);
    // Assess
    const lines = r.stdout.split('\r\n');
    expect(r.code).toBe(2);
    expect(lines[0]).toBe(
      'target,host,port,address,servername,status,daysLeft,notAfter,subject,issuer,findings,protocol,cipher,checkedAt,durationMs,scheme',
    );
    expect(
      lines
        .slice(1, 3)
        .map((l) => l.split(',')[5])
        .sort(),
    ).toEqual(['expired', 'ok']);
    expect(lines.slice(1, 3).map((l) => l.split(',').at(-1))).toEqual(['tls', 'tls']);
    expect(lines[3]).toBe('');
  });

  it('shows EXPIRES in the --tz zone', async () => {
    // Act
    const utc = await cli(['check', '--ca-file', caFile, '--format', 'json', `127.0.0.1:${ports.ok}`]);
    const east = await cli([
      'check',
      '--ca-file',
      caFile,
      '--tz',
      'Pacific/Kiritimati',
      `127.0.0.1:${ports.ok}`,
    ]);
    // Assess: UTC+14 shows the local calendar date of the same instant
    const notAfter = JSON.parse(utc.stdout).notAfter as string;
    const local = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Kiritimati' }).format(
      new Date(notAfter),
    );
    expect(east.stdout).toMatch(new RegExp(`\\s${local}\\s`));
  });

  it('reads a bare --timeout number as seconds', async () => {
    // Act: read as milliseconds, 5 would be far too short for a handshake
    const r = await cli(['check', '-t', '5', '--json', '--ca-file', caFile, `127.0.0.1:${ports.ok}`]);
    // Assess
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('ok');
  });
});
