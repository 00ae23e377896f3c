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

/** Polls `done` every 10 ms, at most 5 s. */
async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error('condition not met within 5 s');
}

describe('postJson', () => {
  it('posts the body with JSON content type and extra headers, once, on 200', async () => {
    // Prepare
    const rx = await receiver();
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url('/hook'), BODY, { headers: { 'X-Extra': 'yes' }, sleep });
    // Assess
    expect(result).toEqual({
      ok: true,
      status: 200,
      attempts: 1,
      error: null,
      unknownAttempts: 0,
      retryAfterMs: null,
    });
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
    expect(result).toEqual({
      ok: true,
      status: 200,
      attempts: 2,
      error: null,
      unknownAttempts: 0,
      retryAfterMs: null,
    });
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

  it('does not shorten a Retry-After longer than maxDelayMs: it stops and reports the wait', async () => {
    // Prepare
    const rx = await receiver((_req, n) =>
      n === 1 ? { status: 429, headers: { 'Retry-After': '3600' } } : { status: 200 },
    );
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, maxDelayMs: 30_000 });
    // Assess: one request, no wait, the delivery left pending for the hour the server asked
    expect(result).toEqual({
      ok: false,
      status: 429,
      attempts: 1,
      error: `HTTP 429 Too Many Requests from ${rx.url().slice(0, -1)} (asked to retry after 3600 s: left pending)`,
      unknownAttempts: 0,
      retryAfterMs: 3_600_000,
    });
    expect(delays).toEqual([]);
    expect(rx.requests).toHaveLength(1);
  });

  it('stops rather than wait a Retry-After that would end past the budget', async () => {
    // Prepare: 20 s is allowed as one wait, but 20 s plus a 15 s attempt does not fit 30 s.
    const rx = await receiver(() => ({ status: 503, headers: { 'Retry-After': '20' } }));
    const { sleep, delays } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, timeoutMs: 15_000, budgetMs: 30_000 });
    // Assess
    expect(result).toMatchObject({ ok: false, status: 503, attempts: 1, retryAfterMs: 20_000 });
    expect(delays).toEqual([]);
  });

  it('starts no backoff wait that would end past the budget', async () => {
    // Prepare: a clock the waits move, so the budget runs out after the second attempt.
    const rx = await receiver(() => ({ status: 500 }));
    const clock = { t: 0 };
    const delays: number[] = [];
    const sleep = async (ms: number) => {
      delays.push(ms);
      clock.t += ms;
    };
    // Act
    const result = await postJson(rx.url(), BODY, {
      sleep,
      now: () => clock.t,
      random: () => 0,
      baseDelayMs: 4_000,
      timeoutMs: 5_000,
      budgetMs: 10_000,
    });
    // Assess: wait 2 s (0 + 2 + 5 ≤ 10), then a 4 s wait and an attempt would end at 2 + 4 + 5 > 10
    expect(delays).toEqual([2_000]);
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 2, retryAfterMs: null });
    expect(result.error).toMatch(/\(out of time after 2 attempts\)$/);
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
        unknownAttempts: 0,
        retryAfterMs: null,
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

  it('retries a hanging receiver once, then stops: at most one extra copy of an unknown outcome', async () => {
    // Prepare
    const rx = await receiver(() => hang());
    const { sleep } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, timeoutMs: 200, maxAttempts: 4 });
    // Assess: two requests, not four; both may have arrived
    expect(result).toEqual({
      ok: false,
      status: null,
      attempts: 2,
      error: `POST ${rx.url().slice(0, -1)} failed: timed out after 200 ms (no answer to 2 of 2 attempts: may have been delivered)`,
      unknownAttempts: 2,
      retryAfterMs: null,
    });
    expect(rx.requests).toHaveLength(2);
  });

  it('retries a timed-out attempt with the same body and headers, and reports the unknown outcome', async () => {
    // Prepare: the first answer comes after the client gave up, the second in time.
    const rx = await receiver(async (_req, n) => {
      if (n === 1) await new Promise((r) => setTimeout(r, 400));
      return { status: 200 };
    });
    const { sleep } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, {
      sleep,
      timeoutMs: 200,
      headers: { 'Idempotency-Key': 'alert-1' },
    });
    // Assess
    expect(result).toEqual({
      ok: true,
      status: 200,
      attempts: 2,
      error: null,
      unknownAttempts: 1,
      retryAfterMs: null,
    });
    expect(rx.requests.map((r) => [r.body, r.headers['idempotency-key']])).toEqual([
      [BODY, 'alert-1'],
      [BODY, 'alert-1'],
    ]);
  });

  it('keeps retrying known failures after one unknown outcome, and stops at the second', async () => {
    // Prepare: timeout, 500, 500, timeout
    const rx = await receiver((_req, n) => (n === 1 || n === 4 ? hang() : { status: 500 }));
    const { sleep } = recordingSleep();
    // Act
    const result = await postJson(rx.url(), BODY, { sleep, timeoutMs: 200, maxAttempts: 6 });
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 4, unknownAttempts: 2 });
    expect(rx.requests).toHaveLength(4);
  });

  it('makes no retry after an unknown outcome when the caller allows only one', async () => {
    // Prepare
    const rx = await receiver(() => hang());
    // Act
    const result = await postJson(rx.url(), BODY, {
      sleep: async () => undefined,
      timeoutMs: 200,
      maxUnknownOutcomes: 1,
    });
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, unknownAttempts: 1 });
    expect(rx.requests).toHaveLength(1);
  });

  it('ends at once when the caller aborts, counting the attempt in flight as unknown', async () => {
    // Prepare
    const rx = await receiver(() => hang());
    const abort = new AbortController();
    // Act
    const sending = postJson(rx.url(), BODY, { timeoutMs: 10_000, signal: abort.signal });
    await waitFor(() => rx.requests.length === 1);
    abort.abort();
    const result = await sending;
    // Assess
    expect(result).toMatchObject({ ok: false, attempts: 1, unknownAttempts: 1 });
    expect(result.error).toMatch(/\(delivery aborted\)$/);
    expect(rx.requests).toHaveLength(1);
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
    expect(result).toMatchObject({ ok: false, status: null, attempts: 3, unknownAttempts: 0 });
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
      unknownAttempts: 0,
      retryAfterMs: null,
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
    expect(await postJson(url, BODY)).toEqual({
      ok: false,
      status: null,
      attempts: 0,
      error,
      unknownAttempts: 0,
      retryAfterMs: null,
    });
  });

  it('refuses a header value that cannot be sent, without echoing it', async () => {
    const result = await postJson('http://127.0.0.1:9/x', BODY, {
      headers: { 'X-Sig': 'secret\r\nInjected: 1' },
    });
    expect(result).toEqual({
      ok: false,
      status: null,
      attempts: 0,
      error: 'invalid request header',
      unknownAttempts: 0,
      retryAfterMs: null,
    });
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
