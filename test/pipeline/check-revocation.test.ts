/**
 * The revocation step end to end: real TLS servers on loopback, `openssl ocsp` as the OCSP
 * responder, an HTTP server for the CRLs, and a stapling server. Every server is stopped in afterAll.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../lambdas/cert/revocation/ocsp';
import { certificateIdsOf } from '../../lambdas/cert/revocation/revocation-sources';
import { loadTrustStore, type TrustStore } from '../../lambdas/cert/trust-store';
import type { CheckResult, RevocationMode } from '../../lambdas/core/model';
import { parseTarget } from '../../lambdas/core/parse-target';
import { startRevocationCheck } from '../../lambdas/pipeline/check-revocation';
import { type CheckOptions, checkTarget } from '../../lambdas/pipeline/check-target';
import { createRevocationFetcher, type RevocationFetcher } from '../../lambdas/probe/fetch-revocation';
import { daysFromNow, makeCert, type TestCert } from '../support/cert-factory';
import { type HttpFileServer, startHttpFileServer } from '../support/http-file-server';
import {
  freePort,
  issuingDistributionPoint,
  makeCrl,
  type OcspResponder,
  opensslOcspResponse,
  startOcspResponder,
  startStaplingTlsServer,
} from '../support/ocsp-responder';

type Scenario =
  | 'good'
  | 'revokedOcsp'
  | 'revokedCrl'
  | 'responderDown'
  | 'mustStapleNone'
  | 'mustStapleGood'
  | 'stapleRevoked'
  | 'intermediateRevoked'
  | 'crlHangs'
  | 'revokedWrongShard';

/** The leaf of each scenario. */
let leaves: Record<Scenario, TestCert>;

let root: TestCert;
let intermediate: TestCert;
let trust: TrustStore;
let ocsp: OcspResponder;
let files: HttpFileServer;
const servers = new Map<Scenario, { port: number; close(): Promise<void> }>();
const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 7_200_000);
let crlBody: Buffer = Buffer.alloc(0);
let rootCrlBody: Buffer = Buffer.alloc(0);
/** Served at /shard-1.crl, but the CRL of shard 2 (its issuing distribution point says so). */
let wrongShardCrlBody: Buffer = Buffer.alloc(0);

