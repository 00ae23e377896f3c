import { describe, expect, it } from 'vitest';
import {
  checkAlertUrl,
  envSecretResolver,
  formatDuration,
  formatSecretRef,
  parseDuration,
  parseSecretRef,
  type SecretRef,
  SecretRefError,
} from '../../lambdas/config';

describe('parseSecretRef', () => {
  it.each<{ value: string; expected: SecretRef }>([
    { value: 'env:SLACK_WEBHOOK_URL', expected: { kind: 'env', name: 'SLACK_WEBHOOK_URL' } },
    { value: 'secretsmanager:certwatch/slack', expected: { kind: 'secretsmanager', id: 'certwatch/slack' } },
    {
      value: 'secretsmanager:certwatch/hooks#teams',
      expected: { kind: 'secretsmanager', id: 'certwatch/hooks', jsonKey: 'teams' },
    },
    {
      value: 'secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:hooks-AbCdEf#url',
      expected: {
        kind: 'secretsmanager',
        id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hooks-AbCdEf',
        jsonKey: 'url',
      },
    },
    { value: 'https://hooks.example/x', expected: { kind: 'literal', value: 'https://hooks.example/x' } },
    { value: 'ENV:NOT_A_REF', expected: { kind: 'literal', value: 'ENV:NOT_A_REF' } },
  ])('$value', ({ value, expected }) => {
    // Act
    const ref = parseSecretRef(value);

    // Assess
    expect(ref).toEqual(expected);
    expect(formatSecretRef(ref)).toBe(value);
  });

  it.each(['env:', 'env:1ABC', 'env:A-B', 'secretsmanager:', 'secretsmanager:#key', 'secretsmanager:name#'])(
    'rejects %s',
    (value) => {
      // Act & Assess
      expect(() => parseSecretRef(value)).toThrow(SecretRefError);
    },
  );
});

describe('envSecretResolver', () => {
  it('resolves literals and set variables', async () => {
    // Prepare
    const resolve = envSecretResolver({ TOKEN: 'abc' });

    // Act & Assess
    await expect(resolve({ kind: 'env', name: 'TOKEN' }, 'f')).resolves.toBe('abc');
    await expect(resolve({ kind: 'literal', value: 'x' }, 'f')).resolves.toBe('x');
  });

  it.each<{ ref: SecretRef; message: string }>([
    {
      ref: { kind: 'env', name: 'MISSING' },
      message: 'environment: f: environment variable MISSING is not set',
    },
    { ref: { kind: 'env', name: 'BLANK' }, message: 'environment: f: environment variable BLANK is empty' },
    {
      ref: { kind: 'secretsmanager', id: 's', jsonKey: 'k' },
      message:
        'environment: f: secretsmanager:s#k is only available in AWS (use env:NAME or a literal locally)',
    },
  ])('refuses $ref.kind $message', async ({ ref, message }) => {
    // Prepare
    const resolve = envSecretResolver({ BLANK: '  ' });

    // Act & Assess
    await expect(resolve(ref, 'f')).rejects.toMatchObject({ name: 'ConfigError', message });
  });
});

describe('parseDuration', () => {
  it.each([
    { value: '10s', ms: 10_000 },
    { value: '500ms', ms: 500 },
    { value: '1h30m', ms: 5_400_000 },
    { value: '24h', ms: 86_400_000 },
    { value: '7d', ms: 604_800_000 },
    { value: '1.5s', ms: 1_500 },
    { value: 2500, ms: 2_500 },
    { value: ' 5m ', ms: 300_000 },
  ])('$value → $ms', ({ value, ms }) => {
    // Act & Assess
    expect(parseDuration(value)).toBe(ms);
  });

  it.each(['', '10', '10 s', 's', '1w', '5m5', -1, Number.NaN, null, true, '1h 30m'])(
    'rejects %s',
    (value) => {
      // Act & Assess
      expect(parseDuration(value)).toBeNull();
    },
  );

  it.each([
    { ms: 86_400_000, text: '1d' },
    { ms: 5_400_000, text: '1h30m' },
    { ms: 1_500, text: '1s500ms' },
    { ms: 0, text: '0ms' },
  ])('formats $ms as $text', ({ ms, text }) => {
    // Act & Assess
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('checkAlertUrl', () => {
  it.each([
    ['https://hooks.example/x', null],
    ['http://127.0.0.1:8080/hook', null],
    ['http://127.5.0.1/hook', null],
    ['http://localhost:3000/', null],
    ['http://[::1]:9000/', null],
    ['http://hooks.example/x', 'expected an https URL (plain http only for localhost, 127.0.0.1 or [::1])'],
    [
      'http://127.0.0.1.nip.io/x',
      'expected an https URL (plain http only for localhost, 127.0.0.1 or [::1])',
    ],
    ['ftp://files.example/', 'expected an https URL (plain http only for localhost, 127.0.0.1 or [::1])'],
    ['hooks.example', 'expected an https URL'],
  ])('%s', (url, expected) => {
    // Act & Assess
    expect(checkAlertUrl(url)).toBe(expected);
  });
});
