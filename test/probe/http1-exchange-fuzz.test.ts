/**
 * A seeded fuzz of the response reader: well-formed responses (interim responses, random headers,
 * bodies framed by Content-Length, chunks with extensions and trailers, or the connection's close)
 * and damaged copies of them, each fed in random splits. The reader never throws and always ends;
 * a well-formed response gives back the body it was built with (the reference reading), and any
 * response, damaged or not, reads the same however the connection split it.
 */
import { describe, expect, it } from 'vitest';
import { type ResponseOutcome, ResponseReader } from '../../lambdas/probe/http1-exchange';
import { mulberry32 } from '../support/der-mutations';

const SEED = 0x4854_5450;
const WELL_FORMED = 2000;
const DAMAGED = 3000;
const MAX_BYTES = 512;

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;
const bytes = (random: Random, n: number) => Buffer.from(Array.from({ length: n }, () => int(random, 256)));
/** Printable header-value text, without white space at either end. */
const text = (random: Random, n: number) =>
  Array.from({ length: n }, () => String.fromCharCode(0x21 + int(random, 94))).join('');

const NAMES = [
  'Server',
  'Date',
  'Cache-Control',
  'X-Request-Id',
  'ETag',
  'content-type',
  'CONNECTION',
  'Vary',
];

/** A well-formed response and the body a correct reading gives back. */
function wellFormed(random: Random): { response: Buffer; body: Buffer; framing: string } {
  const parts: Buffer[] = [];
  const put = (s: string) => parts.push(Buffer.from(s, 'latin1'));
  for (let n = int(random, 3); n > 0; n--)
    put(`HTTP/1.1 ${pick(random, [100, 102, 103])} Wait\r\nX-Hint: ${text(random, 5)}\r\n\r\n`);
  put(`HTTP/1.${int(random, 2)} 200 ${pick(random, ['OK', 'Fine Thanks', ''])}\r\n`);
  for (let n = int(random, 8); n > 0; n--) {
    const name = pick(random, NAMES);
    // A Connection value other than close or keep-alive only tells about reuse, never the body.
    put(
      `${name}:${' '.repeat(int(random, 3))}${name.toLowerCase() === 'connection' ? 'upgrade' : text(random, 1 + int(random, 30))}\t\r\n`,
    );
  }
  const body = bytes(random, int(random, 300));
  const framing = pick(random, ['length', 'chunked', 'close']);
  if (framing === 'length') {
    put(`Content-Length: ${body.length}\r\n\r\n`);
    parts.push(body);
  } else if (framing === 'chunked') {
    put('Transfer-Encoding: chunked\r\n\r\n');
    for (let at = 0; at < body.length; ) {
      const size = Math.min(body.length - at, 1 + int(random, 100));
      const extension = random() < 0.3 ? `;ext=${text(random, 4)}` : '';
      put(`${random() < 0.5 ? size.toString(16) : size.toString(16).toUpperCase()}${extension}\r\n`);
      parts.push(body.subarray(at, at + size));
      put('\r\n');
      at += size;
    }
    put('0\r\n');
    for (let n = int(random, 3); n > 0; n--) put(`X-Trailer-${n}: ${text(random, 6)}\r\n`);
    put('\r\n');
  } else {
    put('\r\n');
    parts.push(body);
  }
  return { response: Buffer.concat(parts), body, framing };
}

