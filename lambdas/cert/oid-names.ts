/**
 * Object identifiers the certificate analysis needs to name or recognise.
 * Unknown OIDs are reported in dotted form rather than guessed.
 */

interface SignatureAlgorithm {
  readonly name: string;
  /** Digest the signature is computed over; null when intrinsic (EdDSA) or carried in parameters (PSS). */
  readonly hash: string | null;
}

export const SIGNATURE_ALGORITHMS: ReadonlyMap<string, SignatureAlgorithm> = new Map([
  ['1.2.840.113549.1.1.2', { name: 'md2WithRSAEncryption', hash: 'md2' }],
  ['1.2.840.113549.1.1.3', { name: 'md4WithRSAEncryption', hash: 'md4' }],
  ['1.2.840.113549.1.1.4', { name: 'md5WithRSAEncryption', hash: 'md5' }],
  ['1.2.840.113549.1.1.5', { name: 'sha1WithRSAEncryption', hash: 'sha1' }],
  ['1.3.14.3.2.29', { name: 'sha1WithRSAEncryption', hash: 'sha1' }],
  ['1.2.840.113549.1.1.10', { name: 'RSASSA-PSS', hash: null }],
  ['1.2.840.113549.1.1.11', { name: 'sha256WithRSAEncryption', hash: 'sha256' }],
  ['1.2.840.113549.1.1.12', { name: 'sha384WithRSAEncryption', hash: 'sha384' }],
  ['1.2.840.113549.1.1.13', { name: 'sha512WithRSAEncryption', hash: 'sha512' }],
  ['1.2.840.113549.1.1.14', { name: 'sha224WithRSAEncryption', hash: 'sha224' }],
  ['1.2.840.10045.4.1', { name: 'ecdsa-with-SHA1', hash: 'sha1' }],
  ['1.2.840.10045.4.3.1', { name: 'ecdsa-with-SHA224', hash: 'sha224' }],
  ['1.2.840.10045.4.3.2', { name: 'ecdsa-with-SHA256', hash: 'sha256' }],
  ['1.2.840.10045.4.3.3', { name: 'ecdsa-with-SHA384', hash: 'sha384' }],
  ['1.2.840.10045.4.3.4', { name: 'ecdsa-with-SHA512', hash: 'sha512' }],
  ['1.2.840.10040.4.3', { name: 'dsa-with-SHA1', hash: 'sha1' }],
  ['2.16.840.1.101.3.4.3.1', { name: 'dsa-with-SHA224', hash: 'sha224' }],
  ['2.16.840.1.101.3.4.3.2', { name: 'dsa-with-SHA256', hash: 'sha256' }],
  ['1.3.101.112', { name: 'Ed25519', hash: null }],
  ['1.3.101.113', { name: 'Ed448', hash: null }],
]);

export const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';

/** Digest algorithms as they appear inside RSASSA-PSS parameters. */
export const HASH_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.2.5', 'md5'],
  ['1.3.14.3.2.26', 'sha1'],
  ['2.16.840.1.101.3.4.2.4', 'sha224'],
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

/** Digests no longer collision resistant: a signature over them proves little. */
export const WEAK_HASHES: ReadonlySet<string> = new Set(['md2', 'md4', 'md5', 'sha1']);

/** subjectPublicKeyInfo algorithms, mapped to ChainCertificate.keyType. */
export const KEY_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.1', 'RSA'],
  ['1.2.840.113549.1.1.10', 'RSA'],
  ['1.2.840.10045.2.1', 'EC'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
  ['1.2.840.10040.4.1', 'DSA'],
]);

/** Short names for distinguished-name attributes (RFC 4514 plus common extras). */
export const NAME_ATTRIBUTES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'title'],
  ['2.5.4.15', 'businessCategory'],
  ['2.5.4.17', 'postalCode'],
  ['2.5.4.42', 'GN'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
  ['1.3.6.1.4.1.311.60.2.1.1', 'jurisdictionL'],
  ['1.3.6.1.4.1.311.60.2.1.2', 'jurisdictionST'],
  ['1.3.6.1.4.1.311.60.2.1.3', 'jurisdictionC'],
]);

export const OID_COMMON_NAME = '2.5.4.3';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
export const OID_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_NAME_CONSTRAINTS = '2.5.29.30';
export const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
export const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
/** id-kp-serverAuth: the extendedKeyUsage a TLS server certificate needs. */
export const OID_EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
/** anyExtendedKeyUsage. */
export const OID_EKU_ANY = '2.5.29.37.0';
/** id-ecPublicKey: its parameters name the curve, or (forbidden in TLS) spell it out. */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** Names of the extendedKeyUsage purposes messages mention; others are shown in dotted form. */
export const EKU_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.3.6.1.5.5.7.3.1', 'serverAuth'],
  ['1.3.6.1.5.5.7.3.2', 'clientAuth'],
  ['1.3.6.1.5.5.7.3.3', 'codeSigning'],
  ['1.3.6.1.5.5.7.3.4', 'emailProtection'],
  ['1.3.6.1.5.5.7.3.8', 'timeStamping'],
  ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
  ['2.5.29.37.0', 'anyExtendedKeyUsage'],
]);

/**
 * Extensions a relying party understands, so they may be marked critical. An
 * unknown critical extension makes RFC 5280 clients reject the certificate.
 */
export const KNOWN_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  '2.5.29.19', // basicConstraints
  '2.5.29.15', // keyUsage
  '2.5.29.37', // extKeyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.30', // nameConstraints
  '2.5.29.36', // policyConstraints
  '2.5.29.32', // certificatePolicies
  '2.5.29.54', // inhibitAnyPolicy
  '2.5.29.33', // policyMappings
  '1.3.6.1.4.1.11129.2.4.3', // precertificatePoison
]);

/** Bit sizes of named curves as Node reports them (`asymmetricKeyDetails.namedCurve`). */
const CURVE_BITS: ReadonlyMap<string, number> = new Map([
  ['prime256v1', 256],
  ['P-256', 256],
  ['secp256k1', 256],
  ['secp384r1', 384],
  ['P-384', 384],
  ['secp521r1', 521],
  ['P-521', 521],
  ['secp224r1', 224],
  ['P-224', 224],
  ['prime192v1', 192],
  ['P-192', 192],
]);

/** Curve size in bits; falls back to the size embedded in the name (brainpoolP512r1, sect163k1). */
export function curveBits(curve: string | undefined): number | null {
  if (!curve) return null;
  const known = CURVE_BITS.get(curve);
  if (known !== undefined) return known;
  const digits = /(\d{3})/.exec(curve);
  return digits ? Number(digits[1]) : null;
}

/** Named-curve OIDs found in EC subjectPublicKeyInfo parameters (fallback when Node cannot load the key). */
export const CURVE_OIDS: ReadonlyMap<string, number> = new Map([
  ['1.2.840.10045.3.1.7', 256],
  ['1.3.132.0.34', 384],
  ['1.3.132.0.35', 521],
  ['1.3.132.0.33', 224],
  ['1.2.840.10045.3.1.1', 192],
  ['1.3.132.0.10', 256],
]);
