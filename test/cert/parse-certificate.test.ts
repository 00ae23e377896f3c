import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { parseCertificate, parseCertificateCached } from '../../lambdas/cert/parse-certificate';
import { ecKey, ed25519Key, makeCert, rsaKey, type TestCert } from '../support/cert-factory';
import {
  appendTrailing,
  corruptFieldLength,
  flipByte,
  garbageSubjectPublicKey,
  hugeOuterLength,
  mulberry32,
  negativeSerial,
  setOuterLength,
  TBS,
  truncate,
  unknownCriticalExtension,
  withTime,
  withVersion,
} from '../support/der-mutations';
import { at, makeTestPki } from './chain-fixtures';

const pki = makeTestPki();

describe('parseCertificate', () => {
  describe('keys and signature algorithms', () => {
    const rsaIssuer = pki.intermediate;
    const ecIssuer = makeCert({
      cn: 'EC CA',
      isCa: true,
      key: ecKey('P-384'),
      notBefore: at(-1),
      notAfter: at(100),
    });
    const edIssuer = makeCert({
      cn: 'Ed CA',
      isCa: true,
      key: ed25519Key(),
      notBefore: at(-1),
      notAfter: at(100),
    });
    const cases: [string, () => TestCert, string, number, string][] = [
      [
        'RSA-2048 leaf, RSA issuer',
        () => makeCert({ cn: 'a', issuer: rsaIssuer }),
        'RSA',
        2048,
        'sha256WithRSAEncryption',
      ],
      [
        'RSA-1024 leaf',
        () => makeCert({ cn: 'a', key: rsaKey(1024), issuer: rsaIssuer }),
        'RSA',
        1024,
        'sha256WithRSAEncryption',
      ],
      [
        'sha1 RSA',
        () => makeCert({ cn: 'a', issuer: rsaIssuer, digest: 'sha1' }),
        'RSA',
        2048,
        'sha1WithRSAEncryption',
      ],
      [
        'md5 RSA',
        () => makeCert({ cn: 'a', issuer: rsaIssuer, digest: 'md5' }),
        'RSA',
        2048,
        'md5WithRSAEncryption',
      ],
      [
        'sha384 RSA',
        () => makeCert({ cn: 'a', issuer: rsaIssuer, digest: 'sha384' }),
        'RSA',
        2048,
        'sha384WithRSAEncryption',
      ],
      [
        'P-256 leaf, RSA issuer',
        () => makeCert({ cn: 'a', key: ecKey('P-256'), issuer: rsaIssuer }),
        'EC',
        256,
        'sha256WithRSAEncryption',
      ],
      [
        'P-256 leaf, P-384 issuer',
        () => makeCert({ cn: 'a', key: ecKey('P-256'), issuer: ecIssuer }),
        'EC',
        256,
        'ecdsa-with-SHA256',
      ],
      [
        'P-384 leaf, sha384',
        () => makeCert({ cn: 'a', key: ecKey('P-384'), issuer: ecIssuer, digest: 'sha384' }),
        'EC',
        384,
        'ecdsa-with-SHA384',
      ],
      [
        'P-224 leaf',
        () => makeCert({ cn: 'a', key: ecKey('P-224'), issuer: ecIssuer }),
        'EC',
        224,
        'ecdsa-with-SHA256',
      ],
      [
        'ecdsa-with-SHA1',
        () => makeCert({ cn: 'a', key: ecKey('P-256'), issuer: ecIssuer, digest: 'sha1' }),
        'EC',
        256,
        'ecdsa-with-SHA1',
      ],
      [
        'Ed25519 leaf, Ed25519 issuer',
        () => makeCert({ cn: 'a', key: ed25519Key(), issuer: edIssuer }),
        'Ed25519',
        256,
        'Ed25519',
      ],
    ];
    it.each(cases)('%s', (_name, build, keyType, keyBits, signatureAlgorithm) => {
      // Prepare
      const cert = build();
      // Act
      const parsed = parseCertificate(cert.der);
      // Assess
      expect(parsed.malformed).toEqual([]);
      expect(parsed.x509).not.toBeNull();
      expect(parsed.info).toMatchObject({ keyType, keyBits, signatureAlgorithm, selfSigned: false });
    });
  });

  it('reports the summary fields exactly', () => {
    // Prepare
    const cert = makeCert({
      cn: 'www.example.com',
      subjectAttributes: [
        { shortName: 'C', value: 'DE' },
        { shortName: 'O', value: 'Beispiel, GmbH' },
      ],
      dnsNames: ['WWW.Example.com', '*.example.com'],
      ipAddresses: ['10.0.0.1', '2001:db8::1'],
      issuer: pki.intermediate,
      serialHex: '00ab12',
      notBefore: at(-1),
      notAfter: at(30),
      caIssuersUrl: 'http://ca.example.com/int.der',
    });
    // Act
    const parsed = parseCertificate(cert.der);
    // Assess
    expect(parsed.malformed).toEqual([]);
    expect(parsed.info).toEqual({
      subject: 'CN=www.example.com, O=Beispiel\\, GmbH, C=DE',
      issuer: 'CN=Fixture Intermediate',
      notBefore: at(-1).toISOString(),
      notAfter: at(30).toISOString(),
      serialNumber: 'AB12',
      fingerprintSha256: createHash('sha256').update(cert.der).digest('hex').toUpperCase(),
      keyType: 'RSA',
      keyBits: 2048,
      signatureAlgorithm: 'sha256WithRSAEncryption',
      selfSigned: false,
    });
    expect(parsed.dnsNames).toEqual(['www.example.com', '*.example.com']);
    expect(parsed.ipAddresses).toEqual(['10.0.0.1', '2001:db8::1']);
    expect(parsed.hasSubjectAltName).toBe(true);
    expect(parsed.commonNames).toEqual(['www.example.com']);
    expect(parsed.caIssuers).toEqual(['http://ca.example.com/int.der']);
    expect(parsed.isCa).toBe(false);
    expect(parsed.notAfter).toEqual(at(30));
  });

  it('flags CA and self-signed certificates', () => {
    // Act
    const root = parseCertificate(pki.root.der);
    const intermediate = parseCertificate(pki.intermediate.der);
    // Assess
    expect(root.isCa).toBe(true);
    expect(root.info.selfSigned).toBe(true);
    expect(intermediate.isCa).toBe(true);
    expect(intermediate.info.selfSigned).toBe(false);
    expect(root.hasSubjectAltName).toBe(false);
  });

  describe('name string types', () => {
    const cases: [string, number, string, string][] = [
      ['UTF8String', forge.asn1.Type.UTF8, 'Zürich Straße', 'O=Zürich Straße'],
      ['PrintableString', forge.asn1.Type.PRINTABLESTRING, 'Example Ltd', 'O=Example Ltd'],
      ['BMPString', forge.asn1.Type.BMPSTRING, 'Ωmega', 'O=Ωmega'],
      ['TeletexString', 20, 'Caf\xe9', 'O=Café'],
      ['IA5String', forge.asn1.Type.IA5STRING, 'mail.example', 'O=mail.example'],
    ];
    it.each(cases)('%s', (_name, type, value, expected) => {
      // Prepare: forge encodes UTF-8 and BMP text itself; other types take the raw bytes.
      const cert = makeCert({
        cn: 'n',
        subjectAttributes: [{ shortName: 'O', value, valueTagClass: type }],
        notBefore: at(-1),
        notAfter: at(1),
      });
      // Act
      const parsed = parseCertificate(cert.der);
      // Assess
      expect(parsed.malformed).toEqual([]);
      expect(parsed.info.subject).toBe(`CN=n, ${expected}`);
    });

    it('neutralises control characters in names', () => {
      // Prepare
      const cert = makeCert({ cn: 'evil\nInjected: yes\u0007', notBefore: at(-1), notAfter: at(1) });
      // Act
      const parsed = parseCertificate(cert.der);
      // Assess
      expect(parsed.info.subject).toBe('CN=evil\\x0aInjected: yes\\x07');
    });
  });

  describe('malformed certificates', () => {
    const leaf = pki.leaf.der;
    const signed = (opts: Parameters<typeof makeCert>[0]['mutateTbs'], extra?: object[]) =>
      makeCert({
        cn: 'm',
        issuer: pki.intermediate,
        notBefore: at(-1),
        notAfter: at(60),
        mutateTbs: opts,
        extraExtensions: extra,
      }).der;
    const cases: [string, () => Uint8Array, string | RegExp, 'readable' | 'unknown'][] = [
      [
        'truncated',
        () => truncate(leaf, 600),
        `DER truncated: expected ${leaf.length} bytes, got 600`,
        'readable',
      ],
      [
        'truncated before the dates',
        () => truncate(leaf, 60),
        `DER truncated: expected ${leaf.length} bytes, got 60`,
        'unknown',
      ],
      ['trailing junk', () => appendTrailing(leaf, 12), 'trailing 12 bytes after certificate', 'readable'],
      [
        'outer length too long',
        () => setOuterLength(leaf, leaf.length),
        /^DER truncated: expected \d+ bytes, got \d+$/,
        'readable',
      ],
      ['huge 8-byte length', () => hugeOuterLength(leaf, 8), /uses 8 bytes \(huge length\)/, 'unknown'],
      [
        'huge 4-byte length',
        () => hugeOuterLength(leaf, 4),
        /^DER truncated: expected 2147483\d+ bytes/,
        'readable',
      ],
      [
        'validity length off by one',
        () => corruptFieldLength(leaf, TBS.validity, 1),
        /^validity is not valid DER/,
        'readable',
      ],
      [
        'extensions length off by one',
        () => corruptFieldLength(leaf, TBS.extensions, 1),
        /claims \d+ bytes but only \d+ remain/,
        'readable',
      ],
      [
        'not a SEQUENCE',
        () => flipByte(leaf, 0, 0x01),
        'certificate does not start with a SEQUENCE (tag 0x31)',
        'unknown',
      ],
      ['empty', () => new Uint8Array(), 'empty certificate (0 bytes)', 'unknown'],
      [
        'UTCTime without seconds',
        () => signed(withTime('notAfter', 'utc', '3008011200Z')),
        "notAfter is not a valid UTCTime: '3008011200Z' (RFC 5280 requires YYMMDDHHMMSSZ)",
        'readable',
      ],
      [
        'UTCTime with fraction',
        () => signed(withTime('notAfter', 'utc', '300801120000.5Z')),
        "notAfter is not a valid UTCTime: '300801120000.5Z' (RFC 5280 requires YYMMDDHHMMSSZ)",
        'readable',
      ],
      [
        'UTCTime month 13',
        () => signed(withTime('notAfter', 'utc', '99133200000Z')),
        "notAfter is not a valid UTCTime: '99133200000Z'",
        'unknown',
      ],
      [
        'UTCTime with offset',
        () => signed(withTime('notBefore', 'utc', '300101120000+0100')),
        /^notBefore is not a valid UTCTime: '300101120000\+0100'/,
        'readable',
      ],
      [
        'GeneralizedTime before 2050',
        () => signed(withTime('notAfter', 'generalized', '20300801120000Z')),
        "notAfter uses GeneralizedTime for a date before 2050 (RFC 5280 requires UTCTime): '20300801120000Z'",
        'readable',
      ],
      [
        'GeneralizedTime garbage',
        () => signed(withTime('notAfter', 'generalized', '2030AB01120000Z')),
        "notAfter is not a valid GeneralizedTime: '2030AB01120000Z'",
        'unknown',
      ],
      [
        'garbage public key',
        () => signed(garbageSubjectPublicKey),
        'public key could not be parsed',
        'readable',
      ],
      ['negative serial', () => signed(negativeSerial), 'negative serial number', 'readable'],
      ['version 5', () => signed(withVersion(5)), 'version field 5 is invalid', 'readable'],
    ];
    it.each(cases)('%s', (_name, build, reason, dates) => {
      // Prepare
      const der = build();
      // Act
      const parsed = parseCertificate(der);
      // Assess
      if (typeof reason === 'string') expect(parsed.malformed).toContain(reason);
      else expect(parsed.malformed.some((r) => reason.test(r))).toBe(true);
      if (dates === 'readable') expect(parsed.notAfter).not.toBeNull();
      else expect(parsed.notAfter).toBeNull();
      expect(parsed.info.fingerprintSha256).toBe(
        createHash('sha256').update(der).digest('hex').toUpperCase(),
      );
    });

    it('reports independent problems together', () => {
      // Prepare
      const der = signed(
        (tbs) => {
          negativeSerial(tbs);
          withTime('notBefore', 'generalized', '20300101000000Z')(tbs);
        },
        [unknownCriticalExtension('1.2.3.4'), unknownCriticalExtension('1.2.3.5')],
      );
      // Act
      const parsed = parseCertificate(der);
      // Assess
      expect(parsed.malformed).toEqual([
        'negative serial number',
        "notBefore uses GeneralizedTime for a date before 2050 (RFC 5280 requires UTCTime): '20300101000000Z'",
      ]);
      expect(parsed.unknownCriticalExtensions).toEqual(['1.2.3.4', '1.2.3.5']);
      expect(parsed.notAfter).toEqual(at(60));
    });

    it('notes an unknown critical extension apart from malformations: only a path through it fails', () => {
      // Act
      const parsed = parseCertificate(signed(undefined, [unknownCriticalExtension('1.2.3.4')]));
      // Assess
      expect(parsed.malformed).toEqual([]);
      expect(parsed.unknownCriticalExtensions).toEqual(['1.2.3.4']);
    });

    it('still reports the exact notAfter of a truncated certificate', () => {
      // Act
      const parsed = parseCertificate(truncate(pki.leaf.der, 400));
      // Assess
      expect(parsed.x509).toBeNull();
      expect(parsed.info.notAfter).toBe(at(80).toISOString());
      expect(parsed.info.subject).toBe('CN=www.example.com');
    });

    it('never throws on arbitrary bytes', () => {
      // Prepare
      const rng = mulberry32(7);
      const inputs = Array.from({ length: 300 }, (_, i) =>
        Uint8Array.from({ length: i % 40 === 0 ? 0 : Math.floor(rng() * 300) }, () =>
          Math.floor(rng() * 256),
        ),
      );
      // Act
      const parsed = inputs.map((der) => parseCertificate(der));
      // Assess
      for (const p of parsed) {
        expect(p.malformed.length).toBeGreaterThan(0);
        expect(p.info.fingerprintSha256).toMatch(/^[0-9A-F]{64}$/);
      }
    });
  });

  describe('parseCertificateCached', () => {
    it('returns the same result for the same bytes and is immune to the caller reusing its buffer', () => {
      // Prepare
      const buffer = Buffer.from(pki.leaf.der);
      // Act
      const first = parseCertificateCached(buffer);
      buffer.fill(0);
      const second = parseCertificateCached(Buffer.from(pki.leaf.der));
      // Assess
      expect(second).toBe(first);
      expect(Buffer.from(first.der).equals(pki.leaf.der)).toBe(true);
    });
  });
});
