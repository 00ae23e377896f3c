/**
 * `revocation: check|require|off`: in defaults and per endpoint, validated with a message that
 * names the field, and carried into the inventory only where it differs from the default.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/config/config-error';
import { parseConfig } from '../../lambdas/config/parse-config';
import { resolveEndpoints } from '../../lambdas/config/resolve-config';
import { decode } from '../../lambdas/core/decode';
import { endpoint as endpointDecoder } from '../../lambdas/core/model-decoders';

function issuesOf(yaml: string): string[] {
  try {
    parseConfig(yaml, 'c.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n').filter((l) => l.startsWith('c.yaml'));
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config: revocation', () => {
  it.each([
    { name: 'the built-in default', yaml: 'endpoints: [{ host: a.example }]\n', expected: [undefined] },
    {
      name: 'defaults.revocation, overridden per endpoint',
      yaml: 'defaults: { revocation: require }\nendpoints:\n  - host: a.example\n  - { host: b.example, revocation: off }\n  - { host: c.example, revocation: check }\n',
      expected: ['require', 'off', undefined],
    },
  ])('resolves $name', ({ yaml, expected }) => {
    // Act
    const endpoints = resolveEndpoints(parseConfig(yaml, 'c.yaml'));

    // Assess
    expect(endpoints.map((e) => e.revocation)).toEqual(expected);
    expect(endpoints.every((e) => decode(endpointDecoder, e).ok)).toBe(true);
  });

  it.each([
    {
      yaml: 'defaults: { revocation: strict }\nendpoints: [{ host: a.example }]\n',
      expected: 'c.yaml:1:25: defaults.revocation: expected one of check, require, off, got "strict"',
    },
    {
      yaml: 'endpoints:\n  - { host: a.example, revocation: true }\n',
      expected: 'c.yaml:2:36: endpoints[0].revocation: expected one of check, require, off, got true',
    },
  ])('refuses $yaml', ({ yaml, expected }) => {
    // Act & Assess
    expect(issuesOf(yaml)).toEqual([expected]);
  });
});
