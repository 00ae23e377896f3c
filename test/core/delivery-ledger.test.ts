import { describe, expect, it } from 'vitest';
import {
  type ClaimContext,
  DELIVERY_LIMITS,
  decideClaim,
  isSettled,
  reportedResult,
  settleDelivery,
} from '../../lambdas/core/delivery-ledger';
import type { DeliveryRecord, DeliveryResult } from '../../lambdas/core/model';

const T0 = Date.parse('2030-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const LEASE = 120_000;

const ctx = (nowMs = 0, holder = 'me'): ClaimContext => ({
  alertId: 'a1',
  channel: 'hook',
  holder,
  now: new Date(T0 + nowMs),
  leaseMs: LEASE,
});

function record(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    alertId: 'a1',
    channel: 'hook',
    status: 'sending',
    holder: 'other',
    leaseUntil: at(LEASE),
    retryAt: null,
    sends: 1,
    unknownOutcomes: 0,
    lastError: null,
    updatedAt: at(0),
    ...overrides,
  };
}

function result(overrides: Partial<DeliveryResult> = {}): DeliveryResult {
  return { channel: 'hook', alertId: 'a1', ok: true, attempts: 1, error: null, ...overrides };
}

describe('decideClaim', () => {
  it.each<[string, DeliveryRecord | null, number, string, Partial<DeliveryRecord> | null, number | null]>([
    // name, current, now (ms after T0), action, claimed record fields, unknown outcomes left
    ['never claimed: claim it', null, 0, 'send', { sends: 1, unknownOutcomes: 0, leaseUntil: at(LEASE) }, 2],
    [
      'delivered: never again',
      record({ status: 'delivered', leaseUntil: null }),
      10 * LEASE,
      'skip',
      null,
      null,
    ],
    ['maybe delivered: never again', record({ status: 'maybe-delivered' }), 10 * LEASE, 'skip', null, null],
    ['given up: never again', record({ status: 'given-up' }), 10 * LEASE, 'skip', null, null],
    ['held by a live sender', record(), LEASE - 1, 'skip', null, null],
    [
      'held past its lease: take it over, counting the vanished send as unknown',
      record({ sends: 1 }),
      LEASE,
      'send',
      {
        sends: 2,
        unknownOutcomes: 1,
        holder: 'me',
        lastError: 'sender other stopped mid-send (outcome unknown)',
      },
      1,
    ],
    [
      'held past its lease after an earlier unknown outcome: close it, maybe delivered',
      record({ unknownOutcomes: 1 }),
      LEASE,
      'close',
      { status: 'maybe-delivered', unknownOutcomes: 2, leaseUntil: null, sends: 1 },
      null,
    ],
    [
      'failed, before its retry time',
      record({ status: 'failed', retryAt: at(60_000) }),
      59_999,
      'skip',
      null,
      null,
    ],
    [
      'failed, at its retry time: claim it',
      record({ status: 'failed', retryAt: at(60_000), sends: 3, unknownOutcomes: 1 }),
      60_000,
      'send',
      { sends: 4, unknownOutcomes: 1, retryAt: null, status: 'sending' },
      1,
    ],
  ])('%s', (_name, current, nowMs, action, fields, unknownLeft) => {
    // Act
    const decision = decideClaim(current, ctx(nowMs));
    // Assess
    expect(decision.action).toBe(action);
    if (decision.action === 'skip') return;
    expect(decision.record).toMatchObject({
      alertId: 'a1',
      channel: 'hook',
      updatedAt: at(nowMs),
      ...fields,
    });
    if (decision.action === 'send') {
      expect(decision.record).toMatchObject({
        status: 'sending',
        holder: 'me',
        leaseUntil: at(nowMs + LEASE),
      });
      expect(decision.unknownOutcomesLeft).toBe(unknownLeft);
    }
  });

  it.each<[string, DeliveryRecord, string]>([
    ['settled', record({ status: 'delivered' }), 'settled'],
    ['held', record(), 'held'],
    ['waiting', record({ status: 'failed', retryAt: at(1_000) }), 'waiting'],
  ])('says why it skips (%s)', (_name, current, reason) => {
    expect(decideClaim(current, ctx(0))).toEqual({ action: 'skip', reason });
  });
});

