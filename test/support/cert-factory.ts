/**
 * Test certificate factory. Every certificate is generated at test time,
 * relative to "now", so fixtures never rot.
 *
 * Keys come from node:crypto (native, fast). node-forge lays out the
 * TBSCertificate (names, extensions, validity), which lets tests produce
 * deliberately weak or odd certificates; the real subjectPublicKeyInfo and
 * signature algorithm are then spliced in and node:crypto signs, because forge
 * can neither hold nor sign with EC or Ed25519 keys.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import forge from 'node-forge';

const DAY_MS = 86_400_000;
const { asn1 } = forge;

export function daysFromNow(days: number, now: Date = new Date()): Date {
  return new Date(now.getTime() + days * DAY_MS);
}

export interface TestKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

const keyCache = new Map<string, TestKey>();

function generate(
  cacheKey: string,
  fresh: boolean,
  make: () => { privateKey: string; publicKey: string },
): TestKey {
  const cached = keyCache.get(cacheKey);
  if (cached && !fresh) return cached;
  const { privateKey, publicKey } = make();
  const key = { privateKeyPem: privateKey, publicKeyPem: publicKey };
  if (!fresh) keyCache.set(cacheKey, key);
  return key;
}

const PRIVATE_PEM = { type: 'pkcs8', format: 'pem' } as const;
const PUBLIC_PEM = { type: 'spki', format: 'pem' } as const;

/** An RSA key of the given size. Cached per size: key generation is the slow part of fixtures. */
export function rsaKey(bits = 2048, fresh = false): TestKey {
  return generate(`rsa-${bits}`, fresh, () =>
    generateKeyPairSync('rsa', {
      modulusLength: bits,
      privateKeyEncoding: PRIVATE_PEM,
      publicKeyEncoding: PUBLIC_PEM,
    }),
  );
}

/** Named curves node:crypto can generate; P-224/P-192 exist for WEAK_KEY tests. */
export type TestCurve = 'P-256' | 'P-384' | 'P-521' | 'P-224' | 'P-192';

/** An EC key on the given curve. Cached per curve unless `fresh`. */
export function ecKey(curve: TestCurve = 'P-256', fresh = false): TestKey {
  return generate(`ec-${curve}`, fresh, () =>
    generateKeyPairSync('ec', {
      namedCurve: curve,
      privateKeyEncoding: PRIVATE_PEM,
      publicKeyEncoding: PUBLIC_PEM,
    }),
  );
}

/** An Ed25519 key. Cached unless `fresh`. */
export function ed25519Key(fresh = false): TestKey {
  return generate('ed25519', fresh, () =>
    generateKeyPairSync('ed25519', { privateKeyEncoding: PRIVATE_PEM, publicKeyEncoding: PUBLIC_PEM }),
  );
}

export interface TestCert {
  readonly certPem: string;
  readonly der: Buffer;
  readonly key: TestKey;
  readonly subjectCn: string;
}

/** One extra subject attribute, e.g. `{ shortName: 'O', value: 'Example' }` or with a string type tag. */
export interface SubjectAttribute {
  readonly shortName?: string;
  /** Attribute OID when there is no forge short name. */
  readonly type?: string;
  readonly value: string;
  /** ASN.1 string type (forge.asn1.Type), e.g. 12 UTF8String (default PrintableString). */
  readonly valueTagClass?: number;
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
  /** Subject key (RSA, EC or Ed25519). @default rsaKey() */
  readonly key?: TestKey;
  /** Signature digest. EC issuers sign ecdsa-with-<digest> (no md5); Ed25519 issuers ignore it. */
  readonly digest?: 'sha256' | 'sha1' | 'md5' | 'sha384';
  readonly serialHex?: string;
  /** Extra raw forge extensions, e.g. an unknown critical one. */
  readonly extraExtensions?: readonly object[];
  /** Attributes placed before the CN in the subject (e.g. C, O). */
  readonly subjectAttributes?: readonly SubjectAttribute[];
  /** authorityInfoAccess caIssuers URL. */
  readonly caIssuersUrl?: string;
  /** Edits the TBSCertificate (forge ASN.1) just before signing, so deliberate defects are still validly signed. */
  readonly mutateTbs?: (tbs: forge.asn1.Asn1) => void;
}

let serialCounter = 1;

const SIGNATURE_OIDS: Record<string, Record<string, string>> = {
  rsa: {
    sha256: '1.2.840.113549.1.1.11',
    sha384: '1.2.840.113549.1.1.12',
    sha1: '1.2.840.113549.1.1.5',
    md5: '1.2.840.113549.1.1.4',
  },
  ec: {
    sha256: '1.2.840.10045.4.3.2',
    sha384: '1.2.840.10045.4.3.3',
    sha1: '1.2.840.10045.4.1',
  },
};
const ED25519_OID = '1.3.101.112';

