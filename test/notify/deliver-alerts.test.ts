import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, Channel, DeliveryResult, Severity } from '../../lambdas/core/model';
import { deliverAlerts, routesTo } from '../../lambdas/notify/deliver-alerts';
import { createNotifier, type Notifier } from '../../lambdas/notify/notifiers';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import {
  hang,
  type Responder,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver';
import { makeAlert } from './alert-fixtures';

const receivers: WebhookReceiver[] = [];

async function receiver(responder?: Responder): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(responder ? { responder } : {});
  receivers.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

/** A notifier that records what it was asked to send and answers as told. */
function fakeNotifier(
  name: string,
  minSeverity: Severity,
  answer: (alert: Alert) => Promise<DeliveryResult> = async (alert) => ({
    channel: name,
    alertId: alert.id,
    ok: true,
    attempts: 1,
    error: null,
  }),
): Notifier & { sent: string[] } {
  const sent: string[] = [];
  const channel: Channel = { type: 'slack', name, minSeverity, url: 'http://127.0.0.1:9/unused' };
  return {
    channel,
    sent,
    send(alert) {
      sent.push(alert.id);
      return answer(alert);
    },
  };
}

const noWait = { sleep: async () => undefined };

describe('routesTo', () => {
  const notifier = (name: string, minSeverity: Severity) => fakeNotifier(name, minSeverity);

  it.each([
    ['critical to a warning channel', { severity: 'critical' as const }, 'warning', true],
    ['warning to a warning channel', { severity: 'warning' as const }, 'warning', true],
    ['info to a warning channel', { severity: 'info' as const, kind: 'resolved' as const }, 'warning', false],
    ['warning to a critical channel', { severity: 'warning' as const }, 'critical', false],
    ['info to an info channel', { severity: 'info' as const }, 'info', true],
    ['named channel only', { channels: ['chat'] }, 'info', true],
    ['other channel named', { channels: ['pager'] }, 'info', false],
  ])('%s', (_name, overrides: Partial<Alert>, minSeverity, expected) => {
    expect(routesTo(makeAlert(overrides), notifier('chat', minSeverity as Severity))).toBe(expected);
  });

  it.each([
    ['renewed', { kind: 'renewed' as const, id: 'shop.example.com:443|192.0.2.10:renewed:AB12' }, true],
    [
      'reachable again',
      { kind: 'resolved' as const, id: 'shop.example.com:443|192.0.2.10:resolved:error:run-2' },
      true,
    ],
    [
      'a threshold (opens)',
      { kind: 'threshold' as const, id: 'shop.example.com:443|192.0.2.10:threshold:AB12:30' },
      false,
    ],
  ])(
    'an info alert that closes an incident reaches a critical channel that keeps incidents: %s',
    (_name, overrides, expected) => {
      // Prepare: a PagerDuty-like channel that pages only for critical
      const pager = { ...notifier('pager', 'critical'), keepsIncidents: true };
      const plain = notifier('chat', 'critical');
      const alert = makeAlert({ severity: 'info', ...overrides });
      // Act / Assess: its incident must close, while a plain chat channel stays quiet
      expect(routesTo(alert, pager)).toBe(expected);
      expect(routesTo(alert, plain)).toBe(false);
    },
  );

  it('sends test alerts to every channel whatever its minimum severity', () => {
    const alert = makeTestAlert(new Date());
    expect(routesTo(alert, notifier('pager', 'critical'))).toBe(true);
  });

  it('still honours channel names for test alerts', () => {
    const alert = makeTestAlert(new Date(), ['chat']);
    expect(routesTo(alert, notifier('pager', 'info'))).toBe(false);
    expect(routesTo(alert, notifier('chat', 'critical'))).toBe(true);
  });
});

describe('deliverAlerts', () => {
  it('routes by severity and channel name, ordering results by alert then channel', async () => {
    // Prepare
    const pager = fakeNotifier('pager', 'critical');
    const chat = fakeNotifier('chat', 'info');
    const crit = makeAlert({ id: 'a-crit' });
    const warnChatOnly = makeAlert({ id: 'a-warn', severity: 'warning', channels: ['chat'] });
    const infoAll = makeAlert({ id: 'a-info', severity: 'info', kind: 'resolved' });
    const critPagerOnly = makeAlert({ id: 'a-crit-pager', channels: ['pager'] });
    // Act
    const results = await deliverAlerts([crit, warnChatOnly, infoAll, critPagerOnly], [pager, chat]);
    // Assess
    expect(results.map((r) => `${r.alertId}->${r.channel}`)).toEqual([
      'a-crit->pager',
      'a-crit->chat',
      'a-warn->chat',
      'a-info->chat',
      'a-crit-pager->pager',
    ]);
    expect(pager.sent).toEqual(['a-crit', 'a-crit-pager']);
    expect(chat.sent).toEqual(['a-crit', 'a-warn', 'a-info']);
  });

  it('returns no results when nothing routes (an info alert to warning-only channels)', async () => {
    const results = await deliverAlerts(
      [makeAlert({ severity: 'info' })],
      [fakeNotifier('pager', 'warning')],
    );
    expect(results).toEqual([]);
  });

  it('reports unknown channel names as failures when asked to', async () => {
    // Prepare
    const alert = makeAlert({ channels: ['chat', 'typo-chanel'] });
    // Act
    const ignore = await deliverAlerts([alert], [fakeNotifier('chat', 'info')]);
    const fail = await deliverAlerts([alert], [fakeNotifier('chat', 'info')], { unknownChannels: 'fail' });
    // Assess
    expect(ignore.map((r) => r.channel)).toEqual(['chat']);
    expect(fail).toEqual([
      { channel: 'chat', alertId: alert.id, ok: true, attempts: 1, error: null },
      {
        channel: 'typo-chanel',
        alertId: alert.id,
        ok: false,
        attempts: 0,
        error: "no channel named 'typo-chanel' is configured",
      },
    ]);
  });

  it('turns a notifier that throws or rejects into a failed result, and keeps going', async () => {
    // Prepare
    const throwing = fakeNotifier('throws', 'info', () => {
      throw new Error('boom');
    });
    const rejecting = fakeNotifier('rejects', 'info', async () => {
      throw new TypeError('bad');
    });
    const healthy = fakeNotifier('healthy', 'info');
    const alert = makeAlert();
    // Act
    const results = await deliverAlerts([alert], [throwing, rejecting, healthy]);
    // Assess
    expect(results).toEqual([
      { channel: 'throws', alertId: alert.id, ok: false, attempts: 0, error: 'notifier threw: boom' },
      { channel: 'rejects', alertId: alert.id, ok: false, attempts: 0, error: 'notifier threw: bad' },
      { channel: 'healthy', alertId: alert.id, ok: true, attempts: 1, error: null },
    ]);
  });

  it('gives up on a send that outlives its deadline, aborts it, and reports it as maybe delivered', async () => {
    // Prepare
    let signal: AbortSignal | undefined;
    const stuck = fakeNotifier('stuck', 'info', () => new Promise<DeliveryResult>(() => undefined));
    const send = stuck.send.bind(stuck);
    stuck.send = (alert, opts) => {
      signal = opts?.signal;
      return send(alert, opts);
    };
    const healthy = fakeNotifier('healthy', 'info');
    const alert = makeAlert();
    // Act
    const results = await deliverAlerts([alert], [stuck, healthy], { sendTimeoutMs: 100 });
    // Assess: the request in flight may have arrived, so the outcome is unknown, and the send is stopped
    expect(results).toEqual([
      {
        channel: 'stuck',
        alertId: alert.id,
        ok: false,
        attempts: 0,
        error: 'delivery did not finish within 100 ms',
        unknownAttempts: 1,
        maybeDelivered: true,
      },
      { channel: 'healthy', alertId: alert.id, ok: true, attempts: 1, error: null },
    ]);
    expect(signal?.aborted).toBe(true);
  });

  it('passes each channel its allowance of unknown outcomes, and reports each result as soon as it ends', async () => {
    // Prepare
    const seen: string[] = [];
    const allowances: Record<string, number | undefined> = {};
    const record = (name: string) =>
      fakeNotifier(name, 'info', async (alert) => {
        seen.push(`send ${name} ${alert.id}`);
        return { channel: name, alertId: alert.id, ok: true, attempts: 1, error: null };
      });
    const a = record('a');
    const b = record('b');
    for (const n of [a, b]) {
      const send = n.send.bind(n);
      n.send = (alert, opts) => {
        allowances[`${n.channel.name} ${alert.id}`] = opts?.maxUnknownOutcomes;
        return send(alert, opts);
      };
    }
    // Act
    await deliverAlerts([makeAlert({ id: 'one' }), makeAlert({ id: 'two' })], [a], {
      maxUnknownOutcomes: (_channel, alert) => (alert.id === 'one' ? 1 : 2),
      onResult: async (result) => void seen.push(`recorded ${result.channel} ${result.alertId}`),
    });
    await deliverAlerts([makeAlert({ id: 'three' })], [b]);
    // Assess: the record of "one" is written before "two" is sent on that channel
    expect(seen).toEqual(['send a one', 'recorded a one', 'send a two', 'recorded a two', 'send b three']);
    expect(allowances).toEqual({ 'a one': 1, 'a two': 2, 'b three': undefined });
  });

  it('delivers channels in parallel: a channel waiting on another channel still completes', async () => {
    // Prepare: "waiter" only succeeds once the webhook receiver has seen its request, which
    // can only happen if deliveries run concurrently (sequentially it would hit its deadline).
    let sawWebhook!: () => void;
    const webhookSeen = new Promise<void>((resolve) => {
      sawWebhook = resolve;
    });
    const rx = await receiver(() => {
      sawWebhook();
      return { status: 200 };
    });
    const waiter = fakeNotifier('waiter', 'info', async (alert) => {
      await webhookSeen;
      return { channel: 'waiter', alertId: alert.id, ok: true, attempts: 1, error: null };
    });
    const hook = createNotifier(
      {
        type: 'webhook',
        name: 'hook',
        minSeverity: 'info',
        url: rx.url(),
        secret: null,
        signatureHeader: 'X-Sig',
      },
      { http: noWait },
    );
    // Act
    const results = await deliverAlerts([makeAlert()], [waiter, hook], { sendTimeoutMs: 10_000 });
    // Assess
    expect(results.map((r) => [r.channel, r.ok])).toEqual([
      ['waiter', true],
      ['hook', true],
    ]);
  });

  it('delivers to the healthy channel when another channel hangs, and returns both results', async () => {
    // Prepare
    const hanging = await receiver(() => hang());
    const healthy = await receiver();
    const slow = createNotifier(
      { type: 'teams', name: 'teams-hanging', minSeverity: 'info', url: hanging.url('/wf') },
      { http: { ...noWait, timeoutMs: 200, maxAttempts: 2 } },
    );
    const ok = createNotifier(
      { type: 'slack', name: 'slack-ok', minSeverity: 'info', url: healthy.url('/services/x') },
      { http: noWait },
    );
    const alert = makeAlert();
    // Act
    const results = await deliverAlerts([alert], [slow, ok]);
    // Assess
    expect(results).toEqual([
      {
        channel: 'teams-hanging',
        alertId: alert.id,
        ok: false,
        attempts: 2,
        error: `POST ${hanging.url().slice(0, -1)} failed: timed out after 200 ms (no answer to 2 of 2 attempts: may have been delivered)`,
        unknownAttempts: 2,
        maybeDelivered: true,
      },
      { channel: 'slack-ok', alertId: alert.id, ok: true, attempts: 1, error: null },
    ]);
    expect(hanging.requests).toHaveLength(2);
    expect(healthy.requests).toHaveLength(1);
  });

  it('records every failure of a mixed batch against real receivers', async () => {
    // Prepare
    const failing = await receiver(() => ({ status: 500, body: 'down' }));
    const rejecting = await receiver(() => ({ status: 400, body: 'invalid_blocks' }));
    const good = await receiver();
    const notifiers = [
      createNotifier(
        { type: 'slack', name: 's500', minSeverity: 'info', url: failing.url() },
        { http: { ...noWait, maxAttempts: 3 } },
      ),
      createNotifier(
        { type: 'slack', name: 's400', minSeverity: 'info', url: rejecting.url() },
        { http: noWait },
      ),
      createNotifier(
        { type: 'teams', name: 'teams', minSeverity: 'info', url: good.url() },
        { http: noWait },
      ),
    ];
    const alerts = [makeAlert({ id: 'one' }), makeAlert({ id: 'two', severity: 'warning' })];
    // Act
    const results = await deliverAlerts(alerts, notifiers);
    // Assess
    expect(results.map((r) => [r.alertId, r.channel, r.ok, r.attempts])).toEqual([
      ['one', 's500', false, 3],
      ['one', 's400', false, 1],
      ['one', 'teams', true, 1],
      ['two', 's500', false, 3],
      ['two', 's400', false, 1],
      ['two', 'teams', true, 1],
    ]);
    for (const r of results.filter((x) => !x.ok)) expect(r.error).toMatch(/^HTTP (500|400) /);
    expect(failing.requests).toHaveLength(6);
    expect(good.requests.map((r) => (r.json as { type: string }).type)).toEqual(['message', 'message']);
  });
});
