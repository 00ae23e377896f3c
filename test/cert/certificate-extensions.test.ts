import { describe, expect, it } from 'vitest';
import {
  type ExtensionFacts,
  emptyExtensionFacts,
  parseExtension,
  parseExtensions,
  readAuthorityInfoAccess,
  readAuthorityKeyIdentifier,
  readBasicConstraints,
  readExtensionFields,
  readExtKeyUsage,
  readKeyUsage,
  readNameConstraints,
  readSubjectAltName,
  readSubjectKeyIdentifier,
} from '../../lambdas/cert/certificate-extensions';
import { readTlv, type Tlv } from '../../lambdas/cert/der-reader';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';
import {
  bool,
  ctx,
  decoded,
  derOf,
  int,
  newWalk,
  octets,
  oid,
  prim,
  seq,
  set,
  wrapped,
} from './asn1-fixtures';

const SAN = '2.5.29.17';
const BASIC = '2.5.29.19';
const AIA = '1.3.6.1.5.5.7.1.1';
const KEY_USAGE = '2.5.29.15';
const CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
const OCSP = '1.3.6.1.5.5.7.48.1';

const ext = (id: string, value: Asn1, critical?: boolean) =>
  critical === undefined ? seq(oid(id), value) : seq(oid(id), bool(critical), value);
const dns = (name: string) => ctx(2, name);
const ip = (...bytes: number[]) => ctx(7, Buffer.from(bytes).toString('latin1'));
const uri = (url: string) => ctx(6, url);
const caIssuers = (location: Asn1) => seq(oid(CA_ISSUERS), location);

describe('readExtensionFields', () => {
  const ok: [string, Asn1, boolean][] = [
    ['without a critical flag', ext(KEY_USAGE, octets('\x03\x02\x05\xa0')), false],
    ['critical TRUE', ext(KEY_USAGE, octets('x'), true), true],
    ['critical FALSE written out', ext(KEY_USAGE, octets('x'), false), false],
    ['any non-zero byte is TRUE', seq(oid(KEY_USAGE), prim(1, '\x01'), octets('x')), true],
  ];
  it.each(ok)('%s', (_name, node, critical) => {
    // Prepare
    const walk = newWalk();
    // Act
    const fields = readExtensionFields(walk, decoded(node));
    // Assess
    expect(fields).toMatchObject({ oid: KEY_USAGE, critical });
    expect(walk.reasons).toEqual([]);
  });

  const broken: [string, Asn1, string][] = [
    ['not a SEQUENCE', set(oid(KEY_USAGE), octets('x')), 'an extension is malformed'],
    ['no OID', seq(int('01'), octets('x')), 'an extension is malformed'],
    ['OID alone', seq(oid(KEY_USAGE)), 'an extension is malformed'],
    ['four parts', seq(oid(KEY_USAGE), bool(true), octets('x'), octets('y')), 'an extension is malformed'],
    [
      'critical flag not a BOOLEAN',
      seq(oid(KEY_USAGE), int('01'), octets('x')),
      `extension ${KEY_USAGE} has a malformed critical flag`,
    ],
    [
      'critical flag of two bytes',
      seq(oid(KEY_USAGE), prim(1, '\xff\xff'), octets('x')),
      `extension ${KEY_USAGE} has a malformed critical flag`,
    ],
    [
      'value not an OCTET STRING',
      seq(oid(KEY_USAGE), prim(3, '\x00\xa0')),
      `extension ${KEY_USAGE} value is not an OCTET STRING`,
    ],
  ];
  it.each(broken)('%s', (_name, node, reason) => {
    // Prepare
    const walk = newWalk();
    // Act
    const fields = readExtensionFields(walk, decoded(node));
    // Assess
    expect(fields).toBeNull();
    expect(walk.reasons).toEqual([reason]);
  });
});

