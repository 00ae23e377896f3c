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

/** A DSA key (1024-bit, fast to generate), for WEAK_KEY and DSA-signature tests. Cached unless `fresh`. */
export function dsaKey(fresh = false): TestKey {
  return generate('dsa', fresh, () =>
    generateKeyPairSync('dsa', {
      modulusLength: 1024,
      divisorLength: 160,
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

/** keyUsage bits, by their RFC 5280 names. */
export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** extendedKeyUsage purposes by name, or any dotted OID. */
export type ExtKeyUsageName =
  | 'serverAuth'
  | 'clientAuth'
  | 'codeSigning'
  | 'emailProtection'
  | 'any'
  | string;

/** Subtrees of a nameConstraints list: DNS names and IP ranges in CIDR form (`10.0.0.0/8`, `fd00::/8`). */
export interface TestSubtrees {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
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
  /** authorityInfoAccess OCSP responder URL (id-ad-ocsp), in the same extension as caIssuersUrl. */
  readonly ocspUrl?: string;
  /** cRLDistributionPoints with this one fullName URI. */
  readonly crlUrl?: string;
  /** TLS Feature extension (RFC 7633) with status_request: "must-staple". */
  readonly mustStaple?: boolean;
  /** Edits the TBSCertificate (forge ASN.1) just before signing, so deliberate defects are still validly signed. */
  readonly mutateTbs?: (tbs: forge.asn1.Asn1) => void;
  /**
   * basicConstraints instead of the default (CA: critical cA=TRUE; otherwise cA=FALSE);
   * `'omit'` leaves the extension out.
   */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number } | 'omit';
  /** keyUsage bits instead of the default (CA: keyCertSign, cRLSign; otherwise digitalSignature, keyEncipherment). */
  readonly keyUsage?: readonly KeyUsageName[] | 'omit';
  /** extendedKeyUsage purposes instead of the default (CA: none; otherwise serverAuth); `'omit'` leaves it out. */
  readonly extKeyUsage?: readonly ExtKeyUsageName[] | 'omit';
  /** A critical nameConstraints extension. */
  readonly nameConstraints?: { readonly permitted?: TestSubtrees; readonly excluded?: TestSubtrees };
  /** X.509 version: 1 writes no version field and no extensions at all. @default 3 */
  readonly version?: 1 | 3;
  /**
   * authorityKeyIdentifier: `true` for the issuer's real key identifier, or a hex string to
   * claim another one. Omitted by default (as before).
   */
  readonly authorityKeyId?: true | string;
  /** Spell the (P-256) EC key's curve out as explicit parameters instead of naming it. */
  readonly explicitCurve?: boolean;
}

const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  any: '2.5.29.37.0',
};

/** Explicit ECParameters of P-256 (SEC 1), as `openssl ecparam -param_enc explicit` writes them. */
const P256_EXPLICIT_PARAMETERS =
  '3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff' +
  '305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd557698' +
  '86bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247' +
  'f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837' +
  'bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101';

/** `10.0.0.0/8` as the 8 (or 32) bytes of a nameConstraints iPAddress: address then mask. */
function cidrBytes(cidr: string): string {
  const [address = '', prefixText = ''] = cidr.split('/');
  const bytes = address.includes(':') ? ipv6Bytes(address) : address.split('.').map(Number);
  const prefix = Number(prefixText);
  const mask = bytes.map((_, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return (0xff << (8 - bits)) & 0xff;
  });
  return Buffer.from([...bytes, ...mask]).toString('latin1');
}

function ipv6Bytes(text: string): number[] {
  const [head = '', tail = ''] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function subtrees(tag: number, list: TestSubtrees): forge.asn1.Asn1 {
  const bases = [
    ...(list.dns ?? []).map((d) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, d)),
    ...(list.ip ?? []).map((c) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, cidrBytes(c))),
  ];
  return asn1.create(
    asn1.Class.CONTEXT_SPECIFIC,
    tag,
    true,
    bases.map((b) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [b])),
  );
}

/** A critical nameConstraints extension (RFC 5280 §4.2.1.10). */
export function nameConstraintsExtension(permitted?: TestSubtrees, excluded?: TestSubtrees): object {
  const parts = [
    ...(permitted ? [subtrees(0, permitted)] : []),
    ...(excluded ? [subtrees(1, excluded)] : []),
  ];
  return {
    id: '2.5.29.30',
    critical: true,
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts),
  };
}

/**
 * forge decodes a BIT STRING whose bytes happen to parse as DER into a tree (always for an RSA key, for
 * about one EC point in 256), and the key bits then read as empty: every such key would get the key
 * identifier of no bytes, and look-alike CAs would share it. Keys are read as the bytes they are.
 */
const RAW_BIT_STRINGS = { strict: true, parseAllBytes: true, decodeBitStrings: false };
/** forge's typings omit the options-object overload of fromDer. */
const rawFromDer = asn1.fromDer as unknown as (
  bytes: string,
  options: typeof RAW_BIT_STRINGS,
) => forge.asn1.Asn1;

/** The RFC 5280 method-1 key identifier (SHA-1 of the subjectPublicKey bits) of a PEM public key. */
export function keyIdentifier(publicKeyPem: string): string {
  const spkiDer = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  const spki = rawFromDer(spkiDer.toString('latin1'), RAW_BIT_STRINGS);
  return createHash('sha1')
    .update(Buffer.from(bytesOf(children(spki)[1]).slice(1), 'latin1'))
    .digest('hex');
}

