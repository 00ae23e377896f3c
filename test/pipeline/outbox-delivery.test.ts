/**
 * `deliverAlertAwaitingHolders`: a sender with no later pass of its own (the
 * notifier Lambda) waits for a delivery another sender holds, on the embedded
 * store, with an injected clock that its injected sleep moves forward (no real
 * waiting). The other sender is played by the test: it settles its claim, or
 * never comes back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, DeliveryRecord, DeliveryResult } from '../../lambdas/core/model';
import {
  type AlertSink,
  deliverAlertAwaitingHolders,
  type OutboxDeliveryDeps,
} from '../../lambdas/pipeline/outbox-delivery';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { makeAlert } from '../notify/alert-fixtures';

const T0 = Date.parse('2030-03-01T10:00:00.000Z');
const LEASE_MS = 10_000;
const POLL_MS = 1_000;
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** A sink that accepts every send, and remembers each. */
function acceptingSink(): AlertSink & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    channelsFor: (_alert, only) => only ?? ['hook', 'chat'],
    async deliver(alert, channels, opts = {}) {
      const results: DeliveryResult[] = [];
      for (const channel of channels ?? []) {
        sent.push(channel);
        const result = { channel, alertId: alert.id, ok: true, attempts: 1, error: null };
        await opts.onResult?.(result);
        results.push(result);
      }
      return results;
    },
  };
}

/** What the other sender, holding `hook` since T0, does with its claim, and when (ms after T0). */
type HolderMove = { readonly atMs: number; readonly status: 'delivered' | 'failed' } | null;

describe('deliverAlertAwaitingHolders', () => {
  let embedded: EmbeddedStateStore;

  beforeAll(async () => {
    embedded = await openEmbeddedStateStore({});
  });
  afterAll(async () => {
    await embedded.close();
  });

  /** `hook` claimed by another sender at T0 (lease LEASE_MS); `chat` free. */
  async function heldAlert(): Promise<{ alert: Alert; claim: DeliveryRecord }> {
    const alert = makeAlert({ id: `threshold|shop-${randomUUID()}.example:443|192.0.2.10|3` });
    const claim: DeliveryRecord = {
      alertId: alert.id,
      channel: 'hook',
      status: 'sending',
      holder: 'other',
      leaseUntil: iso(LEASE_MS),
      retryAt: null,
      sends: 1,
      unknownOutcomes: 0,
      lastError: null,
      updatedAt: iso(0),
    };
    expect(await embedded.store.saveDelivery(claim, null)).toBe('saved');
    return { alert, claim };
  }

  it.each([
    {
      name: 'the holder delivers after 3 s: nothing sent here, nothing owed',
      move: { atMs: 3_000, status: 'delivered' } as HolderMove,
      waitMs: 60_000,
      sent: ['chat'],
      owed: {},
      hook: { status: 'delivered', holder: 'other', sends: 1, unknownOutcomes: 0 },
    },
    {
      name: 'the holder fails after 3 s: owed, waiting for its retry time',
      move: { atMs: 3_000, status: 'failed' } as HolderMove,
      waitMs: 60_000,
      sent: ['chat'],
      owed: { hook: 'waiting' },
      hook: { status: 'failed', holder: 'other', sends: 1, unknownOutcomes: 0 },
    },
    {
      name: 'the holder never comes back: taken over when its lease passes, sent once',
      move: null,
      waitMs: 60_000,
      sent: ['chat', 'hook'],
      owed: {},
      hook: { status: 'delivered', holder: 'notifier', sends: 2, unknownOutcomes: 1 },
    },
    {
      name: 'the wait ends before the lease passes: owed, still held',
      move: null,
      waitMs: 5_000,
      sent: ['chat'],
      owed: { hook: 'held' },
      hook: { status: 'sending', holder: 'other', sends: 1, unknownOutcomes: 0 },
    },
  ])('$name', async ({ move, waitMs, sent, owed, hook }) => {
    // Prepare
    const { alert, claim } = await heldAlert();
    const clock = { t: T0 };
    const sink = acceptingSink();
    let moved = false;
    const sleep = async (ms: number) => {
      clock.t += ms;
      if (move && !moved && clock.t - T0 >= move.atMs) {
        moved = true;
        const settled: DeliveryRecord = {
          ...claim,
          status: move.status,
          leaseUntil: null,
          retryAt: move.status === 'failed' ? iso(move.atMs + 30_000) : null,
          lastError: move.status === 'failed' ? 'HTTP 500' : null,
          updatedAt: iso(move.atMs),
        };
        expect(await embedded.store.saveDelivery(settled, 1)).toBe('saved');
      }
    };
    const deps: OutboxDeliveryDeps = {
      store: embedded.store,
      sink,
      now: () => new Date(clock.t),
      holder: 'notifier',
      leaseMs: LEASE_MS,
      retryHoldMs: 30_000,
    };

    // Act
    const pass = await deliverAlertAwaitingHolders(deps, alert, ['hook', 'chat'], {
      waitUntil: new Date(T0 + waitMs),
      pollMs: POLL_MS,
      sleep,
    });

    // Assess
    expect(sink.sent).toEqual(sent);
    expect(Object.fromEntries(pass.owed)).toEqual(owed);
    expect((await embedded.store.getDelivery(alert.id, 'hook'))?.record).toMatchObject(hook);
    expect((await embedded.store.getDelivery(alert.id, 'chat'))?.record.status).toBe('delivered');
    // Bounded: it never waits past waitUntil.
    expect(clock.t - T0).toBeLessThanOrEqual(waitMs);
  });

  it('does not wait at all when nothing is held', async () => {
    // Prepare
    const alert = makeAlert({ id: `threshold|free-${randomUUID()}.example:443|192.0.2.10|3` });
    const sink = acceptingSink();
    let slept = 0;

    // Act
    const pass = await deliverAlertAwaitingHolders(
      {
        store: embedded.store,
        sink,
        now: () => new Date(T0),
        holder: 'notifier',
        leaseMs: LEASE_MS,
        retryHoldMs: 30_000,
      },
      alert,
      ['hook', 'chat', 'hook'],
      {
        waitUntil: new Date(T0 + 60_000),
        pollMs: POLL_MS,
        sleep: async () => {
          slept++;
        },
      },
    );

    // Assess: each channel once, even when named twice
    expect(slept).toBe(0);
    expect(sink.sent).toEqual(['hook', 'chat']);
    expect(pass.owed.size).toBe(0);
    expect(pass.deliveries.map((d) => [d.channel, d.ok])).toEqual([
      ['hook', true],
      ['chat', true],
    ]);
  });
});
