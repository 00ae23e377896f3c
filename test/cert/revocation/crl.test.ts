/**
 * CRLs built and signed at test time are parsed and judged: a listed serial is revoked (with when
 * and why), an unlisted one good, and a CRL that is stale, not yet valid or signed by another key
 * is unknown.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeCrl, parseCrl, verifyCrlSignature } from '../../../lambdas/cert/revocation/crl';
import { certificateIdsOf } from '../../../lambdas/cert/revocation/revocation-sources';
import {
  daysFromNow,
  makeCert,
  makePki,
  rsaKey,
  type TestCert,
  type TestPki,
} from '../../support/cert-factory';
import { makeCrl } from '../../support/ocsp-responder';

let pki: TestPki;
let revokedLeaf: TestCert;
const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000);

function serialOf(cert: TestCert): string {
  return certificateIdsOf(cert.der)!.serialHex;
}

beforeAll(() => {
  pki = makePki({ crlUrl: 'http://127.0.0.1:9/ca.crl' });
  revokedLeaf = makeCert({ cn: 'revoked.test', issuer: pki.intermediate });
});

describe('parseCrl and judgeCrl', () => {
  it.each([
    {
      name: 'a listed serial is revoked, with when and why',
      cert: () => revokedLeaf,
      expected: { status: 'revoked', reason: 'keyCompromise', revokedAt },
    },
    { name: 'an unlisted serial is good', cert: () => pki.leaf, expected: { status: 'good' } },
  ])('$name', ({ cert, expected }) => {
    // Prepare
    const der = makeCrl({
      issuer: pki.intermediate,
      revoked: [{ cert: revokedLeaf, at: revokedAt, reasonCode: 1 }],
      thisUpdate: daysFromNow(-1),
      nextUpdate: daysFromNow(6),
    });
    const crl = parseCrl(der);
    if (typeof crl === 'string') throw new Error(crl);
    const issuerKey = new X509Certificate(pki.intermediate.der).publicKey;

    // Act
    const verdict = judgeCrl(crl, serialOf(cert()), verifyCrlSignature(crl, issuerKey), new Date());

    // Assess
    expect(verdict).toMatchObject(expected);
  });

  it.each([
    {
      name: 'a stale CRL',
      spec: { thisUpdate: daysFromNow(-10), nextUpdate: daysFromNow(-3) },
      reason: /^the CRL is stale \(nextUpdate/,
    },
    {
      name: 'a CRL from the future',
      spec: { thisUpdate: daysFromNow(2), nextUpdate: daysFromNow(9) },
      reason: /^the CRL is not yet valid/,
    },
    {
      name: 'a forged CRL (signed by another key)',
      spec: {
        thisUpdate: daysFromNow(-1),
        nextUpdate: daysFromNow(6),
        signingKeyPem: rsaKey(2048, true).privateKeyPem,
      },
      reason: /^the CRL is not signed by the issuer: the signature does not verify/,
    },
  ])('refuses $name', ({ spec, reason }) => {
    // Prepare
    const der = makeCrl({
      issuer: pki.intermediate,
      revoked: [{ cert: revokedLeaf, at: revokedAt }],
      ...spec,
    });
    const crl = parseCrl(der);
    if (typeof crl === 'string') throw new Error(crl);
    const issuerKey = new X509Certificate(pki.intermediate.der).publicKey;

    // Act
    const verdict = judgeCrl(crl, serialOf(revokedLeaf), verifyCrlSignature(crl, issuerKey), new Date());

    // Assess
    expect(verdict.status).toBe('unknown');
    expect(verdict.status === 'unknown' && verdict.reason).toMatch(reason);
  });

  it.each([
    { name: 'an empty body', der: Buffer.alloc(0) },
    { name: 'PEM text', der: Buffer.from('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n') },
    { name: 'a certificate', der: () => pki.leaf.der },
  ])('reads $name as a reason, not a throw', ({ der }) => {
    // Act
    const parsed = parseCrl(typeof der === 'function' ? der() : der);

    // Assess
    expect(typeof parsed).toBe('string');
  });
});
