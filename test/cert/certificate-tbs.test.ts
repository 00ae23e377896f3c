import { describe, expect, it } from 'vitest';
import { emptyExtensionFacts } from '../../lambdas/cert/certificate-extensions';
import { emptyTbsFacts, locateSubject, readSerial, walkTbs } from '../../lambdas/cert/certificate-tbs';
import { readTlv, type Tlv } from '../../lambdas/cert/der-reader';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';
import { makeCert } from '../support/cert-factory';
import { bool, ctx, derOf, fromDer, int, newWalk, oid, prim, seq, set, wrapped } from './asn1-fixtures';

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), prim(19, cn))));
const utc = (text: string) => prim(23, text);
const FIELDS = {
  serial: int('2a'),
  signature: seq(oid('1.3.101.112')),
  issuer: name('Issuer'),
  validity: seq(utc('300101000000Z'), utc('310101000000Z')),
  subject: name('Subject'),
  spki: seq(seq(oid('1.3.101.112')), prim(3, `\x00${'k'.repeat(32)}`)),
};
const version = (hex: string) => ctx(0, [int(hex)]);
const extensions = ctx(3, [seq(seq(oid('2.5.29.19'), bool(true), wrapped(seq(bool(true)))))]);
const positional = (overrides: Partial<typeof FIELDS> = {}) => Object.values({ ...FIELDS, ...overrides });

/** Walks a TBSCertificate made of `fields`; `edit` damages its bytes first. */
function walk(fields: Asn1[], edit: (buf: Buffer) => void = () => {}) {
  const buf = derOf(seq(...fields));
  edit(buf);
  const state = newWalk(buf);
  const tbs = emptyTbsFacts();
  const facts = emptyExtensionFacts();
  walkTbs(state, readTlv(buf, 0, buf.length) as Tlv, buf.length, tbs, facts);
  return { reasons: state.reasons, tbs, facts, buf };
}

describe('readSerial', () => {
  const cases: [string, string, string | null, string[]][] = [
    ['small positive', '2a', '2A', []],
    ['sign byte stripped', '00ff', 'FF', []],
    [
      'long positive',
      '7f0102030405060708090a0b0c0d0e0f10111213',
      '7F0102030405060708090A0B0C0D0E0F10111213',
      [],
    ],
    ['negative', '80', '80', ['negative serial number']],
    ['zero padding', '0001', '01', ['serial number is not minimally encoded']],
    ['zero padding on a sign byte', '0000ff', '00FF', ['serial number is not minimally encoded']],
    [
      'ones padding on a negative',
      'ff80',
      'FF80',
      ['negative serial number', 'serial number is not minimally encoded'],
    ],
    ['empty', '', null, ['serial number is empty']],
  ];
  it.each(cases)('%s', (_name, hex, serial, reasons) => {
    // Prepare
    const state = newWalk();
    // Act
    // (Encoded by hand: forge's encoder would make the INTEGER minimal.)
    const content = Buffer.from(hex, 'hex');
    const read = readSerial(state, fromDer(Buffer.concat([Buffer.from([0x02, content.length]), content])));
    // Assess
    expect(read).toBe(serial);
    expect(state.reasons).toEqual(reasons);
  });
});

