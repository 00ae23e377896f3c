import { describe, expect, it } from 'vitest';
import {
  certificateMatchesHost,
  describeCoverage,
  dnsNameMatches,
  hostnameMismatch,
  normaliseHost,
  type PresentedIdentities,
} from '../../lambdas/cert/hostname-match';
import { formatIp, parseIp } from '../../lambdas/cert/ip-address';
import { parseCertificate } from '../../lambdas/cert/parse-certificate';
import { isPublicSuffix } from '../../lambdas/cert/public-suffixes';
import { type CertOptions, ecKey, makeCert } from '../support/cert-factory';

function san(dnsNames: string[], ipAddresses: string[] = []): PresentedIdentities {
  return { dnsNames, ipAddresses, hasSubjectAltName: true, commonNames: ['ignored.example.com'] };
}

function cnOnly(cn: string): PresentedIdentities {
  return { dnsNames: [], ipAddresses: [], hasSubjectAltName: false, commonNames: [cn] };
}

describe('dnsNameMatches', () => {
  const cases: [string, string, boolean][] = [
    ['www.example.com', 'www.example.com', true],
    ['WWW.Example.COM', 'www.example.com', true],
    ['www.example.com.', 'www.example.com', true],
    ['www.example.com', 'example.com', false],
    ['www.example.com', 'www.example.co', false],
    // A wildcard is the whole left-most label and stands for exactly one label.
    ['*.example.com', 'a.example.com', true],
    ['*.EXAMPLE.com', 'a.example.com', true],
    ['*.example.com.', 'a.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', '.example.com', false],
    ['*.a.example.com', 'x.a.example.com', true],
    ['*.a.example.com', 'x.b.example.com', false],
    ['*', 'localhost', false],
    ['f*.example.com', 'foo.example.com', false],
    ['*o.example.com', 'foo.example.com', false],
    ['f*o.example.com', 'foo.example.com', false],
    ['a.*.example.com', 'a.b.example.com', false],
    ['www.*.com', 'www.example.com', false],
    ['*.*.example.com', 'a.b.example.com', false],
    ['**.example.com', 'a.example.com', false],
    ['xn--*.example.com', 'xn--bcher-kva.example.com', false],
    // Never directly over a public suffix: any single label, or a listed registry.
    ['*.com', 'example.com', false],
    ['*.internal', 'db.internal', false],
    ['*.co.uk', 'example.co.uk', false],
    ['*.com.au', 'example.com.au', false],
    ['*.co.jp', 'example.co.jp', false],
    ['*.example.co.uk', 'www.example.co.uk', true],
    ['*.cluster.local', 'db.cluster.local', true],
    ['*.appspot.com', 'app.appspot.com', true],
    // A-labels: compared as they are; a U-label in a certificate is invalid and matches nothing.
    ['*.example.com', 'xn--bcher-kva.example.com', true],
    ['xn--bcher-kva.example.com', 'xn--bcher-kva.example.com', true],
    ['XN--BCHER-KVA.example.com', 'xn--bcher-kva.example.com', true],
    ['bücher.example.com', 'xn--bcher-kva.example.com', false],
    ['bücher.example.com', 'bücher.example.com', false],
    ['', 'example.com', false],
  ];
  it.each(cases)('%s vs %s → %s', (pattern, host, expected) => {
    // Act / Assess
    expect(dnsNameMatches(pattern, host)).toBe(expected);
  });
});

describe('isPublicSuffix', () => {
  const cases: [string, boolean][] = [
    ['com', true],
    ['uk', true],
    ['internal', true],
    ['co.uk', true],
    ['gov.uk', true],
    ['com.au', true],
    ['co.jp', true],
    ['com.br', true],
    ['example.com', false],
    ['example.co.uk', false],
    ['com.de', false],
    ['cluster.local', false],
    ['appspot.com', false],
  ];
  it.each(cases)('%s → %s', (domain, expected) => {
    // Act / Assess
    expect(isPublicSuffix(domain)).toBe(expected);
  });
});

describe('normaliseHost', () => {
  const cases: [string, string | null][] = [
    ['www.example.com', 'www.example.com'],
    ['WWW.Example.COM.', 'www.example.com'],
    ['bücher.example.com', 'xn--bcher-kva.example.com'],
    ['BÜCHER.example.com', 'xn--bcher-kva.example.com'],
    ['bücher\u3002example\u3002com', 'xn--bcher-kva.example.com'],
    ['xn--bcher-kva.example.com', 'xn--bcher-kva.example.com'],
    ['*.example.com', null],
    ['', null],
    ['.', null],
  ];
  it.each(cases)('%s → %s', (host, expected) => {
    // Act / Assess
    expect(normaliseHost(host)).toBe(expected);
  });
});

