/**
 * `certwatch check --revocation` through the CLI: a server that staples its CA's "revoked"
 * answer is critical with REVOKED under the default and `require`, and judged on its
 * certificate alone with `off`; a bad mode is one line.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../lambdas/cert/revocation/ocsp';
import { certificateIdsOf } from '../../lambdas/cert/revocation/revocation-sources';
import { daysFromNow, makePki } from '../support/cert-factory';
import { opensslOcspResponse, startStaplingTlsServer } from '../support/ocsp-responder';
import { runCli } from '../support/run-cli';

describe('certwatch check --revocation', () => {
  // The OCSP URL points at a closed port: only the staple can answer, as for any loopback responder.
  const pki = makePki({ notAfter: daysFromNow(100.5), ocspUrl: 'http://127.0.0.1:9/ocsp' });
  let server: Awaited<ReturnType<typeof startStaplingTlsServer>>;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    const request = buildOcspRequest({
      ids:
        certificateIdsOf(pki.leaf.der) ??
        (() => {
          throw new Error('no certificate ids');
        })(),
      issuer: new X509Certificate(pki.intermediate.der),
    });
    if (request === null) throw new Error('no OCSP request');
    const staple = opensslOcspResponse(request, {
      issuer: pki.intermediate,
      entries: [{ cert: pki.leaf, revoked: { at: daysFromNow(-1), reason: 'keyCompromise' } }],
    });
    server = await startStaplingTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
      staple,
    });
    dir = mkdtempSync(join(tmpdir(), 'certwatch-revocation-cli-'));
    caFile = join(dir, 'root.pem');
    writeFileSync(caFile, pki.root.certPem);
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [[], 2, 'critical', ['REVOKED']],
    [['--revocation', 'check'], 2, 'critical', ['REVOKED']],
    [['--revocation', 'require'], 2, 'critical', ['REVOKED']],
    [['--revocation', 'off'], 0, 'ok', []],
  ])('%j: exit %i, %s %j', async (args, code, status, codes) => {
    // Act
    const r = await runCli([
      'check',
      '--ca-file',
      caFile,
      '--format',
      'json',
      ...args,
      `127.0.0.1:${server.port}`,
    ]);
    // Assess
    expect(r.code).toBe(code);
    const record = JSON.parse(r.stdout) as { status: string; findings: { code: string; message: string }[] };
    expect(record.status).toBe(status);
    expect(record.findings.map((f) => f.code)).toEqual(codes);
    if (codes.length > 0) expect(record.findings[0]?.message).toMatch(/keyCompromise/);
  });

  it('refuses an unknown mode with one line and exit 3', async () => {
    // Act
    const r = await runCli(['check', '--revocation', 'maybe', 'x']);
    // Assess
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr: "certwatch: --revocation: expected one of check, require, off, got 'maybe'\n",
    });
  });
});
