import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  envSecretResolver,
  parseConfig,
  resolveChannels,
  resolveEndpoints,
  resolveHeartbeatUrl,
  type SecretRef,
  type SecretResolver,
} from '../../lambdas/config';
import type { Channel, Endpoint } from '../../lambdas/core/model';

const CHANNELS = `channels:
  - { name: ops-sns, type: sns, topicArn: arn:aws:sns:eu-west-1:123456789012:ops, minSeverity: warning }
  - { name: slack-ops, type: slack, url: env:SLACK_WEBHOOK_URL }
  - { name: teams, type: teams, url: "https://teams.example/hook", minSeverity: critical }
  - name: pager-hook
    type: webhook
    url: env:HOOK_URL
    secret: env:HOOK_SECRET
heartbeatUrl: env:HEARTBEAT_URL
endpoints: [{ host: a.example }]
`;

async function resolveError(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveEndpoints', () => {
  it('merges the defaults into each endpoint and names unnamed endpoints by id', () => {
    // Prepare
    const config = parseConfig(
      `defaults: { thresholdsDays: [21, 7], warnDays: 21, timeout: 3s, renotifyInterval: 12h }
endpoints:
  - host: example.com
  - host: "[2001:db8::1]:8443"
    name: Node 1
    owner: ops
    tags: [edge]
    channels: [slack-ops]
    criticalDays: 3
    thresholdsDays: [5]
    failuresBeforeAlert: 4
    timeout: 250ms
channels:
  - { name: slack-ops, type: slack, url: "https://hooks.example/1" }
`,
      'c.yaml',
    );

    // Act
    const endpoints = resolveEndpoints(config);

    // Assess
    const expected: Endpoint[] = [
      {
        id: 'example.com:443',
        host: 'example.com',
        port: 443,
        name: 'example.com:443',
        owner: null,
        tags: [],
        channels: [],
        policy: {
          thresholdsDays: [21, 7],
          expiry: { warnDays: 21, criticalDays: 7 },
          failuresBeforeAlert: 2,
          renotifyIntervalMs: 12 * 3_600_000,
        },
        timeoutMs: 3_000,
      },
      {
        id: '[2001:db8::1]:8443',
        host: '2001:db8::1',
        port: 8443,
        name: 'Node 1',
        owner: 'ops',
        tags: ['edge'],
        channels: ['slack-ops'],
        policy: {
          thresholdsDays: [5],
          expiry: { warnDays: 21, criticalDays: 3 },
          failuresBeforeAlert: 4,
          renotifyIntervalMs: 12 * 3_600_000,
        },
        timeoutMs: 250,
      },
    ];
    expect(endpoints).toEqual(expected);
  });
});

