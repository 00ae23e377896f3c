import { afterEach, describe, expect, it } from 'vitest';
import { parseRetryAfter, postJson, redactUrl } from '../../lambdas/notify/http-delivery';
import {
  hang,
  type Responder,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver';

const receivers: WebhookReceiver[] = [];

async function receiver(responder?: Responder): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(responder ? { responder } : {});
  receivers.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

/** An injected sleep that records what it was asked to wait, and waits for nothing. */
function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

const BODY = JSON.stringify({ text: 'hello' });

describe('postJson', () => {
  it('posts the body with JSON content type and extra headers, once, on 200', async () => {
    // Prepare
    const rx = await receiver();
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url('/hook'), BODY, { headers: { 'X-Extra': 'yes' }, sleep });
    // Assess
    expect(result).toEqual({ ok: true, status: 200, attempts: 1, error: null });
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]).toMatchObject({
      method: 'POST',
      path: '/hook',
      body: BODY,
      json: { text: 'hello' },
    });
    expect(rx.requests[0]?.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'certwatch-notifier/1',
      'x-extra': 'yes',
    });
    expect(delays).toEqual([]);
  });

  it('honours Retry-After seconds on 429, then succeeds on the second attempt', async () => {
    // Prepare
    const rx = await receiver((_req, n) =>
      n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 },
    );
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, random: () => 0 });
    // Assess
    expect(result).toEqual({ ok: true, status: 200, attempts: 2, error: null });
    expect(delays).toEqual([1000]);
    expect(rx.requests.map((r) => r.body)).toEqual([BODY, BODY]);
  });

  it('honours an HTTP-date Retry-After on 503, measured against the injected clock', async () => {
    // Prepare
    const now = Date.parse('2026-11-22T08:00:00.000Z');
    const rx = await receiver((_req, n) =>
      n === 1
        ? { status: 503, headers: { 'Retry-After': 'Sun, 22 Nov 2026 08:00:07 GMT' } }
        : { status: 204 },
    );
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, now: () => now });
    // Assess
    expect(result).toMatchObject({ ok: true, status: 204, attempts: 2 });
    expect(delays).toEqual([7000]);
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    const rx = await receiver((_req, n) =>
      n === 1 ? { status: 429, headers: { 'Retry-After': '3600' } } : { status: 200 },
    );
    const { sleep, delays } = recordingSleep();
    const result = await postJson(rx.url(), BODY, { sleep, maxDelayMs: 30_000 });
    expect(result.ok).toBe(true);
    expect(delays).toEqual([30_000]);
  });

  it.each([
    ['no jitter (random 0): half of each step', () => 0, [250, 500, 1000]],
    ['full jitter (random 1): the whole step', () => 0.999_999, [500, 1000, 2000]],
  ])(
    'backs off exponentially on 500 and gives up after maxAttempts — %s',
    async (_name, random, expected) => {
      // Prepare
      const rx = await receiver(() => ({ status: 500, body: 'upstream exploded' }));
      const { sleep, delays } = recordingSleep();
      // Act
      const result = await postJson(rx.url(), BODY, { sleep, random, maxAttempts: 4, baseDelayMs: 500 });
      // Assess
      expect(result).toEqual({
        ok: false,
        status: 500,
        attempts: 4,
        error: `HTTP 500 Internal Server Error from ${rx.url().slice(0, -1)}: upstream exploded (gave up after 4 attempts)`,
      });
      expect(rx.requests).toHaveLength(4);
      expect(delays).toEqual(expected);
    },
  );

  it('never waits longer than maxDelayMs between backoff steps', async () => {
    const rx = await receiver(() => ({ status: 502 }));
    const { sleep, delays } = recordingSleep();
    await postJson(rx.url(), BODY, {
      sleep,
      random: () => 0.999_999,
      maxAttempts: 5,
      baseDelayMs: 10_000,
      maxDelayMs: 25_000,
    });
    expect(delays).toEqual([10_000, 20_000, 25_000, 25_000]);
  });

  it.each([400, 401, 403, 404, 410, 413])('does not retry a %i', async (status) => {
    // Prepare
    const rx = await receiver(() => ({ status, body: 'invalid_payload' }));
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep });
    // Assess
    expect(result).toMatchObject({ ok: false, status, attempts: 1 });
    expect(result.error).toMatch(new RegExp(`^HTTP ${status} .*: invalid_payload$`));
    expect(rx.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('gives a hanging receiver a timeout result per attempt', async () => {
    // Prepare
    const rx = await receiver(() => hang());
    const { sleep } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, timeoutMs: 200, maxAttempts: 2 });
    // Assess
    expect(result).toEqual({
      ok: false,
      status: null,
      attempts: 2,
      error: `POST ${rx.url().slice(0, -1)} failed: timed out after 200 ms (gave up after 2 attempts)`,
    });
    expect(rx.requests).toHaveLength(2);
  });

  it('retries a refused connection and reports it', async () => {
    // Prepare: a port that was just listening and is now closed.
    const rx = await startWebhookReceiver();
    const url = rx.url('/gone');
    await rx.close();
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(url, BODY, { sleep, maxAttempts: 3 });
    // Assess
    expect(result).toMatchObject({ ok: false, status: null, attempts: 3 });
    expect(result.error).toContain('ECONNREFUSED');
    expect(delays).toHaveLength(2);
  });

  it('does not follow a redirect, and does not re-send the body elsewhere', async () => {
    // Prepare
    const rx = await receiver((req) =>
      req.path === '/hook' ? { status: 307, headers: { Location: '/stolen?token=abc' } } : { status: 200 },
    );
    // Act
    const result = await postJson(rx.url('/hook'), BODY, { sleep: async () => undefined });
    // Assess
    expect(result).toEqual({
      ok: false,
      status: 307,
      attempts: 1,
      error: `HTTP 307 redirect from ${rx.url().slice(0, -1)} to ${rx.url().slice(0, -1)} not followed`,
    });
    expect(rx.requests.map((r) => r.path)).toEqual(['/hook']);
  });

  it('keeps the secret part of a webhook URL out of every error message', async () => {
    // Prepare: the server even echoes the path back in its error body.
    const secretPath = '/services/T0001/B0002/XyZsEcReTtOkEn';
    const rx = await receiver((req) => ({
      status: 404,
      body: `no_service for ${req.path} at http://x${req.path}`,
    }));
    // Act
    const result = await postJson(rx.url(`${secretPath}?sig=qUeRySeCrEt`), BODY, {
      sleep: async () => undefined,
    });
    // Assess
    expect(result.ok).toBe(false);
    expect(result.error).not.toMatch(/XyZsEcReTtOkEn|qUeRySeCrEt|B0002/);
    expect(result.error).toContain('[redacted]');
    expect(result.error).toContain(rx.url().slice(0, -1));
  });

  it('reads only a capped amount of a huge error body and still completes', async () => {
    // Prepare
    const rx = await receiver(() => ({ status: 500, body: 'E'.repeat(4 * 1024 * 1024) }));
    // Act
    const result = await postJson(rx.url(), BODY, {
      sleep: async () => undefined,
      maxAttempts: 2,
      maxResponseBytes: 1024,
    });
    // Assess
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 2 });
    expect(result.error!.length).toBeLessThan(400);
  });

  it.each([
    ['not a URL', 'not a url', 'invalid URL'],
    ['an unsupported scheme', 'ftp://127.0.0.1/x', 'unsupported URL scheme ftp:'],
    ['embedded credentials', 'http://user:pw@127.0.0.1/x', 'URL must not embed credentials'],
  ])('refuses %s without sending anything', async (_name, url, error) => {
    expect(await postJson(url, BODY)).toEqual({ ok: false, status: null, attempts: 0, error });
  });

  it('refuses a header value that cannot be sent, without echoing it', async () => {
    const result = await postJson('http://127.0.0.1:9/x', BODY, {
      headers: { 'X-Sig': 'secret\r\nInjected: 1' },
    });
    expect(result).toEqual({ ok: false, status: null, attempts: 0, error: 'invalid request header' });
  });

  it('does not reject when the injected sleep fails', async () => {
    const rx = await receiver(() => ({ status: 503 }));
    const result = await postJson(rx.url(), BODY, {
      sleep: async () => {
        throw new Error('clock broke');
      },
    });
    expect(result).toMatchObject({ ok: false, status: 503, attempts: 1 });
    expect(result.error).toContain('retry wait failed: clock broke');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T08:00:00.000Z');
  it.each([
    ['absent', null, null],
    ['seconds', '5', 5000],
    ['zero', '0', 0],
    ['padded seconds', ' 2 ', 2000],
    ['HTTP date in the future', 'Sun, 22 Nov 2026 08:01:00 GMT', 60_000],
    ['HTTP date in the past', 'Sun, 22 Nov 2026 07:00:00 GMT', 0],
    ['garbage', 'soon', null],
    ['negative', '-5', null],
  ])('%s', (_name, value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://hooks.slack.com/services/T/B/secret', 'https://hooks.slack.com'],
    ['https://x.webhook.office.com:8443/workflows/abc?sig=s', 'https://x.webhook.office.com:8443'],
    ['nonsense', '[invalid URL]'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
