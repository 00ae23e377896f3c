/**
 * CRLs built and signed at test time are parsed and judged: a listed serial is revoked (with when
 * and why), an unlisted one good, and a CRL that is stale, not yet valid or signed by another key
 * is unknown. A CRL speaks only for the certificates it covers (RFC 5280 §6.3.3): its issuer's,
 * within its issuing distribution point; one that cannot tell (a delta or indirect CRL, a critical
 * extension certwatch does not process) is refused.
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CrlSubject,
  judgeCrl,
  parseCrl,
  verifyCrlSignature,
} from '../../../lambdas/cert/revocation/crl';
import { certificateIdsOf, revocationSourcesOf } from '../../../lambdas/cert/revocation/revocation-sources';
import { parseCertificate } from '../../../lambdas/cert/parse-certificate';
import {
  daysFromNow,
  makeCert,
  makePki,
  rsaKey,
  type TestCert,
  type TestPki,
} from '../../support/cert-factory';
import {
  type CrlExtension,
  type CrlSpec,
  issuingDistributionPoint,
  makeCrl,
} from '../../support/ocsp-responder';

const asn1 = forge.asn1;
const CRL_URL = 'http://127.0.0.1:9/ca.crl';

let pki: TestPki;
let revokedLeaf: TestCert;
const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000);

/** What a CRL is judged against for `cert`, as the revocation step gathers it. */
function subjectOf(cert: TestCert): CrlSubject {
  const parsed = parseCertificate(cert.der);
  return {
    serialHex: certificateIdsOf(cert.der)!.serialHex,
    issuerKey: parsed.issuerKey,
    isCa: parsed.isCa,
    crlUrls: revocationSourcesOf(cert.der).crlUrls,
  };
}

