/**
 * Reading certificates out of the files people hand certwatch: CA files
 * (`trust.caFiles`, `check --ca-file`) and chain files (`certwatch inspect`).
 * PEM blocks are found with their position and line, so a message can name the
 * block; a private key is recognised and refused, and not a byte of it ever
 * reaches a message. Pure (bytes in, certificates or a reason out), except
 * that `node:crypto` confirms what a DER private key is.
 */
import { createPrivateKey } from 'node:crypto';
import { hexTag, readTlv } from './der-reader';

/** One `-----BEGIN label-----` … `-----END label-----` block. */
export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`. */
  readonly label: string;
  /** 1-based line of the BEGIN line. */
  readonly line: number;
  /** The decoded body; null when it is not valid base64 or the block has no END line. */
  readonly der: Uint8Array | null;
  /** Why `der` is null. */
  readonly problem: string | null;
}

const BEGIN = /-----BEGIN ([A-Z0-9][A-Z0-9 #]*)-----/g;

/** Every PEM block of `text`, in order; a block without its END line ends the scan. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  for (let m = BEGIN.exec(text); m !== null; m = BEGIN.exec(text)) {
    const label = m[1] ?? '';
    const line = lineAt(text, m.index);
    const endMarker = `-----END ${label}-----`;
    const bodyStart = m.index + m[0].length;
    const end = text.indexOf(endMarker, bodyStart);
    if (end < 0) {
      blocks.push({ label, line, der: null, problem: `has no matching "END ${label}" line` });
      break;
    }
    const body = text.slice(bodyStart, end).replace(/\s+/g, '');
    const base64 = body.length > 0 && body.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(body);
    blocks.push(
      base64
        ? { label, line, der: new Uint8Array(Buffer.from(body, 'base64')), problem: null }
        : { label, line, der: null, problem: 'is not valid base64' },
    );
    BEGIN.lastIndex = end + endMarker.length;
  }
  return blocks;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** PEM labels of certificates (RFC 7468 and OpenSSL's older spelling). */
export function isCertificateLabel(label: string): boolean {
  return label === 'CERTIFICATE' || label === 'X509 CERTIFICATE';
}

/** PEM labels of private keys: PKCS#8 (plain or encrypted), PKCS#1, SEC 1, DSA, OpenSSH. */
export function isPrivateKeyLabel(label: string): boolean {
  return label.includes('PRIVATE KEY');
}

/** What was refused when a file holds a private key, for the one line the user sees. */
export const PRIVATE_KEY_REFUSAL =
  'certwatch reads certificates only and has not printed any of the key; give a file with the certificates alone';

/** The certificates of a chain file, or why there are none. */
export type CertificateFileContents =
  | { readonly ok: true; readonly format: 'PEM' | 'DER'; readonly certificates: readonly Uint8Array[] }
  | { readonly ok: false; readonly problem: string };

/**
 * The certificates of a chain file, in file order: PEM (any number of
 * CERTIFICATE blocks, other text ignored) or DER (one or more certificates
 * back to back). A certificate whose bytes are broken is still returned (the
 * analysis says what is wrong with it); the file itself is refused when it is
 * empty, holds a private key, holds no certificate, or is neither PEM nor DER.
 */
export function readCertificateFile(bytes: Uint8Array): CertificateFileContents {
  if (bytes.length === 0) return { ok: false, problem: 'the file is empty' };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) return readPem(text);
  if (bytes[0] === 0x30) return readDer(bytes);
  return {
    ok: false,
    problem: 'no certificate found: expected PEM ("-----BEGIN CERTIFICATE-----") or DER',
  };
}

function readPem(text: string): CertificateFileContents {
  const blocks = pemBlocks(text);
  const key = blocks.find((b) => isPrivateKeyLabel(b.label));
  if (key) {
    return {
      ok: false,
      problem: `the file holds a private key ("BEGIN ${key.label}" at line ${key.line}); ${PRIVATE_KEY_REFUSAL}`,
    };
  }
  const certificates: Uint8Array[] = [];
  let n = 0;
  for (const block of blocks) {
    if (!isCertificateLabel(block.label)) continue;
    n++;
    if (block.der === null) {
      return { ok: false, problem: `certificate ${n} (line ${block.line}) ${block.problem}` };
    }
    certificates.push(block.der);
  }
  if (certificates.length === 0) {
    const found = [...new Set(blocks.map((b) => b.label))];
    return {
      ok: false,
      problem:
        found.length === 0
          ? 'no certificate in the file: no complete PEM block'
          : `no certificate in the file: it holds ${found.map((l) => `"${l}"`).join(', ')} but no "CERTIFICATE" block`,
    };
  }
  return { ok: true, format: 'PEM', certificates };
}

/**
 * DER certificates back to back: each top-level element must be a whole
 * SEQUENCE that starts as a certificate does (with its TBSCertificate
 * SEQUENCE); what is broken inside one is left to the analysis to name. A
 * private key in DER (PKCS#8, PKCS#1, SEC 1) starts with a version INTEGER there.
 */
function readDer(bytes: Uint8Array): CertificateFileContents {
  const certificates: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const where =
      certificates.length === 0 ? 'the file' : `the data after certificate ${certificates.length}`;
    const tlv = readTlv(bytes, pos, bytes.length);
    const problem =
      typeof tlv === 'string'
        ? tlv
        : bytes[pos] !== 0x30
          ? `tag ${hexTag(bytes[pos] ?? 0)} at offset ${pos} where a certificate SEQUENCE starts`
          : tlv.end > bytes.length
            ? `it is cut short: ${tlv.end - bytes.length} bytes missing`
            : null;
    if (problem !== null || typeof tlv === 'string') {
      return {
        ok: false,
        problem: `no certificate found: ${where} is neither PEM nor complete DER (${problem})`,
      };
    }
    const element = bytes.subarray(pos, tlv.end);
    const key = privateKeyKind(element, tlv.contentStart - pos);
    if (key !== null) {
      return { ok: false, problem: `the file holds a private key (${key}); ${PRIVATE_KEY_REFUSAL}` };
    }
    if (element[tlv.contentStart - pos] !== 0x30) {
      return { ok: false, problem: `no certificate found: ${where} is DER, but not a certificate` };
    }
    certificates.push(element);
    pos = tlv.end;
  }
  return { ok: true, format: 'DER', certificates };
}

/** The kind of private key `element` is, or null when it is not one (a certificate, or anything else). */
function privateKeyKind(element: Uint8Array, contentStart: number): string | null {
  const first = readTlv(element, contentStart, element.length);
  if (typeof first === 'string') return null;
  const tag = element[contentStart];
  if (tag === 0x02) {
    // A version INTEGER first: no certificate starts so. Name the key's syntax when node:crypto knows it.
    const der = Buffer.from(element.buffer, element.byteOffset, element.byteLength);
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        createPrivateKey({ key: der, format: 'der', type });
        return type === 'pkcs8' ? 'PKCS#8 DER' : type === 'pkcs1' ? 'PKCS#1 RSA DER' : 'SEC 1 EC DER';
      } catch {
        // not this syntax
      }
    }
    return 'DER that starts as a private key does';
  }
  if (tag === 0x30 && first.end < element.length && element[first.end] === 0x04) {
    // EncryptedPrivateKeyInfo: AlgorithmIdentifier, then the encrypted key as an OCTET STRING.
    const second = readTlv(element, first.end, element.length);
    if (typeof second !== 'string' && second.end === element.length) return 'encrypted PKCS#8 DER';
  }
  return null;
}