describe('certificateMatchesHost', () => {
  const cases: [string, PresentedIdentities, string, boolean][] = [
    ['SAN exact', san(['www.example.com']), 'www.example.com', true],
    ['SAN second entry', san(['a.example.com', 'b.example.com']), 'b.example.com', true],
    ['host upper-case with trailing dot', san(['www.example.com']), 'WWW.EXAMPLE.COM.', true],
    ['IDN U-label host vs A-label SAN', san(['xn--bcher-kva.example.com']), 'bücher.example.com', true],
    [
      'IDN A-label host vs A-label SAN',
      san(['xn--bcher-kva.example.com']),
      'xn--bcher-kva.example.com',
      true,
    ],
    ['IDN host vs wildcard', san(['*.example.com']), 'bücher.example.com', true],
    ['U-label SAN never matches', san(['bücher.example.com']), 'bücher.example.com', false],
    ['wildcard over a public suffix', san(['*.co.uk']), 'example.co.uk', false],
    ['CN ignored when SAN present', san(['other.example.com']), 'ignored.example.com', false],
    ['CN ignored when SAN has only IPs', san([], ['10.0.0.1']), 'ignored.example.com', false],
    ['no CN fallback without SAN', cnOnly('legacy.example.com'), 'legacy.example.com', false],
    ['no CN fallback for a wildcard CN', cnOnly('*.example.com'), 'a.example.com', false],
    ['no CN fallback for an IP CN', cnOnly('127.0.0.1'), '127.0.0.1', false],
    ['IPv4 SAN', san([], ['127.0.0.1']), '127.0.0.1', true],
    ['IPv4 SAN mismatch', san([], ['127.0.0.2']), '127.0.0.1', false],
    ['IPv4 host never matches a DNS SAN', san(['127.0.0.1']), '127.0.0.1', false],
    ['IPv4 host never matches a wildcard', san(['*.0.0.1']), '127.0.0.1', false],
    ['IPv6 loopback', san([], ['::1']), '::1', true],
    ['IPv6 written out in full', san([], ['::1']), '0:0:0:0:0:0:0:1', true],
    ['IPv6 bracketed host', san([], ['2001:db8::1']), '[2001:db8::1]', true],
    ['IPv6 upper-case', san([], ['2001:db8::abcd']), '2001:DB8:0:0:0:0:0:ABCD', true],
    ['IPv6 host never matches a DNS SAN', san(['::1']), '::1', false],
    ['IPv6 vs IPv4 SAN', san([], ['127.0.0.1']), '::ffff:127.0.0.1', false],
    ['DNS host vs IP SAN only', san([], ['127.0.0.1']), 'localhost', false],
    ['empty SAN', san([]), 'www.example.com', false],
  ];
  it.each(cases)('%s', (_name, cert, host, expected) => {
    // Act / Assess
    expect(certificateMatchesHost(cert, host)).toBe(expected);
  });
});

