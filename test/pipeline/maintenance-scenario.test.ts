/**
 * Maintenance windows and silences across runs of the local pipeline, with a
 * faked clock: a real TLS server on loopback that goes down and comes back,
 * the embedded DynamoDB, and a real HTTP server receiving the webhook. The
 * assertions are the exact alert sequence the receiver got.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import { localSink } from '../../lambdas/cli/local-runtime';
import type { MaintenanceWindow, Silence } from '../../lambdas/core/maintenance';
import { createNotifier } from '../../lambdas/notify';
import { runCycleWithMaintenance } from '../../lambdas/pipeline/maintenance-cycle';
import { runMaintenanceTick } from '../../lambdas/pipeline/maintenance-tick';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import type { SuppressionStore } from '../../lambdas/store/suppression-store';
import { DAY, HOUR, type RenewalServer, startRenewalServer } from '../support/renewal-server';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

describe('runCycleWithMaintenance (faked clock)', () => {
  let tls: RenewalServer;
  let realNow: number;
  let embedded: EmbeddedStateStore;
  let suppressions: SuppressionStore;
  let receiver: WebhookReceiver;
  let t = 0;
  const now = () => new Date(t);

  beforeAll(async () => {
    tls = await startRenewalServer();
    realNow = tls.realNow;
    t = realNow;
    embedded = await openEmbeddedStateStore({});
    suppressions = embedded.store.suppressions();
    receiver = await startWebhookReceiver();
  });

  afterAll(async () => {
    await tls.close();
    await receiver.close();
    await embedded.close();
  });

  const iso = (ms: number) => new Date(ms).toISOString();
  const window = (id: string, name: string, start: number, end: number): MaintenanceWindow => ({
    id,
    name,
    endpoints: ['shop'],
    tags: [],
    start: iso(start),
    end: iso(end),
    timeZone: 'UTC',
    message: 'Replacing the load balancer.',
    leadTimeMs: 24 * HOUR,
    createdAt: iso(realNow),
    cancelledAt: null,
    source: 'cli',
  });

  it('announces a window from scheduled to all-clear, quiets the outage inside it, and pages the one that outlasts it', async () => {
    // Prepare
    const notifier = createNotifier(
      {
        type: 'webhook',
        name: 'hook',
        url: receiver.url('/hook'),
        secret: 'maintenance-secret',
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
    const deps = {
      store: embedded.store,
      suppressions,
      sink: localSink([notifier]),
      trustFor: () => trust,
      now,
    };
    const run = async (atMs: number, windows: MaintenanceWindow[] = []) => {
      t = atMs;
      const done = await runCycleWithMaintenance(deps, [tls.endpoint], windows, {
        concurrency: 4,
        intervalMs: 7 * DAY,
      });
      expect(done.cycle.judgement?.complete).toBe(true);
      return done;
    };
    const w1 = window('w1', 'lb swap', realNow + 2 * DAY, realNow + 2 * DAY + 4 * HOUR);
    const w2 = window('w2', 'lb swap again', realNow + 3 * DAY, realNow + 3 * DAY + 2 * HOUR);
    const w3 = window('w3', 'network work', realNow + 9.9 * DAY, realNow + 10.1 * DAY);
    await suppressions.saveWindow(w1, [], null);
    const silence: Silence = {
      id: 's1',
      endpoint: 'shop',
      tag: null,
      until: iso(realNow + 13 * DAY),
      reason: 'flaky network, ticket NET-7',
      createdAt: iso(realNow + 12 * DAY),
      expiredAt: null,
    };

    // Act: window 1 (the outage outlasts it)
    await run(realNow); // scheduled
    await run(realNow + 1 * DAY + HOUR); // lead
    await tls.stop();
    const quiet = await run(realNow + 2 * DAY + HOUR); // start; 1st failure
    await run(realNow + 2 * DAY + 2 * HOUR); // 2nd failure: quieted
    await run(realNow + 2 * DAY + 3 * HOUR); // quieted
    const ended = await run(realNow + 2 * DAY + 5 * HOUR); // ended: re-check pages, all-clear says still broken
    await tls.start();
    await run(realNow + 2 * DAY + 6 * HOUR); // resolved
    // ... window 2, declared in the config (the outage ends inside it)
    await run(realNow + 2 * DAY + 7 * HOUR, [w2]); // scheduled (inside the lead time: no lead reminder)
    await tls.stop();
    await run(realNow + 3 * DAY + HOUR, [w2]); // start; down
    await run(realNow + 3 * DAY + 1.5 * HOUR, [w2]); // down: quieted
    await tls.start();
    await run(realNow + 3 * DAY + 3 * HOUR, [w2]); // ended: all clear, nothing pages
    // ... window 3: the certificate crosses its 30-day threshold inside the window
    await run(realNow + 9 * DAY, [w3]); // scheduled
    await run(realNow + 10 * DAY, [w3]); // start; threshold 30 still alerts
    await run(realNow + 10.2 * DAY, [w3]); // ended: all clear
    // ... a silence that expires with the endpoint still down
    await suppressions.saveSilence(silence, [], null);
    await tls.stop();
    await run(realNow + 12 * DAY + HOUR); // silenced: start announced; 1st failure
    await run(realNow + 12 * DAY + 2 * HOUR); // 2nd failure: quieted
    await run(realNow + 13 * DAY + HOUR); // silence over: its end, and the outage pages
    await tls.start();

    // Assess
    const at = (ms: number) => new Date(ms).toISOString();
    const received = receiver.requests.map((r) => {
      const { alert } = r.json as {
        alert: { kind: string; severity: string; summary: string; detail: string };
      };
      return `${alert.kind}/${alert.severity}: ${alert.summary}`;
    });
    const port = tls.port;
    expect(received).toEqual([
      `announcement/info: maintenance scheduled: lb swap, ${ymdhm(realNow + 2 * DAY)} UTC to ${ymdhm(realNow + 2 * DAY + 4 * HOUR)} UTC`,
      `announcement/info: maintenance lb swap starts ${ymdhm(realNow + 2 * DAY)} UTC`,
      `announcement/info: maintenance started: lb swap, until ${ymdhm(realNow + 2 * DAY + 4 * HOUR)} UTC`,
      `error/critical: unreachable for 4 consecutive checks since ${at(realNow + 2 * DAY + HOUR)}: cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
      'announcement/info: maintenance ended: lb swap: 1 of 1 endpoints still broken',
      'resolved/info: reachable again after 4 failed checks',
      `announcement/info: maintenance scheduled: lb swap again, ${ymdhm(realNow + 3 * DAY)} UTC to ${ymdhm(realNow + 3 * DAY + 2 * HOUR)} UTC`,
      `announcement/info: maintenance started: lb swap again, until ${ymdhm(realNow + 3 * DAY + 2 * HOUR)} UTC`,
      'announcement/info: maintenance ended: lb swap again: all clear (1 of 1 endpoints fine)',
      `announcement/info: maintenance scheduled: network work, ${ymdhm(realNow + 9.9 * DAY)} UTC to ${ymdhm(realNow + 10.1 * DAY)} UTC`,
      `announcement/info: maintenance started: network work, until ${ymdhm(realNow + 10.1 * DAY)} UTC`,
      `threshold/warning: expires in 30 days (${at(realNow + 40.5 * DAY).slice(0, 10)})`,
      'announcement/info: maintenance ended: network work: all clear (1 of 1 endpoints fine)',
      `announcement/info: silenced: shop until ${at(realNow + 13 * DAY)}: flaky network, ticket NET-7`,
      'announcement/info: silence ended: shop (flaky network, ticket NET-7)',
      `error/critical: unreachable for 3 consecutive checks since ${at(realNow + 12 * DAY + HOUR)}: cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    ]);
    const outlasted = receiver.requests[3]?.json as { alert: { detail: string } };
    expect(outlasted.alert.detail).toContain(
      `Broken since ${at(realNow + 2 * DAY + HOUR)}, outlasted maintenance window lb swap.`,
    );
    const endNotice = receiver.requests[4]?.json as { alert: { detail: string } };
    expect(endNotice.alert.detail).toContain(
      `Still broken, paged: shop (broken since ${at(realNow + 2 * DAY + HOUR)}).`,
    );
    expect(quiet.cycle.outcomes[0]?.state?.suppressedBy).toMatchObject({
      kind: 'maintenance',
      id: 'w1',
      name: 'lb swap',
    });
    expect(ended.ticks[0].rechecked).toEqual(['w1']);
  });

  it('sends each announcement once when the tick repeats', async () => {
    // Prepare: a fresh window, ticked twice at the same instant
    const before = receiver.requests.length;
    t = realNow + 20 * DAY;
    await suppressions.saveWindow(window('w9', 'repeat', realNow + 30 * DAY, realNow + 31 * DAY), [], null);
    const tickDeps = {
      store: embedded.store,
      suppressions,
      sink: localSink([
        createNotifier(
          {
            type: 'webhook',
            name: 'hook',
            url: receiver.url('/hook'),
            secret: 'maintenance-secret',
            signatureHeader: 'X-Certwatch-Signature',
            minSeverity: 'info',
          },
          { now },
        ),
      ]),
      now,
      recheck: async () => {},
    };
    // Act
    const first = await runMaintenanceTick(tickDeps);
    const second = await runMaintenanceTick(tickDeps);
    // Assess
    expect(first.announced.map((a) => a.id)).toEqual([
      expect.stringMatching(/^announcement:maintenance:w9:scheduled@/),
    ]);
    expect(second.announced).toEqual([]);
    expect(receiver.requests.length - before).toBe(1);
  });
});

function ymdhm(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
