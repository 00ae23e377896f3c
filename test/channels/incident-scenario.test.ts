/**
 * PagerDuty and Opsgenie across runs of the real pipeline (`runCycle`, the
 * functions the Lambdas and `certwatch run` share), with a faked clock: a TLS
 * server on loopback, the embedded DynamoDB, and one receiver standing in for
 * both vendors. Proves that the policy's open → remind → resolve sequences
 * reach each vendor under one incident key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import { localSink } from '../../lambdas/cli/local-runtime';
import { createNotifier } from '../../lambdas/notify';
import { runCycle } from '../../lambdas/pipeline/run-cycle';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { DAY, HOUR, type RenewalServer, startRenewalServer } from '../support/renewal-server';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

describe('incident channels across runs (faked clock)', () => {
  let tls: RenewalServer;
  let realNow: number;
  let port: number;
  let embedded: EmbeddedStateStore;
  let receiver: WebhookReceiver;
  let t = 0;
  const now = () => new Date(t);

  beforeAll(async () => {
    tls = await startRenewalServer();
    ({ realNow, port } = tls);
    t = realNow;
    embedded = await openEmbeddedStateStore({});
    receiver = await startWebhookReceiver({
      responder: (req) =>
        req.path.startsWith('/pd')
          ? { status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed' }) }
          : { status: 202, body: JSON.stringify({ result: 'Request will be processed', requestId: 'r' }) },
    });
  });

  afterAll(async () => {
    await tls.close();
    await receiver.close();
    await embedded.close();
  });

  it('triggers, re-triggers and resolves one PagerDuty incident (and one Opsgenie alias) per condition', async () => {
    // Prepare
    const { endpoint } = tls;
    const http = { sleep: async () => undefined };
    const pagerduty = createNotifier(
      {
        type: 'pagerduty',
        name: 'pd',
        minSeverity: 'info',
        routingKey: 'R0UT1NGKEY',
        url: receiver.url('/pd/v2/enqueue'),
      },
      { http },
    );
    const opsgenie = createNotifier(
      { type: 'opsgenie', name: 'og', minSeverity: 'info', apiKey: 'gen1e-key', url: receiver.url('/og') },
      { http },
    );
    const trust = loadTrustStore({
      extraCaPem: tls.pki.root.certPem,
      extraCaSource: 'test root',
      includeSystemRoots: false,
    });
    const deps = {
      store: embedded.store,
      sink: localSink([pagerduty, opsgenie]),
      trustFor: () => trust,
      now,
    };
    const run = async (atMs: number) => {
      t = atMs;
      const cycle = await runCycle(deps, [endpoint], { concurrency: 4, intervalMs: 7 * DAY });
      expect(cycle.judgement?.complete).toBe(true);
      return cycle.results[0];
    };

    // Act: the certificate counts down, is reminded about, renewed; then the server goes away and comes back
    await run(realNow); // 40 days: nothing
    await run(realNow + 11 * DAY); // crosses 30: opens expiry
    await run(realNow + 34 * DAY); // crosses 7 (and 14): critical, same incident
    await run(realNow + 35 * DAY + 2 * HOUR); // 24 h later: reminder
    tls.renew();
    expect((await run(realNow + 35 * DAY + 3 * HOUR))?.status).toBe('ok'); // renewed: resolves expiry
    await tls.stop();
    await run(realNow + 35 * DAY + 9 * HOUR); // 1st failure: nothing yet
    await run(realNow + 35 * DAY + 15 * HOUR); // 2nd failure: opens unreachable
    await run(realNow + 36 * DAY + 16 * HOUR); // still failing 25 h later: reminder
    await tls.start();
    expect((await run(realNow + 36 * DAY + 18 * HOUR))?.status).toBe('ok'); // answers: resolves unreachable

    // Assess: PagerDuty got one trigger per alert and a resolve per closing one, each condition under one dedup_key
    const address = `certwatch:127.0.0.1:${port}|127.0.0.1`;
    const events = receiver.requests
      .filter((r) => r.path === '/pd/v2/enqueue')
      .map((r) => {
        const e = r.json as {
          event_action: string;
          dedup_key: string;
          payload?: { severity: string; summary: string };
        };
        return [
          e.event_action,
          e.dedup_key,
          e.payload?.severity ?? '-',
          e.payload?.summary.replace(/\(\d{4}-\d\d-\d\d\)/, '(date)') ?? '-',
        ];
      });
    expect(events).toEqual([
      ['trigger', `${address}:expiry`, 'warning', 'shop (127.0.0.1): expires in 29 days (date)'],
      ['trigger', `${address}:expiry`, 'critical', 'shop (127.0.0.1): expires in 6 days (date)'],
      [
        'trigger',
        `${address}:expiry`,
        'critical',
        'shop (127.0.0.1): still not renewed: expires in 5 days (date)',
      ],
      ['resolve', `${address}:expiry`, '-', '-'],
      [
        'trigger',
        `${address}:unreachable`,
        'critical',
        expect.stringMatching(/^shop \(127\.0\.0\.1\): unreachable for 2 consecutive checks since /),
      ],
      [
        'trigger',
        `${address}:unreachable`,
        'critical',
        expect.stringMatching(/^shop \(127\.0\.0\.1\): still unreachable after 3 consecutive checks since /),
      ],
      ['resolve', `${address}:unreachable`, '-', '-'],
    ]);
    // ... and Opsgenie the same sequence as creates and closes by alias
    const requests = receiver.requests
      .filter((r) => r.path.startsWith('/og/'))
      .map((r) =>
        r.path === '/og/v2/alerts'
          ? `create ${(r.json as { alias: string }).alias}`
          : `POST ${decodeURIComponent(r.path)}`,
      );
    expect(requests).toEqual([
      `create ${address}:expiry`,
      `create ${address}:expiry`,
      `create ${address}:expiry`,
      `POST /og/v2/alerts/${address}:expiry/close?identifierType=alias`,
      `create ${address}:unreachable`,
      `create ${address}:unreachable`,
      `POST /og/v2/alerts/${address}:unreachable/close?identifierType=alias`,
    ]);
  });
});
