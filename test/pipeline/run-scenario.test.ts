/**
 * Multi-run scenario on the local pipeline (the functions the Lambdas run),
 * with a faked clock: a real TLS server on loopback, the embedded DynamoDB,
 * and a real HTTP server receiving the signed webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import { createNotifier, verifyWebhookSignature } from '../../lambdas/notify';
import { runCycle } from '../../lambdas/pipeline/run-cycle';
import { localSink } from '../../lambdas/cli/local-runtime';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { DAY, HOUR, type RenewalServer, startRenewalServer } from '../support/renewal-server';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

describe('runCycle across runs (faked clock)', () => {
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
    receiver = await startWebhookReceiver();
  });

  afterAll(async () => {
    await tls.close();
    await receiver.close();
    await embedded.close();
  });

  it('alerts once per threshold, re-notifies, announces renewal, and reports an outage and its recovery', async () => {
    // Prepare
    const { endpoint } = tls;
    const secret = 'scenario-secret';
    const notifier = createNotifier(
      {
        type: 'webhook',
        name: 'hook',
        url: receiver.url('/hook'),
        secret,
        signatureHeader: 'X-Certwatch-Signature',
        minSeverity: 'info',
      },
      { now },
    );
    const trust = loadTrustStore({
      extraCaPem: tls.pki.root.certPem,
      extraCaSource: 'test root',
      includeSystemRoots: false,
    });
    const deps = { store: embedded.store, sink: localSink([notifier]), trustFor: () => trust, now };
    const run = async (atMs: number) => {
      t = atMs;
      const cycle = await runCycle(deps, [endpoint], { concurrency: 4, intervalMs: 7 * DAY });
      expect(cycle.judgement?.complete).toBe(true);
      return cycle.results[0];
    };

    // Act: approach expiry across the thresholds
    expect((await run(realNow))?.status).toBe('ok'); // 40 days: above every threshold, no alert
    expect((await run(realNow + 11 * DAY))?.daysLeft).toBe(29); // crosses 30
    await run(realNow + 12 * DAY); // 28: same band, nothing new
    expect((await run(realNow + 27 * DAY))?.daysLeft).toBe(13); // crosses 14
    expect((await run(realNow + 34 * DAY))?.status).toBe('critical'); // 6: crosses 7
    await run(realNow + 34 * DAY + HOUR); // critical, but the re-notify interval has not passed
    await run(realNow + 35 * DAY + 2 * HOUR); // 24 h later: re-notify
    // ... is renewed
    tls.renew();
    expect((await run(realNow + 35 * DAY + 3 * HOUR))?.status).toBe('ok');
    // ... goes unreachable
    await tls.stop();
    expect((await run(realNow + 35 * DAY + 9 * HOUR))?.status).toBe('error'); // 1st failure: below the threshold
    await run(realNow + 35 * DAY + 15 * HOUR); // 2nd failure: alert
    await run(realNow + 35 * DAY + 21 * HOUR); // 3rd: already alerted, interval not passed
    // ... and comes back
    await tls.start();
    expect((await run(realNow + 36 * DAY + 3 * HOUR))?.status).toBe('ok');
    await run(realNow + 36 * DAY + 9 * HOUR); // steady: nothing

    // Assess: the exact sequence the webhook server received
    const received = receiver.requests.map((r) => {
      const body = r.json as {
        alert: { kind: string; severity: string; summary: string; daysLeft: number | null };
      };
      expect(verifyWebhookSignature(r.body, r.headers, secret, t, 3650 * DAY).ok).toBe(true);
      return [body.alert.kind, body.alert.severity, body.alert.daysLeft, body.alert.summary];
    });
    const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const oldExpiry = ymd(realNow + 40.5 * DAY);
    const newExpiry = ymd(realNow + 130.5 * DAY);
    const outageStart = new Date(realNow + 35 * DAY + 9 * HOUR).toISOString();
    expect(received).toEqual([
      ['threshold', 'warning', 29, `expires in 29 days (${oldExpiry})`],
      ['threshold', 'warning', 13, `expires in 13 days (${oldExpiry})`],
      ['threshold', 'critical', 6, `expires in 6 days (${oldExpiry})`],
      ['renotify', 'critical', 5, `still not renewed: expires in 5 days (${oldExpiry})`],
      ['renewed', 'info', 95, `renewed: expires ${oldExpiry} → ${newExpiry}`],
      [
        'error',
        'critical',
        94,
        `unreachable for 2 consecutive checks since ${outageStart}: cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
      ],
      ['resolved', 'info', 94, 'reachable again after 3 failed checks'],
    ]);
  });
});
