import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PagerDutyChannel } from '../../lambdas/channels/pagerduty-channel';
import { PAGERDUTY_EVENTS_URLS } from '../../lambdas/channels/pagerduty-channel';
import { envSecretResolver, parseConfig, resolveChannels } from '../../lambdas/config';
import type { Alert } from '../../lambdas/core/model';
import { createNotifier } from '../../lambdas/notify/notifiers';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, makeAlert } from '../notify/alert-fixtures';
import { unsafeStrings } from '../notify/incident-fixtures';
import { type Responder, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/** PagerDuty's documented answer to an accepted event. */
const ACCEPTED: Responder = (req) => ({
  status: 202,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    status: 'success',
    message: 'Event processed',
    dedup_key: (req.json as { dedup_key: string }).dedup_key,
  }),
});

const noSleep = { sleep: async () => undefined };

/** Parses one pagerduty channel entry and resolves it as the CLI does. */
async function channelFrom(entry: string, env: Record<string, string> = {}): Promise<PagerDutyChannel> {
  const config = parseConfig(`channels:\n  - ${entry}\nendpoints: [{ host: a.example }]\n`, 'c.yaml');
  const [channel] = await resolveChannels(config, envSecretResolver({ PD_KEY: 'R0UT1NGKEY', ...env }));
  return channel as PagerDutyChannel;
}

describe('pagerduty channel (config)', () => {
  it.each([
    ['no region: the US service', '', PAGERDUTY_EVENTS_URLS.us],
    ['region eu', ', region: eu', 'https://events.eu.pagerduty.com/v2/enqueue'],
    [
      'a url, which wins over the region',
      ', region: eu, url: "http://127.0.0.1:8080/v2/enqueue"',
      'http://127.0.0.1:8080/v2/enqueue',
    ],
  ])('sends to %s', async (_, extra, url) => {
    // Act
    const channel = await channelFrom(`{ name: pd, type: pagerduty, routingKey: env:PD_KEY${extra} }`);
    // Assess
    expect(channel).toEqual({
      name: 'pd',
      type: 'pagerduty',
      minSeverity: 'info',
      routingKey: 'R0UT1NGKEY',
      url,
    });
  });

  it.each([
    [
      'an unknown region',
      'region: mars',
      'c.yaml:2:66: channels[0].region: expected one of us, eu, got "mars"',
    ],
    [
      'plain http off loopback',
      'url: "http://events.example/"',
      'c.yaml:2:63: channels[0].url: expected an https URL (plain http only for localhost, 127.0.0.1 or [::1]), got "http://events.example/"',
    ],
  ])('refuses %s in one line', (_, extra, message) => {
    // Act / Assess
    expect(() =>
      parseConfig(
        `channels:\n  - { name: pd, type: pagerduty, routingKey: env:PD_KEY, ${extra} }\nendpoints: [{ host: a.example }]\n`,
        'c.yaml',
      ),
    ).toThrow(message);
  });

  it('requires the routing key', () => {
    // Act / Assess
    expect(() =>
      parseConfig(
        'channels:\n  - { name: pd, type: pagerduty }\nendpoints: [{ host: a.example }]\n',
        'c.yaml',
      ),
    ).toThrow('c.yaml:2:5: channels[0].routingKey: required: expected a PagerDuty Events API v2 routing key');
  });
});

