import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lambdas/config';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { EXTRA_TOPIC_ARN, FULL_CONFIG_YAML, tempDir, writeConfig } from './infra-fixtures';

const tmp = tempDir('certwatch-settings-');
afterAll(() => tmp.cleanup());

/** Loads `yaml` from a file named `name` and maps it; returns the ConfigError message or throws. */
function deployError(name: string, yaml: string): string {
  const path = writeConfig(tmp.dir, name, yaml);
  try {
    settingsFromConfig(loadConfig(path));
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('settingsFromConfig', () => {
  it('maps the config to the stack settings', () => {
    // Prepare
    const path = writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML);
    // Act
    const settings = settingsFromConfig(loadConfig(path));
    // Assess
    expect(settings).toMatchObject({
      schedule: 'cron(0 */6 * * ? *)',
      timeZone: 'Europe/Berlin',
      checkerConcurrency: 4,
      defaultTimeoutMs: 8_000,
      heartbeatUrl: { kind: 'env', name: 'CERTWATCH_HEARTBEAT_URL' },
      snsChannels: [{ name: 'pager', topicArn: EXTRA_TOPIC_ARN, minSeverity: 'critical' }],
      subscriptions: [
        { protocol: 'email', endpoint: 'ops@example.com', minSeverity: 'info' },
        { protocol: 'sms', endpoint: '+15551234567', minSeverity: 'critical' },
        { protocol: 'sms', endpoint: '+15557654321', minSeverity: 'warning' },
      ],
    });
    expect(settings.chatChannels?.map((c) => [c.name, c.type])).toEqual([
      ['ops-slack', 'slack'],
      ['ops-teams', 'teams'],
      ['hook', 'webhook'],
      ['ops-discord', 'discord'],
      ['ops-googlechat', 'googlechat'],
      ['ops-mattermost', 'mattermost'],
      ['oncall', 'pagerduty'],
      ['genie', 'opsgenie'],
      ['renewals', 'github'],
      ['jira', 'jira'],
    ]);
    expect(settings.endpoints.map((e) => e.id)).toEqual([
      'example.com:443',
      'api.example.com:8443',
      '192.0.2.10:443',
    ]);
  });

  it('refuses plain-text webhook URLs, signing keys and heartbeat URLs, each at its position', () => {
    const message = deployError(
      'plain.yaml',
      [
        'heartbeatUrl: https://hc-ping.example.com/abc',
        'channels:',
        '  - name: chat',
        '    type: slack',
        '    url: https://hooks.slack.com/services/T1/B2/plaintext',
        '  - name: hook',
        '    type: webhook',
        '    url: env:HOOK_URL',
        '    secret: plain-signing-key',
        'endpoints:',
        '  - host: example.com',
        '',
      ].join('\n'),
    );
    const lines = message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^.*plain\.yaml:1:\d+: heartbeatUrl: a plain value cannot be deployed .*env:NAME.*secretsmanager:/,
        ),
        expect.stringMatching(/^.*plain\.yaml:5:\d+: channels\[0\]\.url: a plain value cannot be deployed/),
        expect.stringMatching(
          /^.*plain\.yaml:9:\d+: channels\[1\]\.secret: a plain value cannot be deployed/,
        ),
      ]),
    );
    // The refusal never echoes the secret it refuses.
    expect(message).not.toContain('plaintext');
    expect(message).not.toContain('plain-signing-key');
  });

  it('refuses a cron schedule whose interval cannot be derived', () => {
    const message = deployError(
      'cron.yaml',
      'schedule: cron(0 9 L * ? *)\nendpoints:\n  - host: example.com\n',
    );
    // Config validation already refuses it, with the file, line and field.
    expect(message).toMatch(/cron\.yaml:1:11: schedule: L, W and # are not supported/);
  });
});