beforeAll(async () => {
  const ocspPort = await freePort();
  const downPort = await freePort();
  files = await startHttpFileServer((path) => {
    if (path === '/ca.crl') return { body: crlBody };
    if (path === '/root.crl') return { body: rootCrlBody };
    if (path === '/slow.crl') return { hang: true };
    if (path === '/shard-1.crl') return { body: wrongShardCrlBody };
    return undefined;
  });
  const ocspUrl = `http://127.0.0.1:${ocspPort}/`;
  const downUrl = `http://127.0.0.1:${downPort}/`;
  root = makeCert({ cn: 'certwatch Revocation Root', isCa: true, notAfter: daysFromNow(3650) });
  intermediate = makeCert({
    cn: 'certwatch Revocation CA',
    isCa: true,
    issuer: root,
    notAfter: daysFromNow(1000),
  });
  const revokedIntermediate = makeCert({
    cn: 'certwatch Revoked CA',
    isCa: true,
    issuer: root,
    crlUrl: files.url('/root.crl'),
  });
  const leaf = (
    cn: string,
    extra: Parameters<typeof makeCert>[0] extends infer O ? Partial<O> : never = {},
  ) => makeCert({ cn, dnsNames: ['localhost'], issuer: intermediate, ...extra });
  const certs: Record<Scenario, TestCert> = {
    good: leaf('good', { ocspUrl, crlUrl: files.url('/ca.crl') }),
    revokedOcsp: leaf('revoked-ocsp', { ocspUrl }),
    revokedCrl: leaf('revoked-crl', { crlUrl: files.url('/ca.crl') }),
    responderDown: leaf('responder-down', { ocspUrl: downUrl }),
    mustStapleNone: leaf('must-staple-none', { ocspUrl, mustStaple: true }),
    mustStapleGood: leaf('must-staple-good', { ocspUrl: downUrl, mustStaple: true }),
    stapleRevoked: leaf('staple-revoked', { ocspUrl: downUrl }),
    intermediateRevoked: makeCert({
      cn: 'below-revoked-ca',
      dnsNames: ['localhost'],
      issuer: revokedIntermediate,
    }),
    crlHangs: leaf('crl-hangs', { crlUrl: files.url('/slow.crl') }),
    revokedWrongShard: leaf('revoked-wrong-shard', { ocspUrl, crlUrl: files.url('/shard-1.crl') }),
  };
  leaves = certs;
  const revoked = { at: revokedAt, reason: 'keyCompromise' };
  const entries = [
    { cert: certs.good },
    { cert: certs.revokedOcsp, revoked },
    { cert: certs.mustStapleNone },
    { cert: certs.mustStapleGood },
    { cert: certs.stapleRevoked, revoked },
    { cert: certs.revokedWrongShard, revoked },
  ];
  ocsp = await startOcspResponder({ issuer: intermediate, entries, port: ocspPort });
  crlBody = makeCrl({
    issuer: intermediate,
    revoked: [{ cert: certs.revokedCrl, at: revokedAt, reasonCode: 4 }],
    thisUpdate: daysFromNow(-1),
    nextUpdate: daysFromNow(6),
  });
  wrongShardCrlBody = makeCrl({
    issuer: intermediate,
    revoked: [],
    thisUpdate: daysFromNow(-1),
    nextUpdate: daysFromNow(6),
    extensions: [issuingDistributionPoint({ uris: [files.url('/shard-2.crl')], user: true })],
  });
  rootCrlBody = makeCrl({
    issuer: root,
    revoked: [{ cert: revokedIntermediate, at: revokedAt, reasonCode: 2 }],
    thisUpdate: daysFromNow(-1),
    nextUpdate: daysFromNow(6),
  });
  const stapleFor = (cert: TestCert) =>
    opensslOcspResponse(
      buildOcspRequest({ ids: certificateIdsOf(cert.der)!, issuer: new X509Certificate(intermediate.der) })!,
      { issuer: intermediate, entries },
    );
  const staples: Partial<Record<Scenario, Buffer>> = {
    mustStapleGood: stapleFor(certs.mustStapleGood),
    stapleRevoked: stapleFor(certs.stapleRevoked),
  };
  for (const [scenario, cert] of Object.entries(certs) as [Scenario, TestCert][]) {
    const issuer = scenario === 'intermediateRevoked' ? revokedIntermediate : intermediate;
    servers.set(
      scenario,
      await startStaplingTlsServer({
        chainPem: cert.certPem + issuer.certPem,
        keyPem: cert.key.privateKeyPem,
        staple: staples[scenario] ?? null,
      }),
    );
  }
  trust = loadTrustStore({ extraCaPem: root.certPem, includeSystemRoots: false });
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
  await ocsp?.close();
  await files?.close();
});

function check(
  scenario: Scenario,
  revocation: RevocationMode,
  fetcher: RevocationFetcher | null = createRevocationFetcher({ allowLoopback: true }),
  overrides: Partial<CheckOptions> = {},
): Promise<CheckResult> {
  const port = servers.get(scenario)!.port;
  return checkTarget(parseTarget(`localhost:${port}`), {
    timeoutMs: 5000,
    thresholds: { warnDays: 30, criticalDays: 7 },
    firstAddressOnly: true,
    trust,
    fetchCaIssuers: null,
    revocation,
    fetchRevocation: fetcher,
    ...overrides,
  }).then((results) => results[0]!);
}

function revocationFindings(result: CheckResult) {
  return result.findings.filter((f) =>
    ['REVOKED', 'MUST_STAPLE_MISSING', 'REVOCATION_UNKNOWN'].includes(f.code),
  );
}

