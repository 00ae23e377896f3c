import { describe, expect, it } from 'vitest';
import {
  certificateMatchesHost,
  describeCoverage,
  dnsNameMatches,
  type PresentedIdentities,
} from '../../lambdas/cert/hostname-match';
import { formatIp, parseIp } from '../../lambdas/cert/ip-address';

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
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', '.example.com', false],
    ['*.com', 'example.com', false],
    ['*', 'localhost', false],
    ['f*.example.com', 'foo.example.com', false],
    ['*o.example.com', 'foo.example.com', false],
    ['a.*.example.com', 'a.b.example.com', false],
    ['*.*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'xn--bcher-kva.example.com', true],
    ['xn--bcher-kva.example.com', 'xn--bcher-kva.example.com', true],
    ['XN--BCHER-KVA.example.com', 'xn--bcher-kva.example.com', true],
    ['xn--*.example.com', 'xn--bcher-kva.example.com', false],
    ['', 'example.com', false],
  ];
  it.each(cases)('%s vs %s → %s', (pattern, host, expected) => {
    // Act / Assess
    expect(dnsNameMatches(pattern, host)).toBe(expected);
  });
});

describe('certificateMatchesHost', () => {
  const cases: [string, PresentedIdentities, string, boolean][] = [
    ['SAN exact', san(['www.example.com']), 'www.example.com', true],
    ['SAN second entry', san(['a.example.com', 'b.example.com']), 'b.example.com', true],
    ['host upper-case with trailing dot', san(['www.example.com']), 'WWW.EXAMPLE.COM.', true],
    ['IDN U-label host vs A-label SAN', san(['xn--bcher-kva.example.com']), 'bücher.example.com', true],
    ['IDN host vs wildcard', san(['*.example.com']), 'bücher.example.com', true],
    ['CN ignored when SAN present', san(['other.example.com']), 'ignored.example.com', false],
    ['CN ignored when SAN has only IPs', san([], ['10.0.0.1']), 'ignored.example.com', false],
    ['CN fallback without SAN', cnOnly('legacy.example.com'), 'legacy.example.com', true],
    ['CN fallback wildcard rules', cnOnly('*.example.com'), 'a.example.com', true],
    ['CN fallback mismatch', cnOnly('legacy.example.com'), 'other.example.com', false],
    ['IPv4 SAN', san([], ['127.0.0.1']), '127.0.0.1', true],
    ['IPv4 SAN mismatch', san([], ['127.0.0.2']), '127.0.0.1', false],
    ['IPv4 host never matches a DNS SAN', san(['127.0.0.1']), '127.0.0.1', false],
    ['IPv4 host never matches the CN', cnOnly('127.0.0.1'), '127.0.0.1', false],
    ['IPv6 loopback', san([], ['::1']), '::1', true],
    ['IPv6 written out in full', san([], ['::1']), '0:0:0:0:0:0:0:1', true],
    ['IPv6 bracketed host', san([], ['2001:db8::1']), '[2001:db8::1]', true],
    ['IPv6 upper-case', san([], ['2001:db8::abcd']), '2001:DB8:0:0:0:0:0:ABCD', true],
    ['IPv6 vs IPv4 SAN', san([], ['127.0.0.1']), '::ffff:127.0.0.1', false],
    ['DNS host vs IP SAN only', san([], ['127.0.0.1']), 'localhost', false],
    ['empty SAN', san([]), 'www.example.com', false],
  ];
  it.each(cases)('%s', (_name, cert, host, expected) => {
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
