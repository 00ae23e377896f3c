import { afterEach, describe, expect, it } from 'vitest';
import { incidentNotifier } from '../../lambdas/channels/incident-notifier';
import type { Channel } from '../../lambdas/core/model';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { makeAlert } from '../notify/alert-fixtures';
import {
  hang,
  type Responder,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver';

const receivers: WebhookReceiver[] = [];
async function receiver(responder: Responder): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver({ responder });
  receivers.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const CHANNEL = {
  type: 'pagerduty',
  name: 'pd',
  minSeverity: 'info',
  routingKey: 'k',
  url: 'unused',
} as Channel;
/** A test alert makes two requests (open, then close); a threshold alert one. */
const TWO = makeTestAlert(new Date('2026-03-04T05:06:07.000Z'));
const ONE = makeAlert();

/** A notifier that posts `<action> <key>` for each change to the receiver. */
function notifier(rx: WebhookReceiver, http: Record<string, unknown> = {}) {
  return incidentNotifier(
    CHANNEL,
    (_alert, change) => ({
      url: rx.url(`/${change.action}`),
      body: JSON.stringify({ key: change.key }),
      label: `${change.action} ${change.key}`,
    }),
    { http: { sleep: async () => undefined, timeoutMs: 200, ...http } },
  );
}

describe('incidentNotifier', () => {
  it('sends the requests of an alert in order, one delivery: attempts summed, one Idempotency-Key each', async () => {
    // Prepare
    const rx = await receiver(() => ({ status: 202 }));
    // Act
    const result = await notifier(rx).send(TWO);
    // Assess
    expect(result).toEqual({ channel: 'pd', alertId: TWO.id, ok: true, attempts: 2, error: null });
    expect(rx.requests.map((r) => [r.path, r.headers['idempotency-key']])).toEqual([
      ['/open', `${TWO.id}#1`],
      ['/close', `${TWO.id}#2`],
    ]);
  });

  it('sends a single request with the alert id as Idempotency-Key, like every HTTP channel', async () => {
    // Prepare
    const rx = await receiver(() => ({ status: 202 }));
    // Act
    await notifier(rx).send(ONE);
    // Assess
    expect(rx.requests.map((r) => r.headers['idempotency-key'])).toEqual([ONE.id]);
  });

  it('stops at the first request that fails and sends nothing after it', async () => {
    // Prepare
    const rx = await receiver(() => ({ status: 400, body: 'no' }));
    // Act
    const result = await notifier(rx).send(TWO);
    // Assess
    expect(rx.requests.map((r) => r.path)).toEqual(['/open']);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(
      /^open certwatch:test: HTTP 400 Bad Request from http:\/\/127\.0\.0\.1:\d+: no$/,
    );
  });

  it('reports an unknown outcome of an earlier request even when the alert then goes through', async () => {
    // Prepare: the first attempt of the open gets no answer, its retry and the close do
    const rx = await receiver((_req, n) => (n === 1 ? hang() : { status: 202 }));
    // Act
    const result = await notifier(rx).send(TWO);
    // Assess
    expect(result).toEqual({
      channel: 'pd',
      alertId: TWO.id,
      ok: true,
      attempts: 3,
      error: null,
      unknownAttempts: 1,
    });
  });

  it('shares one allowance of unknown outcomes among the requests of an alert', async () => {
    // Prepare: one unknown outcome in the open, another in the close: the second ends the delivery
    const rx = await receiver((_req, n) => (n === 1 || n === 3 ? hang() : { status: 202 }));
    // Act
    const result = await notifier(rx).send(TWO);
    // Assess: the close was tried once, not retried
    expect(rx.requests.map((r) => r.path)).toEqual(['/open', '/open', '/close']);
    expect(result).toMatchObject({ ok: false, attempts: 3, unknownAttempts: 2, maybeDelivered: true });
    expect(result.error).toMatch(
      /^close certwatch:test: POST .* failed: timed out after 200 ms \(no answer to 1 of 1 attempts: may have been delivered\)$/,
    );
  });

  it('sends no further request once the delivery is out of time', async () => {
    // Prepare: a clock on which the open took the whole budget
    const rx = await receiver(() => ({ status: 202 }));
    let clock = 0;
    const now = () => clock;
    const slow = incidentNotifier(
      CHANNEL,
      (_alert, change) => {
        return { url: rx.url(`/${change.action}`), body: '{}', label: `${change.action} ${change.key}` };
      },
      {
        http: {
          now,
          budgetMs: 60_000,
          sleep: async () => undefined,
          fetchImpl: async (input, init) => {
            clock += 61_000;
            return fetch(input, init);
          },
        },
      },
    );
    // Act
    const result = await slow.send(TWO);
    // Assess
    expect(rx.requests.map((r) => r.path)).toEqual(['/open']);
    expect(result).toEqual({
      channel: 'pd',
      alertId: TWO.id,
      ok: false,
      attempts: 1,
      error: 'close certwatch:test: not sent, out of time after 1 of 2 requests',
    });
  });
});