/** The extensions a certificate gets by default, with the options' overrides. */
function profileExtensions(opts: CertOptions): object[] {
  const out: object[] = [];
  const bc = opts.basicConstraints ?? { ca: opts.isCa === true };
  if (bc !== 'omit') {
    const pathLen = bc.pathLen === undefined ? {} : { pathLenConstraint: bc.pathLen };
    out.push({ name: 'basicConstraints', cA: bc.ca, ...(bc.ca ? { critical: true } : {}), ...pathLen });
  }
  const defaultUsage: KeyUsageName[] = opts.isCa
    ? ['keyCertSign', 'cRLSign']
    : ['digitalSignature', 'keyEncipherment'];
  const usage = opts.keyUsage ?? defaultUsage;
  if (usage !== 'omit') {
    out.push({ name: 'keyUsage', critical: true, ...Object.fromEntries(usage.map((u) => [u, true])) });
  }
  const eku = opts.extKeyUsage ?? (opts.isCa ? 'omit' : ['serverAuth']);
  if (eku !== 'omit') {
    const oids = eku.map((e) => oidNode(EKU_OIDS[e] ?? e));
    out.push({ id: '2.5.29.37', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, oids) });
  }
  if (opts.nameConstraints) {
    out.push(nameConstraintsExtension(opts.nameConstraints.permitted, opts.nameConstraints.excluded));
  }
  return out;
}

/** The SPKI with its named-curve OID replaced by the curve's explicit parameters. */
function withExplicitCurve(spki: forge.asn1.Asn1): forge.asn1.Asn1 {
  const algId = children(spki)[0];
  const params = asn1.fromDer(Buffer.from(P256_EXPLICIT_PARAMETERS, 'hex').toString('latin1'));
  if (algId && Array.isArray(algId.value)) algId.value[1] = params;
  return spki;
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
  dsa: {
    sha256: '2.16.840.1.101.3.4.3.2',
    sha1: '1.2.840.10040.4.3',
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
  const family = type === 'ec' || type === 'dsa' ? type : 'rsa';
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

/** authorityInfoAccess with an OCSP responder and/or a caIssuers URI. */
export function authorityInfoAccessExtension(urls: { caIssuers?: string; ocsp?: string }): object {
  const access = (method: string, url: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      oidNode(method),
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, url),
    ]);
  const descriptions = [
    ...(urls.ocsp ? [access('1.3.6.1.5.5.7.48.1', urls.ocsp)] : []),
    ...(urls.caIssuers ? [access('1.3.6.1.5.5.7.48.2', urls.caIssuers)] : []),
  ];
  return {
    id: '1.3.6.1.5.5.7.1.1',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, descriptions),
  };
}

/** cRLDistributionPoints with one DistributionPoint { distributionPoint [0] { fullName [0] { uri } } }. */
export function crlDistributionPointsExtension(url: string): object {
  const uri = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, url);
  const fullName = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [uri]);
  const pointName = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [fullName]);
  const point = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [pointName]);
  return {
    id: '2.5.29.31',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [point]),
  };
}

/** TLS Feature (RFC 7633) listing these TLS extension numbers (5: status_request). */
export function tlsFeatureExtension(features: readonly number[]): object {
  return {
    id: '1.3.6.1.5.5.7.1.24',
    value: asn1.create(
      asn1.Class.UNIVERSAL,
      asn1.Type.SEQUENCE,
      true,
      features.map((f) =>
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(f)),
      ),
    ),
  };
}

/** Build and sign a certificate (RSA, EC or Ed25519 subject and issuer keys). */
export function makeCert(opts: CertOptions): TestCert {
  const key = opts.key ?? rsaKey();
  const issuerKeyPem = opts.issuer?.key.privateKeyPem ?? key.privateKeyPem;
  const issuerKey = privateKeyObject(issuerKeyPem);
  const spkiDer = createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' });
  const decodedSpki = rawFromDer(spkiDer.toString('latin1'), RAW_BIT_STRINGS);
  const spki = opts.explicitCurve ? withExplicitCurve(decodedSpki) : decodedSpki;

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
  const extensions: object[] = profileExtensions(opts);
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
  if (opts.authorityKeyId !== undefined && opts.issuer) {
    const id =
      opts.authorityKeyId === true ? keyIdentifier(opts.issuer.key.publicKeyPem) : opts.authorityKeyId;
    const keyId = asn1.create(
      asn1.Class.CONTEXT_SPECIFIC,
      0,
      false,
      Buffer.from(id, 'hex').toString('latin1'),
    );
    extensions.push({
      id: '2.5.29.35',
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [keyId]),
    });
  }
  if (opts.caIssuersUrl || opts.ocspUrl) {
    extensions.push(authorityInfoAccessExtension({ caIssuers: opts.caIssuersUrl, ocsp: opts.ocspUrl }));
  }
  if (opts.crlUrl) extensions.push(crlDistributionPointsExtension(opts.crlUrl));
  if (opts.mustStaple) extensions.push(tlsFeatureExtension([5]));
  extensions.push(...(opts.extraExtensions ?? []));
  cert.setExtensions(opts.version === 1 ? [] : extensions);

  const alg = signatureAlgorithm(issuerKey, opts.digest ?? 'sha256');
  cert.siginfo.algorithmOid = '1.2.840.113549.1.1.11';
  const tbs = getTbsCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = alg.algId();
  if (opts.issuer) fields[3] = subjectNameOf(opts.issuer.der);
  fields[6] = spki;
  // Version 1: the version field is DEFAULT v1, so DER leaves it out.
  if (opts.version === 1) fields.shift();
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
