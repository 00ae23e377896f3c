import 'aws-sdk-client-mock-vitest/extend';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFIER_FACTORIES } from '../../lambdas/channels/notifier-registry';
import {
  CHANNEL_TYPES,
  type ChannelType,
  deliveredByNotifier,
  localOnlyReason,
  secretFields,
  withSecretValues,
} from '../../lambdas/channels/registry';
import { ConfigError, envSecretResolver, parseConfig, resolveChannels } from '../../lambdas/config';
import type { Channel } from '../../lambdas/core/model';
import { createNotifier, NotifierConfigError } from '../../lambdas/notify/notifiers';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { fakeGitHub, fakeJira } from '../support/ticket-vendors';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { type SmtpReceiver, startSmtpReceiver } from './smtp-receiver';
import { SMTP_IN_AWS } from '../../lambdas/channels/smtp-channel';
import { nodemailerTransport } from '../../lambdas/channels/smtp-transport';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:registry-pager';

/** Where the samples' receivers listen. */
interface Receivers {
  /** The HTTP receiver's base URL, ending in `/`. */
  readonly http: string;
  /** The SMTP receiver's port on 127.0.0.1. */
  readonly smtpPort: number;
}

/**
 * One channel entry per registered type, with the environment its `env:`
 * references read (pointing at the local receivers). Keyed by type, so a type
 * added to the registry without a sample here does not compile.
 */
const SAMPLES = {
  sns: () => ({ yaml: `{ name: a-sns, type: sns, topicArn: ${TOPIC} }`, env: {} }),
  slack: (rx) => ({
    yaml: '{ name: a-slack, type: slack, url: env:A_SLACK_URL }',
    env: { A_SLACK_URL: `${rx.http}slack` },
  }),
  teams: (rx) => ({
    yaml: '{ name: a-teams, type: teams, url: env:A_TEAMS_URL, minSeverity: critical }',
    env: { A_TEAMS_URL: `${rx.http}teams` },
  }),
  webhook: (rx) => ({
    yaml: '{ name: a-webhook, type: webhook, url: env:A_HOOK_URL, secret: env:A_HOOK_KEY }',
    env: { A_HOOK_URL: `${rx.http}hook`, A_HOOK_KEY: 'k3y' },
  }),
  pagerduty: (rx) => ({
    yaml: `{ name: a-pagerduty, type: pagerduty, routingKey: env:A_PD_KEY, url: '${rx.http}pd' }`,
    env: { A_PD_KEY: 'R0UT1NGKEY' },
  }),
  opsgenie: (rx) => ({
    yaml: `{ name: a-opsgenie, type: opsgenie, apiKey: env:A_OG_KEY, url: '${rx.http}og' }`,
    env: { A_OG_KEY: 'gen1e-key' },
  }),
  discord: (rx) => ({
    yaml: '{ name: a-discord, type: discord, url: env:A_DISCORD_URL }',
    env: { A_DISCORD_URL: `${rx.http}api/webhooks/1/t0k3n` },
  }),
  googlechat: (rx) => ({
    yaml: '{ name: a-googlechat, type: googlechat, url: env:A_GCHAT_URL }',
    env: { A_GCHAT_URL: `${rx.http}v1/spaces/S/messages?key=k&token=t` },
  }),
  mattermost: (rx) => ({
    yaml: '{ name: a-mattermost, type: mattermost, url: env:A_MATTERMOST_URL, minSeverity: warning }',
    env: { A_MATTERMOST_URL: `${rx.http}hooks/xyz` },
  }),
  smtp: (rx) => ({
    yaml:
      `{ name: a-smtp, type: smtp, host: 127.0.0.1, port: ${rx.smtpPort}, tls: none, ` +
      'username: env:A_SMTP_USER, password: env:A_SMTP_PASSWORD, from: certwatch@example.com, to: [ops@example.com] }',
    env: { A_SMTP_USER: 'certwatch', A_SMTP_PASSWORD: 'pa55' },
  }),
  github: (rx) => ({
    yaml: `{ name: a-github, type: github, repo: acme/certs, token: env:A_GH_TOKEN, labels: [tls], apiUrl: '${rx.http}gh' }`,
    env: { A_GH_TOKEN: 'ghp_t0k3n' },
  }),
  jira: (rx) => ({
    yaml:
      `{ name: a-jira, type: jira, baseUrl: '${rx.http}jira', project: OPS, email: certwatch@example.com, ` +
      'apiToken: env:A_JIRA_TOKEN }',
    env: { A_JIRA_TOKEN: 'j1ra-t0k3n' },
  }),
} satisfies Record<ChannelType, (rx: Receivers) => { yaml: string; env: Record<string, string> }>;

const TYPES = Object.keys(CHANNEL_TYPES) as ChannelType[];