describe('settleDelivery', () => {
  const claimed = record({ holder: 'me', sends: 1 });
  const settle = (r: DeliveryResult, from = claimed) =>
    settleDelivery(from, r, { now: new Date(T0 + 5_000), retryHoldMs: 60_000 });

  it.each<[string, DeliveryRecord, DeliveryResult, Partial<DeliveryRecord>]>([
    ['accepted: delivered', claimed, result(), { status: 'delivered', lastError: null, leaseUntil: null }],
    [
      'accepted after an unknown outcome: delivered, the unknown counted',
      claimed,
      result({ attempts: 2, unknownAttempts: 1 }),
      { status: 'delivered', unknownOutcomes: 1 },
    ],
    [
      'refused: failed, retried after the hold',
      claimed,
      result({ ok: false, error: 'HTTP 500' }),
      { status: 'failed', retryAt: at(65_000), lastError: 'HTTP 500', leaseUntil: null },
    ],
    [
      'asked to wait longer than the hold: retried when the channel asked',
      claimed,
      result({ ok: false, error: 'HTTP 429', retryAfterMs: 3_600_000 }),
      { status: 'failed', retryAt: at(3_605_000) },
    ],
    [
      'one unknown outcome: failed, still retried (once more)',
      claimed,
      result({ ok: false, error: 'timed out', unknownAttempts: 1, maybeDelivered: true }),
      { status: 'failed', unknownOutcomes: 1, retryAt: at(65_000) },
    ],
    [
      'two unknown outcomes: maybe delivered, never sent again',
      claimed,
      result({ ok: false, error: 'timed out', unknownAttempts: 2, maybeDelivered: true }),
      { status: 'maybe-delivered', unknownOutcomes: 2, retryAt: null },
    ],
    [
      'a second unknown outcome over two sends: maybe delivered',
      record({ holder: 'me', sends: 2, unknownOutcomes: 1 }),
      result({ ok: false, error: 'timed out', unknownAttempts: 1 }),
      { status: 'maybe-delivered', unknownOutcomes: 2 },
    ],
    [
      'the last allowed send failed: given up',
      record({ holder: 'me', sends: DELIVERY_LIMITS.maxSends }),
      result({ ok: false, error: 'HTTP 500' }),
      { status: 'given-up', retryAt: null },
    ],
  ])('%s', (_name, from, r, fields) => {
    // Act
    const next = settle(r, from);
    // Assess
    expect(next).toMatchObject({ holder: 'me', updatedAt: at(5_000), ...fields });
  });
});

describe('isSettled', () => {
  it.each<[DeliveryRecord | null, boolean]>([
    [null, false],
    [record({ status: 'sending' }), false],
    [record({ status: 'failed' }), false],
    [record({ status: 'delivered' }), true],
    [record({ status: 'maybe-delivered' }), true],
    [record({ status: 'given-up' }), true],
  ])('%j → %s', (r, settled) => {
    expect(isSettled(r)).toBe(settled);
  });
});

describe('reportedResult', () => {
  it.each<[string, DeliveryResult, Partial<DeliveryRecord>, Partial<DeliveryResult>]>([
    ['delivered: as sent', result(), { status: 'delivered' }, { ok: true, error: null }],
    [
      'failed: says when it is retried',
      result({ ok: false, error: 'HTTP 500' }),
      { status: 'failed', retryAt: at(60_000) },
      { error: `HTTP 500 (retried from ${at(60_000)})` },
    ],
    [
      'maybe delivered: says so, and that it is not sent again',
      result({ ok: false, error: 'timed out', unknownAttempts: 1 }),
      { status: 'maybe-delivered', unknownOutcomes: 2 },
      { maybeDelivered: true, error: 'timed out (maybe delivered; not sent again)' },
    ],
    [
      'given up: says after how many sends',
      result({ ok: false, error: 'HTTP 500' }),
      { status: 'given-up', sends: 10 },
      { error: 'HTTP 500 (given up after 10 sends)' },
    ],
  ])('%s', (_name, r, settled, expected) => {
    expect(reportedResult(r, record(settled))).toMatchObject(expected);
  });
});
