import { describe, expect, it } from 'vitest';
import { type AnalyzeOptions, analyzeChain } from '../../lambdas/cert/analyze-chain';
import { type TrustStore, trustStoreFromDer } from '../../lambdas/cert/trust-store';
import type { Finding, FindingCode } from '../../lambdas/core/model';
import {
  type CertOptions,
  ecKey,
  ed25519Key,
  makeCert,
  rsaKey,
  type TestCert,
} from '../support/cert-factory';
import {
  appendTrailing,
  garbageSubjectPublicKey,
  negativeSerial,
  truncate,
  unknownCriticalExtension,
  withTime,
  withVersion,
} from '../support/der-mutations';
import { at, freshEcKey, makeTestPki, NOW, THRESHOLDS } from './chain-fixtures';

const pki = makeTestPki();

function analyze(chain: readonly TestCert[] | readonly Uint8Array[], opts: Partial<AnalyzeOptions> = {}) {
  const der = chain.map((c) => ('der' in c ? c.der : c));
  return analyzeChain(der, {
    host: 'www.example.com',
    now: NOW,
    thresholds: THRESHOLDS,
    trust: pki.trust,
    ...opts,
  });
}

function codes(findings: readonly Finding[]): FindingCode[] {
  return findings.map((f) => f.code);
}

function leafOf(opts: Partial<CertOptions>): TestCert {
  return makeCert({
    cn: 'www.example.com',
    dnsNames: ['www.example.com'],
    issuer: pki.intermediate,
    notBefore: at(-10),
    notAfter: at(80),
    ...opts,
  });
}

