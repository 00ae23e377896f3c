/**
 * Path validation as clients do it: every rule both ways, on PKIs generated at
 * test time around an injected clock. The valid variant finds nothing; the
 * violating one raises exactly the rule's code, naming the certificate.
 */
import { describe, expect, it } from 'vitest';
import { type AnalyzeOptions, analyzeChain } from '../../lambdas/cert/analyze-chain';
import { buildPaths, MAX_EDGE_CHECKS } from '../../lambdas/cert/build-paths';
import { parseCertificate } from '../../lambdas/cert/parse-certificate';
import { type TrustStore, trustStoreFromDer } from '../../lambdas/cert/trust-store';
import type { Finding, FindingCode } from '../../lambdas/core/model';
import {
  type CertOptions,
  dsaKey,
  ecKey,
  keyIdentifier,
  makeCert,
  rsaKey,
  type TestCert,
} from '../support/cert-factory';
import { unknownCriticalExtension } from '../support/der-mutations';
import { at, distinctRsaKeys, freshEcKey, NOW, THRESHOLDS } from './chain-fixtures';

const [ROOT_KEY, INT_KEY, LEAF_KEY] = distinctRsaKeys() as [
  ReturnType<typeof rsaKey>,
  ReturnType<typeof rsaKey>,
  ReturnType<typeof rsaKey>,
];

interface ChainSpec {
  readonly root?: Partial<CertOptions>;
  readonly int?: Partial<CertOptions>;
  readonly leaf?: Partial<CertOptions>;
}

interface BuiltChain {
  readonly root: TestCert;
  readonly int: TestCert;
  readonly leaf: TestCert;
  readonly trust: TrustStore;
}

/** Root → intermediate → leaf for www.example.com, valid around NOW, with per-level overrides. */
function pki(spec: ChainSpec = {}): BuiltChain {
  const root = makeCert({
    cn: 'Rules Root',
    isCa: true,
    key: ROOT_KEY,
    notBefore: at(-3000),
    notAfter: at(3000),
    ...spec.root,
  });
  const int = makeCert({
    cn: 'Rules Intermediate',
    isCa: true,
    key: INT_KEY,
    issuer: root,
    notBefore: at(-400),
    notAfter: at(1000),
    ...spec.int,
  });
  const leaf = makeCert({
    cn: 'www.example.com',
    dnsNames: ['www.example.com'],
    key: LEAF_KEY,
    issuer: int,
    notBefore: at(-10),
    notAfter: at(80),
    ...spec.leaf,
  });
  return { root, int, leaf, trust: trustStoreFromDer([root.der]) };
}

function analyze(
  chain: readonly (TestCert | Uint8Array)[],
  opts: Partial<AnalyzeOptions> & { trust: TrustStore },
) {
  return analyzeChain(
    chain.map((c) => ('der' in c ? c.der : c)),
    { host: 'www.example.com', now: NOW, thresholds: THRESHOLDS, ...opts },
  );
}

function codes(findings: readonly Finding[]): FindingCode[] {
  return findings.map((f) => f.code);
}

/** One rule, one variant: the chain spec, the codes expected, and a fragment of the first message. */
type RuleCase = [name: string, spec: ChainSpec, expected: FindingCode[], text: string];

function runCases(cases: RuleCase[]): void {
  it.each(cases)('%s', (_name, spec, expected, text) => {
    // Prepare
    const { int, leaf, trust } = pki(spec);
    // Act
    const result = analyze([leaf, int], { trust });
    // Assess
    expect(codes(result.findings)).toEqual(expected);
    if (expected.length > 0) {
      expect(result.findings[0]!.severity).toBe('critical');
      expect(result.findings[0]!.message).toContain(text);
    }
  });
}

