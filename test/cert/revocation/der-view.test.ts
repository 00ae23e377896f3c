/**
 * The in-place DER reader the revocation parsers use: elements read by offset, children bounded in
 * count and held inside their parent, OIDs, INTEGERs and both time forms decoded from the bytes,
 * and every malformed input a reason or null, never a throw.
 */
import { describe, expect, it } from 'vitest';
import {
  childrenOf,
  DerTag,
  elementAt,
  integerHexAt,
  isContextTag,
  oidAt,
  timeAt,
} from '../../../lambdas/cert/revocation/der-view';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** The one element `bytes` holds, read at offset 0. */
function only(bytes: Buffer) {
  const tlv = elementAt(bytes, 0, bytes.length);
  if (typeof tlv === 'string') throw new Error(tlv);
  return tlv;
}

describe('elementAt', () => {
  it.each([
    { name: 'a short-form element', bytes: '04 02 aa bb', expected: { tag: 0x04, contentStart: 2, end: 4 } },
    {
      name: 'a long-form length',
      bytes: `04 81 80 ${'00'.repeat(128)}`,
      expected: { contentStart: 3, end: 131 },
    },
  ])('reads $name', ({ bytes, expected }) => {
    // Prepare
    const buf = hex(bytes);

    // Act
    const tlv = elementAt(buf, 0, buf.length);

    // Assess
    expect(tlv).toMatchObject(expected);
  });

  it.each([
    {
      name: 'an element longer than the bytes left',
      bytes: '30 05 02 01 01',
      reason: /claims 5 bytes, 3 are left/,
    },
    { name: 'an indefinite length', bytes: '30 80 00 00', reason: /indefinite length/ },
    { name: 'a non-minimal length', bytes: '04 81 01 aa', reason: /not minimally encoded/ },
    { name: 'a header cut off', bytes: '30', reason: /byte left for a header/ },
  ])('refuses $name with a reason', ({ bytes, reason }) => {
    // Prepare
    const buf = hex(bytes);

    // Act
    const tlv = elementAt(buf, 0, buf.length);

    // Assess
    expect(tlv).toMatch(reason);
  });
});

describe('childrenOf', () => {
  it.each([
    { name: 'every child of a SEQUENCE', bytes: '30 06 02 01 01 02 01 02', max: 8, tags: [0x02, 0x02] },
    {
      name: 'no more than max children',
      bytes: '30 09 02 01 01 02 01 02 02 01 03',
      max: 2,
      tags: [0x02, 0x02],
    },
    { name: 'nothing inside a primitive element', bytes: '04 02 30 00', max: 8, tags: [] },
  ])('reads $name', ({ bytes, max, tags }) => {
    // Prepare
    const buf = hex(bytes);

    // Act
    const children = childrenOf(buf, only(buf), max);

    // Assess
    expect(typeof children === 'string' ? children : children.map((c) => c.tag)).toEqual(tags);
  });

  it('refuses a child that runs past its parent', () => {
    // Prepare: the SEQUENCE holds 3 bytes, its INTEGER claims 2 of content after a 2-byte header.
    const buf = hex('30 03 02 02 01 01');

    // Act
    const children = childrenOf(buf, only(buf), 8);

    // Assess
    expect(children).toMatch(/claims 2 bytes, 1 are left/);
  });
});

describe('isContextTag', () => {
  it.each([
    { name: 'a primitive [0]', bytes: '80 00', n: 0, expected: true },
    { name: 'a constructed [1]', bytes: 'a1 00', n: 1, expected: true },
    { name: 'a [1] asked as [0]', bytes: 'a1 00', n: 0, expected: false },
    { name: 'a universal SEQUENCE', bytes: '30 00', n: 16, expected: false },
  ])('tells $name', ({ bytes, n, expected }) => {
    // Prepare
    const buf = hex(bytes);

    // Act
    const is = isContextTag(only(buf), n);

    // Assess
    expect(is).toBe(expected);
  });
});

