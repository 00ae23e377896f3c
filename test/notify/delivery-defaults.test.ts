/**
 * The production delivery timings, on a virtual clock: a slow but working
 * receiver gets each alert exactly once, a receiver slower than any attempt
 * gets at most one extra copy, and the whole delivery fits the deadlines
 * around it (the send deadline, the delivery lease).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SEND_TIMEOUT_MS } from '../../lambdas/notify/deliver-alerts';
import { POST_DEFAULTS, postJson } from '../../lambdas/notify/http-delivery';
import { DEFAULT_OUTBOX_LEASE_MS } from '../../lambdas/pipeline/process-check';

/**
 * A stand-in receiver that takes every request it is sent (a copy arrives) and answers 200 after
 * `answerAfterMs`; a client that gives up first aborts the wait, not the copy.
 */
function slowReceiver(answerAfterMs: number) {
  const arrivals: number[] = [];
  const fetchImpl = ((_url: unknown, init?: RequestInit) => {
    arrivals.push(Date.now());
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => resolve(new Response('ok', { status: 200 })), answerAfterMs);
      init?.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(init.signal?.reason);
        },
        { once: true },
      );
    });
  }) as typeof fetch;
  return { arrivals, fetchImpl };
}

/** Waits on the (fake) global timers, as the default sleep would. */
const fakeSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('postJson with the production defaults', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2030-03-01T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    // receiver answers after ms, copies that arrive, ok, unknown outcomes
    [100, 1, true, 0],
    [6_000, 1, true, 0],
    [8_000, 1, true, 0],
    [14_000, 1, true, 0],
    [20_000, 2, false, 2],
    [120_000, 2, false, 2],
  ])('a receiver answering after %i ms gets %i cop(ies)', async (answerAfterMs, copies, ok, unknown) => {
    // Prepare
    const rx = slowReceiver(answerAfterMs);
    const started = Date.now();
    // Act
    const sending = postJson('https://hooks.example/x', '{}', {
      fetchImpl: rx.fetchImpl,
      sleep: fakeSleep,
      random: () => 0.5,
    });
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const result = await sending;
    // Assess
    expect(rx.arrivals).toHaveLength(copies);
    expect(result).toMatchObject({ ok, unknownAttempts: unknown });
    expect((rx.arrivals.at(-1) ?? started) - started).toBeLessThanOrEqual(POST_DEFAULTS.budgetMs);
  });

  it('gives an attempt time for an 8 s receiver with room to spare, and fits the deadlines around it', () => {
    // One attempt outlasts the slowest receiver we promise exactly-once to.
    expect(POST_DEFAULTS.timeoutMs).toBeGreaterThanOrEqual(10_000);
    // A delivery ends within its budget, the send deadline outlasts the budget, and the lease outlasts the deadline,
    // so a live sender is never taken over mid-send (which would cost a copy).
    expect(POST_DEFAULTS.budgetMs).toBeLessThan(DEFAULT_SEND_TIMEOUT_MS);
    expect(DEFAULT_SEND_TIMEOUT_MS).toBeLessThan(DEFAULT_OUTBOX_LEASE_MS);
    // Two unknown outcomes (and the backoff between them) fit the budget: the one allowed retry always happens.
    expect(2 * POST_DEFAULTS.timeoutMs + POST_DEFAULTS.baseDelayMs).toBeLessThanOrEqual(
      POST_DEFAULTS.budgetMs,
    );
    expect(POST_DEFAULTS.maxUnknownOutcomes).toBe(2);
  });
});