describe('path validation: basicConstraints and version (INVALID_CA_CERTIFICATE)', () => {
  runCases([
    ['an intermediate with cA=TRUE is a CA', {}, [], ''],
    [
      'an intermediate with cA=FALSE is not',
      { int: { basicConstraints: { ca: false } } },
      ['INVALID_CA_CERTIFICATE'],
      'certificate 1 (CN=Rules Intermediate) may not act as a CA: its basicConstraints has cA=FALSE',
    ],
    [
      'an intermediate without basicConstraints is not',
      { int: { basicConstraints: 'omit' } },
      ['INVALID_CA_CERTIFICATE'],
      'certificate 1 (CN=Rules Intermediate) may not act as a CA: it has no basicConstraints extension',
    ],
    [
      'a version 1 intermediate is not',
      { int: { version: 1 } },
      ['INVALID_CA_CERTIFICATE'],
      'certificate 1 (CN=Rules Intermediate) may not act as a CA: it is a version 1 certificate',
    ],
    ['a version 1 root is still a trust anchor', { root: { version: 1 } }, [], ''],
    [
      'a root without the CA bit is no CA either (NSS and Chromium enforce the anchor)',
      { root: { basicConstraints: { ca: false } } },
      ['INVALID_CA_CERTIFICATE'],
      'trust anchor (CN=Rules Root) may not act as a CA: its basicConstraints has cA=FALSE',
    ],
    [
      'pathLenConstraint 0 on the intermediate allows the leaf',
      { int: { basicConstraints: { ca: true, pathLen: 0 } } },
      [],
      '',
    ],
    [
      'pathLenConstraint 1 on the root allows one intermediate',
      { root: { basicConstraints: { ca: true, pathLen: 1 } } },
      [],
      '',
    ],
    [
      'pathLenConstraint 0 on the root forbids the intermediate',
      { root: { basicConstraints: { ca: true, pathLen: 0 } } },
      ['INVALID_CA_CERTIFICATE'],
      'trust anchor (CN=Rules Root) allows at most 0 intermediate certificates below it (pathLenConstraint 0), but the path has 1',
    ],
  ]);

  it('judges an untrusted root the server sends as the root it claims to be (a v1 root is no fault)', () => {
    // Prepare
    const { root, int, leaf } = pki({ root: { version: 1 } });
    // Act
    const result = analyze([leaf, int, root], { trust: trustStoreFromDer([]) });
    // Assess
    expect(codes(result.findings)).toEqual(['UNTRUSTED_CHAIN']);
  });

  it('counts every intermediate below a CA against its pathLenConstraint', () => {
    // Prepare: root → upper (pathLen 0) → lower → leaf.
    const { root, trust } = pki();
    const upper = makeCert({
      cn: 'Upper CA',
      isCa: true,
      basicConstraints: { ca: true, pathLen: 0 },
      key: freshEcKey(),
      issuer: root,
      notBefore: at(-10),
      notAfter: at(900),
    });
    const lower = makeCert({
      cn: 'Lower CA',
      isCa: true,
      key: freshEcKey(),
      issuer: upper,
      notBefore: at(-10),
      notAfter: at(900),
    });
    const leaf = makeCert({
      cn: 'www.example.com',
      dnsNames: ['www.example.com'],
      issuer: lower,
      notBefore: at(-1),
      notAfter: at(80),
    });
    // Act
    const result = analyze([leaf, lower, upper], { trust });
    // Assess
    expect(result.findings).toEqual([
      {
        code: 'INVALID_CA_CERTIFICATE',
        severity: 'critical',
        message:
          'certificate 2 (CN=Upper CA) allows at most 0 intermediate certificates below it (pathLenConstraint 0), but the path has 1',
        certIndex: 2,
      },
    ]);
  });
});

