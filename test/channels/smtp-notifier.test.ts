import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpChannel } from '../../lambdas/channels/smtp-channel';
import { ALERT_ID_HEADER, messageIdFor } from '../../lambdas/channels/smtp-message';
import { createSmtpNotifier } from '../../lambdas/channels/smtp-notifier';
import { nodemailerTransport } from '../../lambdas/channels/smtp-transport';
import { NotifierConfigError } from '../../lambdas/notify/notifiers';
import { ConfigError } from '../../lambdas/config';
import { createNotifier } from '../../lambdas/notify/notifiers';
import { renderSnsEmail, renderSnsSubject } from '../../lambdas/notify/render-sns';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { makePki, type TestPki } from '../support/cert-factory';
import { HOSTILE, makeAlert } from '../notify/alert-fixtures';
import { type SmtpReceiver, type SmtpReceiverOptions, startSmtpReceiver } from './smtp-receiver';

const noWait = { sleep: async () => undefined };
const smtp = nodemailerTransport;
const NOW = new Date('2026-11-22T08:00:05.000Z');

function channelFor(port: number, overrides: Partial<SmtpChannel> = {}): SmtpChannel {
  return {
    type: 'smtp',
    name: 'mail',
    minSeverity: 'info',
    host: '127.0.0.1',
    port,
    tls: 'none',
    username: null,
    password: null,
    from: 'certwatch@example.com',
    to: ['ops@example.com'],
    ...overrides,
  };
}

let pki: TestPki;
let rx: SmtpReceiver | undefined;

beforeAll(() => {
  pki = makePki();
});
afterEach(async () => {
  await rx?.close();
  rx = undefined;
});

async function receiver(opts: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  rx = await startSmtpReceiver({
    cert: `${pki.leaf.certPem}${pki.intermediate.certPem}`,
    key: pki.leaf.key.privateKeyPem,
    ...opts,
  });
  return rx;
}

