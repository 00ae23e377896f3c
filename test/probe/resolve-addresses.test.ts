import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LookupFunction,
  parseHostsFile,
  type ResolveResult,
  resolveAddresses,
} from '../../lambdas/probe/resolve-addresses';
import { type DnsTestServer, startDnsServer } from '../support/dns-test-server';

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

describe('resolveAddresses through DNS (a test DNS server on 127.0.0.1)', () => {
  let dnsServer: DnsTestServer;
  let dir: string;
  const servers: DnsTestServer[] = [];
  const addressesOf = (r: ResolveResult) => (r.ok ? r.addresses.map((a) => a.address) : r.error.message);

  beforeAll(async () => {
    dnsServer = await startDnsServer({
      'both.example': { a: ['192.0.2.20', '192.0.2.3'], aaaa: ['2001:db8::1'] },
      'v6only.example': { aaaa: ['2001:db8::2'] },
      'pinned.example': { a: ['192.0.2.99'] },
      'broken.example': 'servfail',
      localhost: 'servfail',
      'dead.example': 'stall',
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`dead${i}.example`, 'stall' as const])),
      ...Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`live${i}.example`, { a: [`192.0.2.${i + 1}`] }]),
      ),
    });
    servers.push(dnsServer);
    dir = mkdtempSync(join(tmpdir(), 'certwatch-hosts-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const viaDns = (host: string, extra: { timeoutMs?: number; hostsFile?: string | null } = {}) =>
    resolveAddresses(host, {
      timeoutMs: extra.timeoutMs ?? 3000,
      dnsServers: [dnsServer.address],
      hostsFile: extra.hostsFile === undefined ? null : extra.hostsFile,
    });

  it('asks DNS for A and AAAA and orders the answer', async () => {
    // Act
    const both = await viaDns('both.example');
    const v6 = await viaDns('V6ONLY.example');

    // Assess
    expect(addressesOf(both)).toEqual(['192.0.2.3', '192.0.2.20', '2001:db8::1']);
    expect(addressesOf(v6)).toEqual(['2001:db8::2']);
  });

  it('reads the hosts file before DNS, as getaddrinfo does', async () => {
    // Prepare
    const hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, '# staging override\n127.0.0.9   pinned.example   # new backend\n');
    const before = dnsServer.queries().length;

    // Act
    const result = await viaDns('pinned.example', { hostsFile });

    // Assess
    expect(addressesOf(result)).toEqual(['127.0.0.9']);
    expect(dnsServer.queries().length).toBe(before);
  });

  it('reports a DNS server failure without asking getaddrinfo', async () => {
    // Act: getaddrinfo would find localhost in /etc/hosts; a SERVFAIL from DNS must not be masked by it.
    const broken = await viaDns('broken.example');
    const local = await viaDns('localhost');

    // Assess
    expect(addressesOf(broken)).toBe('DNS lookup of broken.example failed: DNS server failure (ESERVFAIL)');
    expect(addressesOf(local)).toBe('DNS lookup of localhost failed: DNS server failure (ESERVFAIL)');
  });

  it('asks getaddrinfo when DNS does not know the name', async () => {
    // Prepare: a DNS server that knows nothing (NXDOMAIN for every name), and no hosts file of ours.
    const empty = await startDnsServer({});
    servers.push(empty);
    const options = { timeoutMs: 3000, dnsServers: [empty.address], hostsFile: null };

    // Act: the system's name service (its own hosts file) still finds localhost.
    const local = await resolveAddresses('localhost', options);
    const nowhere = await resolveAddresses('certwatch-nowhere.invalid', options);

    // Assess
    const found = local.ok ? local.addresses.map((x) => x.address) : [];
    expect(found.some((x) => x === '127.0.0.1' || x === '::1')).toBe(true);
    expect(empty.queries()).toEqual(expect.arrayContaining(['localhost/A', 'localhost/AAAA']));
    expect(nowhere.ok).toBe(false);
  });

  it('gives up on a DNS server that never answers, at the deadline', async () => {
    // Act
    const result = await viaDns('dead.example', { timeoutMs: 400 });

    // Assess
    expect(addressesOf(result)).toBe('DNS lookup of dead.example did not answer within 400 ms');
  });

  it('lets no stalled name hold up the others', async () => {
    // Prepare: 20 names whose DNS never answers are in flight first.
    const finished: string[] = [];
    const track = (name: string) =>
      viaDns(name, { timeoutMs: 2500 }).then((r) => {
        finished.push(name);
        return r;
      });
    const dead = Array.from({ length: 20 }, (_, i) => track(`dead${i}.example`));

    // Act
    const live = await Promise.all(Array.from({ length: 10 }, (_, i) => track(`live${i}.example`)));
    const liveDoneFirst = finished.length;
    await Promise.all(dead);

    // Assess: every live name resolved, and before any stalled name gave up.
    expect(live.map(addressesOf)).toEqual(Array.from({ length: 10 }, (_, i) => [`192.0.2.${i + 1}`]));
    expect(liveDoneFirst).toBe(10);
    expect(finished.slice(10).every((n) => n.startsWith('dead'))).toBe(true);
  });
});

describe('parseHostsFile', () => {
  it('reads addresses and aliases, ignoring comments and bad lines', () => {
    // Act
    const hosts = parseHostsFile(
      [
        '127.0.0.1\tlocalhost  Localhost.',
        '::1 localhost ip6-localhost # comment',
        '# 10.0.0.1 commented.example',
        'not-an-ip broken.example',
        '',
        '192.0.2.7 app.example app',
      ].join('\n'),
    );

    // Assess
    expect(Object.fromEntries(hosts)).toEqual({
      localhost: [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
      'ip6-localhost': [{ address: '::1', family: 6 }],
      'app.example': [{ address: '192.0.2.7', family: 4 }],
      app: [{ address: '192.0.2.7', family: 4 }],
    });
  });
});