describe('resolveChannels', () => {
  const env = {
    SLACK_WEBHOOK_URL: 'https://hooks.slack.example/T000/B000/XXXX',
    HOOK_URL: 'http://127.0.0.1:9999/hook',
    HOOK_SECRET: 's3cret',
    HEARTBEAT_URL: 'https://hc.example/ping/abc',
  };

  it('resolves env references and literals into delivery channels', async () => {
    // Prepare
    const config = parseConfig(CHANNELS, 'c.yaml');

    // Act
    const channels = await resolveChannels(config, envSecretResolver(env));
    const heartbeat = await resolveHeartbeatUrl(config, envSecretResolver(env));

    // Assess
    const expected: Channel[] = [
      {
        type: 'sns',
        name: 'ops-sns',
        minSeverity: 'warning',
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
      },
      { type: 'slack', name: 'slack-ops', minSeverity: 'info', url: env.SLACK_WEBHOOK_URL },
      { type: 'teams', name: 'teams', minSeverity: 'critical', url: 'https://teams.example/hook' },
      {
        type: 'webhook',
        name: 'pager-hook',
        minSeverity: 'info',
        url: env.HOOK_URL,
        secret: 's3cret',
        signatureHeader: 'X-Certwatch-Signature',
      },
    ];
    expect(channels).toEqual(expected);
    expect(heartbeat).toBe('https://hc.example/ping/abc');
  });

  it('names the field, its position and the variable of every missing environment variable', async () => {
    // Prepare
    const config = parseConfig(CHANNELS, 'c.yaml');

    // Act
    const lines = await resolveError(
      resolveChannels(config, envSecretResolver({ HOOK_URL: env.HOOK_URL, HOOK_SECRET: '' })),
    );

    // Assess
    expect(lines).toEqual([
      'c.yaml:3:42: channels[1].url: environment variable SLACK_WEBHOOK_URL is not set',
      'c.yaml:8:13: channels[3].secret: environment variable HOOK_SECRET is empty',
    ]);
  });

  it('rejects an environment value that is not an acceptable URL, without echoing it', async () => {
    // Prepare
    const config = parseConfig(CHANNELS, 'c.yaml');
    const leaky = { ...env, SLACK_WEBHOOK_URL: 'http://hooks.slack.example/T000/B000/SECRET' };

    // Act
    const lines = await resolveError(resolveChannels(config, envSecretResolver(leaky)));

    // Assess
    expect(lines).toEqual([
      'c.yaml:3:42: channels[1].url: the value of env:SLACK_WEBHOOK_URL: expected an https URL (plain http only for localhost, 127.0.0.1 or [::1])',
    ]);
    expect(lines.join('\n')).not.toContain('SECRET');
  });

  it('keeps secretsmanager references for the AWS resolver, and the env resolver refuses them', async () => {
    // Prepare
    const config = parseConfig(
      `channels:
  - { name: hook, type: webhook, url: "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf#url", secret: "secretsmanager:hook-key" }
endpoints: [{ host: a.example }]
`,
      'c.yaml',
    );
    const seen: Array<[SecretRef, string]> = [];
    const awsLike: SecretResolver = async (ref, field) => {
      seen.push([ref, field]);
      return field.endsWith('.url') ? 'https://hooks.example/from-secret' : 'key-from-secret';
    };

    // Act
    const channels = await resolveChannels(config, awsLike);
    const lines = await resolveError(resolveChannels(config, envSecretResolver({})));

    // Assess
    expect(config.channels[0]).toMatchObject({
      url: {
        kind: 'secretsmanager',
        id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf',
        jsonKey: 'url',
      },
      secret: { kind: 'secretsmanager', id: 'hook-key' },
    });
    expect(seen).toEqual([
      [
        {
          kind: 'secretsmanager',
          id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf',
          jsonKey: 'url',
        },
        'channels[0].url',
      ],
      [{ kind: 'secretsmanager', id: 'hook-key' }, 'channels[0].secret'],
    ]);
    expect(channels).toMatchObject([{ url: 'https://hooks.example/from-secret', secret: 'key-from-secret' }]);
    expect(lines).toEqual([
      'c.yaml:2:39: channels[0].url: secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf#url is only available in AWS (use env:NAME or a literal locally)',
      'c.yaml:2:134: channels[0].secret: secretsmanager:hook-key is only available in AWS (use env:NAME or a literal locally)',
    ]);
  });

  it('reports a resolver failure against the field', async () => {
    // Prepare
    const config = parseConfig(CHANNELS, 'c.yaml');
    const failing: SecretResolver = async (ref) => {
      if (ref.kind === 'env' && ref.name === 'HOOK_URL') throw new Error('AccessDenied');
      return ref.kind === 'literal' ? ref.value : 'https://ok.example/';
    };

    // Act
    const lines = await resolveError(resolveChannels(config, failing));

    // Assess
    expect(lines).toEqual(['c.yaml:7:10: channels[3].url: cannot resolve env:HOOK_URL: AccessDenied']);
  });

  it('returns no heartbeat URL when none is configured', async () => {
    // Prepare
    const config = parseConfig('endpoints: [{ host: a.example }]\n', 'c.yaml');

    // Act
    const heartbeat = await resolveHeartbeatUrl(config, envSecretResolver({}));

    // Assess
    expect(heartbeat).toBeNull();
  });
});
