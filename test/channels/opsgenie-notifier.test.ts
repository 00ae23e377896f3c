import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPSGENIE_API_URLS, type OpsgenieChannel } from '../../lambdas/channels/opsgenie-channel';
import { envSecretResolver, parseConfig, resolveChannels } from '../../lambdas/config';
import type { Alert } from '../../lambdas/core/model';
import { createNotifier } from '../../lambdas/notify/notifiers';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, makeAlert } from '../notify/alert-fixtures';
import { unsafeStrings } from '../notify/incident-fixtures';
import { type Responder, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/** Opsgenie's documented answer to an accepted request (processed asynchronously). */
const ACCEPTED: Responder = (_req, n) => ({
  status: 202,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ result: 'Request will be processed', took: 0.107, requestId: `req-${n}` }),
});

const noSleep = { sleep: async () => undefined };

/** Parses one opsgenie channel entry and resolves it as the CLI does. */
async function channelFrom(entry: string): Promise<OpsgenieChannel> {
  const config = parseConfig(`channels:\n  - ${entry}\nendpoints: [{ host: a.example }]\n`, 'c.yaml');
  const [channel] = await resolveChannels(config, envSecretResolver({ OG_KEY: 'gen1e-key' }));
  return channel as OpsgenieChannel;
}

describe('opsgenie channel (config)', () => {
  it.each([
    ['no region: the US instance', '', OPSGENIE_API_URLS.us],
    ['region eu', ', region: eu', 'https://api.eu.opsgenie.com'],
    [
      'a url (its trailing slash dropped), which wins over the region',
      ', region: eu, url: "http://127.0.0.1:8080/"',
      'http://127.0.0.1:8080',
    ],
  ])('talks to %s', async (_, extra, url) => {
    // Act
    const channel = await channelFrom(`{ name: og, type: opsgenie, apiKey: env:OG_KEY${extra} }`);
    // Assess
    expect(channel).toEqual({ name: 'og', type: 'opsgenie', minSeverity: 'info', apiKey: 'gen1e-key', url });
  });

  it.each([
    ['an unknown region', 'region: EU', 'c.yaml:2:61: channels[0].region: expected one of us, eu, got "EU"'],
    ['a URL that is not a string', 'url: 42', 'c.yaml:2:58: channels[0].url: expected an https URL, got 42'],
    ['a missing key', 'region: us', 'channels[0].apiKey: required: expected an Opsgenie API integration key'],
  ])('refuses %s in one line', (_, extra, message) => {
    // Prepare
    const entry =
      extra === 'region: us'
        ? `{ name: og, type: opsgenie, ${extra} }`
        : `{ name: og, type: opsgenie, apiKey: env:OG_KEY, ${extra} }`;
    // Act / Assess
    expect(() =>
      parseConfig(`channels:\n  - ${entry}\nendpoints: [{ host: a.example }]\n`, 'c.yaml'),
    ).toThrow(message);
  });
});

