/**
 * The OCSP request certwatch builds is answered by a real responder (`openssl ocsp` on files), and
 * each answer is judged: status, signer (the CA or a delegated responder), CertID and freshness.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest, judgeOcspResponse, type OcspSubject } from '../../../lambdas/cert/revocation/ocsp';
import { certificateIdsOf } from '../../../lambdas/cert/revocation/revocation-sources';
import {
  daysFromNow,
  ecKey,
  makeCert,
  makePki,
  type TestCert,
  type TestPki,
} from '../../support/cert-factory';
import { type IndexEntry, opensslOcspResponse, type ResponderSetup } from '../../support/ocsp-responder';

const MINUTE = 60_000;

let pki: TestPki;
let revokedLeaf: TestCert;
let strangerLeaf: TestCert;
let delegate: TestCert;
let delegateWithoutEku: TestCert;
let rogueResponder: TestCert;
let entries: IndexEntry[];
const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);

function subjectOf(cert: TestCert, issuer: TestCert): OcspSubject {
  const ids = certificateIdsOf(cert.der);
  if (ids === null) throw new Error('test certificate unreadable');
  return { ids, issuer: new X509Certificate(issuer.der) };
}

/** What the responder answers about `cert` when asked with certwatch's request. */
function answerFor(cert: TestCert, setup: Partial<ResponderSetup> = {}): Buffer {
  const request = buildOcspRequest(subjectOf(cert, pki.intermediate));
  if (request === null) throw new Error('no request built');
  return opensslOcspResponse(request, { issuer: pki.intermediate, entries, ...setup });
}

beforeAll(() => {
  pki = makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  revokedLeaf = makeCert({ cn: 'revoked.test', dnsNames: ['revoked.test'], issuer: pki.intermediate });
  strangerLeaf = makeCert({ cn: 'stranger.test', dnsNames: ['stranger.test'], issuer: pki.intermediate });
  delegate = makeCert({
    cn: 'certwatch Test OCSP Responder',
    issuer: pki.intermediate,
    // Fresh keys: the factory shares one RSA key between certificates, which would make any signer the CA.
    key: ecKey('P-256', true),
    extKeyUsage: ['1.3.6.1.5.5.7.3.9'],
    keyUsage: ['digitalSignature'],
  });
  delegateWithoutEku = makeCert({
    cn: 'certwatch Test Not A Responder',
    issuer: pki.intermediate,
    key: ecKey('P-256', true),
  });
  const rogueCa = makeCert({ cn: 'certwatch Rogue CA', isCa: true, key: ecKey('P-256', true) });
  rogueResponder = makeCert({
    cn: 'certwatch Rogue Responder',
    issuer: rogueCa,
    key: ecKey('P-256', true),
    extKeyUsage: ['1.3.6.1.5.5.7.3.9'],
  });
  entries = [{ cert: pki.leaf }, { cert: revokedLeaf, revoked: { at: revokedAt, reason: 'keyCompromise' } }];
});

