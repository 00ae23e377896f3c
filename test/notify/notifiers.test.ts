import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../lambdas/core/model';
import { createNotifier, NotifierConfigError } from '../../lambdas/notify/notifiers';
import { renderSlackMessage } from '../../lambdas/notify/render-slack';
import { renderSnsPublish } from '../../lambdas/notify/render-sns';
import { renderTeamsMessage } from '../../lambdas/notify/render-teams';
import { verifyWebhookSignature } from '../../lambdas/notify/render-webhook';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { hang, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { HOSTILE, makeAlert } from './alert-fixtures';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:certwatch-alerts';
const noWait = { sleep: async () => undefined };

describe('createNotifier (sns)', () => {
  const client = new SNSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  const snsMock = mockClient(client);
  const channel: Channel = { type: 'sns', name: 'ops-email', minSeverity: 'warning', topicArn: TOPIC };

  beforeEach(() => snsMock.reset());
  afterAll(() => {
    snsMock.restore();
    client.destroy();
  });

  it('publishes the rendered message to the topic and reports success', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1', $metadata: { attempts: 1 } });
    const alert = makeAlert({ endpoint: HOSTILE.slackBroadcast });
    // Act
    const result = await createNotifier(channel, { sns: client }).send(alert);
    // Assess
    expect(result).toEqual({ channel: 'ops-email', alertId: alert.id, ok: true, attempts: 1, error: null });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[CRITICAL] <!channel>: expires in 3 days',
      MessageStructure: 'json',
      Message: renderSnsPublish(alert, TOPIC).Message,
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        status: { DataType: 'String', StringValue: 'critical' },
        endpoint: { DataType: 'String', StringValue: '<!channel>' },
        kind: { DataType: 'String', StringValue: 'threshold' },
      },
    });
    // The matcher is a partial match; the input must also be exactly the rendering, nothing added.
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input).toEqual(renderSnsPublish(alert, TOPIC));
  });

  it('reports an SNS error as a failed delivery with the SDK attempt count', async () => {
    // Prepare
    snsMock.on(PublishCommand).rejects(
      new SNSServiceException({
        name: 'AuthorizationErrorException',
        message: 'User is not authorized to perform SNS:Publish',
        $fault: 'client',
        $metadata: { attempts: 3 },
      }),
    );
    const alert = makeAlert();
    // Act
    const result = await createNotifier(channel, { sns: client }).send(alert);
    // Assess
    expect(result).toEqual({
      channel: 'ops-email',
      alertId: alert.id,
      ok: false,
      attempts: 3,
      error: `SNS publish to ${TOPIC} failed: AuthorizationErrorException: User is not authorized to perform SNS:Publish`,
    });
  });

  it('reports a plain network error too, as maybe delivered: SNS may have taken the publish', async () => {
    snsMock.on(PublishCommand).rejects(new Error('socket hang up'));
    const result = await createNotifier(channel, { sns: client }).send(makeAlert());
    expect(result).toMatchObject({
      ok: false,
      attempts: 1,
      error: `SNS publish to ${TOPIC} failed: Error: socket hang up`,
      unknownAttempts: 1,
      maybeDelivered: true,
    });
  });

  it('refuses to wire an sns channel without a client', () => {
    expect(() => createNotifier(channel, {})).toThrow(NotifierConfigError);
  });
});