describe('oidAt', () => {
  it.each([
    {
      name: 'id-pkix-ocsp-basic',
      bytes: '06 09 2b 06 01 05 05 07 30 01 01',
      expected: '1.3.6.1.5.5.7.48.1.1',
    },
    {
      name: 'SHA-256 (multi-byte arcs)',
      bytes: '06 09 60 86 48 01 65 03 04 02 01',
      expected: '2.16.840.1.101.3.4.2.1',
    },
    { name: 'a first arc of 2 with a large second arc', bytes: '06 02 88 37', expected: '2.999' },
    { name: 'an arc cut off', bytes: '06 02 2b 86', expected: null },
    { name: 'an empty OID', bytes: '06 00', expected: null },
    { name: 'an element that is not an OID', bytes: '04 01 2b', expected: null },
  ])('reads $name', ({ bytes, expected }) => {
    // Prepare
    const buf = hex(bytes);

    // Act
    const oid = oidAt(buf, only(buf));

    // Assess
    expect(oid).toBe(expected);
  });
});

describe('integerHexAt', () => {
  it.each([
    { name: 'a serial with a sign byte', bytes: '02 03 00 ff 01', expected: 'FF01' },
    { name: 'zero', bytes: '02 01 00', expected: '00' },
    { name: 'a plain serial', bytes: '02 02 10 0a', expected: '100A' },
    { name: 'an empty INTEGER', bytes: '02 00', expected: null },
    { name: 'an element that is not an INTEGER', bytes: '04 01 01', expected: null },
  ])('reads $name', ({ bytes, expected }) => {
    // Prepare
    const buf = hex(bytes);

    // Act
    const text = integerHexAt(buf, only(buf));

    // Assess
    expect(text).toBe(expected);
  });
});

describe('timeAt', () => {
  const time = (tag: number, text: string) =>
    Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text, 'latin1')]);
  it.each([
    {
      name: 'a GeneralizedTime',
      bytes: time(DerTag.GENERALIZED_TIME, '20261202163509Z'),
      expected: '2026-12-02T16:35:09.000Z',
    },
    {
      name: 'a GeneralizedTime with milliseconds',
      bytes: time(DerTag.GENERALIZED_TIME, '20261202163509.25Z'),
      expected: '2026-12-02T16:35:09.250Z',
    },
    {
      name: 'a GeneralizedTime with an offset',
      bytes: time(DerTag.GENERALIZED_TIME, '20261202183509+0200'),
      expected: '2026-12-02T16:35:09.000Z',
    },
    {
      name: 'a UTCTime of this century',
      bytes: time(DerTag.UTC_TIME, '261202163509Z'),
      expected: '2026-12-02T16:35:09.000Z',
    },
    {
      name: 'a UTCTime of the last century',
      bytes: time(DerTag.UTC_TIME, '991231235959Z'),
      expected: '1999-12-31T23:59:59.000Z',
    },
    {
      name: 'a UTCTime without seconds',
      bytes: time(DerTag.UTC_TIME, '2612021635Z'),
      expected: '2026-12-02T16:35:00.000Z',
    },
    { name: 'letters', bytes: time(DerTag.GENERALIZED_TIME, 'not a time'), expected: null },
    { name: 'a 13th month', bytes: time(DerTag.GENERALIZED_TIME, '20261302163509Z'), expected: null },
    { name: 'a 31st of November', bytes: time(DerTag.UTC_TIME, '261131163509Z'), expected: null },
    {
      name: 'an overlong text',
      bytes: time(DerTag.GENERALIZED_TIME, `20261202163509.${'1'.repeat(30)}Z`),
      expected: null,
    },
    {
      name: 'an element that is not a time',
      bytes: time(DerTag.OCTET_STRING, '20261202163509Z'),
      expected: null,
    },
  ])('reads $name', ({ bytes, expected }) => {
    // Act
    const date = timeAt(bytes, only(bytes));

    // Assess
    expect(date === null ? null : date.toISOString()).toBe(expected);
  });
});
