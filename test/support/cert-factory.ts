/**
 * Test certificate factory. Every certificate is generated at test time,
 * relative to "now", so fixtures never rot.
 *
 * RSA keys come from node:crypto (native, fast); node-forge builds and signs
 * the certificates, which lets tests produce deliberately weak or odd ones.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

const DAY_MS = 86_400_000;

export function daysFromNow(days: number, now: Date = new Date()): Date {
  return new Date(now.getTime() + days * DAY_MS);
}

export interface TestKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

const keyCache = new Map<number, TestKey>();

/** An RSA key of the given size. Cached per size: key generation is the slow part of fixtures. */
export function rsaKey(bits = 2048, fresh = false): TestKey {
  const cached = keyCache.get(bits);
  if (cached && !fresh) return cached;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = { privateKeyPem: privateKey, publicKeyPem: publicKey };
  if (!fresh) keyCache.set(bits, key);
  return key;
}

export interface TestCert {
  readonly certPem: string;
  readonly der: Buffer;
  readonly key: TestKey;
  readonly subjectCn: string;
}

export interface CertOptions {
  /** Subject common name. */
  readonly cn: string;
  /** DNS names and IP addresses for the SAN extension. Omit for no SAN. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Issuing certificate; omit for self-signed. */
  readonly issuer?: TestCert;
  readonly isCa?: boolean;
  readonly key?: TestKey;
  readonly digest?: 'sha256' | 'sha1' | 'md5' | 'sha384';
  readonly serialHex?: string;
  /** Extra raw forge extensions, e.g. an unknown critical one. */
  readonly extraExtensions?: readonly object[];
}

let serialCounter = 1;

/** Build and sign a certificate. */
export function makeCert(opts: CertOptions): TestCert {
  const key = opts.key ?? rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.publicKeyPem);
  cert.serialNumber = opts.serialHex ?? (0x10000000 + serialCounter++).toString(16);
  cert.validity.notBefore = opts.notBefore ?? daysFromNow(-1);
  cert.validity.notAfter = opts.notAfter ?? daysFromNow(90);
  const subject = [{ name: 'commonName', value: opts.cn }];
  cert.setSubject(subject);
  const issuerKey = opts.issuer?.key ?? key;
  if (opts.issuer) {
    cert.setIssuer(forge.pki.certificateFromPem(opts.issuer.certPem).subject.attributes);
  } else {
    cert.setIssuer(subject);
  }
  const extensions: object[] = [];
  if (opts.isCa) {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
  }
  const altNames = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  extensions.push(...(opts.extraExtensions ?? []));
  cert.setExtensions(extensions);
  const digest = forge.md[opts.digest ?? 'sha256'].create();
  cert.sign(forge.pki.privateKeyFromPem(issuerKey.privateKeyPem) as forge.pki.rsa.PrivateKey, digest);
  const certPem = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { certPem, der, key, subjectCn: opts.cn };
}

/** A root CA, an intermediate and a leaf for `localhost` / 127.0.0.1, all valid now. */
export interface TestPki {
  readonly root: TestCert;
  readonly intermediate: TestCert;
  readonly leaf: TestCert;
}

export function makePki(leafOpts: Partial<CertOptions> = {}): TestPki {
  const root = makeCert({ cn: 'certwatch Test Root', isCa: true, notAfter: daysFromNow(3650) });
  const intermediate = makeCert({
    cn: 'certwatch Test Intermediate',
    isCa: true,
    issuer: root,
    notAfter: daysFromNow(1825),
  });
  const leaf = makeCert({
    cn: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: intermediate,
    ...leafOpts,
  });
  return { root, intermediate, leaf };
}
