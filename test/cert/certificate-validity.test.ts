import { describe, expect, it } from 'vitest';
import {
  openSslValidity,
  parseTime,
  readValidity,
  readValidityLeniently,
} from '../../lambdas/cert/certificate-validity';
import { readTlv, type Tlv } from '../../lambdas/cert/der-reader';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';
import { ctx, decoded, derOf, int, newWalk, prim, seq } from './asn1-fixtures';

const utc = (text: string) => prim(23, text);
const gen = (text: string) => prim(24, text);
const RFC = (kind: 'UTCTime' | 'GeneralizedTime', text: string) =>
  `notAfter is not a valid ${kind}: '${text}' (RFC 5280 requires ${kind === 'UTCTime' ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'})`;
const invalid = (kind: 'UTCTime' | 'GeneralizedTime', text: string) =>
  `notAfter is not a valid ${kind}: '${text}'`;

describe('parseTime', () => {
  const cases: [string, Asn1 | undefined, string | null, string[]][] = [
    ['UTCTime', utc('300101120000Z'), '2030-01-01T12:00:00.000Z', []],
    ['UTCTime year 49 is 2049', utc('491231235959Z'), '2049-12-31T23:59:59.000Z', []],
    ['UTCTime year 50 is 1950', utc('500101000000Z'), '1950-01-01T00:00:00.000Z', []],
    ['UTCTime on a leap day', utc('280229120000Z'), '2028-02-29T12:00:00.000Z', []],
    ['GeneralizedTime from 2050', gen('20600801120000Z'), '2060-08-01T12:00:00.000Z', []],
    // Odd but readable: the date is kept, and what is wrong with it is said.
    [
      'UTCTime without seconds',
      utc('3001011200Z'),
      '2030-01-01T12:00:00.000Z',
      [RFC('UTCTime', '3001011200Z')],
    ],
    [
      'UTCTime with a fraction',
      utc('300101120000.5Z'),
      '2030-01-01T12:00:00.000Z',
      [RFC('UTCTime', '300101120000.5Z')],
    ],
    [
      'UTCTime east of UTC',
      utc('300101120000+0100'),
      '2030-01-01T11:00:00.000Z',
      [RFC('UTCTime', '300101120000+0100')],
    ],
    [
      'UTCTime west of UTC',
      utc('300101120000-0130'),
      '2030-01-01T13:30:00.000Z',
      [RFC('UTCTime', '300101120000-0130')],
    ],
    [
      'GeneralizedTime before 2050',
      gen('20300801120000Z'),
      '2030-08-01T12:00:00.000Z',
      ["notAfter uses GeneralizedTime for a date before 2050 (RFC 5280 requires UTCTime): '20300801120000Z'"],
    ],
    // Unreadable: no date.
    [
      // The lenient pattern reads the 12 digits as a 2-digit year with seconds, so the length check rejects it.
      'GeneralizedTime without seconds',
      gen('206008011200Z'),
      null,
      [invalid('GeneralizedTime', '206008011200Z')],
    ],
    [
      'UTCTime on 29 February of a common year',
      utc('300229120000Z'),
      null,
      [invalid('UTCTime', '300229120000Z')],
    ],
    ['UTCTime month 13', utc('301301120000Z'), null, [invalid('UTCTime', '301301120000Z')]],
    ['UTCTime hour 24', utc('300101240000Z'), null, [invalid('UTCTime', '300101240000Z')]],
    ['UTCTime with 11 digits', utc('30010112000Z'), null, [invalid('UTCTime', '30010112000Z')]],
    ['UTCTime with a 4-digit year', utc('20300101120000Z'), null, [invalid('UTCTime', '20300101120000Z')]],
    [
      'GeneralizedTime with a 2-digit year',
      gen('600801120000Z'),
      null,
      [invalid('GeneralizedTime', '600801120000Z')],
    ],
    ['garbage quoted safely', utc('30\n01'), null, [invalid('UTCTime', '30\\x0a01')]],
    ['wrong tag', int('01'), null, ['notAfter has tag 0x02, not UTCTime or GeneralizedTime']],
    ['context-specific tag', ctx(0, '300101120000Z'), null, ['notAfter is missing']],
    ['absent', undefined, null, ['notAfter is missing']],
  ];
  it.each(cases)('%s', (_name, node, iso, reasons) => {
    // Prepare
    const walk = newWalk();
    // Act
    const date = parseTime(walk, node && decoded(node), 'notAfter');
    // Assess
    expect(date?.toISOString() ?? null).toBe(iso);
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('readValidity', () => {
  const cases: [string, Asn1, string | null, string | null, string[]][] = [
    ['two times in order', seq(utc('300101000000Z'), utc('310101000000Z')), '2030-01-01', '2031-01-01', []],
    [
      'notBefore after notAfter',
      seq(utc('310101000000Z'), utc('300101000000Z')),
      '2031-01-01',
      '2030-01-01',
      ['notBefore is after notAfter'],
    ],
    [
      'three times: the first two are read',
      seq(utc('300101000000Z'), utc('310101000000Z'), utc('320101000000Z')),
      '2030-01-01',
      '2031-01-01',
      ['validity does not hold exactly two times'],
    ],
    [
      'one time',
      seq(utc('300101000000Z')),
      '2030-01-01',
      null,
      ['validity does not hold exactly two times', 'notAfter is missing'],
    ],
  ];
  it.each(cases)('%s', (_name, node, notBefore, notAfter, reasons) => {
    // Prepare
    const walk = newWalk();
    // Act
    const validity = readValidity(walk, decoded(node));
    // Assess
    expect(validity.notBefore?.toISOString().slice(0, 10) ?? null).toBe(notBefore);
    expect(validity.notAfter?.toISOString().slice(0, 10) ?? null).toBe(notAfter);
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('readValidityLeniently', () => {
  /** A Validity SEQUENCE whose length byte is off by `delta`, followed by `after`. */
  function skewed(delta: number, times: Asn1[], after: number[] = []): { buf: Buffer; tlv: Tlv } {
    const buf = Buffer.concat([derOf(seq(...times)), Buffer.from(after)]);
    buf[1] = buf[1]! + delta;
    return { buf, tlv: readTlv(buf, 0, buf.length) as Tlv };
  }

  it('reads both dates inside a SEQUENCE whose length is off, and reports nothing more', () => {
    // Prepare
    const { buf, tlv } = skewed(1, [utc('300101000000Z'), utc('310101000000Z')], [0x05, 0x00]);
    const walk = newWalk(buf);
    // Act
    const validity = readValidityLeniently(walk, tlv);
    // Assess
    expect(validity.notBefore?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(validity.notAfter?.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect(walk.reasons).toEqual([]);
  });

  it('keeps what it can when the second time is cut off', () => {
    // Prepare
    const full = skewed(0, [utc('300101000000Z'), utc('310101000000Z')]);
    const buf = full.buf.subarray(0, full.buf.length - 3);
    const walk = newWalk(buf);
    // Act
    const validity = readValidityLeniently(walk, full.tlv);
    // Assess
    expect(validity.notBefore?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(validity.notAfter).toBeNull();
    expect(walk.reasons).toEqual([]);
  });
});

describe('openSslValidity', () => {
  const cases: [string, string, string, string | null, string | null][] = [
    [
      'both dates',
      'Jan  1 12:00:00 2030 GMT',
      'Feb 29 00:00:00 2032 GMT',
      '2030-01-01T12:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ],
    ['empty text', '', 'Feb 29 00:00:00 2032 GMT', null, '2032-02-29T00:00:00.000Z'],
    ['unparseable text', 'Jan  1 12:00:00 2030 GMT', 'not a date', '2030-01-01T12:00:00.000Z', null],
  ];
  it.each(cases)('%s', (_name, validFrom, validTo, notBefore, notAfter) => {
    // Act
    const validity = openSslValidity({ validFrom, validTo });
    // Assess
    expect(validity.notBefore?.toISOString() ?? null).toBe(notBefore);
    expect(validity.notAfter?.toISOString() ?? null).toBe(notAfter);
  });
});
