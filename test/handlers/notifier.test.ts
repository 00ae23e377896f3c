/**
 * The notifier handler with delivery records: the real handler module, its
 * store on dynalite (embedded DynamoDB on loopback), its channel URLs read from
 * a loopback Secrets Manager stand-in, and two webhook channels at a receiver
 * on 127.0.0.1 that counts what each channel got per alert (Idempotency-Key).
 * SNS delivers at least once and Lambda retries a failed event whole; these
 * tests give the handler the same event again, at once or later, and count.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SNSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert, DeliveryRecord } from '../../lambdas/core/model';
import { renderSnsPublish } from '../../lambdas/notify/render-sns';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../../lambdas/store/dynamodb-state-store';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';
import { type FakeAws, startFakeAws } from '../support/fake-aws';
import { type FaultReceiver, startFaultReceiver } from '../support/fault-receiver';
import { makeAlert } from '../notify/alert-fixtures';

const REGION = 'eu-west-1';
const TOPIC = `arn:aws:sns:${REGION}:123456789012:certwatch-alerts`;
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:certwatch/hooks-AbCdEf`;
const CHANNELS = ['hook-a', 'hook-b'] as const;
const TABLE = 'certwatch-notifier';

type Handler = (
  event: SNSEvent,
  context?: Partial<Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>>,
) => Promise<void>;

/** The SNS event Lambda hands the notifier for one published alert (the `lambda` part of the message). */
function snsEventOf(alert: Alert): SNSEvent {
  const publish = renderSnsPublish(alert, TOPIC);
  const message = JSON.parse(publish.Message ?? '{}') as { lambda: string };
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${TOPIC}:sub`,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: TOPIC,
          Subject: publish.Subject ?? '',
          Message: message.lambda,
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: '',
          SigningCertUrl: '',
          UnsubscribeUrl: '',
          MessageAttributes: {},
        },
      },
    ],
  };
}

/** A Lambda context with `remainingMs` left (the default notifier timeout, 180 s). */
function lambdaContext(remainingMs = 180_000) {
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => remainingMs };
}

/** A fresh alert per test: records are kept per alert id. */
function freshAlert(): Alert {
  return makeAlert({ id: `threshold|shop-${randomUUID()}.example:443|192.0.2.10|3` });
}

/** The values of the DeliveryFailures metric the handler emitted (EMF lines on stdout). */
function deliveryFailureMetrics(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    if (!line.includes('"DeliveryFailures"')) return [];
    return [Number((JSON.parse(line) as { DeliveryFailures: number }).DeliveryFailures)];
  });
}

describe('notifier handler', () => {
  let dynamo: EmbeddedDynamo;
  let clients: DynamoDbClients;
  let store: DynamoDbStateStore;
  let aws: FakeAws;
  let rx: FaultReceiver;
  let handler: Handler;
  let stdout: string[];

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    clients = createDocumentClient(dynamo.endpoint);
    await ensureTable(clients.client, TABLE);
    store = new DynamoDbStateStore({ client: clients.documentClient, tableName: TABLE });
    aws = await startFakeAws();
    rx = await startFaultReceiver();
    aws.secrets.set(SECRET_ARN, JSON.stringify(Object.fromEntries(CHANNELS.map((c) => [c, rx.url(c)]))));
    const env = {
      TABLE_NAME: TABLE,
      HISTORY_TTL_DAYS: '30',
      CHANNELS: JSON.stringify(
        CHANNELS.map((name) => ({
          name,
          type: 'webhook',
          minSeverity: 'info',
          url: { secretArn: SECRET_ARN, jsonKey: name },
          secret: null,
          signatureHeader: 'X-Certwatch-Signature',
        })),
      ),
      LOG_LEVEL: 'ERROR',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'certwatch',
      AWS_SECRET_ACCESS_KEY: 'certwatch-local',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    ({ handler } = (await import('../../lambdas/handlers/notifier')) as { handler: Handler });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    rx.script(() => ({ kind: 'ok' }));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await rx?.close();
    await aws?.close();
    clients?.destroy();
    await dynamo?.close();
  });

  /** Captures what the handler writes to stdout (logs and EMF metrics) from now on. */
  function captureStdout(): void {
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }

  const statuses = async (alertId: string) =>
    Object.fromEntries((await store.listDeliveries(alertId)).map((s) => [s.record.channel, s.record.status]));

  it.each([
    { when: 'at the same instant', staggered: false },
    { when: 'the second while the first is sending', staggered: true },
  ])('given the same SNS event twice $when, sends the alert to each channel once', async ({ staggered }) => {
    // Prepare: each channel takes 300 ms to answer, so both invocations overlap the sends
    const alert = freshAlert();
    const event = snsEventOf(alert);
    rx.script(() => ({ kind: 'late', ms: 300 }));
    let sending!: () => void;
    const firstSending = new Promise<void>((resolve) => {
      sending = resolve;
    });
    rx.onRequest((req) => {
      if (req.alertId === alert.id) sending();
    });

    // Act
    const first = handler(event, lambdaContext());
    if (staggered) await firstSending;
    const results = await Promise.allSettled([first, handler(event, lambdaContext())]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    for (const channel of CHANNELS) {
      expect(rx.count(channel, alert.id)).toMatchObject({ received: 1, accepted: 1 });
    }
    expect(await statuses(alert.id)).toEqual({ 'hook-a': 'delivered', 'hook-b': 'delivered' });
  });

  it('sends nothing when SNS redelivers an event it already delivered', async () => {
    // Prepare
    const alert = freshAlert();
    const event = snsEventOf(alert);
    await handler(event, lambdaContext());
    captureStdout();

    // Act
    await handler(event, lambdaContext());

    // Assess
    for (const channel of CHANNELS) expect(rx.count(channel, alert.id).received).toBe(1);
    expect(deliveryFailureMetrics(stdout)).toEqual([0]);
    expect(await statuses(alert.id)).toEqual({ 'hook-a': 'delivered', 'hook-b': 'delivered' });
  });

  it('fails the invocation while a delivery is owed, and delivers it once on the retry that comes after its retry time', async () => {
    // Prepare: hook-a refuses the first send and asks for 45 s; hook-b accepts
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2030-03-01T10:00:00.000Z');
    vi.setSystemTime(t0);
    const alert = freshAlert();
    const event = snsEventOf(alert);
    rx.script((req) =>
      req.channel === 'hook-a' && req.attempt === 1
        ? { kind: 'status', status: 429, retryAfter: '45' }
        : { kind: 'ok' },
    );
    captureStdout();

    // Act 1: the first invocation
    const first = handler(event, lambdaContext());

    // Assess 1: the failure is logged with the whole alert and counted; the invocation fails for a retry
    await expect(first).rejects.toMatchObject({
      name: 'DeliveryOwedError',
      message: expect.stringContaining(`${alert.id} to hook-a (failed)`),
    });
    expect(deliveryFailureMetrics(stdout)).toEqual([1]);
    const failedLog = stdout.find((l) => l.includes('"alert delivery failed"'));
    expect(failedLog).toContain(alert.id);
    expect(await statuses(alert.id)).toEqual({ 'hook-a': 'failed', 'hook-b': 'delivered' });

    // Act 2: a duplicate of the event 10 s later, before the retry time hook-a asked for
    vi.setSystemTime(t0 + 10_000);
    const early = handler(event, lambdaContext());

    // Assess 2: nothing sent, still owed
    await expect(early).rejects.toMatchObject({
      message: expect.stringContaining(`${alert.id} to hook-a (waiting)`),
    });
    expect(rx.count('hook-a', alert.id).received).toBe(1);

    // Act 3: Lambda's first retry of the event, a minute later
    vi.setSystemTime(t0 + 60_000);
    await handler(event, lambdaContext());

    // Assess 3: each channel accepted the alert exactly once
    expect(rx.count('hook-a', alert.id)).toMatchObject({ received: 2, refused: 1, accepted: 1 });
    expect(rx.count('hook-b', alert.id)).toMatchObject({ received: 1, accepted: 1 });
    expect(await statuses(alert.id)).toEqual({ 'hook-a': 'delivered', 'hook-b': 'delivered' });
  });

  it('takes over a claim left by an invocation that died mid-send once its lease passes, and sends once', async () => {
    // Prepare: hook-a is claimed by a vanished invocation whose lease ends in 1.5 s
    const alert = freshAlert();
    const now = Date.now();
    const dead: DeliveryRecord = {
      alertId: alert.id,
      channel: 'hook-a',
      status: 'sending',
      holder: 'notifier dead',
      leaseUntil: new Date(now + 1_500).toISOString(),
      retryAt: null,
      sends: 1,
      unknownOutcomes: 0,
      lastError: null,
      updatedAt: new Date(now).toISOString(),
    };
    expect(await store.saveDelivery(dead, null)).toBe('saved');

    // Act
    await handler(snsEventOf(alert), lambdaContext());

    // Assess: resent once, with the same Idempotency-Key, and counted as an unknown outcome
    expect(rx.count('hook-a', alert.id).received).toBe(1);
    expect(rx.count('hook-b', alert.id).received).toBe(1);
    const record = await store.getDelivery(alert.id, 'hook-a');
    expect(record?.record).toMatchObject({ status: 'delivered', sends: 2, unknownOutcomes: 1 });
  });

  it('leaves a held delivery to the retry when too little time is left to wait for its holder', async () => {
    // Prepare: hook-a is held for another minute; the invocation has 60 s left, less than a send needs
    const alert = freshAlert();
    const now = Date.now();
    const held: DeliveryRecord = {
      alertId: alert.id,
      channel: 'hook-a',
      status: 'sending',
      holder: 'notifier other',
      leaseUntil: new Date(now + 60_000).toISOString(),
      retryAt: null,
      sends: 1,
      unknownOutcomes: 0,
      lastError: null,
      updatedAt: new Date(now).toISOString(),
    };
    expect(await store.saveDelivery(held, null)).toBe('saved');

    // Act
    const run = handler(snsEventOf(alert), lambdaContext(60_000));

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'DeliveryOwedError',
      message: expect.stringContaining(`${alert.id} to hook-a (held)`),
    });
    expect(rx.count('hook-a', alert.id).received).toBe(0);
    expect(rx.count('hook-b', alert.id).received).toBe(1);
    expect((await store.getDelivery(alert.id, 'hook-a'))?.record.holder).toBe('notifier other');
  });
});
