import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pemBlocks, readCertificateFile } from '../../lambdas/cert/certificate-file';
import { ecKey, makePki, rsaKey } from '../support/cert-factory';

const pki = makePki();
const rsa = rsaKey();
const rsaDer = (type: 'pkcs8' | 'pkcs1') =>
  createPrivateKey(rsa.privateKeyPem).export({ type, format: 'der' }) as Buffer;
const ecSec1Der = createPrivateKey(ecKey().privateKeyPem).export({ type: 'sec1', format: 'der' }) as Buffer;
const encryptedPkcs8Der = createPrivateKey(rsa.privateKeyPem).export({
  type: 'pkcs8',
  format: 'der',
  cipher: 'aes-256-cbc',
  passphrase: 'secret',
}) as Buffer;
const lines = (text: string) => text.split('\n').length - 1;
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));

describe('readCertificateFile', () => {
  it.each([
    ['a PEM chain, leaf first', bytes(pki.leaf.certPem + pki.intermediate.certPem), 'PEM', 2],
    [
      'PEM with text around the blocks (openssl x509 -text)',
      bytes(`subject=CN=localhost\n${pki.leaf.certPem}\n`),
      'PEM',
      1,
    ],
    ['PEM with CRLF line ends', bytes(pki.leaf.certPem.replace(/\n/g, '\r\n')), 'PEM', 1],
    ['one DER certificate', new Uint8Array(pki.leaf.der), 'DER', 1],
    [
      'DER certificates back to back',
      new Uint8Array(Buffer.concat([pki.leaf.der, pki.intermediate.der])),
      'DER',
      2,
    ],
  ])('reads %s', (_name, input, format, count) => {
    // Act
    const contents = readCertificateFile(input);
    // Assess
    expect(contents).toMatchObject({ ok: true, format });
    expect(contents.ok && contents.certificates.map((c) => Buffer.from(c).toString('hex'))).toEqual(
      [pki.leaf.der, pki.intermediate.der].slice(0, count).map((d) => d.toString('hex')),
    );
  });

  const secret = 'c2VjcmV0LWtleS1ieXRlcw==';
  it.each([
    ['an empty file', new Uint8Array(0), /^the file is empty$/],
    [
      'a PEM private key after the chain',
      bytes(`${pki.leaf.certPem}-----BEGIN RSA PRIVATE KEY-----\n${secret}\n-----END RSA PRIVATE KEY-----\n`),
      new RegExp(
        `^the file holds a private key \\("BEGIN RSA PRIVATE KEY" at line ${lines(pki.leaf.certPem) + 1}\\); certwatch reads certificates only and has not printed any of the key`,
      ),
    ],
    [
      'an encrypted PEM key',
      bytes(`-----BEGIN ENCRYPTED PRIVATE KEY-----\n${secret}\n-----END ENCRYPTED PRIVATE KEY-----\n`),
      /private key \("BEGIN ENCRYPTED PRIVATE KEY" at line 1\)/,
    ],
    ['a PKCS#8 DER key', new Uint8Array(rsaDer('pkcs8')), /^the file holds a private key \(PKCS#8 DER\)/],
    ['a PKCS#1 DER key', new Uint8Array(rsaDer('pkcs1')), /^the file holds a private key \(PKCS#1 RSA DER\)/],
    ['a SEC 1 DER key', new Uint8Array(ecSec1Der), /^the file holds a private key \(SEC 1 EC DER\)/],
    [
      'an encrypted PKCS#8 DER key',
      new Uint8Array(encryptedPkcs8Der),
      /^the file holds a private key \(encrypted PKCS#8 DER\)/,
    ],
    [
      'text without PEM',
      bytes('hello, world\n'),
      /^no certificate found: expected PEM \("-----BEGIN CERTIFICATE-----"\) or DER$/,
    ],
    [
      'random bytes',
      new Uint8Array([0x17, 0x03, 0x03, 0x00, 0x10, 0xff]),
      /^no certificate found: expected PEM/,
    ],
    [
      'text that starts with "0" (0x30, a DER SEQUENCE tag)',
      bytes('0123 not a certificate'),
      /^no certificate found: the file is neither PEM nor complete DER \(it is cut short: \d+ bytes missing\)$/,
    ],
    [
      'a DER certificate cut short',
      new Uint8Array(pki.leaf.der.subarray(0, 300)),
      /^no certificate found: the file is neither PEM nor complete DER \(it is cut short/,
    ],
    [
      'DER followed by junk',
      new Uint8Array(Buffer.concat([pki.leaf.der, Buffer.from([0x04, 0x01, 0x00])])),
      /^no certificate found: the data after certificate 1 is neither PEM nor complete DER \(tag 0x04 at offset \d+/,
    ],
    [
      'a PEM file with a CSR only',
      bytes('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'),
      /^no certificate in the file: it holds "CERTIFICATE REQUEST" but no "CERTIFICATE" block$/,
    ],
    [
      'a certificate block that is not base64',
      bytes(`${pki.leaf.certPem}-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n`),
      new RegExp(`^certificate 2 \\(line ${lines(pki.leaf.certPem) + 1}\\) is not valid base64$`),
    ],
    [
      'a certificate block without its END line',
      bytes('-----BEGIN CERTIFICATE-----\nAAAA\n'),
      /^certificate 1 \(line 1\) has no matching "END CERTIFICATE" line$/,
    ],
  ])('refuses %s, saying why', (_name, input, problem) => {
    // Act
    const contents = readCertificateFile(input);
    // Assess
    expect(contents.ok).toBe(false);
    const message = contents.ok ? '' : contents.problem;
    expect(message).toMatch(problem);
    expect(message).not.toContain(secret);
  });

  it('keeps a certificate whose inside is broken, for the analysis to name', () => {
    // Prepare: a SEQUENCE { SEQUENCE {} } that no parser would call a certificate
    const broken = new Uint8Array([0x30, 0x02, 0x30, 0x00]);
    // Act
    const contents = readCertificateFile(broken);
    // Assess
    expect(contents).toEqual({ ok: true, format: 'DER', certificates: [broken] });
  });
});

describe('pemBlocks', () => {
  it('finds every block with its label and line, and stops at one without its END line', () => {
    // Act
    const blocks = pemBlocks(
      `# chain\n${pki.leaf.certPem}-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nAAAA\n`,
    );
    // Assess
    expect(blocks.map((b) => [b.label, b.line, b.der === null, b.problem])).toEqual([
      ['CERTIFICATE', 2, false, null],
      ['PUBLIC KEY', lines(pki.leaf.certPem) + 2, false, null],
      ['CERTIFICATE', lines(pki.leaf.certPem) + 5, true, 'has no matching "END CERTIFICATE" line'],
    ]);
  });
});
