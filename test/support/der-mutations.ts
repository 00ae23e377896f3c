/**
 * Deliberately broken certificates for tests.
 *
 * Two kinds: byte-level damage to finished DER (truncation, flipped bytes,
 * bad lengths, trailing junk, random mutation), and TBSCertificate edits for
 * `makeCert({ mutateTbs })`, which are applied before signing so the only
 * defect is the intended one.
 */
import forge from 'node-forge';
import { readTlv, type Tlv } from '../../lambdas/cert/der-reader';

const { asn1 } = forge;

// ---------------------------------------------------------------------------
// Byte-level damage
// ---------------------------------------------------------------------------

/** The first `length` bytes. */
export function truncate(der: Uint8Array, length: number): Buffer {
  return Buffer.from(der.subarray(0, length));
}

/** XOR one byte with `mask`. */
export function flipByte(der: Uint8Array, offset: number, mask = 0xff): Buffer {
  const out = Buffer.from(der);
  out[offset] = (out[offset] ?? 0) ^ mask;
  return out;
}

/** Junk after the certificate (OpenSSL accepts this; certwatch must not). */
export function appendTrailing(der: Uint8Array, junk: Uint8Array | number = 12): Buffer {
  const extra = typeof junk === 'number' ? Buffer.alloc(junk, 0xab) : Buffer.from(junk);
  return Buffer.concat([der, extra]);
}

/** Rewrites the outer SEQUENCE length in place (same width), e.g. to claim more bytes than exist. */
export function setOuterLength(der: Uint8Array, length: number): Buffer {
  const out = Buffer.from(der);
  const first = out[1]!;
  if (first < 0x80) {
    out[1] = length & 0x7f;
    return out;
  }
  const n = first & 0x7f;
  for (let i = 0; i < n; i++) out[2 + n - 1 - i] = Math.floor(length / 256 ** i) & 0xff;
  return out;
}

/** Replaces the outer length with a `width`-byte length field holding a huge value. */
export function hugeOuterLength(der: Uint8Array, width = 8): Buffer {
  const header = readTlv(der, 0, der.length);
  if (typeof header === 'string') throw new Error(header);
  const len = Buffer.alloc(width, 0xff);
  len[0] = 0x7f;
  return Buffer.concat([Buffer.from([0x30, 0x80 | width]), len, der.subarray(header.contentStart)]);
}

/** Header of the outer SEQUENCE, the TBSCertificate, and the TBS fields in order. */
export function tbsFields(der: Uint8Array): Tlv[] {
  const outer = readTlv(der, 0, der.length);
  if (typeof outer === 'string') throw new Error(outer);
  const tbs = readTlv(der, outer.contentStart, der.length);
  if (typeof tbs === 'string') throw new Error(tbs);
  const fields: Tlv[] = [];
  for (let pos = tbs.contentStart; pos < tbs.end; ) {
    const f = readTlv(der, pos, tbs.end);
    if (typeof f === 'string') throw new Error(f);
    fields.push(f);
    pos = f.end;
  }
  return fields;
}

/** Index of a named TBS field in a v3 certificate made by the factory. */
export const TBS = {
  version: 0,
  serial: 1,
  signature: 2,
  issuer: 3,
  validity: 4,
  subject: 5,
  spki: 6,
  extensions: 7,
} as const;

/** Adds `delta` to the (short-form or last) length byte of one TBS field: the rest of the TBS shifts out of step. */
export function corruptFieldLength(der: Uint8Array, field: number, delta: number): Buffer {
  const f = tbsFields(der)[field];
  if (!f) throw new Error(`no TBS field ${field}`);
  const out = Buffer.from(der);
  const at = f.contentStart - 1;
  out[at] = (out[at]! + delta) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------
// TBSCertificate edits (makeCert({ mutateTbs }))
// ---------------------------------------------------------------------------

type TbsMutator = (tbs: forge.asn1.Asn1) => void;

function fields(tbs: forge.asn1.Asn1): forge.asn1.Asn1[] {
  return tbs.value as forge.asn1.Asn1[];
}

/** Raw time encodings, e.g. `('utc', '2501011200Z')` (no seconds) or `('generalized', '20300101000000Z')`. */
export function withTime(
  which: 'notBefore' | 'notAfter',
  kind: 'utc' | 'generalized',
  text: string,
): TbsMutator {
  return (tbs) => {
    const validity = fields(tbs)[TBS.validity]!.value as forge.asn1.Asn1[];
    const type = kind === 'utc' ? asn1.Type.UTCTIME : asn1.Type.GENERALIZEDTIME;
    validity[which === 'notBefore' ? 0 : 1] = asn1.create(asn1.Class.UNIVERSAL, type, false, text);
  };
}

/** A serial number with the sign bit set. */
export const negativeSerial: TbsMutator = (tbs) => {
  fields(tbs)[TBS.serial]!.value = '\x80\x12\x34';
};

/** Version INTEGER set to `v` (0 = v1 … 2 = v3; anything else is invalid). */
export function withVersion(v: number): TbsMutator {
  return (tbs) => {
    const wrapper = fields(tbs)[TBS.version]!;
    (wrapper.value as forge.asn1.Asn1[])[0]!.value = String.fromCharCode(v);
  };
}

/** subjectPublicKeyInfo claiming rsaEncryption with garbage key bits. */
export const garbageSubjectPublicKey: TbsMutator = (tbs) => {
  const algId = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer('1.2.840.113549.1.1.1').getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
  const bits = asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.BITSTRING,
    false,
    `\x00${'\xde\xad\xbe\xef'.repeat(8)}`,
  );
  fields(tbs)[TBS.spki] = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [algId, bits]);
};