beforeAll(() => {
  pki = makePki({ crlUrl: CRL_URL });
  revokedLeaf = makeCert({ cn: 'revoked.test', issuer: pki.intermediate, crlUrl: CRL_URL });
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
    const verdict = judgeCrl(crl, subjectOf(cert()), verifyCrlSignature(crl, issuerKey), new Date());

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
    const verdict = judgeCrl(crl, subjectOf(revokedLeaf), verifyCrlSignature(crl, issuerKey), new Date());

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

const integer = (n: number) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(n));

describe('which certificates a CRL speaks for', () => {
  /** A current CRL by `issuer` listing `revokedLeaf`, with `more` of the spec. */
  function crlWith(more: Partial<CrlSpec> = {}, issuer: TestCert = pki.intermediate) {
    const parsed = parseCrl(
      makeCrl({
        issuer,
        revoked: [{ cert: revokedLeaf, at: revokedAt, reasonCode: 1 }],
        thisUpdate: daysFromNow(-1),
        nextUpdate: daysFromNow(6),
        ...more,
      }),
    );
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed;
  }

  it.each([
    {
      name: 'its own distribution point: unlisted is good',
      ext: issuingDistributionPoint({ uris: [CRL_URL] }),
      cert: () => pki.leaf,
      expected: { status: 'good' },
    },
    {
      name: 'its own distribution point among others: listed is revoked',
      ext: issuingDistributionPoint({ uris: ['http://127.0.0.1:9/other.crl', CRL_URL] }),
      cert: () => revokedLeaf,
      expected: { status: 'revoked', reason: 'keyCompromise' },
    },
    {
      name: 'end-entity certificates only, asked about a leaf',
      ext: issuingDistributionPoint({ uris: [CRL_URL], user: true }),
      cert: () => pki.leaf,
      expected: { status: 'good' },
    },
    {
      name: 'another distribution point (a shard the leaf is not in): unlisted is not good',
      ext: issuingDistributionPoint({ uris: ['http://127.0.0.1:9/shard-2.crl'] }),
      cert: () => pki.leaf,
      expected: {
        status: 'unknown',
        reason:
          'the CRL is for the distribution point http://127.0.0.1:9/shard-2.crl, which the certificate does not name',
      },
    },
    {
      name: 'a hostile distribution point URI, escaped in the reason',
      ext: issuingDistributionPoint({ uris: ['http://x/\n\u001b[31mred.crl'] }),
      cert: () => pki.leaf,
      expected: {
        status: 'unknown',
        reason:
          'the CRL is for the distribution point http://x/\\x0a\\x1b[31mred.crl, which the certificate does not name',
      },
    },
    {
      name: 'another distribution point: listed is not revoked either',
      ext: issuingDistributionPoint({ uris: ['http://127.0.0.1:9/shard-2.crl'] }),
      cert: () => revokedLeaf,
      expected: { status: 'unknown' },
    },
    {
      name: 'CA certificates only, asked about a leaf',
      ext: issuingDistributionPoint({ ca: true }),
      cert: () => pki.leaf,
      expected: { status: 'unknown', reason: 'the CRL covers CA certificates only' },
    },
    {
      name: 'attribute certificates only',
      ext: issuingDistributionPoint({ attributes: true }),
      cert: () => pki.leaf,
      expected: { status: 'unknown', reason: 'the CRL covers attribute certificates only' },
    },
    {
      name: 'some reasons only: unlisted is not good',
      ext: issuingDistributionPoint({ uris: [CRL_URL], someReasons: true }),
      cert: () => pki.leaf,
      expected: {
        status: 'unknown',
        reason: 'the CRL lists revocations for some reasons only (onlySomeReasons)',
      },
    },
    {
      name: 'some reasons only: listed is revoked',
      ext: issuingDistributionPoint({ uris: [CRL_URL], someReasons: true }),
      cert: () => revokedLeaf,
      expected: { status: 'revoked' },
    },
  ])('issuing distribution point, $name', ({ ext, cert, expected }) => {
    // Prepare
    const crl = crlWith({ extensions: [ext] });

    // Act
    const verdict = judgeCrl(crl, subjectOf(cert()), true, new Date());

    // Assess
    expect(verdict).toMatchObject(expected);
  });

  it('a CRL for end-entity certificates only does not speak for a CA certificate', () => {
    // Prepare
    const ca = makeCert({ cn: 'certwatch Scoped CA', isCa: true, issuer: pki.root, crlUrl: CRL_URL });
    const crl = crlWith({ revoked: [], extensions: [issuingDistributionPoint({ user: true })] }, pki.root);

    // Act
    const verdict = judgeCrl(crl, subjectOf(ca), true, new Date());

    // Assess
    expect(verdict).toEqual({ status: 'unknown', reason: 'the CRL covers end-entity certificates only' });
  });

  it('a CRL naming another issuer does not speak for the certificate, even signed with its issuer’s key', () => {
    // Prepare: the root's subject as the issuer Name, signed with the intermediate's key.
    const rootName = certificateIdsOf(pki.root.der)!.subjectName;
    const crl = crlWith({ issuerNameDer: rootName });
    const issuerKey = new X509Certificate(pki.intermediate.der).publicKey;

    // Act
    const verdict = judgeCrl(crl, subjectOf(revokedLeaf), verifyCrlSignature(crl, issuerKey), new Date());

    // Assess
    expect(verdict).toEqual({
      status: 'unknown',
      reason: "the CRL is issued by CN=certwatch Test Root, not by the certificate's issuer",
    });
  });

  it.each<{ name: string; spec: () => Partial<CrlSpec>; reason: string }>([
    {
      name: 'a delta CRL',
      spec: () => ({ extensions: [{ oid: '2.5.29.27', critical: true, value: integer(4) }] }),
      reason: 'the CRL is unusable: it is a delta CRL, not a complete one',
    },
    {
      name: 'an indirect CRL',
      spec: () => ({ extensions: [issuingDistributionPoint({ indirect: true })] }),
      reason:
        'the CRL is unusable: it is an indirect CRL (it lists other issuers’ certificates), which certwatch does not read',
    },
    {
      name: 'a critical CRL extension certwatch does not process',
      spec: () => ({ extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: integer(1) }] }),
      reason:
        'the CRL is unusable: it has the critical extension 1.3.6.1.4.1.99999.1, which certwatch does not process',
    },
    {
      name: 'an unreadable issuing distribution point',
      spec: () => ({ extensions: [{ oid: '2.5.29.28', critical: true, value: integer(1) }] }),
      reason: 'the CRL is unusable: its issuing distribution point is unreadable',
    },
    {
      name: 'an entry with a critical extension certwatch does not process (certificateIssuer)',
      spec: () => ({
        revoked: [
          {
            cert: revokedLeaf,
            at: revokedAt,
            extensions: [
              {
                oid: '2.5.29.29',
                critical: true,
                value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, []),
              },
            ],
          },
        ],
      }),
      reason:
        'the CRL is unusable: an entry has the critical extension 2.5.29.29, which certwatch does not process',
    },
  ])('refuses $name', ({ spec, reason }) => {
    // Prepare
    const der = makeCrl({
      issuer: pki.intermediate,
      revoked: [],
      thisUpdate: daysFromNow(-1),
      nextUpdate: daysFromNow(6),
      ...spec(),
    });

    // Act
    const parsed = parseCrl(der);

    // Assess
    expect(parsed).toBe(reason);
  });

  it.each<{ name: string; extensions: CrlExtension[] }>([
    {
      name: 'a critical cRLNumber and authorityKeyIdentifier (read past)',
      extensions: [
        { oid: '2.5.29.20', critical: true, value: integer(7) },
        {
          oid: '2.5.29.35',
          critical: true,
          value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, []),
        },
      ],
    },
    {
      name: 'an unknown extension that is not critical',
      extensions: [{ oid: '1.3.6.1.4.1.99999.2', value: integer(1) }],
    },
  ])('uses a CRL with $name', ({ extensions }) => {
    // Prepare
    const crl = crlWith({ extensions });

    // Act
    const good = judgeCrl(crl, subjectOf(pki.leaf), true, new Date());
    const revoked = judgeCrl(crl, subjectOf(revokedLeaf), true, new Date());

    // Assess
    expect(good.status).toBe('good');
    expect(revoked.status).toBe('revoked');
  });
});
