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

describe('notifier cold start', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  const secret = { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hooks' };

  it.each([
    {
      why: 'a type the notifier does not deliver',
      channel: { name: 'ops', type: 'sns', minSeverity: 'info', topicArn: 'arn:t' },
      message:
        'environment variable CHANNELS: [0].type: expected one of "slack", "teams", "webhook", "pagerduty", "opsgenie", "discord", "googlechat", "mattermost", "github", "jira", got string "sns"',
    },
    {
      why: 'a secret field its channel module declares, missing',
      channel: { name: 'chat', type: 'slack', minSeverity: 'info' },
      message: 'environment variable CHANNELS: [0].url: expected object, got nothing',
    },
    {
      why: 'a secret given as a plain value instead of a reference',
      channel: { name: 'hook', type: 'webhook', minSeverity: 'info', url: secret, secret: 'hunter2' },
      message: 'environment variable CHANNELS: [0].secret: expected object, got string "hunter2"',
    },
    {
      why: 'a setting that is not a plain value',
      channel: {
        name: 'hook',
        type: 'webhook',
        minSeverity: 'info',
        url: secret,
        secret: null,
        signatureHeader: { name: 'X-Sig' },
      },
      message:
        'environment variable CHANNELS: [0].signatureHeader: expected a string, number, boolean, list of strings or null, got object',
    },
  ])('fails when the module loads for $why', async ({ channel, message }) => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('CHANNELS', JSON.stringify([channel]));

    // Act
    const load = import('../../lambdas/handlers/notifier');

    // Assess
    await expect(load).rejects.toMatchObject({ name: 'ConfigurationError', message });
  });

  it('fails when the module loads without the table its delivery records live in', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('TABLE_NAME', undefined);
    vi.stubEnv(
      'CHANNELS',
      JSON.stringify([{ name: 'chat', type: 'slack', minSeverity: 'info', url: secret }]),
    );

    // Act
    const load = import('../../lambdas/handlers/notifier');

    // Assess
    await expect(load).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'environment variable TABLE_NAME is required',
    });
  });

  it('loads a channel of every type it delivers, as the stack writes them', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('TABLE_NAME', 'certwatch-test');
    vi.stubEnv(
      'CHANNELS',
      JSON.stringify([
        { name: 'chat', type: 'slack', minSeverity: 'warning', url: secret },
        { name: 'team', type: 'teams', minSeverity: 'info', url: { ...secret, jsonKey: 'teams' } },
        {
          name: 'hook',
          type: 'webhook',
          minSeverity: 'info',
          url: secret,
          secret: null,
          signatureHeader: 'X-Sig',
        },
      ]),
    );

    // Act
    const module = await import('../../lambdas/handlers/notifier');

    // Assess
    expect(typeof module.handler).toBe('function');
  });
});