describe('judgeOcspResponse', () => {
  it.each([
    {
      name: 'a good certificate, signed by the CA',
      cert: () => pki.leaf,
      setup: {},
      expected: { status: 'good' },
    },
    {
      name: 'a revoked certificate, with when and why',
      cert: () => revokedLeaf,
      setup: {},
      expected: { status: 'revoked', reason: 'keyCompromise', revokedAt },
    },
    {
      name: 'a delegated responder with id-kp-OCSPSigning',
      cert: () => pki.leaf,
      setup: { signer: delegate },
      expected: { status: 'good' },
    },
    {
      name: 'a revocation from a delegated responder',
      cert: () => revokedLeaf,
      setup: { signer: delegate },
      expected: { status: 'revoked', reason: 'keyCompromise' },
    },
  ])('trusts $name', ({ cert, setup, expected }) => {
    // Prepare
    const response = answerFor(cert(), setup);

    // Act
    const verdict = judgeOcspResponse(response, subjectOf(cert(), pki.intermediate), new Date());

    // Assess
    expect(verdict).toMatchObject(expected);
  });

  it.each([
    {
      name: 'a responder certificate the CA issued without OCSPSigning',
      cert: () => pki.leaf,
      setup: () => ({ signer: delegateWithoutEku }),
      at: () => new Date(),
      reason: /lacks extendedKeyUsage OCSPSigning/,
    },
    {
      name: 'a forged answer: a responder certificate from another CA',
      cert: () => revokedLeaf,
      setup: () => ({ signer: rogueResponder }),
      at: () => new Date(),
      reason: /which the issuer did not issue/,
    },
    {
      name: 'a stale answer (nextUpdate passed)',
      cert: () => pki.leaf,
      setup: () => ({ nextUpdateMinutes: 10 }),
      at: () => new Date(Date.now() + 30 * MINUTE),
      reason: /is stale \(nextUpdate/,
    },
    {
      name: 'an answer from the future (thisUpdate ahead of the clock)',
      cert: () => pki.leaf,
      setup: () => ({}),
      at: () => daysFromNow(-1),
      reason: /is not yet valid/,
    },
    {
      name: 'a certificate the responder does not know',
      cert: () => strangerLeaf,
      setup: () => ({}),
      at: () => new Date(),
      reason: /does not know the certificate/,
    },
  ])('refuses $name', ({ cert, setup, at, reason }) => {
    // Prepare
    const response = answerFor(cert(), setup());

    // Act
    const verdict = judgeOcspResponse(response, subjectOf(cert(), pki.intermediate), at());

    // Assess
    expect(verdict.status).toBe('unknown');
    expect(verdict.status === 'unknown' && verdict.reason).toMatch(reason);
  });

  it('remembers a delegated responder per issuer: the same responder certificate is refused for another CA', () => {
    // Prepare: one issuer object, as a run holds it, judging two answers from the delegate.
    const issuer = new X509Certificate(pki.intermediate.der);
    const otherCa = new X509Certificate(
      makeCert({ cn: 'certwatch Other CA', isCa: true, key: ecKey('P-256', true) }).der,
    );
    const good = answerFor(pki.leaf, { signer: delegate });
    const revoked = answerFor(revokedLeaf, { signer: delegate });
    const ids = (cert: TestCert) => subjectOf(cert, pki.intermediate).ids;

    // Act
    const first = judgeOcspResponse(good, { ids: ids(pki.leaf), issuer }, new Date());
    const second = judgeOcspResponse(revoked, { ids: ids(revokedLeaf), issuer }, new Date());
    const elsewhere = judgeOcspResponse(good, { ids: ids(pki.leaf), issuer: otherCa }, new Date());
    const again = judgeOcspResponse(good, { ids: ids(pki.leaf), issuer }, new Date());

    // Assess
    expect(first.status).toBe('good');
    expect(second.status).toBe('revoked');
    expect(elsewhere.status === 'unknown' && elsewhere.reason).toMatch(/which the issuer did not issue/);
    expect(again.status).toBe('good');
  });

  it('judges answers of one issuer alike whichever signer came before (the CA, a delegate, a forger)', () => {
    // Prepare: one issuer object; its answers switch signer, and a forged one comes after a delegate's.
    const issuer = new X509Certificate(pki.intermediate.der);
    const ids = subjectOf(pki.leaf, pki.intermediate).ids;
    const byCa = answerFor(pki.leaf);
    const byDelegate = answerFor(pki.leaf, { signer: delegate });
    const byRogue = answerFor(pki.leaf, { signer: rogueResponder });
    const byNonResponder = answerFor(pki.leaf, { signer: delegateWithoutEku });
    const order = [byCa, byDelegate, byRogue, byCa, byDelegate, byNonResponder, byDelegate, byCa];

    // Act
    const verdicts = order.map((der) => judgeOcspResponse(der, { ids, issuer }, new Date()));

    // Assess
    expect(
      verdicts.map((v) => (v.status === 'unknown' ? v.reason.replace(/ "[^"]*"/, '') : v.status)),
    ).toEqual([
      'good',
      'good',
      'the response is signed by responder certificate, which the issuer did not issue',
      'good',
      'good',
      'the response is signed by responder certificate, which lacks extendedKeyUsage OCSPSigning',
      'good',
      'good',
    ]);
  });

  it('refuses an answer about another certificate (CertID mismatch)', () => {
    // Prepare: the responder's answer about the leaf, judged as if it were about another serial.
    const response = answerFor(pki.leaf);

    // Act
    const verdict = judgeOcspResponse(response, subjectOf(revokedLeaf, pki.intermediate), new Date());

    // Assess
    expect(verdict).toEqual({
      status: 'unknown',
      reason: 'the OCSP response does not answer for this certificate (CertID mismatch)',
    });
  });

  it('refuses an answer whose signature was tampered with', () => {
    // Prepare: flip one byte of the signature (the last bytes of a response without certificates).
    const response = Buffer.from(answerFor(revokedLeaf, { noCerts: true }));
    response[response.length - 5]! ^= 0x01;

    // Act
    const verdict = judgeOcspResponse(response, subjectOf(revokedLeaf, pki.intermediate), new Date());

    // Assess
    expect(verdict.status).toBe('unknown');
    expect(verdict.status === 'unknown' && verdict.reason).toMatch(/signature does not verify/);
  });

  it.each([
    {
      name: 'tryLater',
      der: Buffer.from('30030a0103', 'hex'),
      reason: 'the OCSP responder answered tryLater',
    },
    {
      name: 'unauthorized',
      der: Buffer.from('30030a0106', 'hex'),
      reason: 'the OCSP responder answered unauthorized',
    },
    { name: 'an empty body', der: Buffer.alloc(0), reason: /^the OCSP response is not DER/ },
    { name: 'HTML', der: Buffer.from('<html>busy</html>'), reason: /^the OCSP response/ },
  ])('reads $name as unknown, with the reason', ({ der, reason }) => {
    // Act
    const verdict = judgeOcspResponse(der, subjectOf(pki.leaf, pki.intermediate), new Date());

    // Assess
    expect(verdict.status).toBe('unknown');
    expect(verdict.status === 'unknown' && verdict.reason).toMatch(reason);
  });
});
