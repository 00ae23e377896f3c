import { afterEach, describe, expect, it, vi } from 'vitest';
import * as d from '../../lambdas/core/decode';
import { ConfigurationError, jsonEnv } from '../../lambdas/handlers/runtime/env';
import { secretReference } from '../../lambdas/handlers/runtime/secrets';

const FALLBACK = null;
const heartbeat = d.nullable(secretReference);

describe('jsonEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    { name: 'absent', raw: undefined, expected: FALLBACK },
    { name: 'empty', raw: '', expected: FALLBACK },
    { name: 'JSON null', raw: 'null', expected: null },
    {
      name: 'a complete reference',
      raw: '{"secretArn":"arn:s","jsonKey":"url"}',
      expected: { secretArn: 'arn:s', jsonKey: 'url' },
    },
    {
      name: 'a reference without its optional key',
      raw: '{"secretArn":"arn:s"}',
      expected: { secretArn: 'arn:s' },
    },
  ])('returns the decoded value when the variable is $name', ({ raw, expected }) => {
    // Prepare
    vi.stubEnv('CERTWATCH_TEST_JSON', raw);

    // Act
    const value = jsonEnv('CERTWATCH_TEST_JSON', heartbeat, FALLBACK);

    // Assess
    expect(value).toStrictEqual(expected);
  });

  it.each([
    {
      name: 'not JSON',
      raw: '{secretArn:',
      message: 'environment variable CERTWATCH_TEST_JSON is not valid JSON',
    },
    {
      name: 'missing a field',
      raw: '{"jsonKey":"url"}',
      message: 'environment variable CERTWATCH_TEST_JSON: secretArn: expected string, got nothing',
    },
    {
      name: 'of the wrong type',
      raw: '["arn:s"]',
      message: 'environment variable CERTWATCH_TEST_JSON: (value): expected object, got array',
    },
  ])('throws a ConfigurationError naming the variable when it is $name', ({ raw, message }) => {
    // Prepare
    vi.stubEnv('CERTWATCH_TEST_JSON', raw);

    // Act
    const read = () => jsonEnv('CERTWATCH_TEST_JSON', heartbeat, FALLBACK);

    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(message);
  });
});

describe('checker cold start', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('fails when the module loads, naming the variable and the field, for a malformed SNS_CHANNELS', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('TABLE_NAME', 'certwatch-test');
    vi.stubEnv('ALERT_TOPIC_ARN', 'arn:aws:sns:us-east-1:123456789012:alerts');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('SNS_CHANNELS', JSON.stringify([{ name: 'pager', topicArn: 'arn:t', minSeverity: 'urgent' }]));

    // Act
    const load = import('../../lambdas/handlers/checker');

    // Assess
    // A fresh module graph, so the error's class is the fresh env module's: compare by name.
    await expect(load).rejects.toMatchObject({
      name: 'ConfigurationError',
      message:
        'environment variable SNS_CHANNELS: [0].minSeverity: expected one of "info", "warning", "critical", got string "urgent"',
    });
  });
});
