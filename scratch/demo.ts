import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const run = (args: string[]) =>
  promisify(execFile)('node', args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }).then(
    (r) => ({ stdout: r.stdout, status: 0 }),
    (e) => ({ stdout: e.stdout as string, status: e.code as number }),
  );
import { writeFileSync } from 'node:fs';
import { createServer as net } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { daysFromNow, ecKey, makeCert, makePki } from '../test/support/cert-factory';
const pki = makePki({ key: ecKey('P-256') });
const mk = (o: object) =>
  makeCert({
    cn: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: pki.intermediate,
    ...o,
  });
const certs = {
  good: pki.leaf,
  soon: mk({ notAfter: daysFromNow(12.5) }),
  expired: mk({ notBefore: daysFromNow(-90), notAfter: daysFromNow(-3.5) }),
  wronghost: mk({ cn: 'shop.example.com', dnsNames: ['shop.example.com'], ipAddresses: [] }),
};
const selfSigned = makeCert({ cn: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const servers: Server[] = [];
const ports: number[] = [];
(async () => {
  for (const c of [...Object.values(certs)]) {
    const s = createServer({ cert: c.certPem + pki.intermediate.certPem, key: c.key.privateKeyPem });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
    ports.push((s.address() as any).port);
  }
  const ss = createServer({ cert: selfSigned.certPem, key: selfSigned.key.privateKeyPem });
  await new Promise<void>((r) => ss.listen(0, '127.0.0.1', () => r()));
  servers.push(ss);
  ports.push((ss.address() as any).port);
  const tarpit = net(() => {});
  await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', () => r()));
  ports.push((tarpit.address() as any).port);
  writeFileSync('/tmp/demo-ca.pem', pki.root.certPem);
  const args = [
    'bin/certwatch.js',
    'check',
    '--ca-file',
    '/tmp/demo-ca.pem',
    '--timeout',
    '2s',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '127.0.0.1:1',
    'no-such-host.invalid',
  ];
  const t = await run(args);
  console.log(t.stdout + `exit ${t.status}\n`);
  const j = await run([
    'bin/certwatch.js',
    'check',
    '--json',
    '--ca-file',
    '/tmp/demo-ca.pem',
    `127.0.0.1:${ports[1]}`,
  ]);
  console.log(j.stdout);
  for (const s of servers) s.close();
  tarpit.close();
})();
