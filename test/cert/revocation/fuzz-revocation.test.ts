/**
 * The OCSP and CRL readers take bytes from the network: mutated DER (seeded, bounded) must always
 * come back as a verdict or a reason, never as an exception, and never as a false "revoked".
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../../lambdas/cert/parse-certificate';
import { judgeCrl, parseCrl } from '../../../lambdas/cert/revocation/crl';
import { buildOcspRequest, judgeOcspResponse, type OcspSubject } from '../../../lambdas/cert/revocation/ocsp';
import { certificateIdsOf, revocationSourcesOf } from '../../../lambdas/cert/revocation/revocation-sources';
import { daysFromNow, makeCert, makePki, type TestCert, type TestPki } from '../../support/cert-factory';
import { mulberry32, mutate } from '../../support/der-mutations';
import { issuingDistributionPoint, makeCrl, opensslOcspResponse } from '../../support/ocsp-responder';

const ITERATIONS = 400;

let pki: TestPki;
let other: TestCert;
let subject: OcspSubject;
let goodResponse: Buffer;
let crlDer: Buffer;

beforeAll(() => {
  pki = makePki({
    ocspUrl: 'http://127.0.0.1:9/ocsp',
    crlUrl: 'http://127.0.0.1:9/ca.crl',
    mustStaple: true,
  });
  other = makeCert({ cn: 'other.test', issuer: pki.intermediate });
  subject = { ids: certificateIdsOf(pki.leaf.der)!, issuer: new X509Certificate(pki.intermediate.der) };
  goodResponse = opensslOcspResponse(buildOcspRequest(subject)!, {
    issuer: pki.intermediate,
    entries: [{ cert: pki.leaf }],
  });
  crlDer = makeCrl({
    issuer: pki.intermediate,
    revoked: [{ cert: other, at: daysFromNow(-1), reasonCode: 1 }],
    thisUpdate: daysFromNow(-1),
    nextUpdate: daysFromNow(6),
    // Scope and numbering, so mutations reach the extension readers too.
    extensions: [
      issuingDistributionPoint({ uris: ['http://127.0.0.1:9/ca.crl'], user: true }),
      {
        oid: '2.5.29.20',
        value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, '\x07'),
      },
    ],
  });
});

describe('revocation readers under mutated DER', () => {
  it('judges every mutated OCSP response without throwing, and never as revoked', () => {
    // Prepare
    const rng = mulberry32(0x0c5b);
    const statuses = new Set<string>();

    // Act
    for (let i = 0; i < ITERATIONS; i++) {
      const { der } = mutate(goodResponse, rng);
      statuses.add(judgeOcspResponse(der, subject, new Date()).status);
    }

    // Assess: the mutations that keep the signature intact can only say good.
    expect([...statuses].every((s) => s === 'good' || s === 'unknown')).toBe(true);
    expect(statuses.has('unknown')).toBe(true);
  });

  it('parses every mutated CRL to a CRL or a reason, without throwing', () => {
    // Prepare
    const rng = mulberry32(0xc7b1);
    let reasons = 0;
    const statuses = new Set<string>();

    const crlSubject = {
      serialHex: certificateIdsOf(other.der)!.serialHex,
      issuerKey: parseCertificate(other.der).issuerKey,
      isCa: false,
      crlUrls: ['http://127.0.0.1:9/ca.crl'],
    };

    // Act
    for (let i = 0; i < ITERATIONS; i++) {
      const { der } = mutate(crlDer, rng);
      const parsed = parseCrl(der);
      if (typeof parsed === 'string') reasons++;
      else statuses.add(judgeCrl(parsed, crlSubject, true, new Date()).status);
    }

    // Assess
    expect(reasons).toBeGreaterThan(0);
    // Some mutations leave the CRL whole enough to be judged through its scope: the listed serial is revoked.
    expect(statuses.has('revoked')).toBe(true);
  });

  it('reads the sources of every mutated certificate without throwing', () => {
    // Prepare
    const rng = mulberry32(0x5eed);

    // Act & Assess
    for (let i = 0; i < ITERATIONS; i++) {
      const { der } = mutate(pki.leaf.der, rng);
      expect(() => {
        revocationSourcesOf(der);
        certificateIdsOf(der);
      }).not.toThrow();
    }
  });
});

describe('revocationSourcesOf', () => {
  it('reads the OCSP responder, the CRL and must-staple', () => {
    // Act
    const sources = revocationSourcesOf(pki.leaf.der);

    // Assess
    expect(sources).toEqual({
      ocspUrls: ['http://127.0.0.1:9/ocsp'],
      crlUrls: ['http://127.0.0.1:9/ca.crl'],
      mustStaple: true,
    });
  });

  it.each([
    {
      name: 'no extensions at all',
      cert: () => makeCert({ cn: 'plain.test', issuer: pki.intermediate }),
      expected: { ocspUrls: [], crlUrls: [], mustStaple: false },
    },
    {
      name: 'https and ldap URLs (never fetched)',
      cert: () =>
        makeCert({
          cn: 'odd.test',
          issuer: pki.intermediate,
          ocspUrl: 'https://ocsp.test/',
          crlUrl: 'ldap://crl.test/x',
        }),
      expected: { ocspUrls: [], crlUrls: [], mustStaple: false },
    },
  ])('reads $name as no source', ({ cert, expected }) => {
    // Act & Assess
    expect(revocationSourcesOf(cert().der)).toEqual(expected);
  });
});
