import { describe, expect, it } from 'vitest';
import { isLoopbackHost, smtpSettingProblems } from '../../lambdas/channels/smtp-notifier';
import { ConfigError, envSecretResolver, parseConfig, resolveChannels } from '../../lambdas/config';

function configWith(channel: string): string {
  return `channels:\n  - { name: mail, type: smtp, ${channel} }\nendpoints:\n  - host: example.com\n`;
}

function configError(channel: string): string {
  try {
    parseConfig(configWith(channel), 'mail.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('smtpChannel (the smtp channel type)', () => {
  it.each([
    ['starttls on 587 by default', 'host: smtp.example.com', { port: 587, tls: 'starttls' }],
    [
      'implicit TLS when the port is 465',
      'host: smtp.example.com, port: 465',
      { port: 465, tls: 'implicit' },
    ],
    ['the port of implicit TLS', 'host: smtp.example.com, tls: implicit', { port: 465, tls: 'implicit' }],
    ['starttls on another port', 'host: smtp.example.com, port: 2525', { port: 2525, tls: 'starttls' }],
    ['port 25 for a loopback relay without TLS', 'host: 127.0.0.1, tls: none', { port: 25, tls: 'none' }],
    ['an IPv6 relay', 'host: "[::1]", port: 2525, tls: none', { host: '[::1]', port: 2525, tls: 'none' }],
  ])('configures %s', (_name, settings, expected) => {
    // Act
    const config = parseConfig(
      configWith(`${settings}, from: cw@example.com, to: [ops@example.com]`),
      'mail.yaml',
    );
    // Assess
    expect(config.channels[0]).toEqual({
      name: 'mail',
      type: 'smtp',
      minSeverity: 'info',
      host: expect.any(String),
      username: null,
      password: null,
      from: 'cw@example.com',
      to: ['ops@example.com'],
      ...expected,
    });
  });

  it('reads the login from the environment, as secrets', async () => {
    // Prepare
    const config = parseConfig(
      configWith(
        'host: smtp.example.com, username: env:SMTP_USER, password: env:SMTP_PASSWORD, from: cw@example.com, to: [a@example.com, b@example.com]',
      ),
      'mail.yaml',
    );
    // Act
    const [channel] = await resolveChannels(
      config,
      envSecretResolver({ SMTP_USER: 'cw', SMTP_PASSWORD: 'pw' }),
    );
    // Assess
    expect(config.channels[0]).toMatchObject({
      username: { kind: 'env', name: 'SMTP_USER' },
      password: { kind: 'env', name: 'SMTP_PASSWORD' },
    });
    expect(config.locations['channels[0].password']).toEqual({ line: 2, column: expect.any(Number) });
    expect(channel).toMatchObject({ username: 'cw', password: 'pw', to: ['a@example.com', 'b@example.com'] });
  });

  it.each([
    [
      'a missing host',
      'from: cw@example.com, to: [ops@example.com]',
      'channels[0].host: required: expected a mail server host name or IP address',
    ],
    [
      'a URL as host',
      'host: "smtp://x", from: cw@example.com, to: [ops@example.com]',
      'channels[0].host: expected a mail server host name or IP address, got "smtp://x"',
    ],
    [
      'an unknown tls mode',
      'host: h.example, tls: ssl, from: cw@example.com, to: [ops@example.com]',
      'channels[0].tls: expected starttls, implicit or none, got "ssl"',
    ],
    [
      'a port out of range',
      'host: h.example, port: 0, from: cw@example.com, to: [ops@example.com]',
      'channels[0].port: expected an integer 1-65535, got 0',
    ],
    [
      'a display name as sender',
      'host: h.example, from: "Certwatch <cw@example.com>", to: [ops@example.com]',
      'channels[0].from: expected an e-mail address like ops@example.com, got "Certwatch <cw@example.com>"',
    ],
    [
      'a single recipient instead of a list',
      'host: h.example, from: cw@example.com, to: ops@example.com',
      'channels[0].to: expected a list of e-mail addresses like [ops@example.com], got "ops@example.com"',
    ],
    [
      'an empty list',
      'host: h.example, from: cw@example.com, to: []',
      'channels[0].to: expected a list of e-mail addresses like [ops@example.com], got a list',
    ],
    [
      'a header smuggled into a recipient',
      'host: h.example, from: cw@example.com, to: ["ops@example.com\\r\\nBcc: x@evil.example"]',
      'channels[0].to: expected a list of e-mail addresses like [ops@example.com] (each one a plain address), got "ops@example.com\\r\\nBcc: x@evil.example"',
    ],
  ])('refuses %s in one line', (_name, settings, message) => {
    // Act
    const error = configError(settings);
    // Assess
    expect(error).toMatch(
      new RegExp(`^mail\\.yaml:2:\\d+: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });
});

describe('smtpSettingProblems', () => {
  it.each([
    [
      'nothing for STARTTLS to a remote server with a login',
      { host: 'smtp.example.com', tls: 'starttls', username: 'u', password: 'p' },
      [],
    ],
    [
      'nothing for a loopback relay without TLS or login',
      { host: 'localhost', tls: 'none', username: null, password: null },
      [],
    ],
    [
      'TLS off for a remote server',
      { host: '192.0.2.25', tls: 'none', username: null, password: null },
      ['tls'],
    ],
    [
      'a password without a user name',
      { host: 'smtp.example.com', tls: 'implicit', username: null, password: 'p' },
      ['username'],
    ],
    [
      'both at once',
      { host: 'mail.example.com', tls: 'none', username: 'u', password: null },
      ['tls', 'password'],
    ],
  ] as const)('finds %s', (_name, channel, fields) => {
    expect(smtpSettingProblems(channel).map((p) => p.field)).toEqual(fields);
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost.example.com', false],
    ['128.0.0.1', false],
    ['::2', false],
  ])('isLoopbackHost(%s) is %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