describe('opsgenieNotifier (an Opsgenie receiver on loopback)', () => {
  let rx: WebhookReceiver;
  let responder: Responder;
  let channel: OpsgenieChannel;

  beforeEach(async () => {
    responder = ACCEPTED;
    rx = await startWebhookReceiver({ responder: (req, n) => responder(req, n) });
    channel = await channelFrom(`{ name: og, type: opsgenie, apiKey: env:OG_KEY, url: "${rx.url('/')}" }`);
  });
  afterEach(async () => {
    await rx.close();
  });

  const send = (alert: Alert) => createNotifier(channel, { http: noSleep }).send(alert);

  it('creates as Opsgenie documents: POST /v2/alerts, GenieKey authorization, the alert by alias', async () => {
    // Prepare
    const alert = makeAlert({
      kind: 'problem',
      severity: 'warning',
      status: 'warning',
      findings: [{ code: 'WEAK_KEY', severity: 'warning', message: 'RSA key of 1024 bits' }],
      summary: 'certificate problem: weak key',
      detail:
        'The certificate served by example.com at 192.0.2.10 has a problem clients will reject: RSA key of 1024 bits',
      action: 'Reissue the certificate with a 2048-bit RSA or an EC key',
    });
    // Act
    const result = await send(alert);
    // Assess
    expect(result).toEqual({ channel: 'og', alertId: alert.id, ok: true, attempts: 1, error: null });
    const [req] = rx.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v2/alerts');
    expect(req?.headers.authorization).toBe('GenieKey gen1e-key');
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req?.headers['idempotency-key']).toBe(alert.id);
    expect(req?.json).toEqual({
      message: 'example.com (192.0.2.10): certificate problem: weak key',
      alias: 'certwatch:example.com:443|192.0.2.10:problems',
      description: [
        'certificate problem: weak key',
        'The certificate served by example.com at 192.0.2.10 has a problem clients will reject: RSA key of 1024 bits',
        'Next step: Reissue the certificate with a 2048-bit RSA or an EC key',
        [
          'Endpoint: example.com (example.com:443)',
          'Address: 192.0.2.10',
          'Status: warning',
          'Days left: 3 days',
          'Expires: 2026-11-25 12:00 UTC',
          'Issuer: CN=Example CA,O=Example Org',
          'Owner: team-web',
        ].join('\n'),
        'Findings:\n- WARNING WEAK_KEY: RSA key of 1024 bits',
        `certwatch alert ${alert.id} \u00B7 certificate problem \u00B7 2026-11-22 08:00 UTC`,
      ].join('\n\n'),
      tags: ['certwatch', 'problem', 'problems', 'warning'],
      details: {
        alertId: alert.id,
        kind: 'problem',
        endpoint: 'example.com',
        endpointId: 'example.com:443',
        status: 'warning',
        address: '192.0.2.10',
        daysLeft: '3',
        notAfter: '2026-11-25T12:00:00.000Z',
        issuer: 'CN=Example CA,O=Example Org',
        findings: 'WEAK_KEY (warning): RSA key of 1024 bits',
        action: 'Reissue the certificate with a 2048-bit RSA or an EC key',
        owner: 'team-web',
        occurredAt: '2026-11-22T08:00:00.000Z',
      },
      entity: 'example.com:443',
      source: 'certwatch',
      priority: 'P3',
      user: 'certwatch',
    });
  });

  it('closes by alias when the certificate is renewed', async () => {
    // Prepare
    const alert = makeAlert({
      kind: 'renewed',
      severity: 'info',
      status: 'ok',
      summary: 'renewed: expires 2026-11-25 → 2027-02-23',
    });
    // Act
    const result = await send(alert);
    // Assess
    expect(result.ok).toBe(true);
    expect(rx.requests.map((r) => [r.path, r.headers.authorization, r.json])).toEqual([
      [
        '/v2/alerts/certwatch%3Aexample.com%3A443%7C192.0.2.10%3Aexpiry/close?identifierType=alias',
        'GenieKey gen1e-key',
        {
          source: 'certwatch',
          user: 'certwatch',
          note: 'example.com (192.0.2.10): renewed: expires 2026-11-25 → 2027-02-23',
        },
      ],
    ]);
  });

  it('creates and closes a test alert', async () => {
    // Prepare
    const alert = makeTestAlert(new Date('2026-03-04T05:06:07.000Z'));
    // Act
    const result = await send(alert);
    // Assess
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(rx.requests.map((r) => r.path)).toEqual([
      '/v2/alerts',
      '/v2/alerts/certwatch%3Atest/close?identifierType=alias',
    ]);
    expect(rx.requests[0]?.json).toMatchObject({
      alias: 'certwatch:test',
      priority: 'P5',
      tags: ['certwatch', 'test', 'info'],
    });
  });

  it.each([
    [401, '{"message":"Could not authenticate","took":0.0,"requestId":"r"}'],
    [
      422,
      '{"message":"Request body is not processable. Please check the errors.","errors":{"message":"Message can not be empty."},"took":0.0,"requestId":"r"}',
    ],
  ])('does not retry a %i', async (status, body) => {
    // Prepare
    responder = () => ({ status, body });
    // Act
    const result = await send(makeAlert());
    // Assess
    expect(rx.requests).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(new RegExp(`^HTTP ${status} `));
    expect(result.error).not.toContain('gen1e-key');
  });

  it('retries when Opsgenie throttles (429)', async () => {
    // Prepare
    responder = (req, n) => (n === 1 ? { status: 429 } : ACCEPTED(req, n));
    // Act
    const result = await send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: true, attempts: 2 });
  });

  it('carries hostile certificate text as plain, neutralised text', async () => {
    // Prepare
    const alert = makeAlert({
      endpoint: HOSTILE.controls,
      issuer: HOSTILE.slackBroadcast,
      summary: `${HOSTILE.markdownLink} ${HOSTILE.controls}`,
      detail: HOSTILE.controls,
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: HOSTILE.longCn }],
    });
    // Act
    const result = await send(alert);
    // Assess
    expect(result.ok).toBe(true);
    const body = rx.requests[0]?.json as { message: string; details: Record<string, string> };
    expect(body.message).toHaveLength(130);
    expect(
      body.message.startsWith(
        'evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe (192.0.2.10): [click](https://evil.example)',
      ),
    ).toBe(true);
    expect(body.details.issuer).toBe('<!channel>');
    expect(unsafeStrings(body)).toEqual([]);
  });
});
