/**
 * The notifier Lambda with PagerDuty and Opsgenie channels as the stack hands
 * them over (secret references in CHANNELS, read from Secrets Manager at cold
 * start): it decodes them from the registry's descriptors, reads exactly their
 * secrets, and delivers the SNS-carried alert to both receivers.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderSnsPublish } from '../../lambdas/notify/render-sns';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { ensureTable } from '../../lambdas/store/dynamodb-state-store';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';
import { makeAlert } from '../notify/alert-fixtures';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const PD_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certwatch/pagerduty-AbCdEf';
const OG_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certwatch/opsgenie-AbCdEf';

describe('notifier Lambda (pagerduty, opsgenie)', () => {
  let rx: WebhookReceiver;
  let dynamo: EmbeddedDynamo;
  let clients: DynamoDbClients;
  const secrets = mockClient(SecretsManagerClient);

  beforeAll(async () => {
    rx = await startWebhookReceiver({ responder: () => ({ status: 202, body: '{}' }) });
    // The notifier records each channel's delivery in the state table.
    dynamo = await startEmbeddedDynamo();
    clients = createDocumentClient(dynamo.endpoint);
    await ensureTable(clients.client, 'certwatch-incidents');
    secrets
      .on(GetSecretValueCommand, { SecretId: PD_SECRET })
      .resolves({ SecretString: '{"routingKey":"R0UT1NGKEY"}' });
    secrets.on(GetSecretValueCommand, { SecretId: OG_SECRET }).resolves({ SecretString: 'gen1e-key\n' });
    vi.resetModules();
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('TABLE_NAME', 'certwatch-incidents');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'certwatch');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'certwatch-local');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv(
      'CHANNELS',
      JSON.stringify([
        {
          name: 'oncall',
          type: 'pagerduty',
          minSeverity: 'info',
          routingKey: { secretArn: PD_SECRET, jsonKey: 'routingKey' },
          url: rx.url('/pd/v2/enqueue'),
        },
        {
          name: 'genie',
          type: 'opsgenie',
          minSeverity: 'info',
          apiKey: { secretArn: OG_SECRET },
          url: rx.url('/og'),
        },
      ]),
    );
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    vi.resetModules();
    secrets.restore();
    clients?.destroy();
    await dynamo?.close();
    await rx.close();
  });

  it('reads each channel secret and delivers the alert the checker published to both vendors', async () => {
    // Prepare: the `lambda` part of what the checker publishes, as SNS hands it to the notifier
    const { handler } = await import('../../lambdas/handlers/notifier');
    const alert = makeAlert();
    const published = JSON.parse(
      renderSnsPublish(alert, 'arn:aws:sns:eu-west-1:123456789012:alerts').Message as string,
    );
    const event = {
      Records: [{ Sns: { MessageId: 'm-1', Message: published.lambda } }],
    } as unknown as SNSEvent;
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    // Act
    try {
      await handler(event);
    } finally {
      stdout.mockRestore();
    }
    // Assess
    expect(
      secrets
        .commandCalls(GetSecretValueCommand)
        .map((c) => c.args[0].input.SecretId)
        .sort(),
    ).toEqual([OG_SECRET, PD_SECRET]);
    const byPath = Object.fromEntries(rx.requests.map((r) => [r.path, r]));
    expect(byPath['/pd/v2/enqueue']?.json).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: 'certwatch:example.com:443|192.0.2.10:expiry',
    });
    expect(byPath['/og/v2/alerts']?.headers.authorization).toBe('GenieKey gen1e-key');
    expect(byPath['/og/v2/alerts']?.json).toMatchObject({
      alias: 'certwatch:example.com:443|192.0.2.10:expiry',
      priority: 'P1',
    });
    expect(rx.requests).toHaveLength(2);
  });
});