describe('path validation: keyUsage', () => {
  runCases([
    ['an intermediate with keyCertSign may sign', { int: { keyUsage: ['keyCertSign', 'cRLSign'] } }, [], ''],
    ['an intermediate without keyUsage may sign (RFC 5280)', { int: { keyUsage: 'omit' } }, [], ''],
    [
      'an intermediate whose keyUsage lacks keyCertSign may not',
      { int: { keyUsage: ['digitalSignature', 'cRLSign'] } },
      ['INVALID_CA_CERTIFICATE'],
      'certificate 1 (CN=Rules Intermediate) may not sign certificates: its keyUsage (digitalSignature, cRLSign) lacks keyCertSign',
    ],
    ['an RSA leaf with digitalSignature', { leaf: { keyUsage: ['digitalSignature'] } }, [], ''],
    [
      'an RSA leaf with keyEncipherment only (TLS 1.2 RSA key exchange)',
      { leaf: { keyUsage: ['keyEncipherment'] } },
      [],
      '',
    ],
    ['a leaf without keyUsage', { leaf: { keyUsage: 'omit' } }, [], ''],
    [
      'an RSA leaf with keyAgreement only',
      { leaf: { keyUsage: ['keyAgreement'] } },
      ['INVALID_KEY_USAGE'],
      'certificate 0 (leaf) (CN=www.example.com) has keyUsage (keyAgreement), which does not permit a TLS server with an RSA key: it needs digitalSignature (or keyEncipherment)',
    ],
    [
      'an EC leaf with digitalSignature',
      { leaf: { key: ecKey('P-256'), keyUsage: ['digitalSignature'] } },
      [],
      '',
    ],
    [
      'an EC leaf with keyEncipherment only (BoringSSL refuses it)',
      { leaf: { key: ecKey('P-256'), keyUsage: ['keyEncipherment'] } },
      ['INVALID_KEY_USAGE'],
      'has keyUsage (keyEncipherment), which does not permit a TLS server with an EC key: it needs digitalSignature',
    ],
  ]);
});

describe('path validation: extendedKeyUsage', () => {
  runCases([
    ['a leaf for serverAuth', { leaf: { extKeyUsage: ['serverAuth'] } }, [], ''],
    ['a leaf for serverAuth and clientAuth', { leaf: { extKeyUsage: ['clientAuth', 'serverAuth'] } }, [], ''],
    ['a leaf without extendedKeyUsage', { leaf: { extKeyUsage: 'omit' } }, [], ''],
    [
      'a leaf for clientAuth only',
      { leaf: { extKeyUsage: ['clientAuth'] } },
      ['INVALID_KEY_USAGE'],
      'certificate 0 (leaf) (CN=www.example.com) has extendedKeyUsage (clientAuth) without serverAuth: clients refuse it for a TLS server',
    ],
    [
      'a leaf for anyExtendedKeyUsage only (Firefox and rustls refuse it)',
      { leaf: { extKeyUsage: ['any'] } },
      ['INVALID_KEY_USAGE'],
      'has extendedKeyUsage (anyExtendedKeyUsage) without serverAuth: Firefox and rustls require serverAuth itself',
    ],
    [
      'an intermediate constrained to serverAuth',
      { int: { extKeyUsage: ['serverAuth', 'clientAuth'] } },
      [],
      '',
    ],
    [
      'an intermediate constrained to clientAuth constrains the leaf',
      { int: { extKeyUsage: ['clientAuth'] } },
      ['INVALID_KEY_USAGE'],
      'certificate 1 (CN=Rules Intermediate) has extendedKeyUsage (clientAuth) without serverAuth, so the certificates it issues, such as certificate 0 (leaf) (CN=www.example.com), are not valid for TLS servers',
    ],
    [
      'an intermediate with anyExtendedKeyUsage only (rustls refuses it)',
      { int: { extKeyUsage: ['any'] } },
      ['INVALID_KEY_USAGE'],
      'certificate 1 (CN=Rules Intermediate) has extendedKeyUsage (anyExtendedKeyUsage) without serverAuth',
    ],
    ['a root with anyExtendedKeyUsage (Go accepts it)', { root: { extKeyUsage: ['any'] } }, [], ''],
    [
      'a root constrained to emailProtection (Go refuses it)',
      { root: { extKeyUsage: ['emailProtection'] } },
      ['INVALID_KEY_USAGE'],
      'trust anchor (CN=Rules Root) has extendedKeyUsage (emailProtection) without serverAuth',
    ],
    [
      'a CA certificate served as the leaf (Firefox refuses it)',
      { leaf: { isCa: true, keyUsage: ['digitalSignature', 'keyCertSign'], extKeyUsage: ['serverAuth'] } },
      ['INVALID_KEY_USAGE'],
      'certificate 0 (leaf) (CN=www.example.com) is a CA certificate (basicConstraints cA=TRUE) served as a TLS server certificate',
    ],
  ]);
});

