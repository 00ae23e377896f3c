import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  addReason,
  bytesOf,
  children,
  DerTag,
  decode,
  decodeStrict,
  isContext,
  isUniversal,
  oidOf,
  quietWalk,
  SEQUENCE_TYPE,
  SET_TYPE,
  TagClass,
} from '../../lambdas/cert/der-walk';
import { ctx, decoded, derOf, int, newWalk, octets, oid, prim, seq, set } from './asn1-fixtures';

describe('DerTag and TagClass', () => {
  const { Class, Type } = forge.asn1;
  // Universal primitive tags: the header byte equals forge's tag number, which the walk relies on.
  const tags: [string, number, number][] = [
    ['BOOLEAN', DerTag.BOOLEAN, Type.BOOLEAN],
    ['INTEGER', DerTag.INTEGER, Type.INTEGER],
    ['BIT STRING', DerTag.BIT_STRING, Type.BITSTRING],
    ['OCTET STRING', DerTag.OCTET_STRING, Type.OCTETSTRING],
    ['OID', DerTag.OID, Type.OID],
    ['UTCTime', DerTag.UTC_TIME, Type.UTCTIME],
    ['GeneralizedTime', DerTag.GENERALIZED_TIME, Type.GENERALIZEDTIME],
    ['SEQUENCE tag number', SEQUENCE_TYPE, Type.SEQUENCE],
    ['SET tag number', SET_TYPE, Type.SET],
    ['universal class', TagClass.UNIVERSAL, Class.UNIVERSAL],
    ['context-specific class', TagClass.CONTEXT_SPECIFIC, Class.CONTEXT_SPECIFIC],
  ];
  it.each(tags)('%s agrees with forge', (_name, ours, forges) => {
    // Assess
    expect(ours).toBe(forges);
  });

  it('SEQUENCE is the constructed header byte of its tag number', () => {
    // Assess
    expect(DerTag.SEQUENCE).toBe(0x20 | SEQUENCE_TYPE);
    expect(derOf(seq())[0]).toBe(DerTag.SEQUENCE);
  });
});

describe('addReason', () => {
  it('records each reason once, in the order first found', () => {
    // Prepare
    const walk = newWalk();
    // Act
    for (const r of ['b', 'a', 'b', 'c', 'a']) addReason(walk, r);
    // Assess
    expect(walk.reasons).toEqual(['b', 'a', 'c']);
  });
});

describe('quietWalk', () => {
  it('shares the bytes and truncation but not the reasons', () => {
    // Prepare
    const walk = newWalk(Buffer.from([1, 2]));
    walk.truncated = true;
    // Act
    const quiet = quietWalk(walk);
    addReason(quiet, 'noise');
    // Assess
    expect(quiet.buf).toBe(walk.buf);
    expect(quiet.truncated).toBe(true);
    expect(walk.reasons).toEqual([]);
  });
});

describe('decode', () => {
  const cases: [string, number[], boolean, string[]][] = [
    ['well-formed element', [...derOf(seq(int('01'), oid('1.2.3')))], true, []],
    [
      'inner length overruns its container: the precise header problem',
      [0x30, 0x03, 0x02, 0x05, 0x00],
      false,
      ['thing is not valid DER: length 5 at offset 2 exceeds the 1 bytes available'],
    ],
    [
      'headers fit but bytes remain: forge’s message',
      [0x02, 0x01, 0x00, 0x05, 0x00],
      false,
      ['thing is not valid DER: Unparsed DER bytes remain after ASN.1 parsing.'],
    ],
    // forge accepts BER lengths; the walk's own header reads (readTlv) are what reject them.
    ['indefinite length is left to the header reads', [0x30, 0x80, 0x00, 0x00], true, []],
    ['non-minimal length is left to the header reads', [0x30, 0x81, 0x03, 0x02, 0x01, 0x00], true, []],
  ];
  it.each(cases)('%s', (_name, bytes, decodes, reasons) => {
    // Prepare
    const buf = Buffer.from(bytes);
    const walk = newWalk(buf);
    // Act
    const node = decode(walk, { tag: buf[0]!, start: 0, contentStart: 2, end: buf.length }, 'thing');
    // Assess
    expect(node !== null).toBe(decodes);
    expect(walk.reasons).toEqual(reasons);
  });

  it('decodes only the TLV it is given', () => {
    // Prepare: two elements back to back; the second is garbage.
    const buf = Buffer.concat([derOf(int('2a')), Buffer.from([0xff, 0xff])]);
    const walk = newWalk(buf);
    // Act
    const node = decode(walk, { tag: 0x02, start: 0, contentStart: 2, end: 3 }, 'serial');
    // Assess
    expect(bytesOf(node ?? undefined)).toBe('*');
    expect(walk.reasons).toEqual([]);
  });
});

describe('decodeStrict', () => {
  it('reports offsets within the buffer it is given, not the walk’s', () => {
    // Prepare
    const detached = Buffer.from([0x30, 0x03, 0x04, 0x09, 0x00]);
    const walk = newWalk(Buffer.alloc(100));
    // Act
    const node = decodeStrict(walk, detached, 0, detached.length, 'basicConstraints extension');
    // Assess
    expect(node).toBeNull();
    expect(walk.reasons).toEqual([
      'basicConstraints extension is not valid DER: length 9 at offset 2 exceeds the 1 bytes available',
    ]);
  });
});

describe('node accessors', () => {
  const sequence = decoded(seq(int('05'), octets('ab')));
  const cases: [string, () => unknown, unknown][] = [
    ['children of a SEQUENCE', () => children(sequence).length, 2],
    ['children of a primitive', () => children(children(sequence)[0]), []],
    ['children of nothing', () => children(undefined), []],
    ['bytes of a primitive', () => bytesOf(children(sequence)[1]), 'ab'],
    ['bytes of a constructed node', () => bytesOf(sequence), ''],
    ['bytes of nothing', () => bytesOf(undefined), ''],
    ['OID in dotted form', () => oidOf(decoded(oid('2.5.29.17'))), '2.5.29.17'],
    ['OID of a non-OID', () => oidOf(decoded(int('06'))), null],
    ['OID with empty content', () => oidOf(decoded(prim(6, ''))), null],
    ['OID of nothing', () => oidOf(undefined), null],
    ['OID tagged [6] is not an OID', () => oidOf(decoded(ctx(6, '\x55\x1d'))), null],
    ['universal SEQUENCE', () => isUniversal(sequence, SEQUENCE_TYPE), true],
    ['universal SET is not SEQUENCE', () => isUniversal(decoded(set()), SEQUENCE_TYPE), false],
    ['context [16] is not universal', () => isUniversal(decoded(ctx(16, [])), SEQUENCE_TYPE), false],
    ['universal of nothing', () => isUniversal(undefined, SEQUENCE_TYPE), false],
    ['context [2]', () => isContext(decoded(ctx(2, 'a')), 2), true],
    ['context [2] is not [7]', () => isContext(decoded(ctx(2, 'a')), 7), false],
    ['universal INTEGER is not context [2]', () => isContext(decoded(int('01')), 2), false],
  ];
  it.each(cases)('%s', (_name, act, expected) => {
    // Act / Assess
    expect(act()).toEqual(expected);
  });
});
