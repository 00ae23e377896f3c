import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  renderWebhookRequest,
  signWebhookBody,
  verifyWebhookSignature,
} from '../../lambdas/notify/render-webhook';
import { makeAlert } from './alert-fixtures';

const SECRET = 'whsec-test-0123456789';
const NOW_MS = Date.parse('2026-11-22T08:00:30.000Z');
const channel = { secret: SECRET, signatureHeader: 'X-Certwatch-Signature' };

describe('renderWebhookRequest', () => {
  it('renders the documented version-1 body and headers', () => {
    // Prepare
    const alert = makeAlert();
    // Act
    const request = renderWebhookRequest(alert, channel, NOW_MS);
    // Assess
    expect(request.body).toBe(JSON.stringify({ version: 1, alert }));
    const expectedMac = createHmac('sha256', SECRET).update(`1795334430.${request.body}`).digest('hex');
    expect(request.headers).toEqual({
      'X-Certwatch-Timestamp': '1795334430',
      'Idempotency-Key': alert.id,
      'X-Certwatch-Alert-Id': alert.id,
      'X-Certwatch-Signature': `sha256=${expectedMac}`,
    });
  });

  it('uses the channel signature header name', () => {
    const request = renderWebhookRequest(
      makeAlert(),
      { secret: SECRET, signatureHeader: 'X-Hub-Signature-256' },
      NOW_MS,
    );
    expect(Object.keys(request.headers)).toContain('X-Hub-Signature-256');
    expect(Object.keys(request.headers)).not.toContain('X-Certwatch-Signature');
  });

  it('sends no signature when the channel has no secret', () => {
    const request = renderWebhookRequest(
      makeAlert(),
      { secret: null, signatureHeader: 'X-Certwatch-Signature' },
      NOW_MS,
    );
    expect(request.headers).toEqual({
      'X-Certwatch-Timestamp': '1795334430',
      'Idempotency-Key': makeAlert().id,
      'X-Certwatch-Alert-Id': makeAlert().id,
    });
  });

  it('signs the exact bytes of a body with non-ASCII text', () => {
    // Prepare
    const request = renderWebhookRequest(
      makeAlert({ issuer: 'Zertifizierungsstelle \u00C4\u00D6\u00DC \u{1F512}' }),
      channel,
      NOW_MS,
    );
    // Act
    const verdict = verifyWebhookSignature(
      Buffer.from(request.body, 'utf8'),
      request.headers,
      SECRET,
      NOW_MS,
    );
    // Assess
    expect(verdict).toEqual({ ok: true });
  });
});

describe('verifyWebhookSignature', () => {
  const request = renderWebhookRequest(makeAlert(), channel, NOW_MS);
  const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));

  it.each([
    ['as sent', request.body, request.headers, NOW_MS, { ok: true }],
    ['with Node lower-case headers', request.body, lower, NOW_MS, { ok: true }],
    ['with fetch Headers', request.body, new Headers(request.headers), NOW_MS, { ok: true }],
    ['4 minutes later', request.body, request.headers, NOW_MS + 240_000, { ok: true }],
    [
      '6 minutes later (replay)',
      request.body,
      request.headers,
      NOW_MS + 360_000,
      { ok: false, reason: 'stale-timestamp' },
    ],
    [
      '6 minutes early (clock skew)',
      request.body,
      request.headers,
      NOW_MS - 360_000,
      { ok: false, reason: 'stale-timestamp' },
    ],
    [
      'tampered body',
      request.body.replace('example.com', 'evil.example'),
      request.headers,
      NOW_MS,
      { ok: false, reason: 'bad-signature' },
    ],
    [
      'timestamp moved forward to dodge the tolerance',
      request.body,
      { ...request.headers, 'X-Certwatch-Timestamp': String(Math.floor(NOW_MS / 1000) + 60) },
      NOW_MS,
      { ok: false, reason: 'bad-signature' },
    ],
    [
      'missing signature',
      request.body,
      { 'X-Certwatch-Timestamp': '1795334430' },
      NOW_MS,
      { ok: false, reason: 'missing-signature' },
    ],
    [
      'malformed signature',
      request.body,
      { ...request.headers, 'X-Certwatch-Signature': 'md5=abc' },
      NOW_MS,
      { ok: false, reason: 'malformed-signature' },
    ],
    [
      'missing timestamp',
      request.body,
      { 'X-Certwatch-Signature': request.headers['X-Certwatch-Signature'] },
      NOW_MS,
      { ok: false, reason: 'missing-timestamp' },
    ],
  ])('%s', (_name, body, headers, nowMs, expected) => {
    expect(verifyWebhookSignature(body, headers, SECRET, nowMs, 300_000)).toEqual(expected);
  });

  it('rejects the right body signed with another secret', () => {
    expect(verifyWebhookSignature(request.body, request.headers, 'other-secret', NOW_MS)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('accepts any of several signatures, for secret rotation', () => {
    // Prepare
    const timestamp = request.headers['X-Certwatch-Timestamp']!;
    const both = `${signWebhookBody(request.body, 'old-secret', timestamp)}, ${request.headers['X-Certwatch-Signature']}`;
    // Act
    const verdict = verifyWebhookSignature(
      request.body,
      { ...request.headers, 'X-Certwatch-Signature': both },
      SECRET,
      NOW_MS,
    );
    // Assess
    expect(verdict).toEqual({ ok: true });
  });
});
