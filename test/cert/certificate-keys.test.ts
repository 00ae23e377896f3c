import { createPublicKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkSubjectPublicKeyInfo,
  type KeyFacts,
  keyFactsFromKeyObject,
  keyFactsFromSpki,
  keyFactsOf,
  loadPublicKey,
} from '../../lambdas/cert/certificate-keys';
import type { Tlv } from '../../lambdas/cert/der-reader';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';
import { ecKey, ed25519Key, makeCert, rsaKey, type TestKey } from '../support/cert-factory';
import { decoded, fromDer, int, newWalk, oid, prim, seq } from './asn1-fixtures';

const keyObject = (key: TestKey) => createPublicKey(key.publicKeyPem);
const spkiDer = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
const spkiNode = (key: KeyObject) => fromDer(spkiDer(key));
const generated = (type: 'ed448' | 'x25519') =>
  type === 'ed448' ? generateKeyPairSync('ed448').publicKey : generateKeyPairSync('x25519').publicKey;
const wholeTlv = (der: Buffer): Tlv => ({ tag: der[0]!, start: 0, contentStart: 0, end: der.length });

describe('keyFactsFromKeyObject', () => {
  const cases: [string, () => KeyObject, KeyFacts][] = [
    ['RSA-2048', () => keyObject(rsaKey(2048)), { keyType: 'RSA', keyBits: 2048 }],
    ['RSA-1024', () => keyObject(rsaKey(1024)), { keyType: 'RSA', keyBits: 1024 }],
    ['EC P-256', () => keyObject(ecKey('P-256')), { keyType: 'EC', keyBits: 256 }],
    ['EC P-384', () => keyObject(ecKey('P-384')), { keyType: 'EC', keyBits: 384 }],
    ['Ed25519', () => keyObject(ed25519Key()), { keyType: 'Ed25519', keyBits: 256 }],
    ['Ed448', () => generated('ed448'), { keyType: 'Ed448', keyBits: 456 }],
    ['a key type certificates do not use', () => generated('x25519'), { keyType: 'unknown', keyBits: null }],
  ];
  it.each(cases)('%s', (_name, key, expected) => {
    // Act / Assess
    expect(keyFactsFromKeyObject(key())).toEqual(expected);
  });
});

describe('keyFactsFromSpki', () => {
  const cases: [string, () => Asn1 | null, KeyFacts][] = [
    [
      'RSA-2048: modulus bits counted',
      () => spkiNode(keyObject(rsaKey(2048))),
      { keyType: 'RSA', keyBits: 2048 },
    ],
    ['RSA-1024', () => spkiNode(keyObject(rsaKey(1024))), { keyType: 'RSA', keyBits: 1024 }],
    ['EC P-256 by curve OID', () => spkiNode(keyObject(ecKey('P-256'))), { keyType: 'EC', keyBits: 256 }],
    ['EC P-384 by curve OID', () => spkiNode(keyObject(ecKey('P-384'))), { keyType: 'EC', keyBits: 384 }],
    ['Ed25519', () => spkiNode(keyObject(ed25519Key())), { keyType: 'Ed25519', keyBits: 256 }],
    [
      'RSA with an unreadable key',
      () => decoded(seq(seq(oid('1.2.840.113549.1.1.1')), prim(3, '\x00\xff\xff'))),
      { keyType: 'RSA', keyBits: null },
    ],
    [
      'EC on an unknown curve',
      () => decoded(seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.3.4')), prim(3, '\x00\x04'))),
      { keyType: 'EC', keyBits: null },
    ],
    [
      'unknown algorithm',
      () => decoded(seq(seq(oid('1.2.3.4')), prim(3, '\x00'))),
      { keyType: 'unknown', keyBits: null },
    ],
    ['no SPKI', () => null, { keyType: 'unknown', keyBits: null }],
  ];
  it.each(cases)('%s', (_name, spki, expected) => {
    // Act / Assess
    expect(keyFactsFromSpki(spki())).toEqual(expected);
  });
});

describe('keyFactsOf', () => {
  it('prefers the loaded key over the SPKI', () => {
    // Prepare: an EC key object, and an SPKI that says RSA.
    const spki = spkiNode(keyObject(rsaKey(2048)));
    // Act
    const facts = keyFactsOf(keyObject(ecKey('P-256')), spki);
    // Assess
    expect(facts).toEqual({ keyType: 'EC', keyBits: 256 });
  });

  it('falls back to the SPKI without a key', () => {
    // Act / Assess
    expect(keyFactsOf(null, spkiNode(keyObject(rsaKey(2048))))).toEqual({ keyType: 'RSA', keyBits: 2048 });
  });
});

describe('loadPublicKey', () => {
  const cert = makeCert({ cn: 'k', key: ecKey('P-256') });
  const x509 = new X509Certificate(cert.der);
  const rsaSpki = spkiDer(keyObject(rsaKey(2048)));
  const cases: [string, () => [Buffer, X509Certificate | null, Tlv | null], string | null][] = [
    ['OpenSSL’s key when it parsed the certificate', () => [rsaSpki, x509, wholeTlv(rsaSpki)], 'ec'],
    ['the SPKI bytes alone otherwise', () => [rsaSpki, null, wholeTlv(rsaSpki)], 'rsa'],
    [
      'only the SPKI’s own bytes',
      () => {
        const buf = Buffer.concat([Buffer.from([0xaa, 0xbb]), rsaSpki, Buffer.from([0xcc])]);
        return [buf, null, { tag: 0x30, start: 2, contentStart: 2, end: 2 + rsaSpki.length }];
      },
      'rsa',
    ],
    [
      'garbage SPKI',
      () => [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), null, wholeTlv(Buffer.alloc(5))],
      null,
    ],
    ['nothing to load', () => [rsaSpki, null, null], null],
  ];
  it.each(cases)('%s', (_name, args, type) => {
    // Act
    const key = loadPublicKey(...args());
    // Assess
    expect(key?.asymmetricKeyType ?? null).toBe(type);
  });
});

describe('checkSubjectPublicKeyInfo', () => {
  const cases: [string, Asn1, string[]][] = [
    ['AlgorithmIdentifier and BIT STRING', seq(seq(oid('1.3.101.112')), prim(3, '\x00\x01')), []],
    [
      'AlgorithmIdentifier not a SEQUENCE',
      seq(oid('1.3.101.112'), prim(3, '\x00\x01')),
      ['subjectPublicKeyInfo is malformed'],
    ],
    [
      'key not a BIT STRING',
      seq(seq(oid('1.3.101.112')), prim(4, '\x01')),
      ['subjectPublicKeyInfo is malformed'],
    ],
    ['algorithm not an OID', seq(seq(int('01')), prim(3, '\x00\x01')), ['subjectPublicKeyInfo is malformed']],
    ['empty', seq(), ['subjectPublicKeyInfo is malformed']],
  ];
  it.each(cases)('%s', (_name, node, reasons) => {
    // Prepare
    const walk = newWalk();
    // Act
    checkSubjectPublicKeyInfo(walk, decoded(node));
    // Assess
    expect(walk.reasons).toEqual(reasons);
  });
});
