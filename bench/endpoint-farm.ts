/**
 * Benchmark endpoint farm, run as a child process so its TLS work does not
 * share the checker's event loop. Starts N loopback endpoints — tarpits,
 * malformed certificates, and valid or expiring ones — prints one JSON line
 * describing them, and stops when its stdin closes.
 *
 * Usage: tsx bench/endpoint-farm.ts N TARPIT_PCT MALFORMED_PCT CA_PEM_OUT
 */
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { daysFromNow, ecKey, makeCert, type TestCert } from '../test/support/cert-factory';
import { startRawCertificateServer } from '../test/support/tls-test-servers';

export type EndpointKind = 'valid' | 'expiring' | 'tarpit' | 'malformed';

const [n = 1000, tarpitPct = 5, malformedPct = 5] = process.argv.slice(2, 5).map(Number);
const caOut = process.argv[5] ?? '/tmp/certwatch-bench-ca.pem';

function leafFor(ca: TestCert, notAfterDays: number): TestCert {
  return makeCert({
    cn: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: ca,
    notAfter: daysFromNow(notAfterDays),
    key: ecLeafKey,
  });
}

// ECDSA leaves keep the farm's signing cost low, so what gets measured is the checker.
const ecLeafKey = ecKey('P-256');

async function main(): Promise<void> {
  const ca = makeCert({ cn: 'certwatch Bench CA', isCa: true, notAfter: daysFromNow(3650) });
  writeFileSync(caOut, ca.certPem);
  const validLeaf = leafFor(ca, 200);
  const expiringLeaf = leafFor(ca, 5);
  // Truncated DER: what an ill-formed certificate on the wire looks like to the checker.
  const truncated = Buffer.from(validLeaf.der).subarray(0, validLeaf.der.length - 40);

  const servers: { close(): Promise<void> }[] = [];
  const sockets = new Set<Socket>();
  const endpoints: { port: number; kind: EndpointKind }[] = [];
  const tarpits = Math.round((n * tarpitPct) / 100);
  const malformed = Math.round((n * malformedPct) / 100);
  // Spread the slow kinds evenly through the list, as they would be in a real inventory.
  const kindAt = (i: number): EndpointKind => {
    if (tarpits > 0 && i % Math.floor(n / tarpits) === 0 && Math.floor(i / Math.floor(n / tarpits)) < tarpits)
      return 'tarpit';
    if (
      malformed > 0 &&
      i % Math.floor(n / malformed) === 1 &&
      Math.floor(i / Math.floor(n / malformed)) < malformed
    )
      return 'malformed';
    return i % 4 === 3 ? 'expiring' : 'valid';
  };
  for (let i = 0; i < n; i++) {
    const kind = kindAt(i);
    let server: Server;
    if (kind === 'tarpit') {
      server = createNetServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      });
    } else if (kind === 'malformed') {
      const raw = await startRawCertificateServer({ certificates: [truncated] });
      servers.push(raw);
      endpoints.push({ port: raw.port, kind });
      continue;
    } else {
      const leaf = kind === 'valid' ? validLeaf : expiringLeaf;
      server = createTlsServer({ cert: leaf.certPem + ca.certPem, key: leaf.key.privateKeyPem });
      server.on('connection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.on('tlsClientError', () => {});
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    endpoints.push({ port, kind });
  }
  process.stdout.write(`${JSON.stringify({ endpoints })}\n`);
  const shutdown = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  };
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.on('SIGTERM', shutdown);
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`endpoint farm failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