/** A config with one channel of each of `types`, and the environment their references read. */
function configOf(
  types: readonly ChannelType[],
  rx: Receivers,
): { yaml: string; env: Record<string, string> } {
  const samples = types.map((type) => SAMPLES[type](rx));
  return {
    env: Object.assign({}, ...samples.map((s) => s.env)),
    yaml: `channels:\n${samples.map((s) => `  - ${s.yaml}\n`).join('')}endpoints:\n  - host: example.com\n`,
  };
}

describe('CHANNEL_TYPES (the channel registry)', () => {
  let rx: WebhookReceiver;
  let smtp: SmtpReceiver;
  let receivers: Receivers;
  let env: Record<string, string>;
  let yaml: string;
  const sns = new SNSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  const snsMock = mockClient(sns);

  beforeAll(async () => {
    // Prepare: a config with one channel of every registered type, its secrets in the environment
    // The ticket vendors answer with what they keep; every other receiver says 200.
    const github = fakeGitHub({ prefix: '/gh', repo: 'acme/certs', token: 'ghp_t0k3n' });
    const jira = fakeJira({
      prefix: '/jira',
      project: 'OPS',
      email: 'certwatch@example.com',
      token: 'j1ra-t0k3n',
    });
    rx = await startWebhookReceiver({
      responder: (req) => github.respond(req) ?? jira.respond(req) ?? { status: 200, body: 'ok' },
    });
    smtp = await startSmtpReceiver({ users: { certwatch: 'pa55' } });
    receivers = { http: rx.url(), smtpPort: smtp.port };
    ({ env, yaml } = configOf(TYPES, receivers));
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1', $metadata: { attempts: 1 } });
  });
  afterAll(async () => {
    await rx.close();
    await smtp.close();
    snsMock.restore();
    sns.destroy();
  });

  it('lists every descriptor under its own type, with a notifier factory for each', () => {
    expect(TYPES).toEqual([
      'sns',
      'slack',
      'teams',
      'webhook',
      'pagerduty',
      'opsgenie',
      'discord',
      'googlechat',
      'mattermost',
      'smtp',
      'github',
      'jira',
    ]);
    for (const type of TYPES) expect(CHANNEL_TYPES[type].type).toBe(type);
    expect(Object.keys(NOTIFIER_FACTORIES)).toEqual(TYPES);
  });

  it('parses every type from the config, its secrets as references', () => {
    // Act
    const config = parseConfig(yaml, 'registry.yaml');
    // Assess
    expect(config.channels.map((c) => c.type)).toEqual(TYPES);
    for (const [i, channel] of config.channels.entries()) {
      for (const secret of secretFields(channel)) {
        expect(secret.value).toMatchObject({ kind: 'env' });
        expect(config.locations[`channels[${i}].${secret.field}`]).toEqual({
          line: i + 2,
          column: expect.any(Number),
        });
      }
    }
  });

  it('resolves every type: each secret field holds its value, every other field is kept', async () => {
    // Prepare
    const config = parseConfig(yaml, 'registry.yaml');
    // Act
    const channels = await resolveChannels(config, envSecretResolver(env));
    // Assess
    expect(channels.map((c) => c.type)).toEqual(TYPES);
    for (const [i, channel] of channels.entries()) {
      const configured = config.channels[i]!;
      const values = Object.fromEntries(
        secretFields(configured).map((s) => [
          s.field,
          s.value === null ? null : env[(s.value as { name: string }).name],
        ]),
      );
      expect(channel).toEqual(withSecretValues(configured, values));
      expect(secretFields(channel).every((s) => typeof s.value === 'string')).toBe(true);
    }
  });

  it('makes a notifier for every type that delivers a test alert', async () => {
    // Prepare
    const channels: Channel[] = await resolveChannels(
      parseConfig(yaml, 'registry.yaml'),
      envSecretResolver(env),
    );
    const alert = makeTestAlert(new Date('2026-03-04T05:06:07.000Z'));
    // Act
    const results = await Promise.all(
      channels.map((channel) =>
        createNotifier(channel, {
          sns,
          smtp: nodemailerTransport,
          http: { sleep: async () => undefined },
        }).send(alert),
      ),
    );
    // Assess
    expect(results.map((r) => [r.channel, r.ok])).toEqual(channels.map((c) => [c.name, true]));
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC });
    // The incident channels open and close a test incident: two requests each; the ticket
    // channels look for an open one, open it, comment and close it.
    expect(rx.requests.map((r) => r.path).sort()).toEqual([
      '/api/webhooks/1/t0k3n?wait=true',
      '/gh/repos/acme/certs/issues',
      '/gh/repos/acme/certs/issues/1',
      '/gh/repos/acme/certs/issues/1/comments',
      '/gh/repos/acme/certs/issues?state=open&labels=certwatch&per_page=50&page=1',
      '/hook',
      '/hooks/xyz',
      '/jira/rest/api/3/issue',
      '/jira/rest/api/3/issue/OPS-1/comment',
      '/jira/rest/api/3/issue/OPS-1/transitions',
      '/jira/rest/api/3/issue/OPS-1/transitions',
      '/jira/rest/api/3/search/jql',
      '/og/v2/alerts',
      '/og/v2/alerts/certwatch%3Atest/close?identifierType=alias',
      '/pd',
      '/pd',
      '/slack',
      '/teams',
      '/v1/spaces/S/messages?key=k&token=t',
    ]);
    expect(smtp.mails.map((m) => [m.from, m.to, m.user])).toEqual([
      ['certwatch@example.com', ['ops@example.com'], 'certwatch'],
    ]);
  });

  it('gives the stack every type it delivers: the notifier those with secrets, the checker the rest', () => {
    // Prepare
    const deployable = TYPES.filter((type) => CHANNEL_TYPES[type].stack.deliveredBy !== 'local');
    // Act
    const settings = settingsFromConfig(parseConfig(configOf(deployable, receivers).yaml, 'registry.yaml'));
    // Assess
    const notifierTypes = TYPES.filter((type) => CHANNEL_TYPES[type].stack.deliveredBy === 'notifier');
    expect(settings.chatChannels?.map((c) => c.type)).toEqual(notifierTypes);
    expect(settings.snsChannels).toEqual([{ name: 'a-sns', topicArn: TOPIC, minSeverity: 'info' }]);
    expect([...(settings.chatChannels ?? []), ...(settings.snsChannels ?? [])]).toHaveLength(
      deployable.length,
    );
    for (const type of TYPES) {
      if (Object.keys(CHANNEL_TYPES[type].secrets).length > 0) {
        expect(CHANNEL_TYPES[type].stack.deliveredBy).not.toBe('checker');
      }
    }
    expect(settings.chatChannels?.every((c) => deliveredByNotifier(c))).toBe(true);
  });

  it('refuses, in one line, a type only the local CLI delivers (smtp)', () => {
    // Prepare
    expect(TYPES.filter((type) => CHANNEL_TYPES[type].stack.deliveredBy === 'local')).toEqual(['smtp']);
    const config = parseConfig(configOf(['slack', 'smtp'], receivers).yaml, 'registry.yaml');
    // Act
    let error: unknown;
    try {
      settingsFromConfig(config);
    } catch (e) {
      error = e;
    }
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`registry.yaml: channels[1].type: ${SMTP_IN_AWS}`);
    expect(SMTP_IN_AWS).toBe(
      'smtp channels are for the local CLI; in AWS use e-mail subscriptions (subscriptions: - email: ADDRESS) or an sns channel',
    );
    expect(config.channels.map((c) => localOnlyReason(c))).toEqual([null, SMTP_IN_AWS]);
  });
});

