import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AlgorithmFacts,
  checkSignatureValue,
  issuedBy,
  readOuterAlgorithm,
  signatureAlgorithm,
  signatureVerifies,
} from '../../lambdas/cert/certificate-signature';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';
import { parseCertificate } from '../../lambdas/cert/parse-certificate';
import { ecKey, makeCert } from '../support/cert-factory';
import { ctx, decoded, derOf, int, newWalk, oid, prim, seq } from './asn1-fixtures';

const SHA256_RSA = '1.2.840.113549.1.1.11';
const PSS = '1.2.840.113549.1.1.10';
const SHA384 = '2.16.840.1.101.3.4.2.2';
const bits = (...bytes: number[]) => prim(3, Buffer.from(bytes).toString('latin1'));

describe('signatureAlgorithm', () => {
  const cases: [string, Asn1 | null, AlgorithmFacts | null][] = [
    [
      'known, with its digest',
      seq(oid(SHA256_RSA), prim(5, '')),
      { name: 'sha256WithRSAEncryption', hash: 'sha256' },
    ],
    ['ECDSA', seq(oid('1.2.840.10045.4.3.3')), { name: 'ecdsa-with-SHA384', hash: 'sha384' }],
    ['EdDSA signs without a separate digest', seq(oid('1.3.101.112')), { name: 'Ed25519', hash: null }],
    ['unknown: named by OID', seq(oid('1.2.3.4')), { name: '1.2.3.4', hash: null }],
    ['RSASSA-PSS without parameters: SHA-1 (RFC 4055)', seq(oid(PSS)), { name: 'RSASSA-PSS', hash: 'sha1' }],
    [
      'RSASSA-PSS with its hashAlgorithm',
      seq(oid(PSS), seq(ctx(0, [seq(oid(SHA384))]))),
      { name: 'RSASSA-PSS', hash: 'sha384' },
    ],
    [
      'RSASSA-PSS with an unknown hashAlgorithm',
      seq(oid(PSS), seq(ctx(0, [seq(oid('1.2.3.4'))]))),
      { name: 'RSASSA-PSS', hash: null },
    ],
    ['no OID', seq(int('01')), null],
    ['nothing read', null, null],
  ];
  it.each(cases)('%s', (_name, node, expected) => {
    // Act / Assess
    expect(signatureAlgorithm(node && decoded(node))).toEqual(expected);
  });
});

describe('readOuterAlgorithm', () => {
  const sha256Rsa = derOf(seq(oid(SHA256_RSA), prim(5, '')));
  const cases: [string, Buffer, string | null, boolean, string[]][] = [
    ['agrees with the TBSCertificate', sha256Rsa, sha256Rsa.toString('latin1'), true, []],
    ['TBSCertificate copy not read: nothing to compare', sha256Rsa, null, true, []],
    [
      'differs from the TBSCertificate',
      sha256Rsa,
      derOf(seq(oid(SHA256_RSA))).toString('latin1'),
      true,
      ['signature algorithm in TBSCertificate differs from the outer signatureAlgorithm'],
    ],
    ['not a SEQUENCE', derOf(oid(SHA256_RSA)), null, false, ['signatureAlgorithm has tag 0x06']],
    ['a SEQUENCE without an OID', derOf(seq(int('01'))), null, true, ['signatureAlgorithm is malformed']],
    ['header unreadable', Buffer.from([0x30]), null, false, ['signatureAlgorithm is unreadable']],
    [
      'longer than the certificate',
      Buffer.from([0x30, 0x09, 0x06, 0x01]),
      null,
      false,
      ['signatureAlgorithm is unreadable'],
    ],
  ];
  it.each(cases)('%s', (_name, buf, tbsAlgBytes, decodes, reasons) => {
    // Prepare
    const walk = newWalk(buf);
    // Act
    const read = readOuterAlgorithm(walk, 0, buf.length, tbsAlgBytes);
    // Assess
    expect(read?.node != null).toBe(decodes);
    expect(walk.reasons).toEqual(reasons);
  });

  it('says nothing of a missing field when the certificate is known to be truncated', () => {
    // Prepare
    const walk = newWalk(Buffer.from([0x30, 0x09, 0x06]));
    walk.truncated = true;
    // Act
    const read = readOuterAlgorithm(walk, 0, 3, null);
    // Assess
    expect(read).toBeNull();
    expect(walk.reasons).toEqual([]);
  });
});

