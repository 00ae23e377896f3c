import { describe, expect, it } from 'vitest';
import {
  decodeString,
  escapeDnValue,
  fallbackName,
  MAX_DN_LENGTH,
  type ParsedName,
  parseName,
} from '../../lambdas/cert/certificate-names';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';
import { decoded, int, newWalk, octets, oid, prim, seq, set } from './asn1-fixtures';

const utf8 = (text: string) => prim(12, Buffer.from(text, 'utf8').toString('latin1'));
const printable = (text: string) => prim(19, text);
const ucs4 = (...codePoints: number[]) =>
  prim(
    28,
    Buffer.concat(
      codePoints.map((cp) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(cp);
        return b;
      }),
    ).toString('latin1'),
  );
const atv = (type: string, value: Asn1) => seq(oid(type), value);
/** A Name from RDNs given most significant first, as encoded. */
const name = (...rdns: Asn1[][]) => seq(...rdns.map((atvs) => set(...atvs)));
const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';

describe('decodeString', () => {
  const cases: [string, Asn1, string | null][] = [
    ['UTF8String', utf8('Zürich Straße'), 'Zürich Straße'],
    ['BMPString (forge decodes UCS-2)', prim(30, 'Ωmega'), 'Ωmega'],
    ['UniversalString (UCS-4)', ucs4(0x5a, 0x1f600), 'Z😀'],
    ['UniversalString beyond Unicode', ucs4(0x41, 0x110000), 'A\ufffd'],
    ['UniversalString with a partial code point', prim(28, '\x00\x00\x00A\x00\x00'), 'A'],
    ['PrintableString', printable('Example Ltd'), 'Example Ltd'],
    ['IA5String', prim(22, 'mail.example'), 'mail.example'],
    ['TeletexString as Latin-1', prim(20, 'Caf\xe9'), 'Café'],
    ['VisibleString', prim(26, 'v'), 'v'],
    ['NumericString', prim(18, '0123'), '0123'],
    ['OCTET STRING is not a string type', octets('ab'), null],
    ['INTEGER is not a string type', int('01'), null],
  ];
  it.each(cases)('%s', (_name, node, expected) => {
    // Act
    const text = decodeString(decoded(node));
    // Assess
    expect(text).toBe(expected);
  });
});

describe('escapeDnValue', () => {
  const cases: [string, string][] = [
    ['Example', 'Example'],
    ['Beispiel, GmbH', 'Beispiel\\, GmbH'],
    ['a+b"c\\d<e>f;g', 'a\\+b\\"c\\\\d\\<e\\>f\\;g'],
    [' lead and trail ', '\\ lead and trail\\ '],
    ['#hash first', '\\#hash first'],
    ['inner # and  spaces', 'inner # and  spaces'],
    ['evil\nline\u202e', 'evil\\x0aline\\u202e'],
    // Escaped for RFC 4514 first: the rule set's escapes are not doubled, a literal backslash is.
    ['a\\x0a\n', 'a\\\\x0a\\x0a'],
  ];
  it.each(cases)('%j', (value, expected) => {
    // Act / Assess
    expect(escapeDnValue(value)).toBe(expected);
  });
});