/** A critical extension nobody understands (for `extraExtensions`). */
export function unknownCriticalExtension(oid = '1.2.3.4'): object {
  return { id: oid, critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '') };
}

// ---------------------------------------------------------------------------
// Random mutation (fuzzing)
// ---------------------------------------------------------------------------

/** Small seeded PRNG (mulberry32): same seed, same sequence, every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(rng: () => number, max: number): number {
  return Math.floor(rng() * max);
}

/** Offsets of every length byte in the DER tree (bounded walk). */
function lengthOffsets(der: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (start: number, end: number, depth: number) => {
    for (let pos = start; pos < end && out.length < 512; ) {
      const tlv = readTlv(der, pos, end);
      if (typeof tlv === 'string' || tlv.end > end) return;
      out.push(pos + 1);
      if ((der[pos]! & 0x20) !== 0 && depth < 16) walk(tlv.contentStart, tlv.end, depth + 1);
      pos = tlv.end;
    }
  };
  walk(0, der.length, 0);
  return out;
}

export type MutationKind = 'bitFlip' | 'insert' | 'delete' | 'length' | 'duplicate' | 'truncate' | 'trailing';
const KINDS: readonly MutationKind[] = [
  'bitFlip',
  'insert',
  'delete',
  'length',
  'duplicate',
  'truncate',
  'trailing',
];

/** One random mutation of `der`; the result always differs from the input. */
export function mutate(der: Uint8Array, rng: () => number): { der: Buffer; kind: MutationKind } {
  const src = Buffer.from(der);
  const kind = KINDS[int(rng, KINDS.length)]!;
  let out: Buffer;
  switch (kind) {
    case 'bitFlip': {
      out = Buffer.from(src);
      const flips = 1 + int(rng, 4);
      for (let i = 0; i < flips; i++) out[int(rng, out.length)]! ^= 1 << int(rng, 8);
      break;
    }
    case 'insert': {
      const at = int(rng, src.length + 1);
      const bytes = Buffer.from(Array.from({ length: 1 + int(rng, 4) }, () => int(rng, 256)));
      out = Buffer.concat([src.subarray(0, at), bytes, src.subarray(at)]);
      break;
    }
    case 'delete': {
      const at = int(rng, src.length);
      out = Buffer.concat([src.subarray(0, at), src.subarray(Math.min(src.length, at + 1 + int(rng, 16)))]);
      break;
    }
    case 'length': {
      out = Buffer.from(src);
      const offsets = lengthOffsets(src);
      const at = offsets[int(rng, offsets.length)] ?? 1;
      const choices = [
        0x00,
        0x7f,
        0x80,
        0x81,
        0x84,
        0x89,
        0xff,
        (out[at]! + 1) & 0xff,
        (out[at]! - 1) & 0xff,
      ];
      out[at] = choices[int(rng, choices.length)]!;
      break;
    }
    case 'duplicate': {
      const start = int(rng, src.length);
      const chunk = src.subarray(start, Math.min(src.length, start + 1 + int(rng, 64)));
      const at = int(rng, src.length + 1);
      out = Buffer.concat([src.subarray(0, at), chunk, src.subarray(at)]);
      break;
    }
    case 'truncate':
      out = src.subarray(0, int(rng, src.length));
      break;
    case 'trailing':
      out = Buffer.concat([src, Buffer.from(Array.from({ length: 1 + int(rng, 32) }, () => int(rng, 256)))]);
      break;
  }
  if (out.equals(src)) out = Buffer.concat([src, Buffer.from([0])]);
  return { der: out, kind };
}
