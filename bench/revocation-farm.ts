/**
 * bench:revocation's servers: one loopback TLS server that picks each endpoint's leaf by SNI (N
 * leaves per population, all from one issuing CA, one in 50 revoked), an OCSP responder and an HTTP
 * server for the CRL. `npm run bench:revocation` runs it as a child process by default, as
 * bench/endpoint-farm.ts runs for `npm run bench`, so the responder's and the servers' work does not
 * share the checker's event loop (in production they are other machines); `--servers inprocess`
 * runs it in the bench's own process.
 *
 * With a tarpit percentage, that share of each population's endpoints points at a loopback tarpit
 * (accepts, never answers), as `npm run bench`'s farm has 5% tarpits.
 *
 * As a child: tsx bench/revocation-farm.ts N presigned|openssl [TARPIT_PCT] — prints one JSON line
 * ({@link RevocationFarmInfo}) and stops when its stdin closes.
 */
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { buildOcspRequest } from '../lambdas/cert/revocation/ocsp';
import { certificateIdsOf } from '../lambdas/cert/revocation/revocation-sources';
import { daysFromNow, ecKey, makeCert, type TestCert } from '../test/support/cert-factory';
import { startHttpFileServer } from '../test/support/http-file-server';
import { freePort, makeCrl, opensslOcspResponse, startOcspResponder } from '../test/support/ocsp-responder';

/** Which leaves name which source: both, the OCSP responder only, the CRL only. */
export const POPULATIONS = ['both', 'ocsp', 'crl'] as const;
export type Population = (typeof POPULATIONS)[number];
export type ResponderKind = 'presigned' | 'openssl';

/** One leaf in 50 is revoked. */
const REVOKED_EVERY = 50;

/** What the bench needs to know about a running farm. */
export interface RevocationFarmInfo {
  readonly rootPem: string;
  /** The TLS server's port (all endpoints; the name picks the leaf). */
  readonly port: number;
  /** Endpoint names per population. */
  readonly names: Readonly<Record<Population, readonly string[]>>;
  readonly revoked: number;
  /** The tarpit's port (accepts, never answers), or null without tarpits. */
  readonly tarpitPort: number | null;
  /** Per population, the endpoint names to check at the tarpit instead of the TLS server. */
  readonly tarpits: Readonly<Record<Population, readonly string[]>>;
  /** One line saying what was set up and how long it took. */
  readonly setup: string;
}

export interface RevocationFarm extends RevocationFarmInfo {
  close(): Promise<void>;
}

/** The endpoint name of leaf `i` of `population`. */
export function endpointName(population: Population, i: number): string {
  return `e${i}.${population}.bench.test`;
}

/**
 * Whether leaf `i` of `n` is a tarpit, for `pct` percent tarpits spread evenly through the list (as
 * bench/endpoint-farm.ts spreads them), on odd indexes so no revoked leaf (every 50th) is one.
 */
export function isTarpit(i: number, n: number, pct: number): boolean {
  const count = Math.round((n * pct) / 100);
  if (count <= 0) return false;
  const step = Math.max(1, Math.floor(n / count));
  return i % step === Math.min(1, step - 1) && Math.floor(i / step) < count;
}