describe('smtp notifier (against a local SMTP server)', () => {
  it('sends the SNS e-mail with its envelope, headers and body, logged in on a loopback relay', async () => {
    // Prepare
    const server = await receiver({ users: { certwatch: 's3cret' } });
    const channel = channelFor(server.port, {
      username: 'certwatch',
      password: 's3cret',
      to: ['ops@example.com', 'oncall@example.com'],
    });
    const alert = makeAlert();
    // Act
    const result = await createNotifier(channel, { smtp, http: noWait, now: () => NOW }).send(alert);
    // Assess
    expect(result).toEqual({ channel: 'mail', alertId: alert.id, ok: true, attempts: 1, error: null });
    expect(server.mails).toHaveLength(1);
    const mail = server.mails[0]!;
    expect([mail.from, mail.to, mail.user, mail.secure]).toEqual([
      'certwatch@example.com',
      ['ops@example.com', 'oncall@example.com'],
      'certwatch',
      false,
    ]);
    const header = (name: string) => mail.headers.get(name);
    expect(header('subject')).toEqual([renderSnsSubject(alert)]);
    expect(header('subject')).toEqual(['[CRITICAL] example.com: expires in 3 days']);
    expect(header('from')).toEqual(['certwatch@example.com']);
    expect(header('to')).toEqual(['ops@example.com, oncall@example.com']);
    expect(header('message-id')).toEqual([messageIdFor(alert.id, 'certwatch@example.com')]);
    expect(header('message-id')?.[0]).toMatch(/^<[0-9a-f]{32}\.certwatch@example\.com>$/);
    expect(header(ALERT_ID_HEADER.toLowerCase())).toEqual(['threshold|example.com:443|192.0.2.10|3']);
    expect(header('auto-submitted')).toEqual(['auto-generated']);
    expect(header('date')).toEqual(['Sun, 22 Nov 2026 08:00:05 +0000']);
    expect(header('content-type')).toEqual(['text/plain; charset=utf-8']);
    expect(mail.text.replace(/\r\n/g, '\n').trimEnd()).toBe(renderSnsEmail(alert));
  });

  it('gives every copy of one alert the same Message-ID and every alert its own', () => {
    const a = messageIdFor('threshold|example.com:443|192.0.2.10|3', 'c@example.com');
    expect(messageIdFor('threshold|example.com:443|192.0.2.10|3', 'c@example.com')).toBe(a);
    expect(messageIdFor('threshold|example.com:443|192.0.2.10|7', 'c@example.com')).not.toBe(a);
  });

  it.each(['starttls', 'implicit'] as const)(
    'sends over %s, verifying the server certificate',
    async (tls) => {
      // Prepare
      const server = await receiver({ tls, users: { u: 'p' } });
      const channel = channelFor(server.port, { tls, host: 'localhost', username: 'u', password: 'p' });
      // Act
      const result = await createSmtpNotifier(channel, { smtp, http: noWait }, { ca: pki.root.certPem }).send(
        makeTestAlert(NOW),
      );
      // Assess
      expect(result).toMatchObject({ ok: true, attempts: 1 });
      expect(server.mails.map((m) => [m.secure, m.user])).toEqual([[true, 'u']]);
    },
  );

  it('never goes on in clear when the server does not offer STARTTLS: no login, no mail', async () => {
    // Prepare
    const server = await receiver({ tls: 'none', users: { u: 'p' } });
    const channel = channelFor(server.port, {
      tls: 'starttls',
      host: 'localhost',
      username: 'u',
      password: 'p',
    });
    // Act
    const result = await createSmtpNotifier(channel, { smtp, http: noWait }, { ca: pki.root.certPem }).send(
      makeAlert(),
    );
    // Assess: the server's 5xx answer to STARTTLS is final; the same server would give it again
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(
      /^SMTP localhost:\d+ failed: Error upgrading connection with STARTTLS: 500 /,
    );
    expect(result).not.toHaveProperty('maybeDelivered');
    expect(server.mails).toEqual([]);
  });

  it('refuses a server certificate it cannot verify, and sends nothing', async () => {
    // Prepare: the client does not know the test CA
    const server = await receiver({ tls: 'implicit' });
    const channel = channelFor(server.port, { tls: 'implicit', host: 'localhost' });
    // Act
    const result = await createNotifier(channel, { smtp, http: { ...noWait, maxAttempts: 1 } }).send(
      makeAlert(),
    );
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(/certificate/i);
    expect(result).not.toHaveProperty('maybeDelivered');
    expect(server.mails).toEqual([]);
  });

  it('stops at a permanent (5xx) refusal of the message', async () => {
    // Prepare
    const server = await receiver({ responder: () => ({ code: 554, message: 'Message rejected as spam' }) });
    // Act
    const result = await createNotifier(channelFor(server.port), { smtp, http: noWait }).send(makeAlert());
    // Assess
    expect(result).toEqual({
      channel: 'mail',
      alertId: makeAlert().id,
      ok: false,
      attempts: 1,
      error: expect.stringMatching(
        /^SMTP 127\.0\.0\.1:\d+ failed: Message failed: 554 Message rejected as spam$/,
      ),
    });
    expect(server.mails).toHaveLength(1);
  });

  it('retries a temporary (4xx) refusal and reports the attempts', async () => {
    // Prepare
    const server = await receiver({
      responder: (_mail, count) => (count === 1 ? { code: 451, message: 'Try again later' } : 'accept'),
    });
    const alert = makeAlert();
    // Act
    const result = await createNotifier(channelFor(server.port), { smtp, http: noWait }).send(alert);
    // Assess
    expect(result).toEqual({ channel: 'mail', alertId: alert.id, ok: true, attempts: 2, error: null });
    expect(server.mails).toHaveLength(2);
  });

  it('reports a failed login as final, without the password', async () => {
    // Prepare
    const server = await receiver({ users: { u: 'right' } });
    const channel = channelFor(server.port, { username: 'u', password: 'wrong-pa55word' });
    // Act
    const result = await createNotifier(channel, { smtp, http: noWait }).send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(/535/);
    expect(result.error).not.toContain('wrong-pa55word');
    expect(server.mails).toEqual([]);
  });

  it('reports a timeout after the end of the message as maybe delivered, after one retry with the same Message-ID', async () => {
    // Prepare: the server reads the whole message and never answers it
    const server = await receiver({ responder: () => 'hang' });
    const alert = makeAlert();
    // Act
    const result = await createNotifier(channelFor(server.port), {
      smtp,
      http: { ...noWait, timeoutMs: 300 },
    }).send(alert);
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 2, unknownAttempts: 2, maybeDelivered: true });
    expect(result.error).toMatch(
      /timed out after 300 ms \(no answer to 2 of 2 attempts: may have been delivered\)$/,
    );
    expect(server.mails.map((m) => m.headers.get('message-id'))).toEqual([
      [messageIdFor(alert.id, 'certwatch@example.com')],
      [messageIdFor(alert.id, 'certwatch@example.com')],
    ]);
  });

  it("passes the caller's allowance of unknown outcomes to the delivery", async () => {
    // Prepare
    const server = await receiver({ responder: () => 'hang' });
    // Act
    const result = await createNotifier(channelFor(server.port), {
      smtp,
      http: { ...noWait, timeoutMs: 300 },
    }).send(makeAlert(), { maxUnknownOutcomes: 1 });
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, unknownAttempts: 1, maybeDelivered: true });
    expect(server.mails).toHaveLength(1);
  });

  it('retries a timeout before the message was sent: the server cannot have it', async () => {
    // Prepare: RCPT TO is never answered, so no message data ever leaves
    const server = await receiver({ hangRecipients: ['ops@example.com'] });
    // Act
    const result = await createNotifier(channelFor(server.port), {
      smtp,
      http: { ...noWait, timeoutMs: 300, maxAttempts: 3 },
    }).send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 3 });
    expect(result.error).toMatch(/timed out after 300 ms \(gave up after 3 attempts\)$/);
    expect(result).not.toHaveProperty('unknownAttempts');
    expect(result).not.toHaveProperty('maybeDelivered');
    expect(server.connections()).toBe(3);
  });

  it('ends as maybe delivered, without a retry, when the server took the mail for only some recipients', async () => {
    // Prepare
    const server = await receiver({ refuseRecipients: ['nobody@example.com'] });
    const channel = channelFor(server.port, { to: ['ops@example.com', 'nobody@example.com'] });
    // Act
    const result = await createNotifier(channel, { smtp, http: noWait }).send(makeAlert());
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, unknownAttempts: 1, maybeDelivered: true });
    expect(result.error).toMatch(
      /^SMTP 127\.0\.0\.1:\d+ refused 1 of 2 recipients: .*550 No such user here: nobody@example\.com \(the other recipients have it\)$/,
    );
    expect(server.mails.map((m) => m.to)).toEqual([['ops@example.com']]);
  });

  it('retries a refused connection and reports it as not delivered', async () => {
    // Prepare: a port nothing listens on
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // Act
    const result = await createNotifier(channelFor(port), { smtp, http: { ...noWait, maxAttempts: 2 } }).send(
      makeAlert(),
    );
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.error).toMatch(/ECONNREFUSED.*\(gave up after 2 attempts\)$/);
    expect(result).not.toHaveProperty('maybeDelivered');
  });

  it('stops at once when aborted while waiting for the reply to the message: maybe delivered', async () => {
    // Prepare
    const server = await receiver({ responder: () => 'hang' });
    const abort = new AbortController();
    const waitForMail = async () => {
      for (let i = 0; i < 200 && server.mails.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      abort.abort();
    };
    // Act
    const [result] = await Promise.all([
      createNotifier(channelFor(server.port), { smtp, http: noWait }).send(makeAlert(), {
        signal: abort.signal,
      }),
      waitForMail(),
    ]);
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, unknownAttempts: 1, maybeDelivered: true });
    expect(result.error).toMatch(
      /failed: aborted while waiting for the reply to the message \(delivery aborted\)$/,
    );
  });
});

