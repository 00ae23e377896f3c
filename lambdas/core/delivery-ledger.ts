/**
 * The rules of one (alert, channel) delivery, as pure functions over its
 * {@link DeliveryRecord}: when a sender may claim it, and what the record says
 * after the send. The pipeline writes each record with a single-item
 * conditional write (the claim before the send, the mark right after it), so
 * two senders never both hold a delivery, and a rerun never repeats one the
 * channel accepted.
 *
 * What cannot be known is whether a send whose answer never came (a timeout, a
 * sender killed mid-request) reached the channel. Such a send counts as an
 * unknown outcome: it is retried with the same Idempotency-Key, but a delivery
 * stops at its second unknown outcome ("maybe delivered"), so an unknown
 * outcome costs the channel at most one extra copy, never more.
 */
import type { DeliveryRecord, DeliveryResult, DeliveryStatus } from './model';

export const DELIVERY_LIMITS = {
  /** A delivery stops ("maybe delivered") once this many attempts had unknown outcomes: the first one and the one retry it allows. */
  maxUnknownOutcomes: 2,
  /** A delivery that failed this many sends is given up (each failure was reported). */
  maxSends: 10,
} as const;

/** Statuses after which a delivery is never sent again. */
const SETTLED: Readonly<Record<DeliveryStatus, boolean>> = {
  sending: false,
  failed: false,
  delivered: true,
  'maybe-delivered': true,
  'given-up': true,
};

/** Whether the delivery is over (delivered, maybe delivered, given up): nothing is owed on that channel any more. */
export function isSettled(record: DeliveryRecord | null): boolean {
  return record !== null && SETTLED[record.status];
}

/** Who claims, and when. */
export interface ClaimContext {
  readonly alertId: string;
  readonly channel: string;
  /** The claiming sender (informational: the version decides who holds the claim). */
  readonly holder: string;
  readonly now: Date;
  /** How long the claim is left to this sender; it must outlast the sender's longest send. */
  readonly leaseMs: number;
}

/** Why a delivery is not sent now. */
export type SkipReason =
  /** Settled: delivered, maybe delivered or given up. */
  | 'settled'
  /** Another sender holds the claim and its lease has not passed. */
  | 'held'
  /** It failed and waits for its retry time. */
  | 'waiting';

export type ClaimDecision =
  /** Write `record` (conditionally); if that wins, send, allowing `unknownOutcomesLeft` unknown outcomes. */
  | { readonly action: 'send'; readonly record: DeliveryRecord; readonly unknownOutcomesLeft: number }
  /** Write `record` without sending: the sender that vanished mid-send used up the last unknown outcome. */
  | { readonly action: 'close'; readonly record: DeliveryRecord }
  | { readonly action: 'skip'; readonly reason: SkipReason };

/** What a sender may do with the delivery as it stands (`current` null: never claimed). */
export function decideClaim(current: DeliveryRecord | null, ctx: ClaimContext): ClaimDecision {
  const at = ctx.now.getTime();
  const claim = (base: { sends: number; unknownOutcomes: number; lastError: string | null }) => ({
    action: 'send' as const,
    unknownOutcomesLeft: DELIVERY_LIMITS.maxUnknownOutcomes - base.unknownOutcomes,
    record: {
      alertId: ctx.alertId,
      channel: ctx.channel,
      status: 'sending' as const,
      holder: ctx.holder,
      leaseUntil: new Date(at + ctx.leaseMs).toISOString(),
      retryAt: null,
      sends: base.sends + 1,
      unknownOutcomes: base.unknownOutcomes,
      lastError: base.lastError,
      updatedAt: ctx.now.toISOString(),
    },
  });
  if (current === null) return claim({ sends: 0, unknownOutcomes: 0, lastError: null });
  switch (current.status) {
    case 'delivered':
    case 'maybe-delivered':
    case 'given-up':
      return { action: 'skip', reason: 'settled' };
    case 'failed':
      return at < timeOf(current.retryAt) ? { action: 'skip', reason: 'waiting' } : claim(current);
    case 'sending': {
      if (at < timeOf(current.leaseUntil)) return { action: 'skip', reason: 'held' };
      // The holder stopped mid-send (crashed, killed, timed out): whether the channel got it is unknown.
      const unknownOutcomes = current.unknownOutcomes + 1;
      const lastError = `sender ${current.holder} stopped mid-send (outcome unknown)`;
      if (unknownOutcomes >= DELIVERY_LIMITS.maxUnknownOutcomes) {
        return {
          action: 'close',
          record: {
            ...current,
            status: 'maybe-delivered',
            leaseUntil: null,
            unknownOutcomes,
            lastError,
            updatedAt: ctx.now.toISOString(),
          },
        };
      }
      return claim({ sends: current.sends, unknownOutcomes, lastError });
    }
    default:
      return assertNever(current.status);
  }
}

/** When settling, how long a failed delivery is left alone before it is retried. */
export interface SettleContext {
  readonly now: Date;
  readonly retryHoldMs: number;
}

/** The record after the send that `claimed` started ended with `result`. */
export function settleDelivery(
  claimed: DeliveryRecord,
  result: DeliveryResult,
  ctx: SettleContext,
): DeliveryRecord {
  const unknownOutcomes = claimed.unknownOutcomes + (result.unknownAttempts ?? 0);
  const base = {
    ...claimed,
    leaseUntil: null,
    retryAt: null,
    unknownOutcomes,
    updatedAt: ctx.now.toISOString(),
  };
  if (result.ok) return { ...base, status: 'delivered', lastError: null };
  const lastError = result.error ?? 'delivery failed';
  if (unknownOutcomes >= DELIVERY_LIMITS.maxUnknownOutcomes) {
    return { ...base, status: 'maybe-delivered', lastError };
  }
  if (claimed.sends >= DELIVERY_LIMITS.maxSends) return { ...base, status: 'given-up', lastError };
  const waitMs = Math.max(ctx.retryHoldMs, result.retryAfterMs ?? 0);
  return {
    ...base,
    status: 'failed',
    retryAt: new Date(ctx.now.getTime() + waitMs).toISOString(),
    lastError,
  };
}

/**
 * The result to report for a delivery that ended as `settled`: `maybeDelivered` when its
 * unknown outcomes mean the channel may have it, and the error says what happens next.
 */
export function reportedResult(result: DeliveryResult, settled: DeliveryRecord): DeliveryResult {
  if (result.ok) return result;
  const maybe = settled.unknownOutcomes > 0;
  const next =
    settled.status === 'maybe-delivered'
      ? 'maybe delivered; not sent again'
      : settled.status === 'given-up'
        ? `given up after ${settled.sends} sends`
        : `retried from ${settled.retryAt}`;
  return {
    ...result,
    ...(maybe ? { maybeDelivered: true } : {}),
    error: `${result.error ?? 'delivery failed'} (${next})`,
  };
}

function timeOf(iso: string | null): number {
  const t = iso === null ? Number.NaN : Date.parse(iso);
  // An unreadable time never blocks a delivery forever.
  return Number.isFinite(t) ? t : Number.NEGATIVE_INFINITY;
}

function assertNever(value: never): never {
  throw new Error(`unhandled delivery status ${String(value)}`);
}