describe('walkTbs', () => {
  it('reads every field of a well-formed v3 TBSCertificate', () => {
    // Act
    const { reasons, tbs, facts, buf } = walk([version('02'), ...positional(), extensions]);
    // Assess
    expect(reasons).toEqual([]);
    expect(tbs).toMatchObject({
      version: 2,
      serial: '2A',
      issuer: { display: 'CN=Issuer' },
      subject: { display: 'CN=Subject' },
      validityRead: true,
      extensionsPresent: true,
    });
    expect(tbs.notAfter?.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect(tbs.tbsAlgBytes).toBe(derOf(FIELDS.signature).toString('latin1'));
    expect(tbs.spkiKey).toBe(derOf(FIELDS.spki).toString('latin1'));
    expect(buf.toString('latin1', tbs.spkiTlv!.start, tbs.spkiTlv!.end)).toBe(tbs.spkiKey);
    expect(facts.isCa).toBe(true);
  });

  const cases: [string, Asn1[], string[]][] = [
    ['v1 without extensions', positional(), []],
    ['v1 with extensions', [...positional(), extensions], ['extensions present in a version 1 certificate']],
    [
      'v2 with extensions',
      [version('01'), ...positional(), extensions],
      ['extensions present in a version 2 certificate'],
    ],
    [
      'v2 with unique identifiers',
      [version('01'), ...positional(), ctx(1, '\x00\x01'), ctx(2, '\x00\x02')],
      [],
    ],
    [
      'v1 with a unique identifier',
      [...positional(), ctx(1, '\x00\x01')],
      ['unique identifiers present in a version 1 certificate'],
    ],
    // An invalid version is the news; what it would permit is not judged.
    ['version 5', [version('05'), ...positional(), extensions], ['version field 5 is invalid']],
    ['version 3, one past v3', [version('03'), ...positional()], ['version field 3 is invalid']],
    ['version -1', [version('ff'), ...positional()], ['version field -1 is invalid']],
    [
      'version too large to read',
      [version('0100000000'), ...positional()],
      ['version field too large is invalid'],
    ],
    ['version not an INTEGER', [ctx(0, [prim(4, '\x02')]), ...positional()], ['version field is malformed']],
    ['ends early', positional().slice(0, 4), ['TBSCertificate ends before subject']],
    [
      'a wrong tag: later fields are read quietly',
      positional({ issuer: set(), validity: seq(utc('bad')) }),
      ['issuer has tag 0x31 (expected 0x30)'],
    ],
  ];
  it.each(cases)('%s', (_name, fields, reasons) => {
    // Act / Assess
    expect(walk(fields).reasons).toEqual(reasons);
  });

  it('reports a field after the extensions, with its offset', () => {
    // Prepare
    const extra = ctx(4, 'x');
    // Act
    const { reasons, buf } = walk([version('02'), ...positional(), extensions, extra]);
    // Assess
    const offset = buf.length - derOf(extra).length;
    expect(reasons).toEqual([`unexpected field with tag 0x84 at offset ${offset} in TBSCertificate`]);
  });

  it('still reads the dates of a validity whose length is off', () => {
    // Prepare: the validity SEQUENCE claims one byte more than it holds.
    const fields = positional();
    const validityAt = derOf(seq(...fields.slice(0, 3))).length;
    // Act
    const { reasons, tbs } = walk(fields, (buf) => (buf[validityAt + 1] = buf[validityAt + 1]! + 1));
    // Assess
    expect(reasons[0]).toMatch(/^validity is not valid DER: /);
    expect(tbs.notBefore?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(tbs.notAfter?.toISOString()).toBe('2031-01-01T00:00:00.000Z');
  });

  it('stops at a field that overruns the TBSCertificate', () => {
    // Prepare
    const fields = positional();
    const subjectAt = derOf(seq(...fields.slice(0, 4))).length;
    // Act
    const { reasons, tbs, buf } = walk(fields, (bytes) => (bytes[subjectAt + 1] = 0x7f));
    // Assess
    const remain = buf.length - (subjectAt + 2);
    expect(reasons).toEqual([
      `TBSCertificate field at offset ${subjectAt} claims 127 bytes but only ${remain} remain`,
    ]);
    expect(tbs.subject).toBeNull();
  });
});

describe('locateSubject', () => {
  const v3 = makeCert({ cn: 'located', dnsNames: ['a.example'] }).der;
  const cases: [string, Buffer, string | null][] = [
    ['a v3 certificate', v3, derOf(name('located')).toString('hex')],
    [
      'a v1 TBSCertificate inside a certificate',
      derOf(seq(seq(...positional()))),
      derOf(FIELDS.subject).toString('hex'),
    ],
    ['cut off inside the subject', v3.subarray(0, v3.indexOf(derOf(name('located'))) + 5), null],
    ['not DER', Buffer.from([0x30, 0x80]), null],
  ];
  it.each(cases)('%s', (_name, der, subjectHex) => {
    // Act
    const tlv = locateSubject(der);
    // Assess
    expect(tlv ? der.toString('hex', tlv.start, tlv.end) : null).toBe(subjectHex);
  });
});
