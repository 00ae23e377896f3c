import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../lambdas/cert/parse-certificate';
import { CaFileError, loadTrustStore } from '../../lambdas/cert/trust-store';
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

  const failures: [string, string, RegExp][] = [
    ['no certificate at all', 'just some text\n', /^ca\.pem: no PEM certificate/],
    [
      'only a private key',
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      /^ca\.pem: no PEM certificate/,
    ],
    [
      'bad base64',
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
      /^ca\.pem: certificate 1 is not valid base64/,
    ],
    [
      'unparseable second block',
      `${derToPem(pki.root.der)}-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n`,
      /^ca\.pem: certificate 2 could not be parsed: /,
    ],
    [
      'unterminated block',
      `${derToPem(pki.root.der)}-----BEGIN CERTIFICATE-----\nAAAA\n`,
      /^ca\.pem: a "BEGIN CERTIFICATE" block has no matching/,
    ],
  ];
  it.each(failures)('rejects %s with a CaFileError naming the source', (_name, pem, message) => {
    // Act
    const act = () => loadTrustStore({ extraCaPem: pem, extraCaSource: 'ca.pem' });
    // Assess
    expect(act).toThrow(CaFileError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (err) {
      expect((err as Error).name).toBe('CaFileError');
    }
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