describe('pagerDutyNotifier (a PagerDuty receiver on loopback)', () => {
  let rx: WebhookReceiver;
  let responder: Responder;
  let channel: PagerDutyChannel;

  beforeEach(async () => {
    responder = ACCEPTED;
    rx = await startWebhookReceiver({ responder: (req, n) => responder(req, n) });
    channel = await channelFrom(
      `{ name: pd, type: pagerduty, routingKey: env:PD_KEY, url: "${rx.url('/v2/enqueue')}" }`,
    );
  });
  afterEach(async () => {
    await rx.close();
  });

  const send = (alert: Alert) => createNotifier(channel, { http: noSleep }).send(alert);

  it('triggers as PagerDuty documents: POST /v2/enqueue, JSON, the routing key in the body, no other credential', async () => {
    // Prepare
    const alert = makeAlert();
    // Act
    const result = await send(alert);
    // Assess
    expect(result).toEqual({ channel: 'pd', alertId: alert.id, ok: true, attempts: 1, error: null });
    expect(rx.requests).toHaveLength(1);
    const [req] = rx.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v2/enqueue');
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req?.headers['user-agent']).toBe('certwatch-notifier/1');
    expect(req?.headers['idempotency-key']).toBe(alert.id);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.json).toEqual({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: 'certwatch:example.com:443|192.0.2.10:expiry',
      payload: {
        summary: 'example.com (192.0.2.10): expires in 3 days',
        source: 'example.com:443',
        severity: 'critical',
        timestamp: '2026-11-22T08:00:00.000Z',
        component: '192.0.2.10',
        group: 'team-web',
        class: 'expiry',
        custom_details: {
          alertId: alert.id,
          kind: 'threshold',
          endpoint: 'example.com',
          endpointId: 'example.com:443',
          address: '192.0.2.10',
          status: 'critical',
          daysLeft: 3,
          notAfter: '2026-11-25T12:00:00.000Z',
          issuer: 'CN=Example CA,O=Example Org',
          findings: [
            { code: 'EXPIRES_SOON', severity: 'critical', message: 'The certificate expires in 3 days.' },
          ],
          detail: 'The leaf certificate served at 192.0.2.10 expires on 2026-11-25.',
          action: 'Renew the certificate and deploy it.',
          owner: 'team-web',
          occurredAt: '2026-11-22T08:00:00.000Z',
        },
      },
      client: 'certwatch',
    });
  });

  it('resolves the same key when the certificate is renewed', async () => {
    // Prepare
    const alert = makeAlert({ id: 'x:renewed:FP', kind: 'renewed', severity: 'info', status: 'ok' });
    // Act
    const result = await send(alert);
    // Assess
    expect(result.ok).toBe(true);
    expect(rx.requests.map((r) => r.json)).toEqual([
      {
        routing_key: 'R0UT1NGKEY',
        event_action: 'resolve',
        dedup_key: 'certwatch:example.com:443|192.0.2.10:expiry',
      },
    ]);
  });

  it('opens and closes a test incident: trigger then resolve, each with its own Idempotency-Key', async () => {
    // Prepare
    const alert = makeTestAlert(new Date('2026-03-04T05:06:07.000Z'));
    // Act
    const result = await send(alert);
    // Assess
    expect(result).toEqual({ channel: 'pd', alertId: alert.id, ok: true, attempts: 2, error: null });
    expect(
      rx.requests.map((r) => [
        r.headers['idempotency-key'],
        (r.json as { event_action: string }).event_action,
        (r.json as { dedup_key: string }).dedup_key,
      ]),
    ).toEqual([
      [`${alert.id}#1`, 'trigger', 'certwatch:test'],
      [`${alert.id}#2`, 'resolve', 'certwatch:test'],
    ]);
    expect(rx.requests[0]?.json).toMatchObject({
      payload: {
        summary: 'certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
        severity: 'info',
      },
    });
  });

  it('does not retry an event PagerDuty rejects (400)', async () => {
    // Prepare
    responder = () => ({
      status: 400,
      body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'dedup_key\' is too long"]}',
    });
    // Act
    const result = await send(makeAlert());
    // Assess
    expect(rx.requests).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(
      /^HTTP 400 Bad Request from http:\/\/127\.0\.0\.1:\d+: \{"status":"invalid event"/,
    );
  });

  it('retries when PagerDuty throttles (429), with the same body', async () => {
    // Prepare
    responder = (req, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : ACCEPTED(req, n));
    // Act
    const result = await send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(rx.requests[1]?.body).toBe(rx.requests[0]?.body);
  });

  it('fails the whole delivery, naming the step, when the second request of an alert keeps failing', async () => {
    // Prepare: the trigger is accepted, the resolve meets a failing service every time
    responder = (req, n) => (n === 1 ? ACCEPTED(req, n) : { status: 503, body: 'down' });
    // Act
    const result = await send(makeTestAlert(new Date('2026-03-04T05:06:07.000Z')));
    // Assess: 1 trigger + 4 resolve attempts
    expect(rx.requests).toHaveLength(5);
    expect(result).toMatchObject({ ok: false, attempts: 5 });
    expect(result.error).toMatch(
      /^resolve certwatch:test: HTTP 503 Service Unavailable from http:\/\/127\.0\.0\.1:\d+: down \(gave up after 4 attempts\)$/,
    );
  });

  it('carries hostile certificate text as plain, neutralised text', async () => {
    // Prepare
    const alert = makeAlert({
      endpoint: HOSTILE.controls,
      issuer: HOSTILE.slackLink,
      summary: HOSTILE.controls,
      findings: [
        { code: 'HOSTNAME_MISMATCH', severity: 'critical', message: `${HOSTILE.longCn} ${HOSTILE.controls}` },
      ],
    });
    // Act
    const result = await send(alert);
    // Assess
    expect(result.ok).toBe(true);
    const body = rx.requests[0]?.json as { payload: { summary: string; custom_details: { issuer: string } } };
    expect(body.payload.summary).toBe(
      'evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe (192.0.2.10): evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe',
    );
    expect(body.payload.custom_details.issuer).toBe(HOSTILE.slackLink);
    expect(unsafeStrings(body)).toEqual([]);
  });
});