describe('createNotifier (HTTP channels against a real receiver)', () => {
  let rx: WebhookReceiver;

  beforeEach(async () => {
    rx = await startWebhookReceiver();
  });
  afterEach(async () => {
    await rx.close();
  });

  it('posts the Slack Block Kit message', async () => {
    // Prepare
    const channel: Channel = {
      type: 'slack',
      name: 'slack-ops',
      minSeverity: 'info',
      url: rx.url('/services/T/B/x'),
    };
    const alert = makeAlert({ issuer: HOSTILE.slackLink });
    // Act
    const result = await createNotifier(channel, { http: noWait }).send(alert);
    // Assess
    expect(result).toEqual({ channel: 'slack-ops', alertId: alert.id, ok: true, attempts: 1, error: null });
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]?.path).toBe('/services/T/B/x');
    expect(rx.requests[0]?.json).toEqual(JSON.parse(JSON.stringify(renderSlackMessage(alert))));
    expect(rx.requests[0]?.headers['idempotency-key']).toBe(alert.id);
  });

  it('posts the Teams Workflows message', async () => {
    // Prepare
    const channel: Channel = {
      type: 'teams',
      name: 'teams-ops',
      minSeverity: 'info',
      url: rx.url('/workflows/1'),
    };
    const alert = makeTestAlert(new Date('2026-01-02T03:04:05.000Z'));
    // Act
    const result = await createNotifier(channel, { http: noWait }).send(alert);
    // Assess
    expect(result.ok).toBe(true);
    expect(rx.requests[0]?.json).toEqual(JSON.parse(JSON.stringify(renderTeamsMessage(alert))));
    expect(rx.requests[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(rx.requests[0]?.headers['idempotency-key']).toBe(alert.id);
  });

  it('reports a timed-out Teams delivery as maybe delivered, after one retry with the same key', async () => {
    // Prepare
    await rx.close();
    rx = await startWebhookReceiver({ responder: () => hang() });
    const channel: Channel = { type: 'teams', name: 'teams-ops', minSeverity: 'info', url: rx.url('/wf') };
    const alert = makeAlert();
    // Act
    const result = await createNotifier(channel, { http: { ...noWait, timeoutMs: 200 } }).send(alert);
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 2, unknownAttempts: 2, maybeDelivered: true });
    expect(rx.requests.map((r) => r.headers['idempotency-key'])).toEqual([alert.id, alert.id]);
  });

  it("passes the caller's allowance of unknown outcomes to the HTTP delivery", async () => {
    // Prepare
    await rx.close();
    rx = await startWebhookReceiver({ responder: () => hang() });
    const channel: Channel = { type: 'slack', name: 'slack-ops', minSeverity: 'info', url: rx.url('/s') };
    // Act
    const result = await createNotifier(channel, { http: { ...noWait, timeoutMs: 200 } }).send(makeAlert(), {
      maxUnknownOutcomes: 1,
    });
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, unknownAttempts: 1, maybeDelivered: true });
    expect(rx.requests).toHaveLength(1);
  });

  it('reports the wait a 429 asked for when it is longer than the delivery may wait', async () => {
    // Prepare
    await rx.close();
    rx = await startWebhookReceiver({
      responder: () => ({ status: 429, headers: { 'Retry-After': '120' } }),
    });
    const channel: Channel = { type: 'slack', name: 'slack-ops', minSeverity: 'info', url: rx.url('/s') };
    // Act
    const result = await createNotifier(channel, { http: noWait }).send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, retryAfterMs: 120_000 });
    expect(result.maybeDelivered).toBeUndefined();
  });

  it('posts a signed generic webhook whose signature verifies over the received bytes', async () => {
    // Prepare
    const now = new Date('2026-11-22T08:00:30.000Z');
    const channel: Channel = {
      type: 'webhook',
      name: 'hook',
      minSeverity: 'info',
      url: rx.url('/certwatch'),
      secret: 's3cret',
      signatureHeader: 'X-Certwatch-Signature',
    };
    const alert = makeAlert({ issuer: 'Zertifizierungsstelle \u00C4 \u{1F512}' });
    // Act
    const result = await createNotifier(channel, { http: noWait, now: () => now }).send(alert);
    // Assess
    expect(result.ok).toBe(true);
    const req = rx.requests[0]!;
    expect(req.json).toEqual({ version: 1, alert });
    expect(req.headers['idempotency-key']).toBe(alert.id);
    expect(req.headers['x-certwatch-alert-id']).toBe(alert.id);
    expect(req.headers['x-certwatch-timestamp']).toBe('1795334430');
    expect(verifyWebhookSignature(req.rawBody, req.headers, 's3cret', now.getTime(), 300_000)).toEqual({
      ok: true,
    });
    expect(verifyWebhookSignature(req.rawBody, req.headers, 'wrong', now.getTime(), 300_000)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('sends the same signature and idempotency key on every retry', async () => {
    // Prepare
    await rx.close();
    rx = await startWebhookReceiver({ responder: (_r, n) => (n < 3 ? { status: 503 } : { status: 200 }) });
    const channel: Channel = {
      type: 'webhook',
      name: 'hook',
      minSeverity: 'info',
      url: rx.url(),
      secret: 'k',
      signatureHeader: 'X-Sig',
    };
    // Act
    const result = await createNotifier(channel, { http: noWait }).send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(
      new Set(rx.requests.map((r) => `${r.headers['x-sig']}|${r.headers['idempotency-key']}`)).size,
    ).toBe(1);
  });

  it('reports a Slack rejection with the channel name and the redacted URL', async () => {
    // Prepare
    await rx.close();
    rx = await startWebhookReceiver({ responder: () => ({ status: 404, body: 'no_service' }) });
    const channel: Channel = {
      type: 'slack',
      name: 'slack-ops',
      minSeverity: 'info',
      url: rx.url('/services/T/B/tok3n'),
    };
    // Act
    const result = await createNotifier(channel, { http: noWait }).send(makeAlert());
    // Assess
    expect(result).toEqual({
      channel: 'slack-ops',
      alertId: makeAlert().id,
      ok: false,
      attempts: 1,
      error: `HTTP 404 Not Found from ${rx.url().slice(0, -1)}: no_service`,
    });
  });
});
