/**
 * The canary's certificates, made in memory at run time: a private root, a good leaf, an
 * expired leaf, a leaf for another name, a self-signed leaf and a malformed (truncated) one.
 * Nothing is committed and nothing outlives the process.
 *
 * A small DER writer rather than node-forge: forge cannot hold EC keys, P-256 keys take about a
 * millisecond to generate (RSA-2048 takes 50-200 ms), and the checker bundle stays small. One key
 * signs everything: the canary judges the detector, not key hygiene.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { DAY_MS } from '../core/day-count';

/** Certificates older than this are made again, so a long-lived process keeps "now" inside their windows. */
const REGENERATE_AFTER_MS = DAY_MS;

/** The names the fixtures answer to (SNI). `.invalid` can never resolve (RFC 2606): they exist only here. */
export const CANARY_DOMAIN = 'canary.certwatch.invalid';

/** One certificate the canary serves: its DER and, for the TLS server, PEM. */
export interface CanaryCertificate {
  readonly der: Buffer;
  readonly pem: string;
}

/** Everything the canary's servers and its trust store need. */
export interface CanaryPki {
  /** The one key of every certificate (PEM, PKCS#8). */
  readonly keyPem: string;
  readonly root: CanaryCertificate;
  /** Valid now, for `good.<domain>`, issued by the root. */
  readonly good: CanaryCertificate;
  /** Expired 30 days ago, for `expired.<domain>`. */
  readonly expired: CanaryCertificate;
  /** Valid, but for `elsewhere.<domain>` only. */
  readonly otherName: CanaryCertificate;
  /** Valid, self-signed, for `self-signed.<domain>`. */
  readonly selfSigned: CanaryCertificate;
  /** The good leaf cut short: DER no parser may accept. */
  readonly malformedDer: Buffer;
  readonly createdAt: number;
}

// --- DER -------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...content: Buffer[]) => tlv(0x30, ...content);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const group = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) group.unshift(0x80 | (v & 0x7f));
    bytes.push(...group);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 §4.1.2.5). */
function time(ms: number): Buffer {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = new Date(ms).getUTCFullYear();
  return year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1'))
    : tlv(0x18, Buffer.from(digits, 'latin1'));
}

function name(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

// --- certificates ------------------------------------------------------------------------

interface CertSpec {
  readonly cn: string;
  readonly dnsName: string | null;
  readonly ca: boolean;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The issuer's subject CN; null for self-signed. */
  readonly issuerCn: string | null;
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function makeCertificate(spec: CertSpec, key: KeyObject, spki: Buffer, keyId: Buffer): CanaryCertificate {
  const serial = randomBytes(8);
  // Positive (top bit clear) and minimal DER: a first byte of 0x00 would be illegal padding
  // whenever the next byte is below 0x80, and OpenSSL refuses such a certificate.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  const extensions = [
    extension('2.5.29.19', true, spec.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
    // keyUsage: keyCertSign + cRLSign for the root, digitalSignature for leaves.
    extension(
      '2.5.29.15',
      true,
      spec.ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80])),
    ),
    extension('2.5.29.14', false, tlv(0x04, keyId)),
    ...(spec.ca ? [] : [extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1')))]),
    ...(spec.issuerCn === null ? [] : [extension('2.5.29.35', false, seq(tlv(0x80, keyId)))]),
    ...(spec.dnsName === null
      ? []
      : [extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from(spec.dnsName, 'latin1'))))]),
  ];
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    name(spec.issuerCn ?? spec.cn),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.cn),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, key);
  const der = seq(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.from([0]), signature));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    der,
    pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`.replace('\n\n', '\n'),
  };
}

/** Makes a fresh canary PKI dated around `now` (about 5 ms: one P-256 key, six signatures). */
export function makeCanaryPki(now: number): CanaryPki {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the public key bits (the 65-byte P-256 point ends the SPKI).
  const keyId = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
  const rootCn = 'certwatch canary root';
  const make = (spec: Omit<CertSpec, 'ca'> & { ca?: boolean }) =>
    makeCertificate({ ca: false, ...spec }, privateKey, spki, keyId);
  const valid = { notBefore: now - DAY_MS, notAfter: now + 400 * DAY_MS };
  const good = make({
    cn: `good.${CANARY_DOMAIN}`,
    dnsName: `good.${CANARY_DOMAIN}`,
    issuerCn: rootCn,
    ...valid,
  });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    root: make({
      cn: rootCn,
      dnsName: null,
      ca: true,
      issuerCn: null,
      notBefore: now - DAY_MS,
      notAfter: now + 800 * DAY_MS,
    }),
    good,
    expired: make({
      cn: `expired.${CANARY_DOMAIN}`,
      dnsName: `expired.${CANARY_DOMAIN}`,
      issuerCn: rootCn,
      notBefore: now - 60 * DAY_MS,
      notAfter: now - 30 * DAY_MS,
    }),
    otherName: make({
      cn: `elsewhere.${CANARY_DOMAIN}`,
      dnsName: `elsewhere.${CANARY_DOMAIN}`,
      issuerCn: rootCn,
      ...valid,
    }),
    selfSigned: make({
      cn: `self-signed.${CANARY_DOMAIN}`,
      dnsName: `self-signed.${CANARY_DOMAIN}`,
      issuerCn: null,
      ...valid,
    }),
    malformedDer: good.der.subarray(0, good.der.length - 40),
    createdAt: now,
  };
}

let cached: CanaryPki | null = null;

/** The process's canary PKI: made on first use, again once it is a day old. */
export function canaryPki(now: number): CanaryPki {
  if (cached === null || now - cached.createdAt > REGENERATE_AFTER_MS || now < cached.createdAt) {
    cached = makeCanaryPki(now);
  }
  return cached;
}
