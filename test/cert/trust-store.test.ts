import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../lambdas/cert/parse-certificate';
import {
  CaFileError,
  loadTrustStore,
  TrustStores,
  trustProfileOf,
  UnknownTrustProfileError,
} from '../../lambdas/cert/trust-store';
import { SYSTEM_TRUST_PROFILE } from '../../lambdas/core/model';
import { derToPem } from '../support/cert-factory';
import { makeTestPki } from './chain-fixtures';

const pki = makeTestPki();

describe('loadTrustStore', () => {
  it('loads Node bundled roots once and shares the default store', () => {
    // Act
    const first = loadTrustStore();
    const second = loadTrustStore({});
    // Assess
    expect(second).toBe(first);
    expect(first.size).toBeGreaterThan(100);
    expect(first.size).toBeLessThanOrEqual(rootCertificates.length);
    expect(first.isAnchor(parseCertificate(pki.root.der))).toBe(false);
  });

  it('finds system anchors by subject', () => {
    // Prepare
    const store = loadTrustStore();
    const anchor = store.anchors[0]!;
    // Act
    const found = store.findBySubject(anchor.subjectKey);
    // Assess
    expect(found).toContain(anchor);
  });

  it('adds extra CA certificates to the system roots', () => {
    // Act
    const store = loadTrustStore({ extraCaPem: derToPem(pki.root.der), extraCaSource: 'ca.pem' });
    // Assess
    expect(store.size).toBe(loadTrustStore().size + 1);
    expect(store.isAnchor(parseCertificate(pki.root.der))).toBe(true);
    expect(store.findBySubject(parseCertificate(pki.intermediate.der).issuerKey)).toHaveLength(1);
  });

  it('can hold only the extra CAs', () => {
    // Act
    const store = loadTrustStore({
      extraCaPem: `# comment\n${derToPem(pki.root.der)}\n${derToPem(pki.intermediate.der)}`,
      includeSystemRoots: false,
    });
    // Assess
    expect(store.size).toBe(2);
  });

  it('recognises a re-issued copy of an anchor by subject and key', () => {
    // Prepare: same subject and key as the root, different bytes (as with cross-signed roots).
    const store = loadTrustStore({ extraCaPem: derToPem(pki.root.der), includeSystemRoots: false });
    const twin = makeTestPki().root;
    // Assess
    expect(Buffer.compare(twin.der, pki.root.der)).not.toBe(0);
    expect(store.isAnchor(parseCertificate(twin.der))).toBe(true);
    expect(store.isAnchor(parseCertificate(pki.intermediate.der))).toBe(false);
  });

  const rootPemLines = derToPem(pki.root.der).split('\n').length - 1;
  const failures: [string, string, RegExp][] = [
    ['no certificate at all', 'just some text\n', /^ca\.pem: no PEM certificate/],
    [
      'only a private key',
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      /^ca\.pem: holds a private key \("BEGIN PRIVATE KEY" at line 1\), not only CA certificates; .*has not printed any of the key/,
    ],
    [
      'a private key after the certificates',
      `${derToPem(pki.root.der)}-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n`,
      new RegExp(`^ca\\.pem: holds a private key \\("BEGIN RSA PRIVATE KEY" at line ${rootPemLines + 1}\\)`),
    ],
    [
      'bad base64',
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
      /^ca\.pem: certificate 1 \(line 1\) is not valid base64/,
    ],
    [
      'unparseable second block',
      `${derToPem(pki.root.der)}-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n`,
      new RegExp(`^ca\\.pem: certificate 2 \\(line ${rootPemLines + 1}\\) could not be parsed: `),
    ],
    [
      'unterminated block',
      `${derToPem(pki.root.der)}-----BEGIN CERTIFICATE-----\nAAAA\n`,
      new RegExp(
        `^ca\\.pem: certificate 2 \\(line ${rootPemLines + 1}\\) has no matching "END CERTIFICATE" line`,
      ),
    ],
  ];
  it.each(failures)('rejects %s with a CaFileError naming the source', (_name, pem, message) => {
    // Act
    const act = () => loadTrustStore({ extraCaPem: pem, extraCaSource: 'ca.pem' });
    // Assess
    expect(act).toThrow(CaFileError);
    expect(act).toThrow(message);
    expect(act).not.toThrow(/c2VjcmV0|AAAA/);
    try {
      act();
    } catch (err) {
      expect((err as Error).name).toBe('CaFileError');
    }
  });
});

