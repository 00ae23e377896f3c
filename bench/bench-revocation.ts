/**
 * `npm run bench:revocation`: N endpoints (each its own leaf, all from one issuing CA) behind one
 * loopback TLS server that picks the leaf by SNI, checked through checkTargets three ways:
 * revocation off, a cold run with revocation on (a fresh process-wide fetcher), and the next run
 * on the same fetcher (a warm Lambda, or `run`'s next cycle). `openssl ocsp` answers OCSP and a
 * loopback HTTP server serves the CRL. Prints wall time, OCSP/CRL requests and the CRL cache hit
 * rate per run, for each population of leaves: OCSP and CRL, OCSP only, CRL only.
 *
 * `--responder presigned` (the default) answers OCSP from responses signed before the timed runs, as
 * CAs serve them (RFC 5019: pre-produced responses behind a CDN); `--responder openssl` runs one
 * `openssl ocsp` process that signs every answer on request, one at a time, which measures that
 * process more than certwatch.
 *
 * Usage: npm run bench:revocation -- [--endpoints 1000] [--concurrency 32] [--timeout 5000] [--responder presigned|openssl]
 * Talks only to 127.0.0.1; every server and the responder are stopped at the end.
 */
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { loadTrustStore } from '../lambdas/cert/trust-store';
import type { CheckResult, RevocationMode, Target } from '../lambdas/core/model';
import { checkTargets } from '../lambdas/pipeline/check-target';
import { createRevocationFetcher, type RevocationFetcher } from '../lambdas/probe/fetch-revocation';
import { daysFromNow, ecKey, makeCert, type TestCert } from '../test/support/cert-factory';
import { startHttpFileServer } from '../test/support/http-file-server';
import { freePort, makeCrl, opensslOcspResponse, startOcspResponder } from '../test/support/ocsp-responder';
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { buildOcspRequest } from '../lambdas/cert/revocation/ocsp';
import { certificateIdsOf } from '../lambdas/cert/revocation/revocation-sources';

const { values } = parseArgs({
  options: {
    endpoints: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    timeout: { type: 'string', default: '5000' },
    repeat: { type: 'string', default: '3' },
    responder: { type: 'string', default: 'presigned' },
  },
});
const RESPONDER = values.responder === 'openssl' ? 'openssl' : 'presigned';
const N = Number(values.endpoints);
const CONCURRENCY = Number(values.concurrency);
const TIMEOUT = Number(values.timeout);
const REPEAT = Number(values.repeat);
/** One leaf in 50 is revoked. */
const REVOKED_EVERY = 50;

type Population = 'both' | 'ocsp' | 'crl';

