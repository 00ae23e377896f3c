import { describe, expect, it } from 'vitest';
import { type LookupFunction, resolveAddresses } from '../../lambdas/probe/resolve-addresses';

/** A lookup that answers with fixed addresses and records what it was asked. */
function fixedLookup(answer: { address: string; family: number }[]): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    return answer;
  };
  return Object.assign(lookup, { calls });
}

function failingLookup(code: string): LookupFunction {
  return async () => {
    throw Object.assign(new Error(`getaddrinfo ${code} example.test`), { code });
  };
}

describe('resolveAddresses', () => {
  it('returns every address, deduplicated, IPv4 before IPv6, each in numeric order', async () => {
    // Prepare
    const lookup = fixedLookup([
      { address: '2001:db8::10', family: 6 },
      { address: '10.0.0.10', family: 4 },
      { address: '10.0.0.9', family: 4 },
      { address: '2001:db8::9', family: 6 },
      { address: '10.0.0.10', family: 4 },
      { address: '2001:DB8::9', family: 6 },
    ]);

    // Act
    const result = await resolveAddresses('multi.example', { timeoutMs: 1000, lookup });

    // Assess
    expect(result).toEqual({
      ok: true,
      addresses: [
        { address: '10.0.0.9', family: 4 },
        { address: '10.0.0.10', family: 4 },
        { address: '2001:db8::9', family: 6 },
        { address: '2001:db8::10', family: 6 },
      ],
    });
    expect(lookup.calls).toEqual(['multi.example']);
  });

  it('keeps only the first address of that order when firstOnly is set', async () => {
    // Prepare
    const lookup = fixedLookup([
      { address: '::1', family: 6 },
      { address: '192.0.2.7', family: 4 },
      { address: '192.0.2.3', family: 4 },
    ]);

    // Act
    const result = await resolveAddresses('multi.example', { timeoutMs: 1000, firstOnly: true, lookup });

    // Assess
    expect(result).toEqual({ ok: true, addresses: [{ address: '192.0.2.3', family: 4 }] });
  });

  it.each([
    ['127.0.0.1', 4],
    ['::1', 6],
  ])('resolves the IP literal %s to itself without DNS', async (host, family) => {
    // Prepare
    const lookup = fixedLookup([{ address: '10.9.9.9', family: 4 }]);

    // Act
    const result = await resolveAddresses(host, { timeoutMs: 1000, lookup });

    // Assess
    expect(result).toEqual({ ok: true, addresses: [{ address: host, family }] });
    expect(lookup.calls).toEqual([]);
  });

  it.each([
    ['ENOTFOUND', 'DNS lookup of example.test failed: no such host (ENOTFOUND)'],
    ['EAI_AGAIN', 'DNS lookup of example.test failed: temporary DNS failure (EAI_AGAIN)'],
    ['ENODATA', 'DNS lookup of example.test failed: no address records (ENODATA)'],
    ['EWEIRD', 'DNS lookup of example.test failed: EWEIRD'],
  ])('reports %s as DNS_ERROR', async (code, message) => {
    // Act
    const result = await resolveAddresses('example.test', { timeoutMs: 1000, lookup: failingLookup(code) });

    // Assess
    expect(result).toEqual({ ok: false, error: { code: 'DNS_ERROR', message } });
  });

  it('reports a lookup that throws synchronously as DNS_ERROR', async () => {
    // Prepare
    const lookup: LookupFunction = () => {
      throw new Error('resolver exploded');
    };

    // Act
    const result = await resolveAddresses('example.test', { timeoutMs: 1000, lookup });

    // Assess
    expect(result).toEqual({
      ok: false,
      error: { code: 'DNS_ERROR', message: 'DNS lookup of example.test failed: resolver exploded' },
    });
  });

  it('gives up on a lookup that never answers', async () => {
    // Prepare
    const lookup: LookupFunction = () => new Promise(() => {});

    // Act
    const result = await resolveAddresses('hang.example', { timeoutMs: 50, lookup });

    // Assess
    expect(result).toEqual({
      ok: false,
      error: { code: 'DNS_ERROR', message: 'DNS lookup of hang.example did not answer within 50 ms' },
    });
  });

  it('reports an answer without usable addresses as DNS_ERROR', async () => {
    // Prepare
    const lookup = fixedLookup([{ address: 'not-an-ip', family: 4 }]);

    // Act
    const result = await resolveAddresses('empty.example', { timeoutMs: 1000, lookup });

    // Assess
    expect(result).toEqual({
      ok: false,
      error: { code: 'DNS_ERROR', message: 'DNS lookup of empty.example returned no usable address' },
    });
  });

  it('resolves localhost from /etc/hosts with the real resolver', async () => {
    // Act
    const result = await resolveAddresses('localhost', { timeoutMs: 5000 });

    // Assess
    expect(result.ok).toBe(true);
    const addresses = result.ok ? result.addresses.map((a) => a.address) : [];
    expect(addresses.some((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
  });

  it('fails a .invalid name with the real resolver (RFC 6761: never resolves)', async () => {
    // Act
    const result = await resolveAddresses('certwatch-probe-test.invalid', { timeoutMs: 5000 });

    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? null : result.error.code).toBe('DNS_ERROR');
    expect(result.ok ? '' : result.error.message).toContain('certwatch-probe-test.invalid');
  });
});
