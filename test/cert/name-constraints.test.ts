import { describe, expect, it } from 'vitest';
import type { NameConstraints } from '../../lambdas/cert/certificate-extensions';
import { dnsNameWithin, findNameConstraintViolation, ipWithin } from '../../lambdas/cert/name-constraints';

const v4 = (cidr: string) => {
  const [addr = '', bits = '0'] = cidr.split('/');
  const address = Uint8Array.from(addr.split('.').map(Number));
  const mask = Uint8Array.from(
    [0, 1, 2, 3].map((i) => (0xff << (8 - Math.max(0, Math.min(8, Number(bits) - i * 8)))) & 0xff),
  );
  return { address, mask, text: cidr };
};

function constraints(parts: {
  permittedDns?: string[];
  excludedDns?: string[];
  permittedIp?: string[];
  excludedIp?: string[];
}): NameConstraints {
  return {
    permitted: { dns: parts.permittedDns ?? [], ip: (parts.permittedIp ?? []).map(v4) },
    excluded: { dns: parts.excludedDns ?? [], ip: (parts.excludedIp ?? []).map(v4) },
  };
}

describe('dnsNameWithin', () => {
  const cases: [string, string, boolean][] = [
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', true],
    ['a.b.example.com', 'example.com', true],
    ['badexample.com', 'example.com', false],
    ['example.com', '.example.com', false],
    ['www.example.com', '.example.com', true],
    ['anything.example', '', true],
    ['example.org', 'example.com', false],
  ];
  it.each(cases)('%s within %j: %s', (name, constraint, within) => {
    // Act & Assess
    expect(dnsNameWithin(name, constraint)).toBe(within);
  });
});

describe('ipWithin', () => {
  const cases: [string, number[], string, boolean][] = [
    ['inside /8', [10, 9, 8, 7], '10.0.0.0/8', true],
    ['outside /8', [11, 0, 0, 1], '10.0.0.0/8', false],
    ['exact /32', [192, 0, 2, 1], '192.0.2.1/32', true],
    ['another family', Array(16).fill(0), '10.0.0.0/8', false],
  ];
  it.each(cases)('%s', (_name, bytes, cidr, within) => {
    // Act & Assess
    expect(ipWithin(Uint8Array.from(bytes), v4(cidr))).toBe(within);
  });
});

describe('findNameConstraintViolation', () => {
  const cases: [string, NameConstraints, { dns?: string[]; ip?: string[] }, string | null][] = [
    ['all names permitted', constraints({ permittedDns: ['example.com'] }), { dns: ['a.example.com'] }, null],
    [
      'one name outside',
      constraints({ permittedDns: ['example.com'] }),
      { dns: ['a.example.com', 'x.org'] },
      'notPermitted x.org',
    ],
    [
      'excluded beats permitted',
      constraints({ permittedDns: ['example.com'], excludedDns: ['a.example.com'] }),
      { dns: ['a.example.com'] },
      'excluded a.example.com',
    ],
    [
      'a trailing dot is the same name',
      constraints({ excludedDns: ['example.com'] }),
      { dns: ['www.example.com.'] },
      'excluded www.example.com.',
    ],
    [
      'wildcard over an excluded name',
      constraints({ excludedDns: ['secret.example.com'] }),
      { dns: ['*.example.com'] },
      'excluded *.example.com',
    ],
    [
      'wildcard beside an excluded name',
      constraints({ excludedDns: ['a.secret.example.com'] }),
      { dns: ['*.example.com'] },
      null,
    ],
    [
      'IP outside permitted',
      constraints({ permittedIp: ['10.0.0.0/8'] }),
      { ip: ['192.0.2.1'] },
      'notPermitted 192.0.2.1',
    ],
    [
      'IP inside excluded',
      constraints({ excludedIp: ['192.0.2.0/24'] }),
      { ip: ['192.0.2.1'] },
      'excluded 192.0.2.1',
    ],
    [
      'IPv6 under IPv4-only permitted',
      constraints({ permittedIp: ['10.0.0.0/8'] }),
      { ip: ['::1'] },
      'notPermitted ::1',
    ],
    [
      'DNS constraints leave IPs free',
      constraints({ permittedDns: ['example.com'] }),
      { ip: ['192.0.2.1'] },
      null,
    ],
  ];
  it.each(cases)('%s', (_name, nc, names, expected) => {
    // Act
    const v = findNameConstraintViolation(
      nc,
      { dns: names.dns ?? [], ip: names.ip ?? [] },
      { remaining: 1000 },
    );
    // Assess
    expect(v && `${v.rule} ${v.name}`).toBe(expected);
  });

  it('spends the budget and refuses as tooMany when it runs out', () => {
    // Prepare
    const nc = constraints({ permittedDns: ['a.example', 'b.example', 'c.example'] });
    const budget = { remaining: 5 };
    // Act
    const v = findNameConstraintViolation(nc, { dns: ['x.a.example', 'y.a.example'], ip: [] }, budget);
    // Assess: the second name needs 3 more comparisons than are left.
    expect(v).toEqual({ name: 'y.a.example', rule: 'tooMany', subtrees: [], more: 0 });
    expect(budget.remaining).toBeLessThan(0);
  });
});
