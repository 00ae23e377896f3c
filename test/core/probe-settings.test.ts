import { describe, expect, it } from 'vitest';
import type { ProbeSettings } from '../../lambdas/core/model';
import { probeSettingsOf, protocolOf, servernameFor } from '../../lambdas/core/probe-settings';

describe('probeSettingsOf', () => {
  it.each<[string, ProbeSettings & Record<string, unknown>, ProbeSettings]>([
    ['only a timeout', { timeoutMs: 500 }, { timeoutMs: 500 }],
    [
      'every setting',
      { timeoutMs: 500, protocol: 'tls', servername: 'sni.example', address: '192.0.2.1' },
      { timeoutMs: 500, protocol: 'tls', servername: 'sni.example', address: '192.0.2.1' },
    ],
    ['an explicit "no SNI"', { timeoutMs: 500, servername: null }, { timeoutMs: 500, servername: null }],
    [
      'settings left undefined stay absent',
      { timeoutMs: 500, servername: undefined, address: undefined },
      { timeoutMs: 500 },
    ],
    [
      'an endpoint: its other fields stay behind',
      { timeoutMs: 500, id: 'a.example:443', host: 'a.example', policy: {}, thresholds: {}, trust: {} },
      { timeoutMs: 500 },
    ],
  ])('%s', (_case, source, expected) => {
    // Act
    const settings = probeSettingsOf(source);

    // Assess
    expect(settings).toStrictEqual(expected);
  });
});

describe('servernameFor', () => {
  it.each<[string, Pick<ProbeSettings, 'servername'> | undefined, string | null]>([
    ['example.com', undefined, 'example.com'],
    ['example.com', {}, 'example.com'],
    ['127.0.0.1', {}, null],
    ['::1', {}, null],
    ['::ffff:192.0.2.1', {}, null],
    ['example.com', { servername: 'other.example' }, 'other.example'],
    ['example.com', { servername: null }, null],
    ['192.0.2.1', { servername: 'vhost.example' }, 'vhost.example'],
  ])('%s with %j → %j', (host, settings, expected) => {
    // Act / Assess
    expect(servernameFor(host, settings)).toBe(expected);
  });
});

describe('protocolOf', () => {
  it.each<[Pick<ProbeSettings, 'protocol'>, string]>([
    [{}, 'tls'],
    [{ protocol: 'tls' }, 'tls'],
  ])('%j → %s', (settings, expected) => {
    // Act / Assess
    expect(protocolOf(settings)).toBe(expected);
  });
});