describe('checkSignatureValue', () => {
  const cases: [string, Buffer, number, boolean, string[]][] = [
    ['a BIT STRING ending the certificate', derOf(bits(0x00, 0xab, 0xcd)), 0, false, []],
    ['wrong tag', derOf(prim(4, '\xab')), 0, false, ['signature has tag 0x04 (expected BIT STRING)']],
    ['empty BIT STRING', derOf(bits(0x00)), 0, false, ['signature BIT STRING is empty or has unused bits']],
    ['unused bits', derOf(bits(0x03, 0xa8)), 0, false, ['signature BIT STRING is empty or has unused bits']],
    [
      'bytes after it inside the certificate',
      Buffer.concat([derOf(bits(0x00, 0xab)), Buffer.from([0x05, 0x00])]),
      0,
      false,
      ['2 unexpected bytes after the signature inside the certificate'],
    ],
    ['missing', Buffer.alloc(0), 0, false, ['signature is missing or unreadable']],
    ['missing, in a truncated certificate', Buffer.alloc(0), 0, true, []],
    [
      'cut off',
      derOf(bits(0x00, 0xab, 0xcd)).subarray(0, 4),
      0,
      false,
      ['signature is missing or unreadable'],
    ],
  ];
  it.each(cases)('%s', (_name, buf, pos, truncated, reasons) => {
    // Prepare
    const walk = newWalk(buf);
    walk.truncated = truncated;
    // Act
    checkSignatureValue(walk, pos, buf.length);
    // Assess
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('signatureVerifies', () => {
  const key = ecKey('P-256');
  const selfSigned = new X509Certificate(makeCert({ cn: 'self', key }).der);
  const cases: [string, () => ReturnType<typeof createPublicKey>, boolean][] = [
    ['its own key', () => createPublicKey(key.publicKeyPem), true],
    ['another key', () => createPublicKey(ecKey('P-256', true).publicKeyPem), false],
    ['a key that cannot verify at all', () => generateKeyPairSync('x25519').publicKey, false],
  ];
  it.each(cases)('%s', (_name, verifier, expected) => {
    // Act / Assess
    expect(signatureVerifies(selfSigned, verifier())).toBe(expected);
  });
});

describe('issuedBy', () => {
  const ca = makeCert({ cn: 'Issuing CA', isCa: true, key: ecKey('P-256') });
  const leaf = makeCert({ cn: 'leaf.example', issuer: ca, key: ecKey('P-256', true) });
  const other = makeCert({ cn: 'Issuing CA', isCa: true, key: ecKey('P-256', true) });

  /** The parsed certificate of `der`, with its X509Certificate's verify calls counted. */
  function counted(der: Uint8Array) {
    const parsed = parseCertificate(der);
    const x509 = parsed.x509!;
    const calls = { verify: 0 };
    const verify = x509.verify.bind(x509);
    x509.verify = (key) => {
      calls.verify++;
      return verify(key);
    };
    return { parsed, calls };
  }

  it("says whether the parent's key verifies the child, checking each pair once", () => {
    // Arrange
    const child = counted(leaf.der);
    const issuer = parseCertificate(ca.der);
    const lookAlike = parseCertificate(other.der);

    // Act: each question twice, as path building and the revocation step both ask it.
    const answers = [
      issuedBy(child.parsed, issuer),
      issuedBy(child.parsed, lookAlike),
      issuedBy(child.parsed, issuer),
      issuedBy(child.parsed, lookAlike),
    ];

    // Assess
    expect(answers).toEqual([true, false, true, false]);
    expect(child.calls.verify).toBe(2);
  });

  it('is false for a parent without a usable key, without trying', () => {
    // Arrange
    const child = counted(leaf.der);
    const keyless = { ...parseCertificate(ca.der), publicKey: null, info: { fingerprintSha256: 'keyless' } };

    // Act / Assess
    expect(issuedBy(child.parsed, keyless)).toBe(false);
    expect(child.calls.verify).toBe(0);
  });
});
