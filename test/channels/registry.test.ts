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
  secretFields,
  withSecretValues,
} from '../../lambdas/channels/registry';
import { envSecretResolver, parseConfig, resolveChannels } from '../../lambdas/config';
import type { Channel } from '../../lambdas/core/model';
import { createNotifier, NotifierConfigError } from '../../lambdas/notify/notifiers';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:registry-pager';

/**
 * One channel entry per registered type, with the environment its `env:`
 * references read (pointing at `receiverUrl`). Keyed by type, so a type added
 * to the registry without a sample here does not compile.
 */
const SAMPLES = {
  sns: () => ({ yaml: `{ name: a-sns, type: sns, topicArn: ${TOPIC} }`, env: {} }),
  slack: (receiverUrl) => ({
    yaml: '{ name: a-slack, type: slack, url: env:A_SLACK_URL }',
    env: { A_SLACK_URL: `${receiverUrl}slack` },
  }),
  teams: (receiverUrl) => ({
    yaml: '{ name: a-teams, type: teams, url: env:A_TEAMS_URL, minSeverity: critical }',
    env: { A_TEAMS_URL: `${receiverUrl}teams` },
  }),
  webhook: (receiverUrl) => ({
    yaml: '{ name: a-webhook, type: webhook, url: env:A_HOOK_URL, secret: env:A_HOOK_KEY }',
    env: { A_HOOK_URL: `${receiverUrl}hook`, A_HOOK_KEY: 'k3y' },
  }),
  pagerduty: (receiverUrl) => ({
    yaml: `{ name: a-pagerduty, type: pagerduty, routingKey: env:A_PD_KEY, url: '${receiverUrl}pd' }`,
    env: { A_PD_KEY: 'R0UT1NGKEY' },
  }),
  opsgenie: (receiverUrl) => ({
    yaml: `{ name: a-opsgenie, type: opsgenie, apiKey: env:A_OG_KEY, url: '${receiverUrl}og' }`,
    env: { A_OG_KEY: 'gen1e-key' },
  }),
} satisfies Record<ChannelType, (receiverUrl: string) => { yaml: string; env: Record<string, string> }>;

const TYPES = Object.keys(CHANNEL_TYPES) as ChannelType[];

describe('CHANNEL_TYPES (the channel registry)', () => {
  let rx: WebhookReceiver;
  let env: Record<string, string>;
  let yaml: string;
  const sns = new SNSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  const snsMock = mockClient(sns);

  beforeAll(async () => {
    // Prepare: a config with one channel of every registered type, its secrets in the environment
    rx = await startWebhookReceiver();
    const samples = TYPES.map((type) => SAMPLES[type](rx.url()));
    env = Object.assign({}, ...samples.map((s) => s.env));
    yaml = `channels:\n${samples.map((s) => `  - ${s.yaml}\n`).join('')}endpoints:\n  - host: example.com\n`;
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1', $metadata: { attempts: 1 } });
  });
  afterAll(async () => {
    await rx.close();
    snsMock.restore();
    sns.destroy();
  });

  it('lists every descriptor under its own type, with a notifier factory for each', () => {
    expect(TYPES).toEqual(['sns', 'slack', 'teams', 'webhook', 'pagerduty', 'opsgenie']);
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
        createNotifier(channel, { sns, http: { sleep: async () => undefined } }).send(alert),
      ),
    );
    // Assess
    expect(results.map((r) => [r.channel, r.ok])).toEqual(channels.map((c) => [c.name, true]));
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC });
    // The incident channels open and close a test incident: two requests each.
    expect(rx.requests.map((r) => r.path).sort()).toEqual([
      '/hook',
      '/og/v2/alerts',
      '/og/v2/alerts/certwatch%3Atest/close?identifierType=alias',
      '/pd',
      '/pd',
      '/slack',
      '/teams',
    ]);
  });

  it('gives the stack every type: the notifier delivers the types with secrets, the checker publishes the rest', () => {
    // Act
    const settings = settingsFromConfig(parseConfig(yaml, 'registry.yaml'));
    // Assess
    const notifierTypes = TYPES.filter((type) => CHANNEL_TYPES[type].stack.deliveredBy === 'notifier');
    expect(settings.chatChannels?.map((c) => c.type)).toEqual(notifierTypes);
    expect(settings.snsChannels).toEqual([{ name: 'a-sns', topicArn: TOPIC, minSeverity: 'info' }]);
    expect([...(settings.chatChannels ?? []), ...(settings.snsChannels ?? [])]).toHaveLength(TYPES.length);
    for (const type of TYPES) {
      if (Object.keys(CHANNEL_TYPES[type].secrets).length > 0) expect(notifierTypes).toContain(type);
    }
    expect(settings.chatChannels?.every((c) => deliveredByNotifier(c))).toBe(true);
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
    // It publishes to SNS only: the chat renderers are not even read.
    expect(inputs).toContain('lambdas/channels/sns-notifier.ts');
    expect(inputs.filter((i) => /render-(slack|teams)/.test(i))).toEqual([]);
    expect(inputs.filter((i) => /node_modules\/(zod|yaml)\//.test(i))).toEqual([]);
    expect(
      inputs.filter((i) => i.startsWith('lambdas/config/') || i === 'lambdas/channels/registry.ts'),
    ).toEqual([]);
  });
});