const keyObjects = new Map<string, KeyObject>();
function privateKeyObject(pem: string): KeyObject {
  let key = keyObjects.get(pem);
  if (!key) {
    key = createPrivateKey(pem);
    keyObjects.set(pem, key);
  }
  return key;
}

let placeholderKey: forge.pki.PublicKey | null = null;
/** forge insists on an RSA key to lay out the TBSCertificate; the real SPKI replaces it afterwards. */
function placeholderPublicKey(): forge.pki.PublicKey {
  placeholderKey ??= forge.pki.publicKeyFromPem(rsaKey().publicKeyPem);
  return placeholderKey;
}

/** Exported by forge at runtime but missing from its typings. */
const getTbsCertificate = (
  forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
).getTBSCertificate;

function oidNode(oid: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes());
}

function signatureAlgorithm(
  issuerKey: KeyObject,
  digest: string,
): { algId: () => forge.asn1.Asn1; hash: string | null } {
  const type = issuerKey.asymmetricKeyType;
  if (type === 'ed25519') {
    return {
      algId: () => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oidNode(ED25519_OID)]),
      hash: null,
    };
  }
  const family = type === 'ec' ? 'ec' : 'rsa';
  const oid = SIGNATURE_OIDS[family]?.[digest];
  if (!oid) throw new Error(`cert-factory: cannot sign ${digest} with a ${type} key`);
  const params = family === 'rsa' ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')] : [];
  return {
    algId: () => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oidNode(oid), ...params]),
    hash: digest,
  };
}

function children(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

/** The subject Name node of a DER certificate, byte-exact, to use as a child's issuer. */
function subjectNameOf(der: Buffer): forge.asn1.Asn1 {
  const cert = asn1.fromDer(der.toString('latin1'));
  const tbs = children(cert)[0];
  const fields = children(tbs);
  const offset = fields[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const name = fields[offset + 4];
  if (!name) throw new Error('cert-factory: issuer certificate has no subject');
  return name;
}

/** PEM text for DER bytes. */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** authorityInfoAccess extension with one caIssuers URI. */
export function caIssuersExtension(url: string): object {
  const uri = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, url);
  const access = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    oidNode('1.3.6.1.5.5.7.48.2'),
    uri,
  ]);
  return {
    id: '1.3.6.1.5.5.7.1.1',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [access]),
  };
}

/** Build and sign a certificate (RSA, EC or Ed25519 subject and issuer keys). */
export function makeCert(opts: CertOptions): TestCert {
  const key = opts.key ?? rsaKey();
  const issuerKeyPem = opts.issuer?.key.privateKeyPem ?? key.privateKeyPem;
  const issuerKey = privateKeyObject(issuerKeyPem);
  const spkiDer = createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' });
  const spki = asn1.fromDer(spkiDer.toString('latin1'));

  const cert = forge.pki.createCertificate();
  cert.publicKey = placeholderPublicKey();
  cert.serialNumber = opts.serialHex ?? (0x10000000 + serialCounter++).toString(16);
  cert.validity.notBefore = opts.notBefore ?? daysFromNow(-1);
  cert.validity.notAfter = opts.notAfter ?? daysFromNow(90);
  const subject = [
    ...(opts.subjectAttributes ?? []).map((a) => ({ ...a })),
    { name: 'commonName', value: opts.cn },
  ] as forge.pki.CertificateField[];
  cert.setSubject(subject);
  cert.setIssuer(subject);
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
  // SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 method 1), from the real key, not forge's placeholder.
  const keyBits = bytesOf(children(spki)[1]).slice(1);
  const ski = createHash('sha1').update(Buffer.from(keyBits, 'latin1')).digest().toString('latin1');
  extensions.push({
    name: 'subjectKeyIdentifier',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, ski),
  });
  if (opts.caIssuersUrl) extensions.push(caIssuersExtension(opts.caIssuersUrl));
  extensions.push(...(opts.extraExtensions ?? []));
  cert.setExtensions(extensions);

  const alg = signatureAlgorithm(issuerKey, opts.digest ?? 'sha256');
  cert.siginfo.algorithmOid = '1.2.840.113549.1.1.11';
  const tbs = getTbsCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = alg.algId();
  if (opts.issuer) fields[3] = subjectNameOf(opts.issuer.der);
  fields[6] = spki;
  opts.mutateTbs?.(tbs);

  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'latin1');
  const signature = sign(alg.hash, tbsDer, issuerKey);
  const certAsn1 = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    alg.algId(),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${signature.toString('latin1')}`),
  ]);
  const der = Buffer.from(asn1.toDer(certAsn1).getBytes(), 'latin1');
  return { certPem: derToPem(der), der, key, subjectCn: opts.cn };
}

function bytesOf(node: forge.asn1.Asn1 | undefined): string {
  return node && typeof node.value === 'string' ? node.value : '';
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