describe('checkTarget: revocation', () => {
  it.each([
    {
      scenario: 'good' as const,
      mode: 'check' as const,
      status: 'ok',
      findings: [],
    },
    {
      scenario: 'revokedOcsp' as const,
      mode: 'check' as const,
      status: 'critical',
      findings: [
        {
          code: 'REVOKED',
          severity: 'critical',
          certIndex: 0,
          message: expect.stringMatching(
            new RegExp(
              `^certificate 0 \\(leaf\\) \\(CN=revoked-ocsp\\) was revoked on ${revokedAt.toISOString()} \\(reason keyCompromise\\), according to the OCSP responder http://127\\.0\\.0\\.1:\\d+/$`,
            ),
          ),
        },
      ],
    },
    {
      scenario: 'revokedCrl' as const,
      mode: 'check' as const,
      status: 'critical',
      findings: [
        {
          code: 'REVOKED',
          severity: 'critical',
          certIndex: 0,
          message: expect.stringMatching(
            /was revoked on .* \(reason superseded\), according to the CRL http:\/\/127\.0\.0\.1:\d+\/ca\.crl$/,
          ),
        },
      ],
    },
    {
      scenario: 'intermediateRevoked' as const,
      mode: 'check' as const,
      status: 'critical',
      findings: [
        {
          code: 'REVOKED',
          severity: 'critical',
          certIndex: 1,
          message: expect.stringMatching(
            /^certificate 1 \(CN=certwatch Revoked CA\) was revoked .*\(reason cACompromise\), according to the CRL /,
          ),
        },
      ],
    },
    {
      scenario: 'responderDown' as const,
      mode: 'check' as const,
      status: 'ok',
      findings: [
        {
          code: 'REVOCATION_UNKNOWN',
          severity: 'info',
          certIndex: 0,
          message: expect.stringMatching(
            /^revocation status of certificate 0 \(leaf\) is unknown: OCSP http:\/\/127\.0\.0\.1:\d+\/: request failed: ECONNREFUSED$/,
          ),
        },
      ],
    },
    {
      scenario: 'responderDown' as const,
      mode: 'require' as const,
      status: 'warning',
      findings: [{ code: 'REVOCATION_UNKNOWN', severity: 'warning', certIndex: 0 }],
    },
    {
      scenario: 'mustStapleNone' as const,
      mode: 'check' as const,
      status: 'critical',
      findings: [
        {
          code: 'MUST_STAPLE_MISSING',
          severity: 'critical',
          certIndex: 0,
          message:
            'certificate 0 (leaf) demands a stapled OCSP response (TLS Feature status_request, "must-staple") but the server sent none: Firefox refuses the connection',
        },
      ],
    },
    // The responder named in the certificate is down: only the verified staple can have answered.
    { scenario: 'mustStapleGood' as const, mode: 'require' as const, status: 'ok', findings: [] },
    {
      scenario: 'stapleRevoked' as const,
      mode: 'check' as const,
      status: 'critical',
      findings: [
        {
          code: 'REVOKED',
          severity: 'critical',
          message: expect.stringMatching(/\(reason keyCompromise\), according to the stapled OCSP response$/),
        },
      ],
    },
    { scenario: 'revokedOcsp' as const, mode: 'off' as const, status: 'ok', findings: [] },
    // The CRL at the leaf's URL is another shard's: its silence is not "good", so the responder is asked.
    {
      scenario: 'revokedWrongShard' as const,
      mode: 'check' as const,
      status: 'critical',
      findings: [
        {
          code: 'REVOKED',
          severity: 'critical',
          certIndex: 0,
          message: expect.stringMatching(/\(reason keyCompromise\), according to the OCSP responder http:/),
        },
      ],
    },
  ])('$scenario with revocation: $mode is $status', async ({ scenario, mode, status, findings }) => {
    // Act
    const result = await check(scenario, mode);

    // Assess
    expect(revocationFindings(result)).toEqual(findings.map((f) => expect.objectContaining(f)));
    expect(revocationFindings(result)).toHaveLength(findings.length);
    expect(result.status).toBe(status);
  });

  it('refuses loopback sources with the production fetcher settings', async () => {
    // Act
    const result = await check('revokedOcsp', 'check', createRevocationFetcher());

    // Assess
    expect(revocationFindings(result)).toEqual([
      expect.objectContaining({
        code: 'REVOCATION_UNKNOWN',
        severity: 'info',
        message: expect.stringContaining('not fetched from 127.0.0.1: a loopback address'),
      }),
    ]);
    expect(result.status).toBe('ok');
  });

  it('fetches a CRL once and answers later checks from the cache', async () => {
    // Prepare
    const fetcher = createRevocationFetcher({ allowLoopback: true });
    const before = files.requests.filter((r) => r.path === '/ca.crl').length;

    // Act
    const first = await check('revokedCrl', 'check', fetcher);
    const second = await check('revokedCrl', 'check', fetcher);

    // Assess
    expect([first.status, second.status]).toEqual(['critical', 'critical']);
    expect(files.requests.filter((r) => r.path === '/ca.crl').length - before).toBe(1);
    expect(fetcher.stats).toMatchObject({ crlRequests: 1, crlCacheHits: 1 });
  });

  it("asks a leaf's CRL before its OCSP responder, and fetches the CA's CRL once for all its leaves", async () => {
    // Prepare
    const fetcher = createRevocationFetcher({ allowLoopback: true });

    // Act: a leaf naming both sources, then another leaf of the same CA.
    const good = await check('good', 'require', fetcher);
    const revoked = await check('revokedCrl', 'check', fetcher);

    // Assess
    expect(revocationFindings(good)).toEqual([]);
    expect(revocationFindings(revoked).map((f) => f.code)).toEqual(['REVOKED']);
    expect(fetcher.stats).toMatchObject({ ocspRequests: 0, crlRequests: 1, crlCacheHits: 1 });
  });

  it('gives up on a CRL server that never answers within the deadline', async () => {
    // Act
    const result = await check('crlHangs', 'require', createRevocationFetcher({ allowLoopback: true }), {
      timeoutMs: 1500,
    });

    // Assess
    expect(revocationFindings(result)).toEqual([
      expect.objectContaining({
        code: 'REVOCATION_UNKNOWN',
        severity: 'warning',
        message: expect.stringMatching(/timed out after \d+ ms/),
      }),
    ]);
  });

  it('sends its requests before the chain is judged, and adds its findings to the judged result', async () => {
    // Prepare: a fetcher that notes when it is asked.
    const real = createRevocationFetcher({ allowLoopback: true });
    const asked: string[] = [];
    const fetcher: RevocationFetcher = {
      ...real,
      stats: real.stats,
      crl: (url, options) => {
        asked.push(url);
        return real.crl(url, options);
      },
    };
    const outcome = {
      host: 'localhost',
      port: 443,
      address: '127.0.0.1',
      servername: 'localhost',
      chainDer: [leaves.revokedCrl.der, intermediate.der],
      protocol: 'TLSv1.3',
      cipher: null,
      error: null,
      durationMs: 5,
      ocspStaple: null,
    };
    const judged: CheckResult = await check('good', 'off');

    // Act
    const addRevocation = startRevocationCheck(outcome, {
      mode: 'check',
      trust,
      thresholds: { warnDays: 30, criticalDays: 7 },
      now: new Date(),
      budgetMs: 5000,
      fetcher,
    });
    const askedBeforeJudged = [...asked];
    const result = await addRevocation(judged);

    // Assess
    expect(askedBeforeJudged).toEqual([files.url('/ca.crl')]);
    expect(revocationFindings(result).map((f) => f.code)).toEqual(['REVOKED']);
    expect(result.status).toBe('critical');
  });
});