describe('hostnameMismatch', () => {
  const cases: [string, PresentedIdentities, string, string | null][] = [
    ['a match', san(['www.example.com']), 'www.example.com', null],
    [
      'a different name',
      san(['www.example.com', 'example.com']),
      'shop.example.org',
      'certificate does not cover "shop.example.org"; it covers: www.example.com, example.com',
    ],
    [
      'no subjectAltName',
      cnOnly('legacy.example.com'),
      'legacy.example.com',
      'certificate does not cover "legacy.example.com": the certificate has no subjectAltName; browsers ignore the subject CN since 2017 (its subject has CN=legacy.example.com)',
    ],
    [
      'no subjectAltName and no CN',
      { dnsNames: [], ipAddresses: [], hasSubjectAltName: false, commonNames: [] },
      'www.example.com',
      'certificate does not cover "www.example.com": the certificate has no subjectAltName; browsers ignore the subject CN since 2017',
    ],
    [
      'a wildcard over a public suffix',
      san(['*.co.uk']),
      'example.co.uk',
      'certificate does not cover "example.co.uk"; it covers: *.co.uk (*.co.uk is not accepted: a wildcard may not stand directly over the public suffix co.uk)',
    ],
    [
      'a partial wildcard',
      san(['other.example.com', 'f*.example.com']),
      'foo.example.com',
      'certificate does not cover "foo.example.com"; it covers: other.example.com, f*.example.com (f*.example.com is not accepted: a wildcard must be the whole left-most label)',
    ],
    [
      'a wildcard that is not the left-most label',
      san(['www.*.com']),
      'www.example.com',
      'certificate does not cover "www.example.com"; it covers: www.*.com (www.*.com is not accepted: a wildcard must be the whole left-most label)',
    ],
    [
      'a wildcard two labels deep',
      san(['*.example.com']),
      'a.b.example.com',
      'certificate does not cover "a.b.example.com"; it covers: *.example.com (*.example.com does not cover it: a wildcard stands for exactly one label)',
    ],
    [
      'a U-label dNSName',
      san(['bücher.example.com']),
      'bücher.example.com',
      'certificate does not cover "bücher.example.com"; it covers: bücher.example.com (bücher.example.com is not accepted: a dNSName must be ASCII, with internationalised labels as A-labels (xn--))',
    ],
    [
      'an IP address in a dNSName',
      san(['127.0.0.1']),
      '127.0.0.1',
      'certificate does not cover "127.0.0.1"; it covers: 127.0.0.1 (127.0.0.1 is a DNS name entry; an IP address matches only iPAddress entries)',
    ],
    [
      'an IPv6 address in a dNSName, written differently',
      san(['0:0:0:0:0:0:0:1']),
      '::1',
      'certificate does not cover "::1"; it covers: 0:0:0:0:0:0:0:1 (0:0:0:0:0:0:0:1 is a DNS name entry; an IP address matches only iPAddress entries)',
    ],
  ];
  it.each(cases)('%s', (_name, cert, host, expected) => {
    // Act / Assess
    expect(hostnameMismatch(cert, host)).toBe(expected);
  });

  it('quotes at most 255 characters of the host', () => {
    // Prepare
    const host = `${'a'.repeat(300)}.example.com`;
    // Act
    const message = hostnameMismatch(san(['www.example.com']), host);
    // Assess
    expect(message).toBe(`certificate does not cover "${'a'.repeat(255)}"; it covers: www.example.com`);
  });

  it('explains from a bounded number of entries on a hostile SAN list', () => {
    // Prepare: the refused near match sits beyond the entries examined.
    const names = [...Array.from({ length: 100 }, (_, i) => `h${i}.example.org`), '*.co.uk'];
    // Act
    const message = hostnameMismatch(san(names), 'example.co.uk');
    // Assess
    expect(message).toMatch(/; it covers: h0\.example\.org, .* \(\+93 more\)$/);
  });
});

describe('certificateMatchesHost on generated certificates', () => {
  /** A dNSName as UTF-8 bytes, the way a CA that forgot IDNA would encode it. */
  const utf8 = (name: string) => Buffer.from(name, 'utf8').toString('latin1');
  const cases: [string, Partial<CertOptions>, string, boolean][] = [
    ['SAN', { dnsNames: ['www.example.com'] }, 'www.example.com', true],
    ['no SAN: the CN is not used', { cn: 'legacy.example.com' }, 'legacy.example.com', false],
    ['wildcard', { dnsNames: ['*.example.com'] }, 'api.example.com', true],
    ['wildcard over co.uk', { dnsNames: ['*.co.uk'] }, 'example.co.uk', false],
    ['A-label SAN, U-label host', { dnsNames: ['xn--bcher-kva.example.com'] }, 'bücher.example.com', true],
    ['U-label SAN (UTF-8 bytes)', { dnsNames: [utf8('bücher.example.com')] }, 'bücher.example.com', false],
    ['iPAddress SAN', { ipAddresses: ['127.0.0.1'] }, '127.0.0.1', true],
    ['IP text in a dNSName', { dnsNames: ['127.0.0.1'] }, '127.0.0.1', false],
  ];
  it.each(cases)('%s', (_name, opts, host, expected) => {
    // Prepare
    const cert = parseCertificate(makeCert({ cn: 'leaf', key: ecKey(), ...opts }).der);
    // Act / Assess
    expect(certificateMatchesHost(cert, host)).toBe(expected);
  });
});

describe('describeCoverage', () => {
  it('lists names and IPs, truncating long lists', () => {
    // Prepare
    const names = Array.from({ length: 20 }, (_, i) => `h${i}.example.com`);
    // Act
    const text = describeCoverage(san(names, ['10.0.0.1']));
    // Assess
    expect(text).toBe(`${names.slice(0, 8).join(', ')} (+13 more)`);
  });

  it('names the CN when there is no SAN', () => {
    expect(describeCoverage(cnOnly('legacy.example.com'))).toBe('CN=legacy.example.com');
  });
});

describe('ip-address', () => {
  const cases: [string, string | null][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['256.0.0.1', null],
    ['1.2.3', null],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8::1:0:0:0', '2001:db8:0:0:1::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1::2::3', null],
    ['example.com', null],
    ['12345::', null],
  ];
  it.each(cases)('%s → %s', (text, canonical) => {
    // Act
    const bytes = parseIp(text);
    // Assess
    expect(bytes === null ? null : formatIp(bytes)).toBe(canonical);
  });
});