describe('analyzeChain', () => {
  it('finds nothing wrong with a valid chain and reports days left', () => {
    // Act
    const result = analyze([pki.leaf, pki.intermediate]);
    // Assess
    expect(result.findings).toEqual([]);
    expect(result.daysLeft).toBe(80);
    expect(result.notAfter).toBe(at(80).toISOString());
    expect(result.chain.map((c) => c.subject)).toEqual(['CN=www.example.com', 'CN=Fixture Intermediate']);
  });

  describe('leaf expiry', () => {
    const cases: [string, Date, Date, FindingCode[], string[], number][] = [
      ['valid', at(-10), at(31), [], [], 31],
      ['expires in 30 days (warning)', at(-10), at(30), ['EXPIRES_SOON'], ['warning'], 30],
      ['expires in 8 days (warning)', at(-10), at(8), ['EXPIRES_SOON'], ['warning'], 8],
      ['expires in 7 days (critical)', at(-10), at(7), ['EXPIRES_SOON'], ['critical'], 7],
      ['expires in 12 hours', at(-10), at(0.5), ['EXPIRES_SOON'], ['critical'], 0],
      ['expired an hour ago', at(-10), at(-1 / 24), ['EXPIRED'], ['critical'], -1],
      ['expired 3 days ago', at(-100), at(-3), ['EXPIRED'], ['critical'], -3],
      ['not yet valid', at(2), at(90), ['NOT_YET_VALID'], ['critical'], 90],
    ];
    it.each(cases)('%s', (_name, notBefore, notAfter, expectedCodes, severities, daysLeft) => {
      // Prepare
      const leaf = leafOf({ notBefore, notAfter });
      // Act
      const result = analyze([leaf, pki.intermediate]);
      // Assess
      expect(codes(result.findings)).toEqual(expectedCodes);
      expect(result.findings.map((f) => f.severity)).toEqual(severities);
      expect(result.findings.every((f) => f.certIndex === 0)).toBe(true);
      expect(result.daysLeft).toBe(daysLeft);
      expect(result.notAfter).toBe(notAfter.toISOString().replace(/\.\d{3}Z$/, '.000Z'));
    });

    it('says when and how long ago in the message', () => {
      // Act
      const result = analyze([leafOf({ notBefore: at(-100), notAfter: at(-3) }), pki.intermediate]);
      // Assess
      expect(result.findings[0]!.message).toBe(`certificate expired on ${at(-3).toISOString()} (3 days ago)`);
    });
  });

  describe('chain certificate expiry', () => {
    it('reports an expired intermediate on the path and uses it for days left', () => {
      // Prepare
      const int = makeCert({
        cn: 'Fixture Intermediate',
        isCa: true,
        key: pki.intermediate.key,
        issuer: pki.root,
        notBefore: at(-400),
        notAfter: at(-2),
      });
      // Act
      const result = analyze([pki.leaf, int]);
      // Assess
      expect(codes(result.findings)).toEqual(['CHAIN_CERT_EXPIRED']);
      expect(result.findings[0]).toMatchObject({ severity: 'critical', certIndex: 1 });
      expect(result.findings[0]!.message).toContain(
        'chain certificate 1 (CN=Fixture Intermediate) expired on',
      );
      expect(result.daysLeft).toBe(-2);
    });

    const soon: [string, number, string][] = [
      ['warning', 20, 'warning'],
      ['critical', 5, 'critical'],
    ];
    it.each(soon)('reports an intermediate expiring soon (%s)', (_name, days, severity) => {
      // Prepare
      const int = makeCert({
        cn: 'Fixture Intermediate',
        isCa: true,
        key: pki.intermediate.key,
        issuer: pki.root,
        notBefore: at(-400),
        notAfter: at(days),
      });
      // Act
      const result = analyze([pki.leaf, int]);
      // Assess
      expect(codes(result.findings)).toEqual(['CHAIN_CERT_EXPIRES_SOON']);
      expect(result.findings[0]).toMatchObject({ severity, certIndex: 1 });
      expect(result.daysLeft).toBe(days);
    });

    it('ignores the expiry of a trust anchor, even one the server sends', () => {
      // Prepare
      const root = makeCert({
        cn: 'Old Root',
        isCa: true,
        key: freshEcKey(),
        notBefore: at(-4000),
        notAfter: at(3),
      });
      const int = makeCert({
        cn: 'Int',
        isCa: true,
        key: freshEcKey(),
        issuer: root,
        notBefore: at(-10),
        notAfter: at(500),
      });
      const leaf = leafOf({ issuer: int });
      // Act
      const result = analyze([leaf, int, root], { trust: trustStoreFromDer([root.der]) });
      // Assess
      expect(result.findings).toEqual([]);
      expect(result.daysLeft).toBe(80);
    });
  });

  describe('cross-signed roots', () => {
    // New root (trusted) also exists as a cross-signed certificate issued by an old root.
    const oldRoot = makeCert({
      cn: 'Old Root',
      isCa: true,
      key: freshEcKey(),
      notBefore: at(-5000),
      notAfter: at(-30),
    });
    const newRootKey = freshEcKey();
    const newRoot = makeCert({
      cn: 'New Root',
      isCa: true,
      key: newRootKey,
      notBefore: at(-1000),
      notAfter: at(4000),
    });
    const crossSigned = makeCert({
      cn: 'New Root',
      isCa: true,
      key: newRootKey,
      issuer: oldRoot,
      notBefore: at(-1000),
      notAfter: at(-30),
    });
    const int = makeCert({
      cn: 'Issuing CA',
      isCa: true,
      key: freshEcKey(),
      issuer: newRoot,
      notBefore: at(-100),
      notAfter: at(900),
    });
    const leaf = leafOf({ issuer: int });

    it('takes the path through the trusted new root and ignores the expired cross-signed certificate', () => {
      // Act
      const result = analyze([leaf, int, crossSigned], {
        trust: trustStoreFromDer([newRoot.der, oldRoot.der]),
      });
      // Assess
      expect(result.findings).toEqual([]);
      expect(result.daysLeft).toBe(80);
    });

    it('does so also when only the new root is trusted', () => {
      // Act
      const result = analyze([leaf, int, crossSigned], { trust: trustStoreFromDer([newRoot.der]) });
      // Assess
      expect(result.findings).toEqual([]);
    });

    it('reports the expired cross-signed certificate, and the expired old root, when that root is the only way to trust', () => {
      // Act
      const result = analyze([leaf, int, crossSigned], { trust: trustStoreFromDer([oldRoot.der]) });
      // Assess: every certificate on the path counts, the anchor included (issue 8).
      expect(codes(result.findings)).toEqual(['CHAIN_CERT_EXPIRED', 'CHAIN_CERT_EXPIRED']);
      expect(result.findings[0]!.certIndex).toBe(2);
      expect(result.findings[1]!.certIndex).toBeUndefined();
      expect(result.findings[1]!.message).toContain('chain trust anchor (CN=Old Root) expired on');
      expect(result.daysLeft).toBe(-30);
    });
  });

  describe('path preference', () => {
    it('prefers a currently valid intermediate over an expired one with the same name and key', () => {
      // Prepare
      const expired = makeCert({
        cn: 'Fixture Intermediate',
        isCa: true,
        key: pki.intermediate.key,
        issuer: pki.root,
        notBefore: at(-900),
        notAfter: at(-1),
      });
      // Act
      const result = analyze([pki.leaf, expired, pki.intermediate]);
      // Assess
      expect(result.findings).toEqual([]);
    });

    it('prefers the path whose earliest expiry is latest', () => {
      // Prepare
      const shortLived = makeCert({
        cn: 'Fixture Intermediate',
        isCa: true,
        key: pki.intermediate.key,
        issuer: pki.root,
        notBefore: at(-10),
        notAfter: at(10),
      });
      // Act
      const result = analyze([pki.leaf, shortLived, pki.intermediate]);
      // Assess
      expect(result.findings).toEqual([]);
      expect(result.daysLeft).toBe(80);
    });
  });

  describe('trust', () => {
    it('reports SELF_SIGNED for a self-signed leaf that is not trusted', () => {
      // Prepare
      const leaf = makeCert({
        cn: 'www.example.com',
        dnsNames: ['www.example.com'],
        notBefore: at(-1),
        notAfter: at(100),
      });
      // Act
      const result = analyze([leaf]);
      // Assess
      expect(codes(result.findings)).toEqual(['SELF_SIGNED']);
      expect(result.findings[0]).toMatchObject({ severity: 'critical', certIndex: 0 });
      expect(result.chain[0]!.selfSigned).toBe(true);
    });

    it('accepts a self-signed leaf that is itself a trust anchor', () => {
      // Prepare
      const leaf = makeCert({
        cn: 'www.example.com',
        dnsNames: ['www.example.com'],
        notBefore: at(-1),
        notAfter: at(100),
      });
      // Act
      const result = analyze([leaf], { trust: trustStoreFromDer([leaf.der]) });
      // Assess
      expect(result.findings).toEqual([]);
    });

    it('reports UNTRUSTED_CHAIN when the chain ends in a root that is not trusted', () => {
      // Act
      const result = analyze([pki.leaf, pki.intermediate, pki.root], { trust: trustStoreFromDer([]) });
      // Assess
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
      expect(result.findings[0]!.certIndex).toBe(2);
      expect(result.findings[0]!.message).toBe(
        'chain ends in root certificate 2 (CN=Fixture Root, O=certwatch tests) which is not a trusted root; ' +
          'if "CN=Fixture Root, O=certwatch tests" is your private CA, trust it (trust.caFiles in the config, or check --ca-file)',
      );
    });

    it('accepts a sent root that is in the store', () => {
      expect(analyze([pki.leaf, pki.intermediate, pki.root]).findings).toEqual([]);
    });

    it('reports INCOMPLETE_CHAIN when the intermediate fetched from AIA completes the path', () => {
      // Prepare
      const leaf = leafOf({ caIssuersUrl: 'http://ca.example.com/int.der' });
      // Act
      const result = analyze([leaf], { aiaIssuers: [pki.intermediate.der] });
      // Assess
      expect(result.findings).toEqual([
        {
          code: 'INCOMPLETE_CHAIN',
          severity: 'critical',
          message:
            'chain is incomplete: the server does not send the intermediate "CN=Fixture Intermediate", issuer of ' +
            'certificate 0 (leaf) (CN=www.example.com); fetched from http://ca.example.com/int.der (authorityInfoAccess ' +
            'caIssuers), it leads to trusted root "CN=Fixture Root, O=certwatch tests". Install the missing intermediate ' +
            '"CN=Fixture Intermediate" on the server: browsers may fetch it, most other clients fail',
          certIndex: 0,
        },
      ]);
      expect(result.missingIssuer).toEqual({
        caIssuersUrls: ['http://ca.example.com/int.der'],
        issuer: 'CN=Fixture Intermediate',
        certIndex: 0,
      });
    });

    it('without that evidence, reports an unknown issuer as UNTRUSTED_CHAIN and says where to fetch it', () => {
      // Prepare
      const leaf = leafOf({ caIssuersUrl: 'http://ca.example.com/int.der' });
      // Act
      const result = analyze([leaf]);
      // Assess
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
      expect(result.findings[0]!.message).toBe(
        'chain is not trusted: the issuer of certificate 0 (leaf) (CN=www.example.com), "CN=Fixture Intermediate", ' +
          "was not sent by the server and is not a trusted root; the certificate names its issuer's certificate at " +
          'http://ca.example.com/int.der (authorityInfoAccess caIssuers). If "CN=Fixture Intermediate" is your private CA, ' +
          'trust its root certificate (trust.caFiles in the config, or check --ca-file); if it is an intermediate, the server must send it',
      );
      expect(result.missingIssuer).toEqual({
        caIssuersUrls: ['http://ca.example.com/int.der'],
        issuer: 'CN=Fixture Intermediate',
        certIndex: 0,
      });
    });

    it('says the issuer was sent unreadable when the intermediate is garbled', () => {
      // Act
      const result = analyze([pki.leaf.der, truncate(pki.intermediate.der, 100)]);
      // Assess
      expect(codes(result.findings)).toEqual(['MALFORMED_CERTIFICATE', 'INCOMPLETE_CHAIN']);
      expect(result.findings[1]!.message).toBe(
        'chain is incomplete: the issuer of certificate 0 (leaf) (CN=www.example.com), "CN=Fixture Intermediate", ' +
          'was not sent in readable form (certificate 1 is malformed) and is not a trusted root',
      );
    });

    it('reports UNTRUSTED_CHAIN naming the root when a private CA sends leaf + intermediate and its root is not trusted', () => {
      // Act
      const result = analyze([pki.leaf, pki.intermediate], { trust: trustStoreFromDer([]) });
      // Assess: an unknown root, not a missing intermediate (issue 8).
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
      expect(result.findings[0]!.certIndex).toBe(1);
      expect(result.findings[0]!.message).toBe(
        'chain is not trusted: the issuer of certificate 1 (CN=Fixture Intermediate), "CN=Fixture Root, O=certwatch tests", ' +
          'was not sent by the server and is not a trusted root. If "CN=Fixture Root, O=certwatch tests" is your private CA, ' +
          'trust its root certificate (trust.caFiles in the config, or check --ca-file); if it is an intermediate, the server must send it',
      );
      expect(result.missingIssuer).toEqual({
        caIssuersUrls: [],
        issuer: 'CN=Fixture Root, O=certwatch tests',
        certIndex: 1,
      });
    });

    it('reports UNTRUSTED_CHAIN naming the root that AIA gave, when it is self-signed and not trusted', () => {
      // Act
      const result = analyze([pki.leaf, pki.intermediate], {
        trust: trustStoreFromDer([]),
        aiaIssuers: [pki.root.der],
      });
      // Assess
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
      expect(result.findings[0]).toMatchObject({
        certIndex: 1,
        message:
          'chain ends in root fetched issuer (CN=Fixture Root, O=certwatch tests), fetched from caIssuers, which is not a trusted root; ' +
          'if "CN=Fixture Root, O=certwatch tests" is your private CA, trust it (trust.caFiles in the config, or check --ca-file)',
      });
    });

    it('ignores fetched certificates that do not issue the last one', () => {
      // Act
      const result = analyze([leafOf({})], { aiaIssuers: [pki.root.der, Buffer.from('not a certificate')] });
      // Assess
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
    });

    it('sets no missing issuer for a trusted chain', () => {
      expect(analyze([pki.leaf, pki.intermediate]).missingIssuer).toBeNull();
    });

    it('reports UNTRUSTED_CHAIN when a signature does not verify', () => {
      // Prepare: an impostor intermediate with the right name and key type but another key.
      const impostor = makeCert({
        cn: 'Fixture Intermediate',
        isCa: true,
        key: pki.leaf.key,
        issuer: pki.root,
        notBefore: at(-1),
        notAfter: at(100),
      });
      // Act
      const result = analyze([pki.leaf, impostor]);
      // Assess
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
      expect(result.findings[0]!.message).toBe(
        'signature of certificate 0 (leaf) (CN=www.example.com) does not verify with the key of certificate 1 (CN=Fixture Intermediate)',
      );
    });

    it('reports INVALID_CA_CERTIFICATE when the issuer is no CA and may not sign certificates', () => {
      // Prepare: issued by a non-CA leaf (cA=FALSE, keyUsage without keyCertSign), itself issued by the intermediate.
      const notCa = leafOf({ cn: 'Not A CA', dnsNames: [] });
      const leaf = leafOf({ issuer: notCa });
      // Act
      const result = analyze([leaf, notCa, pki.intermediate]);
      // Assess: the issuer is found and its signature verifies; it is the CA rules it breaks (issue 8).
      expect(result.findings).toEqual([
        {
          code: 'INVALID_CA_CERTIFICATE',
          severity: 'critical',
          message: 'certificate 1 (CN=Not A CA) may not act as a CA: its basicConstraints has cA=FALSE',
          certIndex: 1,
        },
        {
          code: 'INVALID_CA_CERTIFICATE',
          severity: 'critical',
          message:
            'certificate 1 (CN=Not A CA) may not sign certificates: its keyUsage (digitalSignature, keyEncipherment) lacks keyCertSign',
          certIndex: 1,
        },
      ]);
    });

    it('does not loop on certificates that issue each other', () => {
      // Prepare: A and B cross-sign each other; neither is trusted.
      const keyA = freshEcKey();
      const keyB = freshEcKey();
      const seedA = makeCert({ cn: 'Loop A', isCa: true, key: keyA, notBefore: at(-1), notAfter: at(100) });
      const b = makeCert({
        cn: 'Loop B',
        isCa: true,
        key: keyB,
        issuer: seedA,
        notBefore: at(-1),
        notAfter: at(100),
      });
      const a = makeCert({
        cn: 'Loop A',
        isCa: true,
        key: keyA,
        issuer: b,
        notBefore: at(-1),
        notAfter: at(100),
      });
      const leaf = leafOf({ issuer: a });
      // Act
      const result = analyze([leaf, a, b]);
      // Assess: no evidence of an omitted intermediate, so an unknown root (issue 8).
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
    });

    describe('explains each way a path can end without an anchor', () => {
      /** leaf ← c1 ← … ← c(n-1), each a CA issued by the next; the top one by the untrusted `top`. */
      function linearChain(length: number): TestCert[] {
        const top = makeCert({
          cn: 'Top',
          isCa: true,
          key: freshEcKey(),
          notBefore: at(-1),
          notAfter: at(100),
        });
        const chain: TestCert[] = [];
        let issuer = top;
        for (let i = length - 1; i >= 1; i--) {
          issuer = makeCert({
            cn: `CA ${i}`,
            isCa: true,
            key: freshEcKey(),
            issuer,
            notBefore: at(-1),
            notAfter: at(100),
          });
          chain.unshift(issuer);
        }
        return [leafOf({ issuer, key: freshEcKey() }), ...chain];
      }
      const leafName = 'certificate 0 (leaf) (CN=www.example.com)';
      const cases: [string, () => TestCert[] | Uint8Array[], FindingCode, string, number | undefined][] = [
        [
          'root: the leaf signs itself',
          () => [leafOf({ issuer: undefined })],
          'SELF_SIGNED',
          'certificate is self-signed (CN=www.example.com) and not issued by a trusted CA',
          0,
        ],
        [
          'badSignature: a self-issued leaf whose signature does not verify',
          () => [leafOf({ issuer: leafOf({ issuer: undefined, key: freshEcKey() }) })],
          'UNTRUSTED_CHAIN',
          `signature of self-issued ${leafName} does not verify`,
          0,
        ],
        [
          'issuerMismatch: a named issuer whose key identifier rules it out',
          () => {
            const impostor = makeCert({
              cn: 'Fixture Intermediate',
              isCa: true,
              key: freshEcKey(),
              issuer: pki.root,
              notBefore: at(-1),
              notAfter: at(100),
            });
            return [leafOf({ authorityKeyId: true }), impostor];
          },
          'UNTRUSTED_CHAIN',
          `certificate 1 (CN=Fixture Intermediate) has the issuer name of ${leafName} but cannot have issued it (key identifier, key type or key usage mismatch)`,
          0,
        ],
        [
          'unusableIssuer: the issuer was sent but OpenSSL cannot read it',
          () => [pki.leaf.der, truncate(pki.intermediate.der, 400)],
          'UNTRUSTED_CHAIN',
          `issuer certificate 1 (CN=Fixture Intermediate) of ${leafName} could not be parsed, so the chain cannot be verified`,
          0,
        ],
        [
          'depth: no anchor within 10 certificates',
          () => linearChain(10),
          'UNTRUSTED_CHAIN',
          'no trusted path within 10 certificates',
          9,
        ],
      ];
      it.each(cases)('%s', (_name, build, code, message, certIndex) => {
        // Act
        const result = analyze(build());
        // Assess
        const trust = result.findings.filter((f) => f.code !== 'MALFORMED_CERTIFICATE');
        expect(trust).toEqual([{ code, severity: 'critical', message, certIndex }]);
      });

      it('one certificate short of the depth limit ends at an unknown root', () => {
        // Act
        const result = analyze(linearChain(9));
        // Assess: the top CA was not sent and nothing shows it is an intermediate (issue 8).
        expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
        expect(result.findings[0]!.message).toContain('"CN=Top", was not sent by the server');
      });
    });

    it('stays bounded on a hostile chain of 500 look-alike certificates', () => {
      // Prepare: 40 distinct certificates, all named like the leaf's issuer, none of them the real one.
      const lookAlikes = Array.from({ length: 40 }, () =>
        makeCert({
          cn: 'Fixture Intermediate',
          isCa: true,
          key: freshEcKey(),
          issuer: pki.root,
          notBefore: at(-1),
          notAfter: at(100),
        }),
      );
      const chain = [
        pki.leaf.der,
        ...Array.from({ length: 499 }, (_, i) => lookAlikes[i % lookAlikes.length]!.der),
      ];
      // Act
      const result = analyze(chain);
      // Assess
      expect(result.chain).toHaveLength(500);
      expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
    });
  });

  describe('hostname', () => {
    const cases: [string, Partial<CertOptions>, string, boolean][] = [
      ['exact SAN', { dnsNames: ['www.example.com'] }, 'www.example.com', true],
      ['wildcard SAN', { dnsNames: ['*.example.com'] }, 'api.example.com', true],
      ['wildcard does not cover the apex', { dnsNames: ['*.example.com'] }, 'example.com', false],
      ['wildcard covers one label only', { dnsNames: ['*.example.com'] }, 'a.b.example.com', false],
      ['partial wildcard', { dnsNames: ['f*.example.com'] }, 'foo.example.com', false],
      ['IPv4 SAN', { dnsNames: [], ipAddresses: ['127.0.0.1'] }, '127.0.0.1', true],
      ['IPv6 SAN', { dnsNames: [], ipAddresses: ['::1'] }, '::1', true],
      ['IPv6 SAN, other address', { dnsNames: [], ipAddresses: ['::1'] }, '::2', false],
      ['no CN fallback without SAN', { cn: 'legacy.example.com', dnsNames: [] }, 'legacy.example.com', false],
      [
        'no CN fallback with SAN',
        { cn: 'legacy.example.com', dnsNames: ['other.example.com'] },
        'legacy.example.com',
        false,
      ],
      ['IDN host', { dnsNames: ['xn--bcher-kva.example.com'] }, 'bücher.example.com', true],
    ];
    it.each(cases)('%s', (_name, opts, host, matches) => {
      // Prepare
      const leaf = leafOf(opts);
      // Act
      const result = analyze([leaf, pki.intermediate], { host });
      // Assess
      expect(codes(result.findings)).toEqual(matches ? [] : ['HOSTNAME_MISMATCH']);
    });

    it('says what the certificate covers', () => {
      // Act
      const result = analyze([pki.leaf, pki.intermediate], { host: 'shop.example.org' });
      // Assess
      expect(result.findings).toEqual([
        {
          code: 'HOSTNAME_MISMATCH',
          severity: 'critical',
          message: 'certificate does not cover "shop.example.org"; it covers: www.example.com, example.com',
          certIndex: 0,
        },
      ]);
    });
  });

  describe('weak crypto', () => {
    const ecCa = makeCert({
      cn: 'EC CA',
      isCa: true,
      key: ecKey('P-384'),
      issuer: pki.root,
      notBefore: at(-1),
      notAfter: at(500),
    });
    const cases: [string, () => TestCert[], FindingCode[], string][] = [
      [
        'RSA-1024 leaf',
        () => [leafOf({ key: rsaKey(1024) }), pki.intermediate],
        ['WEAK_KEY'],
        'weak 1024-bit RSA key',
      ],
      [
        'P-224 leaf',
        () => [leafOf({ key: ecKey('P-224'), issuer: ecCa }), ecCa],
        ['WEAK_KEY'],
        'weak 224-bit EC key',
      ],
      [
        'P-192 leaf',
        () => [leafOf({ key: ecKey('P-192'), issuer: ecCa }), ecCa],
        ['WEAK_KEY'],
        'weak 192-bit EC key',
      ],
      [
        'SHA-1 signed leaf',
        () => [leafOf({ digest: 'sha1' }), pki.intermediate],
        ['WEAK_SIGNATURE'],
        'signed with sha1WithRSAEncryption',
      ],
      [
        'MD5 signed leaf',
        () => [leafOf({ digest: 'md5' }), pki.intermediate],
        ['WEAK_SIGNATURE'],
        'signed with md5WithRSAEncryption',
      ],
      [
        'ECDSA-SHA1 signed leaf',
        () => [leafOf({ issuer: ecCa, digest: 'sha1' }), ecCa],
        ['WEAK_SIGNATURE'],
        'signed with ecdsa-with-SHA1',
      ],
      [
        'SHA-1 signed intermediate',
        () => {
          const int = makeCert({
            cn: 'Fixture Intermediate',
            isCa: true,
            key: pki.intermediate.key,
            issuer: pki.root,
            digest: 'sha1',
            notBefore: at(-1),
            notAfter: at(500),
          });
          return [leafOf({ issuer: int }), int];
        },
        ['WEAK_SIGNATURE'],
        'certificate 1 (CN=Fixture Intermediate) is signed with sha1WithRSAEncryption',
      ],
      ['P-256 and P-384 are fine', () => [leafOf({ key: ecKey('P-256'), issuer: ecCa }), ecCa], [], ''],
      ['Ed25519 is fine', () => [leafOf({ key: ed25519Key() }), pki.intermediate], [], ''],
    ];
    it.each(cases)('%s', (_name, build, expected, text) => {
      // Act
      const result = analyze(build());
      // Assess
      expect(codes(result.findings)).toEqual(expected);
      for (const f of result.findings) {
        expect(f.severity).toBe('critical');
        expect(f.message).toContain(text);
      }
    });

    it('does not judge a trust anchor, even a weak one the server sends', () => {
      // Prepare
      const weakRoot = makeCert({
        cn: 'Weak Root',
        isCa: true,
        key: rsaKey(1024),
        digest: 'md5',
        notBefore: at(-10),
        notAfter: at(1000),
      });
      const leaf = leafOf({ issuer: weakRoot });
      // Act
      const result = analyze([leaf, weakRoot], { trust: trustStoreFromDer([weakRoot.der]) });
      // Assess
      expect(result.findings).toEqual([]);
    });
  });

  describe('malformed certificates', () => {
    const signedLeaf = (opts: Partial<CertOptions>) => leafOf(opts).der;
    const cases: [string, () => Uint8Array[], number, string][] = [
      [
        'truncated leaf',
        () => [truncate(pki.leaf.der, 600), pki.intermediate.der],
        0,
        `DER truncated: expected ${pki.leaf.der.length} bytes, got 600`,
      ],
      [
        'trailing junk after the intermediate',
        () => [pki.leaf.der, appendTrailing(pki.intermediate.der, 5)],
        1,
        'trailing 5 bytes after certificate',
      ],
      [
        'unknown critical extension',
        () => [signedLeaf({ extraExtensions: [unknownCriticalExtension('1.2.3.4')] }), pki.intermediate.der],
        0,
        'unknown critical extension 1.2.3.4',
      ],
      [
        'bad UTCTime',
        () => [signedLeaf({ mutateTbs: withTime('notAfter', 'utc', '99133200000Z') }), pki.intermediate.der],
        0,
        "notAfter is not a valid UTCTime: '99133200000Z'",
      ],
      [
        'GeneralizedTime before 2050',
        () => [
          signedLeaf({ mutateTbs: withTime('notAfter', 'generalized', '20300801120000Z') }),
          pki.intermediate.der,
        ],
        0,
        'uses GeneralizedTime for a date before 2050',
      ],
      [
        'unparseable public key',
        () => [signedLeaf({ mutateTbs: garbageSubjectPublicKey }), pki.intermediate.der],
        0,
        'public key could not be parsed',
      ],
      [
        'negative serial',
        () => [signedLeaf({ mutateTbs: negativeSerial }), pki.intermediate.der],
        0,
        'negative serial number',
      ],
      [
        'invalid version',
        () => [signedLeaf({ mutateTbs: withVersion(5) }), pki.intermediate.der],
        0,
        'version field 5 is invalid',
      ],
      ['garbage intermediate', () => [pki.leaf.der, Buffer.from('not a certificate')], 1, 'is malformed'],
    ];
    it.each(cases)('%s', (_name, build, index, reason) => {
      // Act
      const result = analyze(build());
      // Assess
      const malformed = result.findings.filter((f) => f.code === 'MALFORMED_CERTIFICATE');
      expect(malformed).toHaveLength(1);
      expect(malformed[0]).toMatchObject({ severity: 'critical', certIndex: index });
      expect(malformed[0]!.message).toContain(reason);
      expect(malformed[0]!.message).toMatch(new RegExp(`^certificate ${index}`));
      expect(result.chain).toHaveLength(2);
    });

    it('keeps the findings of a chain full of garbage bounded', () => {
      // Prepare
      const chain = [pki.leaf.der, ...Array.from({ length: 300 }, (_, i) => Buffer.from(`garbage ${i}`))];
      // Act
      const result = analyze(chain);
      // Assess
      const malformed = result.findings.filter((f) => f.code === 'MALFORMED_CERTIFICATE');
      expect(result.chain).toHaveLength(301);
      expect(malformed).toHaveLength(11);
      expect(malformed[10]!.message).toBe('290 more malformed certificates in the chain');
    });

    it('still reports the expiry of a malformed leaf', () => {
      // Prepare
      const leaf = leafOf({ notAfter: at(5), extraExtensions: [unknownCriticalExtension()] });
      // Act
      const result = analyze([leaf, pki.intermediate]);
      // Assess
      expect(codes(result.findings)).toEqual(['MALFORMED_CERTIFICATE', 'EXPIRES_SOON']);
      expect(result.daysLeft).toBe(5);
    });

    it('does not pile trust or hostname findings on an unreadable leaf', () => {
      // Act
      const result = analyze([truncate(pki.leaf.der, 300), pki.intermediate.der]);
      // Assess
      expect(codes(result.findings)).toEqual(['MALFORMED_CERTIFICATE']);
      expect(result.daysLeft).toBe(80);
    });

    it('turns an internal error into a finding instead of throwing', () => {
      // Prepare
      const broken = {
        findBySubject() {
          throw new Error('index corrupted');
        },
        isAnchor: () => false,
      } as unknown as TrustStore;
      // Act
      const result = analyze([pki.leaf, pki.intermediate], { trust: broken });
      // Assess
      expect(result.chain).toHaveLength(2);
      expect(result.findings).toEqual([
        {
          code: 'MALFORMED_CERTIFICATE',
          severity: 'critical',
          message: 'certificate chain could not be analysed: index corrupted',
        },
      ]);
    });

    it('survives an empty chain', () => {
      // Act
      const result = analyze([]);
      // Assess
      expect(result.chain).toEqual([]);
      expect(codes(result.findings)).toEqual(['MALFORMED_CERTIFICATE']);
      expect(result.daysLeft).toBeNull();
    });
  });

  describe('key types end to end', () => {
    const cases: [string, () => TestCert[], string, number | null, string][] = [
      ['RSA', () => [pki.leaf, pki.intermediate], 'RSA', 2048, 'sha256WithRSAEncryption'],
      [
        'ECDSA P-256',
        () => [leafOf({ key: ecKey('P-256') }), pki.intermediate],
        'EC',
        256,
        'sha256WithRSAEncryption',
      ],
      [
        'Ed25519 leaf under Ed25519 CA',
        () => {
          const ca = makeCert({
            cn: 'Ed CA',
            isCa: true,
            key: ed25519Key(),
            issuer: pki.root,
            notBefore: at(-1),
            notAfter: at(500),
          });
          return [leafOf({ key: ed25519Key(true), issuer: ca }), ca];
        },
        'Ed25519',
        256,
        'Ed25519',
      ],
    ];
    it.each(cases)('%s', (_name, build, keyType, keyBits, signatureAlgorithm) => {
      // Act
      const result = analyze(build());
      // Assess
      expect(result.findings).toEqual([]);
      expect(result.chain[0]).toMatchObject({ keyType, keyBits, signatureAlgorithm });
    });
  });
});