describe('parseExtension', () => {
  function parseAll(...extensions: Asn1[]): { facts: ExtensionFacts; reasons: string[] } {
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    const seen = new Set<string>();
    for (const e of extensions) parseExtension(walk, decoded(e), seen, facts);
    return { facts, reasons: walk.reasons };
  }

  const cases: [string, Asn1[], Partial<ExtensionFacts>, string[]][] = [
    [
      'subjectAltName, basicConstraints and authorityInfoAccess are read',
      [
        ext(SAN, wrapped(seq(dns('A.example')))),
        ext(BASIC, wrapped(seq(bool(true))), true),
        ext(AIA, wrapped(seq(caIssuers(uri('http://ca.example/i.der'))))),
      ],
      {
        dnsNames: ['a.example'],
        hasSubjectAltName: true,
        isCa: true,
        caIssuers: ['http://ca.example/i.der'],
      },
      [],
    ],
    ['a known critical extension is fine', [ext(KEY_USAGE, octets('\x03\x02\x05\xa0'), true)], {}, []],
    ['an unknown non-critical extension is not decoded', [ext('1.2.3.4', octets('\xff\xff'))], {}, []],
    [
      'an unknown critical extension is noted, not malformed (a stray certificate must raise nothing)',
      [ext('1.2.3.4', octets(''), true)],
      { unknownCritical: ['1.2.3.4'] },
      [],
    ],
    [
      'a duplicate, reported once however often it repeats',
      [
        ext(KEY_USAGE, octets('\x03\x02\x05\xa0')),
        ext(KEY_USAGE, octets('\x03\x02\x05\xa0')),
        ext(KEY_USAGE, octets('\x03\x02\x05\xa0')),
      ],
      {},
      [`duplicate extension ${KEY_USAGE}`],
    ],
    [
      'an undecodable subjectAltName still counts as present (RFC 6125: the CN is then ignored)',
      [ext(SAN, octets('\x30\x05\x82\x01'))],
      { hasSubjectAltName: true, dnsNames: [] },
      ['subjectAltName extension is not valid DER: length 5 at offset 0 exceeds the 2 bytes available'],
    ],
    [
      'an undecodable basicConstraints',
      [ext(BASIC, octets('\x30\x03\x01\x01'), true)],
      { isCa: false },
      ['basicConstraints extension is not valid DER: length 3 at offset 0 exceeds the 2 bytes available'],
    ],
    [
      'an undecodable authorityInfoAccess',
      [ext(AIA, octets('\x30'))],
      { caIssuers: [] },
      ['authorityInfoAccess extension is not valid DER: only 1 byte left for a header at offset 0'],
    ],
  ];
  it.each(cases)('%s', (_name, extensions, expected, reasons) => {
    // Act
    const { facts, reasons: found } = parseAll(...extensions);
    // Assess
    expect(facts).toMatchObject(expected);
    expect(found).toEqual(reasons);
  });
});