describe('loadTrustStore with several CA files', () => {
  it('trusts the certificates of every file, naming the file of a bad one', () => {
    // Act
    const store = loadTrustStore({
      caFiles: [
        { pem: derToPem(pki.root.der), source: 'root.pem' },
        { pem: derToPem(pki.intermediate.der), source: 'intermediate.pem' },
      ],
      includeSystemRoots: false,
    });
    const bad = () =>
      loadTrustStore({
        caFiles: [
          { pem: derToPem(pki.root.der), source: 'root.pem' },
          { pem: 'nothing here', source: 'second.pem' },
        ],
      });
    // Assess
    expect(store.size).toBe(2);
    expect(bad).toThrow(/^second\.pem: no PEM certificate/);
  });
});

describe('trustProfileOf', () => {
  const root = pki.root.der;
  const intermediate = pki.intermediate.der;
  it.each([
    ['the same certificates in another order', [root, intermediate], true, [intermediate, root], true, true],
    ['a certificate given twice', [root], true, [root, root], true, true],
    ['another set of certificates', [root], true, [intermediate], true, false],
    ['the same certificates without the system roots', [root], true, [root], false, false],
  ])('addresses profiles by content: %s', (_name, a, aSystem, b, bSystem, same) => {
    // Act
    const first = trustProfileOf(aSystem, a);
    const second = trustProfileOf(bSystem, b);
    // Assess
    expect(first.id === second.id).toBe(same);
    expect(first.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is the system profile for the system roots alone, and keeps each certificate once as base64 DER', () => {
    // Act
    const system = trustProfileOf(true, []);
    const profile = trustProfileOf(false, [root, intermediate, root]);
    // Assess
    expect(system).toBe(SYSTEM_TRUST_PROFILE);
    expect(profile.systemRoots).toBe(false);
    expect([...profile.caCertificates].sort()).toEqual(
      [Buffer.from(root).toString('base64'), Buffer.from(intermediate).toString('base64')].sort(),
    );
  });
});

describe('TrustStores', () => {
  it('builds one store per profile, on first use, and the system store for endpoints without one', () => {
    // Prepare
    const privateOnly = trustProfileOf(false, [pki.root.der]);
    const stores = new TrustStores([privateOnly]);
    // Act
    const first = stores.forEndpoint({ trust: privateOnly.id });
    const again = stores.get(privateOnly.id);
    const system = stores.forEndpoint({});
    // Assess
    expect(again).toBe(first);
    expect(first.size).toBe(1);
    expect(first.isAnchor(parseCertificate(pki.root.der))).toBe(true);
    expect(system).toBe(loadTrustStore());
    expect(system.isAnchor(parseCertificate(pki.root.der))).toBe(false);
  });

  it("adds a profile's CAs to the system roots when it keeps them", () => {
    // Act
    const store = new TrustStores([trustProfileOf(true, [pki.root.der])]).get(
      trustProfileOf(true, [pki.root.der]).id,
    );
    // Assess
    expect(store.size).toBe(loadTrustStore().size + 1);
  });

  it('refuses a profile it was not given, naming it', () => {
    // Act
    const act = () => new TrustStores([]).get('0123456789abcdef');
    // Assess
    expect(act).toThrow(UnknownTrustProfileError);
    expect(act).toThrow(/trust profile 0123456789abcdef is unknown here \(known: system\)/);
  });
});

describe('subjectKeyOf', () => {
  it('indexes every bundled root under the subject key the full parser computes', async () => {
    // Prepare
    const { rootCertificates } = await import('node:tls');
    const { X509Certificate } = await import('node:crypto');
    const { parseCertificate, subjectKeyOf } = await import('../../lambdas/cert/parse-certificate');
    const ders = rootCertificates.map((pem) => new X509Certificate(pem).raw);
    // Act
    const mismatches = ders.filter((der) => subjectKeyOf(der) !== parseCertificate(der).subjectKey);
    // Assess
    expect(ders.length).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  });

  it('returns null for bytes that are not a certificate', async () => {
    const { subjectKeyOf } = await import('../../lambdas/cert/parse-certificate');
    expect(subjectKeyOf(Buffer.from([0x30, 0x03, 0x02, 0x01]))).toBeNull();
    expect(subjectKeyOf(Buffer.alloc(0))).toBeNull();
  });
});