describe('path validation: name constraints (NAME_CONSTRAINTS_VIOLATED)', () => {
  const permitted = (dns: string[] = [], ip: string[] = []) => ({
    nameConstraints: { permitted: { dns, ip } },
  });
  const excluded = (dns: string[] = [], ip: string[] = []) => ({
    nameConstraints: { excluded: { dns, ip } },
  });
  runCases([
    ['a name inside the permitted subtree', { int: permitted(['example.com']) }, [], ''],
    [
      'the permitted domain itself',
      { int: permitted(['example.com']), leaf: { dnsNames: ['example.com', 'www.example.com'] } },
      [],
      '',
    ],
    [
      'a name outside the permitted subtree',
      { int: permitted(['example.com']), leaf: { dnsNames: ['www.example.com', 'shop.example.org'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'certificate 0 (leaf) (CN=www.example.com) names "shop.example.org", outside the names the name constraints of certificate 1 (CN=Rules Intermediate) permit (permitted: example.com)',
    ],
    [
      'a suffix that is not a label boundary',
      { int: permitted(['example.com']), leaf: { dnsNames: ['www.example.com', 'badexample.com'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'names "badexample.com", outside',
    ],
    [
      'a leading-period constraint excludes the domain itself',
      { int: permitted(['.example.com']), leaf: { dnsNames: ['www.example.com', 'example.com'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'names "example.com", outside',
    ],
    ['a name outside the excluded subtree', { int: excluded(['example.org']) }, [], ''],
    [
      'a name inside an excluded subtree',
      { int: excluded(['www.example.com']) },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'names "www.example.com", which the name constraints of certificate 1 (CN=Rules Intermediate) exclude (excluded subtree: www.example.com)',
    ],
    [
      'a wildcard that could stand for an excluded name (Chromium)',
      { int: excluded(['secret.example.com']), leaf: { dnsNames: ['www.example.com', '*.example.com'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'names "*.example.com", which the name constraints',
    ],
    [
      'an IP address inside the permitted range',
      { int: permitted(['example.com'], ['10.0.0.0/8']), leaf: { ipAddresses: ['10.1.2.3'] } },
      [],
      '',
    ],
    [
      'an IP address outside the permitted range',
      { int: permitted(['example.com'], ['10.0.0.0/8']), leaf: { ipAddresses: ['192.168.1.1'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'names "192.168.1.1", outside the names the name constraints of certificate 1 (CN=Rules Intermediate) permit (permitted: 10.0.0.0/8)',
    ],
    [
      'an IPv6 address under IPv4-only permitted ranges',
      { int: permitted(['example.com'], ['10.0.0.0/8']), leaf: { ipAddresses: ['fd00::1'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'names "fd00::1", outside',
    ],
    [
      'an IP address in an excluded range',
      { int: excluded([], ['fd00::/8']), leaf: { ipAddresses: ['fd00::1'] } },
      ['NAME_CONSTRAINTS_VIOLATED'],
      '(excluded subtree: fd00::/8)',
    ],
    [
      'DNS-only constraints leave IP names free',
      { int: permitted(['example.com']), leaf: { ipAddresses: ['192.0.2.1'] } },
      [],
      '',
    ],
    [
      "a root's constraints bind the whole path",
      { root: permitted(['example.org']) },
      ['NAME_CONSTRAINTS_VIOLATED'],
      'outside the names the name constraints of trust anchor (CN=Rules Root) permit (permitted: example.org)',
    ],
  ]);

  it('applies DNS constraints to the CN of a leaf without a SAN (Chromium, NSS)', () => {
    // Prepare
    const { int, leaf, trust } = pki({ int: permitted(['example.org']), leaf: { dnsNames: [] } });
    // Act
    const result = analyze([leaf, int], { trust });
    // Assess
    expect(result.findings.filter((f) => f.code === 'NAME_CONSTRAINTS_VIOLATED')).toEqual([
      expect.objectContaining({
        certIndex: 0,
        message: expect.stringContaining('names "www.example.com", outside'),
      }),
    ]);
  });

  it('counts the further names a certificate may not carry', () => {
    // Prepare
    const { int, leaf, trust } = pki({
      int: permitted(['example.com']),
      leaf: { dnsNames: ['www.example.com', 'a.example.org', 'b.example.org', 'c.example.org'] },
    });
    // Act
    const result = analyze([leaf, int], { trust });
    // Assess
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/names "a\.example\.org", .* \(\+2 more names refused\)$/);
  });

  it('gives up, refusing, on constraints too large to check (as Go does), within the bound', () => {
    // Prepare: 600 permitted subtrees × 1000 names is more than 250 000 comparisons.
    const { int, leaf, trust } = pki({
      int: permitted(Array.from({ length: 600 }, (_, i) => `n${i}.example.org`)),
      leaf: { dnsNames: Array.from({ length: 1000 }, (_, i) => `h${i}.example.com`) },
    });
    // Act
    const result = analyze([leaf, int], { trust, host: 'h1.example.com' });
    // Assess
    expect(result.findings.filter((f) => f.code === 'NAME_CONSTRAINTS_VIOLATED')).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('are too large to check against certificate 0 (leaf)'),
      }),
    ]);
  });
});

describe('path validation: validity of every certificate, the anchor included', () => {
  runCases([
    ['a root expiring soon raises nothing', { root: { notAfter: at(3) } }, [], ''],
    [
      'an expired root fails the path (Go)',
      { root: { notBefore: at(-4000), notAfter: at(-1) } },
      ['CHAIN_CERT_EXPIRED'],
      'chain trust anchor (CN=Rules Root) expired on',
    ],
    [
      'a root not yet valid fails the path',
      { root: { notBefore: at(2), notAfter: at(4000) } },
      ['NOT_YET_VALID'],
      'chain trust anchor (CN=Rules Root) is not valid before',
    ],
    [
      'an intermediate not yet valid fails the path',
      { int: { notBefore: at(1), notAfter: at(900) } },
      ['NOT_YET_VALID'],
      'chain certificate 1 (CN=Rules Intermediate) is not valid before',
    ],
  ]);

  it('counts an expired anchor in days left, so the expiry threshold alerts', () => {
    // Prepare
    const { int, leaf, trust } = pki({ root: { notBefore: at(-4000), notAfter: at(-2) } });
    // Act
    const result = analyze([leaf, int], { trust });
    // Assess
    expect(result.daysLeft).toBe(-2);
  });
});

describe('path validation: unknown critical extensions', () => {
  it('fails a path through an intermediate with one', () => {
    // Prepare
    const { int, leaf, trust } = pki({ int: { extraExtensions: [unknownCriticalExtension('1.2.3.9')] } });
    // Act
    const result = analyze([leaf, int], { trust });
    // Assess
    expect(result.findings).toEqual([
      {
        code: 'MALFORMED_CERTIFICATE',
        severity: 'critical',
        message: 'certificate 1 (CN=Rules Intermediate) is malformed: unknown critical extension 1.2.3.9',
        certIndex: 1,
      },
    ]);
  });

  it('raises nothing for a stray certificate the server sent that is not on the path', () => {
    // Prepare
    const { int, leaf, trust } = pki();
    const stray = makeCert({
      cn: 'Stray',
      key: freshEcKey(),
      extraExtensions: [unknownCriticalExtension('1.2.3.9')],
      notBefore: at(-1),
      notAfter: at(10),
    });
    // Act
    const result = analyze([leaf, int, stray], { trust });
    // Assess
    expect(result.findings).toEqual([]);
  });
});

describe('path validation: weak keys and signatures on every certificate but the anchor', () => {
  const cases: [string, ChainSpec, FindingCode[], string][] = [
    [
      'an RSA-1024 intermediate',
      { int: { key: rsaKey(1024) } },
      ['WEAK_KEY'],
      'certificate 1 (CN=Rules Intermediate) has a weak 1024-bit RSA key',
    ],
    [
      'a P-192 intermediate',
      { int: { key: ecKey('P-192') } },
      ['WEAK_KEY'],
      'certificate 1 (CN=Rules Intermediate) has a weak 192-bit EC key',
    ],
    [
      'a DSA intermediate (its key, and the DSA signature on the leaf)',
      { int: { key: dsaKey() } },
      ['WEAK_KEY', 'WEAK_SIGNATURE'],
      'certificate 1 (CN=Rules Intermediate) has a DSA key',
    ],
    [
      'an MD5-signed intermediate',
      { int: { digest: 'md5' } },
      ['WEAK_SIGNATURE'],
      'certificate 1 (CN=Rules Intermediate) is signed with md5WithRSAEncryption (MD5 is broken)',
    ],
    [
      'a leaf with explicit curve parameters',
      { leaf: { key: ecKey('P-256'), explicitCurve: true } },
      ['WEAK_KEY'],
      'has an EC key with explicit curve parameters instead of a named curve',
    ],
    ['a P-384 intermediate is fine', { int: { key: ecKey('P-384') } }, [], ''],
    ['an RSA-1024 root is not judged', { root: { key: rsaKey(1024) } }, [], ''],
  ];
  it.each(cases)('%s', (_name, spec, expected, text) => {
    // Prepare
    const { int, leaf, trust } = pki(spec);
    // Act
    const result = analyze([leaf, int], { trust });
    // Assess
    expect(codes(result.findings.filter((f) => f.code !== 'MALFORMED_CERTIFICATE'))).toEqual(expected);
    if (expected.length > 0)
      expect(result.findings.find((f) => f.code === expected[0])!.message).toContain(text);
  });

  it('parses the explicit-curve key well enough to judge it', () => {
    // Act
    const parsed = parseCertificate(pki({ leaf: { key: ecKey('P-256'), explicitCurve: true } }).leaf.der);
    // Assess
    expect(parsed.explicitCurve).toBe(true);
    expect(parsed.info.keyType).toBe('EC');
  });
});

describe('path building: names, key identifiers and bounds', () => {
  it('tries the issuer whose subjectKeyIdentifier matches the authorityKeyIdentifier first', () => {
    // Prepare: five look-alikes with the intermediate's name, sent before the real one.
    const { root, int, trust } = pki();
    const lookAlikes = Array.from({ length: 5 }, () =>
      makeCert({
        cn: 'Rules Intermediate',
        isCa: true,
        key: freshEcKey(),
        issuer: root,
        notBefore: at(-1),
        notAfter: at(100),
      }),
    );
    const leaf = makeCert({
      cn: 'www.example.com',
      dnsNames: ['www.example.com'],
      issuer: int,
      authorityKeyId: true,
      notBefore: at(-1),
      notAfter: at(80),
    });
    const sent = [leaf, ...lookAlikes, int].map((c) => parseCertificate(c.der));
    // Act
    const search = buildPaths(sent, trust);
    // Assess: leaf → intermediate, intermediate → root: two signature checks, no look-alike tried.
    expect(search.edgeChecks).toBe(2);
    expect(search.paths.map((p) => p.end)).toEqual(['anchor']);
  });

  it('explains an issuer whose key identifier differs as one that cannot have issued the certificate', () => {
    // Prepare: the leaf's AKI names the real intermediate; only an impostor of the same name is sent.
    const { root, int, trust } = pki();
    const impostor = makeCert({
      cn: 'Rules Intermediate',
      isCa: true,
      key: freshEcKey(),
      issuer: root,
      notBefore: at(-1),
      notAfter: at(100),
    });
    const leaf = makeCert({
      cn: 'www.example.com',
      dnsNames: ['www.example.com'],
      issuer: int,
      authorityKeyId: true,
      notBefore: at(-1),
      notAfter: at(80),
    });
    // Act
    const result = analyze([leaf, impostor], { trust });
    // Assess
    expect(result.findings).toEqual([
      {
        code: 'UNTRUSTED_CHAIN',
        severity: 'critical',
        message:
          'certificate 1 (CN=Rules Intermediate) has the issuer name of certificate 0 (leaf) (CN=www.example.com) but cannot have issued it (key identifier, key type or key usage mismatch)',
        certIndex: 0,
      },
    ]);
    expect(keyIdentifier(int.key.publicKeyPem)).not.toBe(keyIdentifier(impostor.key.publicKeyPem));
  });

  it('stays within the signature-check budget on dozens of same-subject certificates', () => {
    // Prepare: 40 distinct intermediates of the same name, none the real issuer.
    const { root, leaf, trust } = pki();
    const lookAlikes = Array.from({ length: 40 }, () =>
      makeCert({
        cn: 'Rules Intermediate',
        isCa: true,
        key: freshEcKey(),
        issuer: root,
        notBefore: at(-1),
        notAfter: at(100),
      }),
    );
    const sent = [leaf, ...lookAlikes].map((c) => parseCertificate(c.der));
    // Act
    const search = buildPaths(sent, trust);
    // Assess
    expect(search.edgeChecks).toBeLessThanOrEqual(MAX_EDGE_CHECKS);
  });

  it('does not loop through cross-signed copies of the same CA', () => {
    // Prepare: A and B sign each other, twice over, with distinct certificates; nothing is trusted.
    const keyA = freshEcKey();
    const keyB = freshEcKey();
    const seedA = makeCert({ cn: 'Loop A', isCa: true, key: keyA, notBefore: at(-1), notAfter: at(100) });
    const b1 = makeCert({
      cn: 'Loop B',
      isCa: true,
      key: keyB,
      issuer: seedA,
      notBefore: at(-1),
      notAfter: at(100),
    });
    const a1 = makeCert({
      cn: 'Loop A',
      isCa: true,
      key: keyA,
      issuer: b1,
      notBefore: at(-1),
      notAfter: at(100),
    });
    const b2 = makeCert({
      cn: 'Loop B',
      isCa: true,
      key: keyB,
      issuer: a1,
      notBefore: at(-2),
      notAfter: at(100),
    });
    const a2 = makeCert({
      cn: 'Loop A',
      isCa: true,
      key: keyA,
      issuer: b2,
      notBefore: at(-2),
      notAfter: at(100),
    });
    const leaf = makeCert({
      cn: 'www.example.com',
      dnsNames: ['www.example.com'],
      issuer: a1,
      notBefore: at(-1),
      notAfter: at(80),
    });
    const sent = [leaf, a1, b1, a2, b2].map((c) => parseCertificate(c.der));
    // Act
    const search = buildPaths(sent, trustStoreFromDer([]));
    // Assess: no path holds the same CA (subject and key) twice.
    for (const path of search.paths) {
      const ids = path.nodes.map((n) => `${n.cert.subjectKey}|${n.cert.spkiKey}`);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(search.edgeChecks).toBeLessThanOrEqual(MAX_EDGE_CHECKS);
  });
});