interface RunStats {
  readonly wallMs: number;
  readonly revoked: number;
  readonly unknown: number;
  readonly ocspRequests: number;
  readonly ocspCacheHits: number;
  readonly crlRequests: number;
  readonly crlCacheHits: number;
  readonly crlShared: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const root = makeCert({ cn: 'certwatch Bench Root', isCa: true, notAfter: daysFromNow(3650) });
  const ca = makeCert({ cn: 'certwatch Bench CA', isCa: true, issuer: root, notAfter: daysFromNow(1000) });
  const ocspPort = await freePort();
  let crlBody: Buffer = Buffer.alloc(0);
  const files = await startHttpFileServer((path) => (path === '/ca.crl' ? { body: crlBody } : undefined));
  const ocspUrl = `http://127.0.0.1:${ocspPort}/`;
  const crlUrl = files.url('/ca.crl');
  const leafKey = ecKey('P-256');
  const populations: Population[] = ['both', 'ocsp', 'crl'];
  const leaves = new Map<string, TestCert>();
  const started = performance.now();
  for (const population of populations) {
    for (let i = 0; i < N; i++) {
      const name = `e${i}.${population}.bench.test`;
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
  const responder =
    RESPONDER === 'openssl'
      ? await startOcspResponder({ issuer: ca, entries, port: ocspPort })
      : await startPresignedResponder(
          ca,
          entries.filter((e) => leafHasOcsp(e.cert, ocspUrl)),
          ocspPort,
        );
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
  console.log(
    `setup: ${leaves.size} leaves (${N} per population), ${revoked.length} revoked, in ${Math.round(performance.now() - started)} ms; ` +
      `OCSP ${RESPONDER === 'openssl' ? 'by openssl ocsp' : 'pre-signed'} on :${ocspPort}, CRL ${crlBody.length} bytes at ${crlUrl}`,
  );

  const trust = loadTrustStore({ extraCaPem: root.certPem, includeSystemRoots: false });
  const run = async (
    population: Population,
    mode: RevocationMode,
    fetcher: RevocationFetcher,
  ): Promise<RunStats> => {
    const targets: Target[] = [...leaves.keys()]
      .filter((name) => name.includes(`.${population}.`))
      .map((host) => ({ host, port, id: `${host}:${port}` }));
    const before = { ...fetcher.stats };
    const t0 = performance.now();
    const results = await checkTargets(targets, {
      timeoutMs: TIMEOUT,
      address: '127.0.0.1',
      thresholds: { warnDays: 30, criticalDays: 7 },
      firstAddressOnly: true,
      concurrency: CONCURRENCY,
      trustFor: () => trust,
      fetchCaIssuers: null,
      revocation: mode,
      fetchRevocation: fetcher,
    });
    const wallMs = performance.now() - t0;
    const flat: CheckResult[] = results.flat();
    const count = (code: string) => flat.filter((r) => r.findings.some((f) => f.code === code)).length;
    const after = fetcher.stats;
    return {
      wallMs,
      revoked: count('REVOKED'),
      unknown: count('REVOCATION_UNKNOWN'),
      ocspRequests: after.ocspRequests - before.ocspRequests,
      ocspCacheHits: after.ocspCacheHits - before.ocspCacheHits,
      crlRequests: after.crlRequests - before.crlRequests,
      crlCacheHits: after.crlCacheHits - before.crlCacheHits,
      crlShared: after.crlShared - before.crlShared,
    };
  };

  try {
    // Warm-up: JIT, the trust store, the TLS contexts.
    await run('both', 'off', createRevocationFetcher({ allowLoopback: true }));
    for (const population of populations) {
      const off: number[] = [];
      const cold: RunStats[] = [];
      const warm: RunStats[] = [];
      for (let r = 0; r < REPEAT; r++) {
        off.push((await run(population, 'off', createRevocationFetcher({ allowLoopback: true }))).wallMs);
        const fetcher = createRevocationFetcher({ allowLoopback: true });
        cold.push(await run(population, 'check', fetcher));
        warm.push(await run(population, 'check', fetcher));
      }
      const line = (label: string, runs: RunStats[]) => {
        const s = runs[runs.length - 1]!;
        const crlAsks = s.crlRequests + s.crlCacheHits + s.crlShared;
        const hitRate =
          crlAsks === 0 ? 'n/a' : `${(((s.crlCacheHits + s.crlShared) / crlAsks) * 100).toFixed(1)}%`;
        const wall = median(runs.map((x) => x.wallMs));
        const delta = ((wall / median(off) - 1) * 100).toFixed(1);
        console.log(
          `  ${label}: wall ${wall.toFixed(0)} ms (${delta}% vs off), REVOKED ${s.revoked}, REVOCATION_UNKNOWN ${s.unknown}, ` +
            `OCSP requests ${s.ocspRequests} (+${s.ocspCacheHits} cached), CRL requests ${s.crlRequests}, ` +
            `CRL asks answered without a request ${s.crlCacheHits + s.crlShared} (${s.crlCacheHits} cache, ${s.crlShared} shared in flight): hit rate ${hitRate}`,
        );
      };
      console.log(
        `population "${population}" (${N} endpoints, concurrency ${CONCURRENCY}, median of ${REPEAT}):`,
      );
      console.log(`  off : wall ${median(off).toFixed(0)} ms`);
      line('cold', cold);
      line('warm', warm);
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await responder.close();
    await files.close();
  }
}

/** Whether the leaf names `url` as its OCSP responder (its AIA). */
function leafHasOcsp(cert: TestCert, url: string): boolean {
  return new X509Certificate(cert.der).infoAccess?.includes(url) === true;
}

/**
 * An OCSP responder that answers each request with a response signed beforehand by `openssl ocsp`
 * (requests carry no nonce, so each leaf's request is the same bytes every time).
 */
async function startPresignedResponder(
  issuer: TestCert,
  entries: readonly { readonly cert: TestCert; readonly revoked?: { at: Date; reason: string } }[],
  port: number,
): Promise<{ close(): Promise<void> }> {
  const t0 = performance.now();
  const answers = new Map<string, Buffer>();
  const issuerCert = new X509Certificate(issuer.der);
  for (const entry of entries) {
    const ids = certificateIdsOf(entry.cert.der);
    const request = ids === null ? null : buildOcspRequest({ ids, issuer: issuerCert });
    if (request === null) continue;
    answers.set(request.toString('base64'), opensslOcspResponse(request, { issuer, entries: [entry] }));
  }
  console.log(`pre-signed ${answers.size} OCSP responses in ${Math.round(performance.now() - t0)} ms`);
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

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