describe('readSubjectAltName', () => {
  const cases: [string, Asn1, Partial<ExtensionFacts>, string[]][] = [
    [
      'dNSNames lower-cased',
      seq(dns('WWW.Example.com'), dns('*.example.com')),
      { dnsNames: ['www.example.com', '*.example.com'] },
      [],
    ],
    [
      'iPAddresses in canonical text form',
      seq(ip(10, 0, 0, 1), ip(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
      { ipAddresses: ['10.0.0.1', '2001:db8::1'] },
      [],
    ],
    [
      'an iPAddress of the wrong length',
      seq(ip(10, 0, 0), dns('ok.example')),
      { ipAddresses: [], dnsNames: ['ok.example'] },
      ['subjectAltName iPAddress has 3 bytes (expected 4 or 16)'],
    ],
    [
      'other GeneralName forms are not host identities',
      seq(ctx(1, 'mail@example.com'), uri('https://example.com'), ctx(2, [dns('nested')])),
      { dnsNames: [], ipAddresses: [] },
      [],
    ],
    [
      'not a SEQUENCE',
      set(dns('a.example')),
      { dnsNames: [] },
      ['subjectAltName extension is not a SEQUENCE'],
    ],
  ];
  it.each(cases)('%s', (_name, value, expected, reasons) => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readSubjectAltName(walk, decoded(value), facts);
    // Assess
    expect(facts).toMatchObject(expected);
    expect(walk.reasons).toEqual(reasons);
  });

  it('reads at most 1000 entries', () => {
    // Prepare
    const value = seq(...Array.from({ length: 1005 }, (_, i) => dns(`h${i}.example`)));
    const facts = emptyExtensionFacts();
    // Act
    readSubjectAltName(newWalk(), decoded(value), facts);
    // Assess
    expect(facts.dnsNames).toHaveLength(1000);
    expect(facts.dnsNames.at(-1)).toBe('h999.example');
  });
});

describe('readBasicConstraints', () => {
  const cases: [string, Asn1, boolean, string[]][] = [
    ['cA TRUE', seq(bool(true)), true, []],
    ['cA TRUE with a path length', seq(bool(true), int('00')), true, []],
    ['cA FALSE written out', seq(bool(false)), false, []],
    ['cA absent (DEFAULT FALSE)', seq(), false, []],
    ['only a path length', seq(int('01')), false, []],
    ['not a SEQUENCE', bool(true), false, ['basicConstraints extension is not a SEQUENCE']],
  ];
  it.each(cases)('%s', (_name, value, isCa, reasons) => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readBasicConstraints(walk, decoded(value), facts);
    // Assess
    expect(facts.isCa).toBe(isCa);
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('readBasicConstraints: pathLenConstraint', () => {
  const cases: [string, Asn1, boolean, number | null, string[]][] = [
    ['cA TRUE, pathLen 0', seq(bool(true), int('00')), true, 0, []],
    ['cA TRUE, pathLen 3', seq(bool(true), int('03')), true, 3, []],
    ['cA absent, pathLen first', seq(int('01')), false, 1, []],
    ['no pathLen', seq(bool(true)), true, null, []],
    [
      'a negative pathLen',
      seq(bool(true), int('ff')),
      true,
      null,
      ['basicConstraints pathLenConstraint is not a small non-negative INTEGER'],
    ],
    [
      'a pathLen that is not an INTEGER',
      seq(bool(true), bool(true)),
      true,
      null,
      ['basicConstraints pathLenConstraint is not a small non-negative INTEGER'],
    ],
  ];
  it.each(cases)('%s', (_name, value, isCa, pathLen, reasons) => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readBasicConstraints(walk, decoded(value), facts);
    // Assess
    expect({ isCa: facts.isCa, pathLen: facts.pathLen }).toEqual({ isCa, pathLen });
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('readKeyUsage', () => {
  const bits = (unused: number, ...bytes: number[]) => prim(3, String.fromCharCode(unused, ...bytes));
  const cases: [string, Asn1, string[] | null, string[]][] = [
    ['digitalSignature and keyEncipherment', bits(5, 0xa0), ['digitalSignature', 'keyEncipherment'], []],
    ['keyCertSign and cRLSign', bits(1, 0x06), ['keyCertSign', 'cRLSign'], []],
    ['decipherOnly, in the second byte', bits(7, 0x00, 0x80), ['decipherOnly'], []],
    ['no bits', bits(0), [], []],
    ['not a BIT STRING', octets(''), null, ['keyUsage extension is not a valid BIT STRING']],
    ['more than 7 unused bits', bits(8, 0x80), null, ['keyUsage extension is not a valid BIT STRING']],
  ];
  it.each(cases)('%s', (_name, value, expected, reasons) => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readKeyUsage(walk, decoded(value), facts);
    // Assess
    expect(facts.keyUsage).toEqual(expected);
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('readExtKeyUsage', () => {
  const cases: [string, Asn1, string[] | null, string[]][] = [
    ['serverAuth', seq(oid('1.3.6.1.5.5.7.3.1')), ['1.3.6.1.5.5.7.3.1'], []],
    [
      'several, in order',
      seq(oid('1.3.6.1.5.5.7.3.2'), oid('2.5.29.37.0')),
      ['1.3.6.1.5.5.7.3.2', '2.5.29.37.0'],
      [],
    ],
    ['not OIDs', seq(int('01')), null, ['extendedKeyUsage extension is not a SEQUENCE of OIDs']],
    [
      'not a SEQUENCE',
      oid('1.3.6.1.5.5.7.3.1'),
      null,
      ['extendedKeyUsage extension is not a SEQUENCE of OIDs'],
    ],
  ];
  it.each(cases)('%s', (_name, value, expected, reasons) => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readExtKeyUsage(walk, decoded(value), facts);
    // Assess
    expect(facts.extKeyUsage).toEqual(expected);
    expect(walk.reasons).toEqual(reasons);
  });
});

describe('readNameConstraints', () => {
  const subtree = (base: Asn1) => seq(base);
  const ipBase = (...bytes: number[]) => ctx(7, Buffer.from(bytes).toString('latin1'));
  it('reads DNS and IP subtrees of both lists, lower-cased, IP ranges in CIDR form', () => {
    // Prepare
    const value = seq(
      ctx(0, [
        subtree(dns('Example.COM')),
        subtree(ipBase(10, 0, 0, 0, 255, 0, 0, 0)),
        subtree(ctx(1, 'mail.example')),
      ]),
      ctx(1, [subtree(dns('.secret.example.com'))]),
    );
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readNameConstraints(walk, decoded(value), facts);
    // Assess
    expect(facts.nameConstraints).toEqual({
      permitted: {
        dns: ['example.com'],
        ip: [
          {
            address: Uint8Array.from([10, 0, 0, 0]),
            mask: Uint8Array.from([255, 0, 0, 0]),
            text: '10.0.0.0/8',
          },
        ],
      },
      excluded: { dns: ['.secret.example.com'], ip: [] },
    });
    expect(walk.reasons).toEqual([]);
  });

  const broken: [string, Asn1, string][] = [
    ['neither list', seq(), 'nameConstraints has neither permittedSubtrees nor excludedSubtrees'],
    ['not a SEQUENCE', set(), 'nameConstraints extension is not a SEQUENCE'],
    [
      'an iPAddress of the wrong length',
      seq(ctx(0, [subtree(ipBase(10, 0, 0, 0, 255))])),
      'nameConstraints permitted iPAddress has 5 bytes (expected 8 or 32)',
    ],
  ];
  it.each(broken)('%s', (_name, value, reason) => {
    // Prepare
    const walk = newWalk();
    // Act
    readNameConstraints(walk, decoded(value), emptyExtensionFacts());
    // Assess
    expect(walk.reasons).toEqual([reason]);
  });
});

describe('key identifiers', () => {
  it('reads the subjectKeyIdentifier and the authorityKeyIdentifier keyIdentifier as hex', () => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readSubjectKeyIdentifier(walk, decoded(octets('\x01\xab')), facts);
    readAuthorityKeyIdentifier(walk, decoded(seq(ctx(0, '\x02\xcd'), ctx(2, '\x05'))), facts);
    // Assess
    expect({ ski: facts.subjectKeyId, aki: facts.authorityKeyId }).toEqual({ ski: '01ab', aki: '02cd' });
  });

  it('leaves an authorityKeyIdentifier without keyIdentifier unset', () => {
    // Prepare
    const facts = emptyExtensionFacts();
    // Act
    readAuthorityKeyIdentifier(newWalk(), decoded(seq(ctx(2, '\x05'))), facts);
    // Assess
    expect(facts.authorityKeyId).toBeNull();
  });
});

describe('readAuthorityInfoAccess: URLs for the fetcher', () => {
  const cases: [string, string, string[]][] = [
    ['a plain http URL', 'http://ca.example/int.der', ['http://ca.example/int.der']],
    ['HTTP in capitals', 'HTTP://ca.example/int.der', ['HTTP://ca.example/int.der']],
    ['https is not fetched (no TLS inside validation)', 'https://ca.example/int.der', []],
    ['ldap is not fetched', 'ldap://ca.example/cn=int', []],
    ['control characters are not fetched', 'http://ca.example/\nint.der', []],
    ['spaces are not fetched', 'http://ca.example/int der', []],
  ];
  it.each(cases)('%s', (_name, url, expected) => {
    // Prepare
    const facts = emptyExtensionFacts();
    // Act
    readAuthorityInfoAccess(newWalk(), decoded(seq(caIssuers(uri(url)))), facts);
    // Assess
    expect(facts.caIssuersFetchable).toEqual(expected);
  });
});

describe('readAuthorityInfoAccess', () => {
  const long = `http://ca.example/${'p'.repeat(300)}`;
  const cases: [string, Asn1, string[]][] = [
    ['caIssuers URI', seq(caIssuers(uri('http://ca.example/int.der'))), ['http://ca.example/int.der']],
    ['OCSP is not an issuer', seq(seq(oid(OCSP), uri('http://ocsp.example'))), []],
    ['a location that is not a URI', seq(caIssuers(ctx(2, 'ca.example'))), []],
    ['a method without a location', seq(seq(oid(CA_ISSUERS))), []],
    [
      'every caIssuers, in order',
      seq(caIssuers(uri('http://a.example')), caIssuers(uri('http://b.example'))),
      ['http://a.example', 'http://b.example'],
    ],
    ['untrusted bytes quoted', seq(caIssuers(uri('http://x\n\u00e9'))), ['http://x\\x0a\\xe9']],
    ['capped at 200 characters', seq(caIssuers(uri(long))), [`${long.slice(0, 200)}…`]],
  ];
  it.each(cases)('%s', (_name, value, expected) => {
    // Prepare
    const walk = newWalk();
    const facts = emptyExtensionFacts();
    // Act
    readAuthorityInfoAccess(walk, decoded(value), facts);
    // Assess
    expect(facts.caIssuers).toEqual(expected);
    expect(walk.reasons).toEqual([]);
  });
});

describe('parseExtensions', () => {
  /** The [3] wrapper as it sits at the end of a TBSCertificate; `edit` damages the bytes. */
  function wrapper(inner: Asn1, edit: (buf: Buffer) => void = () => {}): { buf: Buffer; tlv: Tlv } {
    const buf = derOf(ctx(3, [inner]));
    edit(buf);
    return { buf, tlv: readTlv(buf, 0, buf.length) as Tlv };
  }
  const good = ext(BASIC, wrapped(seq(bool(true))), true);

  const cases: [string, () => { buf: Buffer; tlv: Tlv }, boolean, string[]][] = [
    ['each extension read', () => wrapper(seq(good, ext(SAN, wrapped(seq(dns('a.example')))))), true, []],
    [
      'a broken extension hides nothing after it',
      () => wrapper(seq(seq(int('01')), good)),
      true,
      ['an extension is malformed'],
    ],
    [
      'the list is not a SEQUENCE',
      () => wrapper(set(good)),
      false,
      ['extensions are not a SEQUENCE (tag 0x31)'],
    ],
    [
      'the wrapper is longer than the list',
      () => {
        const buf = Buffer.concat([derOf(ctx(3, [seq(good)])), Buffer.from([0x05, 0x00])]);
        buf[1] = buf[1]! + 2;
        return { buf, tlv: readTlv(buf, 0, buf.length) as Tlv };
      },
      true,
      ['extensions wrapper length does not match its content'],
    ],
    [
      'an extension overruns the list',
      () => wrapper(seq(good), (buf) => (buf[5] = buf[5]! + 1)),
      false,
      ['extension at offset 4 overruns the extensions list'],
    ],
  ];
  it.each(cases)('%s', (_name, build, isCa, reasons) => {
    // Prepare
    const { buf, tlv } = build();
    const walk = newWalk(buf);
    const facts = emptyExtensionFacts();
    // Act
    parseExtensions(walk, tlv, buf.length, facts);
    // Assess
    expect(facts.isCa).toBe(isCa);
    expect(walk.reasons).toEqual(reasons);
  });

  it('stays quiet about a cut-off list when the certificate is known to be truncated', () => {
    // Prepare
    const { buf, tlv } = wrapper(seq(good, good));
    const walk = newWalk(buf);
    walk.truncated = true;
    // Act
    parseExtensions(walk, tlv, buf.length - 4, emptyExtensionFacts());
    // Assess
    expect(walk.reasons).toEqual([]);
  });
});
