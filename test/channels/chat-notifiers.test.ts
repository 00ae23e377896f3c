import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordWaitUrl } from '../../lambdas/channels/discord-notifier';
import type { Channel } from '../../lambdas/core/model';
import { createNotifier } from '../../lambdas/notify/notifiers';
import { renderDiscordMessage } from '../../lambdas/notify/render-discord';
import { renderGoogleChatMessage } from '../../lambdas/notify/render-google-chat';
import { renderMattermostMessage } from '../../lambdas/notify/render-mattermost';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { HOSTILE, makeAlert } from '../notify/alert-fixtures';

const noWait = { sleep: async () => undefined };

/** An alert with hostile text in every field a certificate or server can fill. */
const hostileAlert = makeAlert({
  endpoint: '@everyone <!channel>',
  summary: `${HOSTILE.markdownLink} <users/all> <@123>`,
  issuer: `${HOSTILE.bold} <b>CA</b> @here`,
  findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: HOSTILE.controls, certIndex: 0 }],
  detail: '# heading\n- item',
  action: HOSTILE.slackLink,
});

/**
 * Each chat type: a channel at `path` on the receiver, what it must POST there, its exact body,
 * and what proves the hostile text inert in what the vendor formats.
 */
const CHAT_TYPES = [
  {
    type: 'discord',
    path: '/api/webhooks/1234/t0k3n',
    received: '/api/webhooks/1234/t0k3n?wait=true',
    render: renderDiscordMessage,
    inert: (body: string) => {
      const json = JSON.parse(body);
      expect(json.allowed_mentions).toEqual({ parse: [] });
      // Every `<` and `@` Discord would read, and the link, are backslash-escaped (`\\` in JSON).
      expect(body).not.toMatch(/(?<!\\\\)[<@]|(?<!\\\\)\[click/);
    },
  },
  {
    type: 'googlechat',
    path: '/v1/spaces/AAAA/messages?key=k3y&token=t0k3n',
    received: '/v1/spaces/AAAA/messages?key=k3y&token=t0k3n',
    render: renderGoogleChatMessage,
    inert: (body: string) => {
      // No mention or link syntax in the text, and no tag but certwatch's own in the card.
      expect(body).not.toMatch(/<users\/all>|<@123>|<!channel>|<https:/);
      expect(body.replace(/<\/?b>|<br>|<font color=\\"#[0-9a-f]{6}\\">|<\/font>/g, '')).not.toMatch(/[<>]/);
    },
  },
  {
    type: 'mattermost',
    path: '/hooks/xyz123',
    received: '/hooks/xyz123',
    render: renderMattermostMessage,
    inert: (body: string) => {
      // No @ and no Slack form Mattermost converts in anything it reads mentions from.
      const json = JSON.parse(body);
      const attachment = json.attachments[0];
      const read = [json.text, attachment.text, ...attachment.fields.map((f: { value: string }) => f.value)];
      for (const text of read) {
        expect(text).not.toContain('@');
        expect(text).not.toMatch(/<[!@]|(?<!\\)\[click/);
      }
    },
  },
] as const;

describe('chat notifiers (Discord, Google Chat, Mattermost) against a real receiver', () => {
  let rx: WebhookReceiver;

  beforeEach(async () => {
    rx = await startWebhookReceiver();
  });
  afterEach(async () => {
    await rx.close();
  });

  for (const chat of CHAT_TYPES) {
    const channelAt = (url: string): Channel => ({
      type: chat.type,
      name: `${chat.type}-ops`,
      minSeverity: 'info',
      url,
    });

    it(`${chat.type}: POSTs the vendor's documented request, exactly, with hostile text neutralised`, async () => {
      // Act
      const result = await createNotifier(channelAt(rx.url(chat.path)), { http: noWait }).send(hostileAlert);
      // Assess
      expect(result).toEqual({
        channel: `${chat.type}-ops`,
        alertId: hostileAlert.id,
        ok: true,
        attempts: 1,
        error: null,
      });
      expect(rx.requests).toHaveLength(1);
      const req = rx.requests[0]!;
      expect([req.method, req.path]).toEqual(['POST', chat.received]);
      expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(req.headers['user-agent']).toBe('certwatch-notifier/1');
      expect(req.headers['idempotency-key']).toBe(hostileAlert.id);
      expect(req.body).toBe(JSON.stringify(chat.render(hostileAlert)));
      // Nothing that would notify everyone or link out reached what the vendor formats.
      chat.inert(req.body);
      expect(req.body).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202E]/);
    });

    it(`${chat.type}: retries a 5xx and counts the attempts`, async () => {
      // Prepare
      await rx.close();
      rx = await startWebhookReceiver({
        responder: (_req, count) => (count === 1 ? { status: 503, body: 'busy' } : { status: 200 }),
      });
      const alert = makeTestAlert(new Date('2026-01-02T03:04:05.000Z'));
      // Act
      const result = await createNotifier(channelAt(rx.url(chat.path)), { http: noWait }).send(alert);
      // Assess
      expect(result).toMatchObject({ ok: true, attempts: 2 });
      expect(rx.requests.map((r) => r.headers['idempotency-key'])).toEqual([alert.id, alert.id]);
    });

    it(`${chat.type}: reports a rejection without the secret parts of the URL`, async () => {
      // Prepare
      await rx.close();
      rx = await startWebhookReceiver({
        responder: (req) => ({ status: 400, body: `bad request to ${req.path}` }),
      });
      // Act
      const result = await createNotifier(channelAt(rx.url(chat.path)), { http: noWait }).send(makeAlert());
      // Assess
      expect(result).toMatchObject({ ok: false, attempts: 1 });
      expect(result.error).toMatch(
        /^HTTP 400 Bad Request from http:\/\/127\.0\.0\.1:\d+: bad request to \[redacted\]$/,
      );
      expect(result.error).not.toMatch(/t0k3n|xyz123|k3y/);
    });
  }

  it('discord: keeps the URL’s own query (a thread) and adds wait=true once', () => {
    expect(discordWaitUrl('https://discord.com/api/webhooks/1/t?thread_id=9')).toBe(
      'https://discord.com/api/webhooks/1/t?thread_id=9&wait=true',
    );
    expect(discordWaitUrl('https://discord.com/api/webhooks/1/t?wait=false')).toBe(
      'https://discord.com/api/webhooks/1/t?wait=true',
    );
    expect(discordWaitUrl('not a url')).toBe('not a url');
  });
});