/** A damaged copy: bytes flipped, inserted (the bytes HTTP framing turns on), cut out or repeated, or the end cut off. */
function damaged(random: Random, response: Buffer): Buffer {
  const at = () => int(random, response.length + 1);
  const strategies: (() => Buffer)[] = [
    () => {
      const copy = Buffer.from(response);
      for (let n = 1 + int(random, 4); n > 0; n--) copy[int(random, copy.length)] = int(random, 256);
      return copy;
    },
    () => {
      const where = at();
      const insert = Buffer.from(
        pick(random, ['\r', '\n', '\0', ':', ' ', '\r\n', '0', 'f', ';', '\r\n\r\n', 'ffffffffff']),
        'latin1',
      );
      return Buffer.concat([response.subarray(0, where), insert, response.subarray(where)]);
    },
    () => {
      const from = at();
      return Buffer.concat([response.subarray(0, from), response.subarray(from + 1 + int(random, 20))]);
    },
    () => {
      const from = at();
      const piece = response.subarray(from, from + 1 + int(random, 40));
      return Buffer.concat([
        response.subarray(0, from),
        piece,
        piece,
        response.subarray(from + piece.length),
      ]);
    },
    () => response.subarray(0, at()),
  ];
  return pick(random, strategies)();
}

/** Splits `bytes` into random pieces (empty ones too). */
function split(random: Random, bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = pick(random, [0, 1, 1, 2, 7, 64, 1000]);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/** Reads `pieces`, then the connection's close if the reader still wants more; what it came to, as data. */
function readAll(pieces: readonly Buffer[]): { outcome: Summary; beforeClose: boolean } {
  const reader = new ResponseReader(MAX_BYTES);
  for (const piece of pieces) {
    const outcome = reader.read(piece);
    if (outcome !== undefined) return { outcome: summary(outcome), beforeClose: true };
  }
  return { outcome: summary(reader.end()), beforeClose: false };
}

type Summary = { error: string } | { status: number; body: string | null; reusable: boolean };

function summary(outcome: ResponseOutcome): Summary {
  if ('error' in outcome) return { error: outcome.error };
  return {
    status: outcome.head.status,
    body: outcome.body?.toString('hex') ?? null,
    reusable: outcome.reusable,
  };
}

describe('ResponseReader fuzz', () => {
  it(`reads ${WELL_FORMED} well-formed responses in random splits as the reference does`, () => {
    // Prepare
    const random = mulberry32(SEED);
    const mismatches: string[] = [];

    // Act
    for (let i = 0; i < WELL_FORMED; i++) {
      const { response, body, framing } = wellFormed(random);
      const { outcome, beforeClose } = readAll(split(random, response));
      const expected = body.toString('hex');
      const ended = framing === 'close' ? !beforeClose : beforeClose;
      if (!('body' in outcome) || outcome.body !== expected || !ended) {
        mismatches.push(`#${i} ${framing}: ${JSON.stringify(outcome).slice(0, 200)}`);
      }
    }

    // Assess
    expect(mismatches).toEqual([]);
  });

  it(`never throws on ${DAMAGED} damaged responses, always ends, and reads each alike however it is split`, () => {
    // Prepare
    const random = mulberry32(SEED + 1);
    const problems: string[] = [];
    const seen = { errors: 0, bodies: 0 };

    // Act
    for (let i = 0; i < DAMAGED; i++) {
      const response = damaged(random, wellFormed(random).response);
      try {
        const whole = readAll([response]).outcome;
        const pieces = readAll(split(random, response)).outcome;
        if (JSON.stringify(whole) !== JSON.stringify(pieces)) {
          problems.push(`#${i} differs by split: ${JSON.stringify([whole, pieces]).slice(0, 300)}`);
        }
        if ('error' in whole) {
          seen.errors++;
          if (whole.error === '' || whole.error.includes('\n'))
            problems.push(`#${i} error ${JSON.stringify(whole.error)}`);
        } else {
          seen.bodies++;
          if (whole.body !== null && whole.body.length / 2 > MAX_BYTES)
            problems.push(`#${i} body over maxBytes`);
        }
      } catch (error) {
        problems.push(`#${i} threw ${String(error)}`);
      }
    }

    // Assess: no problem, and the damage was real (most responses failed, some still read).
    expect(problems).toEqual([]);
    expect(seen.errors).toBeGreaterThan(DAMAGED / 4);
    expect(seen.bodies).toBeGreaterThan(0);
  });
});
