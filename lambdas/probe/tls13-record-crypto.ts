/**
 * Just enough TLS 1.3 record protection (RFC 8446 §5.2, §7) to read the
 * server's encrypted handshake flight, given the server handshake traffic
 * secret that OpenSSL hands out through Node's `keylog` event.
 *
 * TLS 1.3 encrypts the Certificate message, so this is the only way to see the
 * chain exactly as the server sent it, including certificates OpenSSL refuses.
 */
import { createDecipheriv, createHmac } from 'node:crypto';

/** An AEAD cipher suite of TLS 1.3. */
export interface Tls13Suite {
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  readonly keyLength: number;
  readonly hash: 'sha256' | 'sha384';
}

/** The suites OpenSSL offers by default; CCM suites are never offered by Node, so never negotiated. */
export const TLS13_SUITES: ReadonlyMap<number, Tls13Suite> = new Map([
  [0x1301, { cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256' }],
  [0x1302, { cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384' }],
  [0x1303, { cipher: 'chacha20-poly1305', keyLength: 32, hash: 'sha256' }],
]);

const IV_LENGTH = 12;
const TAG_LENGTH = 16;

/** Traffic key and IV derived from a traffic secret. */
export interface TrafficKeys {
  readonly suite: Tls13Suite;
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** HKDF-Expand-Label (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  hash: Tls13Suite['hash'],
  secret: Buffer,
  label: string,
  context: Buffer,
  length: number,
): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, fullLabel.length]),
    fullLabel,
    Buffer.from([context.length]),
    context,
  ]);
  // HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(secret, T(i-1) | info | i).
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1, produced = 0; produced < length; i++) {
    previous = createHmac(hash, secret)
      .update(Buffer.concat([previous, info, Buffer.from([i])]))
      .digest();
    blocks.push(previous);
    produced += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** Key and IV for one direction, from its traffic secret. */
export function trafficKeys(suite: Tls13Suite, secret: Buffer): TrafficKeys {
  const none = Buffer.alloc(0);
  return {
    suite,
    key: hkdfExpandLabel(suite.hash, secret, 'key', none, suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', none, IV_LENGTH),
  };
}

/** Per-record nonce: the IV XOR the 64-bit record sequence number. */
export function recordNonce(iv: Buffer, sequence: number): Buffer {
  const nonce = Buffer.from(iv);
  let seq = BigInt(sequence);
  for (let i = nonce.length - 1; i >= nonce.length - 8; i--) {
    nonce[i]! ^= Number(seq & 0xffn);
    seq >>= 8n;
  }
  return nonce;
}

/** A decrypted TLSInnerPlaintext: the real content type and its content, padding removed. */
export interface InnerPlaintext {
  readonly contentType: number;
  readonly content: Buffer;
}

/**
 * Open one protected record. `header` is the 5-byte record header (the AAD), `payload` the
 * ciphertext with its tag. Returns null when it does not authenticate or is malformed.
 */
export function openRecord(
  keys: TrafficKeys,
  sequence: number,
  header: Buffer,
  payload: Buffer,
): InnerPlaintext | null {
  if (payload.length < TAG_LENGTH + 1) return null;
  try {
    const decipher = aeadDecipher(keys, recordNonce(keys.iv, sequence));
    decipher.setAAD(header, { plaintextLength: payload.length - TAG_LENGTH });
    decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH));
    const inner = Buffer.concat([
      decipher.update(payload.subarray(0, payload.length - TAG_LENGTH)),
      decipher.final(),
    ]);
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) return null;
    return { contentType: inner[end]!, content: inner.subarray(0, end) };
  } catch {
    return null;
  }
}

function aeadDecipher({ suite, key }: TrafficKeys, nonce: Buffer) {
  // Two calls because node:crypto types GCM and ChaCha20-Poly1305 as separate overloads.
  return suite.cipher === 'chacha20-poly1305'
    ? createDecipheriv(suite.cipher, key, nonce, { authTagLength: TAG_LENGTH })
    : createDecipheriv(suite.cipher, key, nonce, { authTagLength: TAG_LENGTH });
}