describe('notifier-registry (the runtime half)', () => {
  it.each([
    ['a type no module declares', 'carrier-pigeon'],
    ['a name on Object.prototype', 'constructor'],
  ])('refuses %s, which only untyped input can hold', (_, type) => {
    // Prepare
    const channel = {
      type,
      name: 'odd',
      minSeverity: 'info',
      url: 'https://x.example/',
    } as unknown as Channel;
    // Act
    const create = () => createNotifier(channel, {});
    // Assess
    expect(create).toThrow(NotifierConfigError);
    expect(create).toThrow(`channel 'odd' has unsupported type '${type}'`);
  });

  it('keeps the config schema out of the checker Lambda, which only publishes', () => {
    // Act: bundle the checker as the stack does, keeping only the dependency graph
    const result = buildSync({
      entryPoints: [join(__dirname, '../../lambdas/handlers/checker.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      write: false,
      metafile: true,
      logLevel: 'silent',
      outfile: 'checker.js',
    });
    // Assess
    const inputs = Object.keys(result.metafile.inputs);
    // It publishes to SNS only: the chat renderers and the mail library are not even read.
    expect(inputs).toContain('lambdas/channels/sns-notifier.ts');
    expect(inputs.filter((i) => /render-(slack|teams|discord|google-chat|mattermost)/.test(i))).toEqual([]);
    expect(inputs.filter((i) => /node_modules\/nodemailer\/|smtp-/.test(i))).toEqual([]);
    expect(inputs.filter((i) => /node_modules\/(zod|yaml)\//.test(i))).toEqual([]);
    expect(
      inputs.filter((i) => i.startsWith('lambdas/config/') || i === 'lambdas/channels/registry.ts'),
    ).toEqual([]);
  });

  it('keeps nodemailer out of the Lambdas that create notifiers: only the CLI hands smtp a transport', () => {
    for (const handler of ['notifier', 'watchdog']) {
      // Act: bundle the handler as the stack does
      const result = buildSync({
        entryPoints: [join(__dirname, `../../lambdas/handlers/${handler}.ts`)],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        external: ['@aws-sdk/*'],
        write: false,
        metafile: true,
        logLevel: 'silent',
        outfile: `${handler}.js`,
      });
      // Assess: the smtp notifier is there (the registry lists it), the mail library is not
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs).toContain('lambdas/channels/smtp-notifier.ts');
      expect(
        inputs.filter((i) => /node_modules\/nodemailer\/|smtp-(transport|delivery|message)/.test(i)),
      ).toEqual([]);
    }
  });
});