export async function startRevocationFarm(
  n: number,
  responderKind: ResponderKind,
  tarpitPct = 0,
): Promise<RevocationFarm> {
  const root = makeCert({ cn: 'certwatch Bench Root', isCa: true, notAfter: daysFromNow(3650) });
  const ca = makeCert({ cn: 'certwatch Bench CA', isCa: true, issuer: root, notAfter: daysFromNow(1000) });
  const ocspPort = await freePort();
  let crlBody: Buffer = Buffer.alloc(0);
  const files = await startHttpFileServer((path) => (path === '/ca.crl' ? { body: crlBody } : undefined));
  const ocspUrl = `http://127.0.0.1:${ocspPort}/`;
  const crlUrl = files.url('/ca.crl');
  const leafKey = ecKey('P-256');
  const leaves = new Map<string, TestCert>();
  const names = { both: [], ocsp: [], crl: [] } as Record<Population, string[]>;
  const started = performance.now();
  for (const population of POPULATIONS) {
    for (let i = 0; i < n; i++) {
      const name = endpointName(population, i);
      names[population].push(name);
      leaves.set(
        name,
        makeCert({
          cn: name,
          dnsNames: [name],
          issuer: ca,
          key: leafKey,
          ...(population !== 'crl' ? { ocspUrl } : {}),
          ...(population !== 'ocsp' ? { crlUrl } : {}),
        }),
      );
    }
  }
  const all = [...leaves.values()];
  const revoked = all.filter((_, i) => i % REVOKED_EVERY === 0);
  crlBody = makeCrl({
    issuer: ca,
    revoked: revoked.map((cert) => ({ cert, at: daysFromNow(-1), reasonCode: 1 })),
    thisUpdate: daysFromNow(-1),
    nextUpdate: daysFromNow(6),
  });
  const revokedAt = { at: daysFromNow(-1), reason: 'keyCompromise' };
  const entries = all.map((cert, i) => (i % REVOKED_EVERY === 0 ? { cert, revoked: revokedAt } : { cert }));
  const presignStarted = performance.now();
  const responder =
    responderKind === 'openssl'
      ? await startOcspResponder({ issuer: ca, entries, port: ocspPort })
      : await startPresignedResponder(
          ca,
          entries.filter((e) => leafHasOcsp(e.cert, ocspUrl)),
          ocspPort,
        );
  const presignMs = performance.now() - presignStarted;
  const contexts = new Map(
    [...leaves].map(([name, cert]) => [
      name,
      createSecureContext({ cert: cert.certPem + ca.certPem, key: cert.key.privateKeyPem }),
    ]),
  );
  const first = all[0]!;
  const server = createTlsServer({
    cert: first.certPem + ca.certPem,
    key: first.key.privateKeyPem,
    SNICallback: (name, callback) => callback(null, contexts.get(name)),
  });
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.end();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const tarpits = {
    both: names.both.filter((_, i) => isTarpit(i, n, tarpitPct)),
    ocsp: names.ocsp.filter((_, i) => isTarpit(i, n, tarpitPct)),
    crl: names.crl.filter((_, i) => isTarpit(i, n, tarpitPct)),
  } satisfies Record<Population, string[]>;
  const tarpit = tarpitPct > 0 ? await startTarpit() : null;
  return {
    rootPem: root.certPem,
    port,
    names,
    revoked: revoked.length,
    tarpitPort: tarpit?.port ?? null,
    tarpits,
    setup:
      `${leaves.size} leaves (${n} per population), ${revoked.length} revoked, in ${Math.round(performance.now() - started)} ms; ` +
      `OCSP ${responderKind === 'openssl' ? 'by openssl ocsp' : `pre-signed (${Math.round(presignMs)} ms)`} on :${ocspPort}, ` +
      `CRL ${crlBody.length} bytes at ${crlUrl}` +
      (tarpit ? `; ${tarpits.both.length} tarpits per population (${tarpitPct}%) on :${tarpit.port}` : ''),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tarpit?.close();
      await responder.close();
      await files.close();
    },
  };
}

/** A loopback TCP server that accepts every connection and never answers, as a hung endpoint. */
async function startTarpit(): Promise<{ port: number; close(): Promise<void> }> {
  const held = new Set<Socket>();
  const server = createNetServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of held) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Whether the leaf names `url` as its OCSP responder (its AIA). */
function leafHasOcsp(cert: TestCert, url: string): boolean {
  return new X509Certificate(cert.der).infoAccess?.includes(url) === true;
}

/**
 * An OCSP responder that answers each request with a response signed beforehand by `openssl ocsp`
 * (requests carry no nonce, so each leaf's request is the same bytes every time), as CAs serve
 * pre-produced responses (RFC 5019) behind a CDN.
 */
async function startPresignedResponder(
  issuer: TestCert,
  entries: readonly { readonly cert: TestCert; readonly revoked?: { at: Date; reason: string } }[],
  port: number,
): Promise<{ close(): Promise<void> }> {
  const answers = new Map<string, Buffer>();
  const issuerCert = new X509Certificate(issuer.der);
  for (const entry of entries) {
    const ids = certificateIdsOf(entry.cert.der);
    const request = ids === null ? null : buildOcspRequest({ ids, issuer: issuerCert });
    if (request === null) continue;
    answers.set(request.toString('base64'), opensslOcspResponse(request, { issuer, entries: [entry] }));
  }
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = answers.get(Buffer.concat(chunks).toString('base64'));
      if (answer === undefined) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': answer.length })
        .end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function runAsChild(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const kind: ResponderKind = process.argv[3] === 'openssl' ? 'openssl' : 'presigned';
  const farm = await startRevocationFarm(n, kind, Number(process.argv[4] ?? 0));
  const { close, ...info } = farm;
  process.stdout.write(`${JSON.stringify(info satisfies RevocationFarmInfo)}\n`);
  const shutdown = async () => {
    await close();
    process.exit(0);
  };
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.on('SIGTERM', shutdown);
  process.stdin.resume();
}

if (process.argv[1]?.endsWith('revocation-farm.ts')) {
  runAsChild().catch((error) => {
    process.stderr.write(`revocation farm failed: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  });
}