describe('smtp notifier with hostile certificate text', () => {
  it('keeps the subject one ASCII line, adds no header or recipient, and shows controls as escapes', async () => {
    // Prepare
    rx = await startSmtpReceiver();
    const alert = makeAlert({
      endpoint: `${HOSTILE.controls}\r\nBcc: attacker@evil.example`,
      summary: 'expires\r\nX-Injected: yes <!channel> \u202Etxt.exe',
      issuer: `CN=\u001b]0;owned\u0007 ${HOSTILE.markdownLink}`,
      detail: 'line one\r\n.\r\nQUIT\r\nline two',
    });
    // Act
    const result = await createNotifier(channelFor(rx.port), { smtp, http: noWait }).send(alert);
    // Assess
    expect(result.ok).toBe(true);
    const mail = rx.mails[0]!;
    expect(mail.to).toEqual(['ops@example.com']);
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.headers.has('x-injected')).toBe(false);
    const subject = mail.headers.get('subject')?.[0] ?? '';
    expect(subject).toMatch(/^[\x20-\x7E]{1,99}$/);
    expect(subject).toBe(renderSnsSubject(alert));
    expect(mail.text).not.toMatch(
      /[\u0000-\u0009\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/,
    );
    expect(mail.text).toContain('\\x1b]0;owned\\x07');
    expect(mail.text).toContain('\\u202etxt.exe');
    // A line holding only "." would end the message early without dot-stuffing; the whole body arrived.
    expect(mail.text).toContain('line one\n.\nQUIT\nline two'.replace(/\n/g, '\r\n'));
    expect(mail.text).toContain('Sent by certwatch.');
  });
});

describe('smtp notifier wiring', () => {
  it.each<[string, Partial<SmtpChannel>, string]>([
    [
      'TLS off for a remote server',
      { host: 'smtp.example.com', tls: 'none' },
      'channel "mail": tls: none is only allowed for a relay on this machine (localhost, 127.0.0.1 or [::1]), not "smtp.example.com": the login and the alert would cross the network in clear; use starttls or implicit',
    ],
    [
      'a user name without a password',
      { username: 'u' },
      'channel "mail": password: set both username and password to log in, or neither to send without logging in',
    ],
  ])('refuses %s when the channel is wired, before anything is sent', (_name, overrides, message) => {
    // Act
    const create = () => createNotifier(channelFor(25, overrides), { smtp });
    // Assess
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(message);
  });

  it.each(['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]'])('allows tls: none for %s', (host) => {
    expect(() => createNotifier(channelFor(25, { host }), { smtp })).not.toThrow();
  });

  it('refuses to wire an smtp channel without a transport (as in every Lambda)', () => {
    // Act
    const create = () => createNotifier(channelFor(25), {});
    // Assess
    expect(create).toThrow(NotifierConfigError);
    expect(create).toThrow(
      "channel 'mail' is of type smtp but no SMTP transport was provided (smtp channels are for the local CLI)",
    );
  });
});

afterAll(async () => {
  await rx?.close();
});