describe('parseName', () => {
  const ok: [string, Asn1, ParsedName][] = [
    [
      'display is most significant last; key keeps encoded order',
      name([atv(C, printable('DE'))], [atv(O, utf8('Beispiel, GmbH'))], [atv(CN, utf8('www.example.com'))]),
      {
        display: 'CN=www.example.com, O=Beispiel\\, GmbH, C=DE',
        key: '2.5.4.6=de,2.5.4.10=beispiel, gmbh,2.5.4.3=www.example.com',
        commonNames: ['www.example.com'],
      },
    ],
    [
      'key folds case and spacing, so differently written issuers match',
      name([atv(CN, printable('  Fixture   ROOT '))]),
      {
        display: 'CN=\\  Fixture   ROOT\\ ',
        key: '2.5.4.3=fixture root',
        commonNames: ['  Fixture   ROOT '],
      },
    ],
    [
      'multi-valued RDN: display in encoded order, key sorted',
      name([atv(O, printable('Org')), atv(CN, printable('Name'))]),
      { display: 'O=Org+CN=Name', key: '2.5.4.10=org+2.5.4.3=name', commonNames: ['Name'] },
    ],
    [
      // The display escapes the leading '#' like any value's (RFC 4514 would leave #hex bare).
      'unknown attribute type shown dotted; non-string value as #hex',
      name([atv('1.2.3.4', int('00ff'))]),
      { display: '1.2.3.4=\\#00ff', key: '1.2.3.4=#00ff', commonNames: [] },
    ],
    ['empty Name', name(), { display: '', key: '', commonNames: [] }],
    [
      'every commonName, in encoded order',
      name([atv(CN, printable('first'))], [atv(CN, printable('last'))]),
      { display: 'CN=last, CN=first', key: '2.5.4.3=first,2.5.4.3=last', commonNames: ['first', 'last'] },
    ],
  ];
  it.each(ok)('%s', (_name, node, expected) => {
    // Prepare
    const walk = newWalk();
    // Act
    const parsed = parseName(walk, decoded(node), 'subject');
    // Assess
    expect(parsed).toEqual(expected);
    expect(walk.reasons).toEqual([]);
  });

  it(`caps the display at ${MAX_DN_LENGTH} characters but not the key`, () => {
    // Prepare
    const long = 'x'.repeat(500);
    const walk = newWalk();
    // Act
    const parsed = parseName(walk, decoded(name([atv(O, printable(long))])), 'subject');
    // Assess
    expect(parsed?.display).toBe(`${`O=${long}`.slice(0, MAX_DN_LENGTH)}…`);
    expect(parsed?.key).toBe(`2.5.4.10=${long}`);
  });

  const broken: [string, Asn1, string][] = [
    ['not a SEQUENCE', set(), 'issuer name is not a SEQUENCE'],
    [
      'RDN is not a SET',
      seq(seq(atv(CN, printable('a')))),
      'issuer name has a malformed relative distinguished name',
    ],
    ['empty RDN', seq(set()), 'issuer name has a malformed relative distinguished name'],
    ['attribute without a value', seq(set(seq(oid(CN)))), 'issuer name has a malformed attribute'],
    [
      'attribute with three parts',
      seq(set(seq(oid(CN), printable('a'), printable('b')))),
      'issuer name has a malformed attribute',
    ],
    [
      'attribute type not an OID',
      seq(set(seq(int('01'), printable('a')))),
      'issuer name has a malformed attribute',
    ],
    [
      'attribute not a SEQUENCE',
      seq(set(set(oid(CN), printable('a')))),
      'issuer name has a malformed attribute',
    ],
  ];
  it.each(broken)('%s', (_name, node, reason) => {
    // Prepare
    const walk = newWalk();
    // Act
    const parsed = parseName(walk, decoded(node), 'issuer');
    // Assess
    expect(parsed).toBeNull();
    expect(walk.reasons).toEqual([reason]);
  });
});

describe('fallbackName', () => {
  const cases: [string, string | undefined, string][] = [
    [
      'OpenSSL order reversed to most significant last',
      'C=DE\nO=Example\nCN=www.example.com',
      'CN=www.example.com, O=Example, C=DE',
    ],
    ['nothing read', undefined, '(unreadable)'],
    ['empty', '', '(unreadable)'],
    ['controls neutralised', 'CN=a\u202eb', 'CN=a\\u202eb'],
    ['capped without an ellipsis', `CN=${'y'.repeat(500)}`, `CN=${'y'.repeat(MAX_DN_LENGTH - 3)}`],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    // Act / Assess
    expect(fallbackName(text)).toBe(expected);
  });
});
