/**
 * The github and jira channel keys: their defaults, and the one line a bad
 * value gets (file, line, column, field).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lambdas/config';

/** The 1-based column of `token` in the config line `  - <channel>`. */
function col(channel: string, token: string): number {
  return channel.indexOf(token) + '  - '.length + 1;
}

/** The lines of the ConfigError that parsing `channel` (one flow mapping) as c.yaml throws. */
function errorsOf(channel: string): string[] {
  try {
    parseConfig(`channels:\n  - ${channel}\nendpoints: [{ host: a.example }]\n`, 'c.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('github and jira channel keys', () => {
  it('fills in the defaults', () => {
    // Act
    const { channels } = parseConfig(
      [
        'channels:',
        '  - { name: gh, type: github, repo: acme/certs, token: env:T }',
        '  - { name: j, type: jira, baseUrl: "https://acme.atlassian.net/", project: OPS, email: a@acme.example, apiToken: env:J }',
        'endpoints: [{ host: a.example }]',
        '',
      ].join('\n'),
      'c.yaml',
    );
    // Assess
    expect(channels).toEqual([
      {
        name: 'gh',
        type: 'github',
        minSeverity: 'info',
        repo: 'acme/certs',
        token: { kind: 'env', name: 'T' },
        labels: [],
        apiUrl: 'https://api.github.com',
      },
      {
        name: 'j',
        type: 'jira',
        minSeverity: 'info',
        baseUrl: 'https://acme.atlassian.net',
        project: 'OPS',
        issueType: 'Task',
        email: 'a@acme.example',
        apiToken: { kind: 'env', name: 'J' },
        resolveTransition: 'Done',
        labels: [],
      },
    ]);
  });

  it.each([
    {
      name: 'a repository without an owner',
      channel: '{ name: gh, type: github, repo: certs, token: env:T }',
      at: 'certs',
      message: 'channels[0].repo: expected a repository as owner/name, e.g. acme/certificates, got "certs"',
    },
    {
      name: 'a label with a comma',
      channel: '{ name: gh, type: github, repo: a/b, token: env:T, labels: ["x,y"] }',
      at: '["x,y"]',
      message: 'channels[0].labels: expected a list of labels (1-50 characters, no comma), got "x,y"',
    },
    {
      name: 'a plain-http API URL off this machine',
      channel: '{ name: gh, type: github, repo: a/b, token: env:T, apiUrl: "http://github.example" }',
      at: '"http://github.example"',
      message:
        'channels[0].apiUrl: expected an https URL (plain http only for localhost, 127.0.0.1 or [::1]), got "http://github.example"',
    },
    {
      name: 'a lower-case project key',
      channel:
        '{ name: j, type: jira, baseUrl: "https://x.atlassian.net", project: ops, email: a@b.c, apiToken: env:J }',
      at: 'ops,',
      message: 'channels[0].project: expected a Jira project key like OPS, got "ops"',
    },
    {
      name: 'a Jira label with a space',
      channel:
        '{ name: j, type: jira, baseUrl: "https://x.atlassian.net", project: OPS, email: a@b.c, apiToken: env:J, labels: [a b] }',
      at: '[a b]',
      message: 'channels[0].labels: expected a list of labels (1-255 characters, no spaces), got "a b"',
    },
    {
      name: 'a missing API token',
      channel: '{ name: j, type: jira, baseUrl: "https://x.atlassian.net", project: OPS, email: a@b.c }',
      at: '{',
      message:
        'channels[0].apiToken: required: expected a Jira API token (env:NAME, secretsmanager:NAME_OR_ARN[#jsonKey] or a literal)',
    },
  ])('refuses $name in one line', ({ channel, at, message }) => {
    // Act
    const errors = errorsOf(channel);
    // Assess
    expect(errors).toEqual([`c.yaml:2:${col(channel, at)}: ${message}`]);
  });
});
