/**
 * Delivers the alerts of an address's outbox, each (alert, channel) at most
 * once per known outcome, through its delivery record in the store:
 *
 * 1. Claim: before a send, a conditional write of the record (`sending`, this
 *    sender, a lease). Of two senders exactly one wins; the other skips the
 *    delivery. A claim whose lease passed was left by a sender that stopped
 *    mid-send, and is taken over (see `core/delivery-ledger.ts`).
 * 2. Send: the sink delivers to the claimed channels only.
 * 3. Mark: the moment a channel's send ends, its record is written:
 *    `delivered` (never sent again), `failed` (retried after the hold or the
 *    channel's `Retry-After`), `maybe-delivered` or `given-up`.
 *
 * A crash between 2 and 3 is the one case that can cost the channel a copy:
 * the takeover retries it, with the same Idempotency-Key, at most once.
 * The outbox entry stays until every channel's record is settled, so nothing
 * decided is ever lost.
 *
 * Every sender of an alert goes through the same three steps in
 * `deliverAlert`: `deliverOutbox` (the checker and `certwatch run`, over an
 * address's outbox) and `deliverAlertAwaitingHolders` (the notifier Lambda,
 * over one SNS message).
 */
import { decideClaim, isSettled, reportedResult, settleDelivery } from '../core/delivery-ledger';
import type { Alert, DeliveryRecord, DeliveryResult, OutboxEntry } from '../core/model';
import { setTimeout as delay } from 'node:timers/promises';
import type { StateStore } from '../store/state-store';

/**
 * How long a claimed delivery is left to its sender before another may take it over. It must
 * outlast the sink's longest send (`DEFAULT_SEND_TIMEOUT_MS`, 75 s) and the mark after it.
 */
export const DEFAULT_OUTBOX_LEASE_MS = 120_000;

/** How a sink may be asked to send (what a delivery record allows, and where its results go). */
export interface SinkDeliverOptions {
  /** Unknown outcomes the send to `channel` may still have (its record's allowance). */
  readonly maxUnknownOutcomes?: (channel: string) => number;
  /** Called as soon as each channel's send ends, and awaited; it never rejects. */
  readonly onResult?: (result: DeliveryResult) => Promise<void>;
}

/** Port: delivers one alert to channels (SNS topics in the checker Lambda; every channel locally). */
export interface AlertSink {
  /**
   * Names of the channels `alert` routes to, narrowed to `only` when it is a list (the channels
   * an outbox entry written before delivery records still owed). Each gets its own record.
   */
  channelsFor(alert: Alert, only: readonly string[] | null): readonly string[];
  /** `channels` null = every channel the alert routes to. Never rejects; one result per channel attempted. */
  deliver(
    alert: Alert,
    channels: readonly string[] | null,
    opts?: SinkDeliverOptions,
  ): Promise<DeliveryResult[]>;
}

export interface OutboxDeliveryDeps {
  readonly store: StateStore;
  readonly sink: AlertSink;
  readonly now: () => Date;
  /** Who claims (informational; the record's version decides). */
  readonly holder: string;
  /** How long a claim is left to its sender; it must outlast the sink's longest send. */
  readonly leaseMs: number;
  /** How long a failed delivery is left alone before it is retried. */
  readonly retryHoldMs: number;
}

/** What one pass over an outbox did. */
export interface OutboxPass {
  /** Every send attempted (and every delivery closed without a send), as reported. */
  readonly deliveries: DeliveryResult[];
  /** Alerts settled on every channel they route to: they leave the outbox. */
  readonly settled: ReadonlySet<string>;
  /** Alerts this pass sent and still owes, with the last error. */
  readonly failed: ReadonlyMap<string, string | null>;
  /** Deliveries not attempted now: held by another sender, or waiting for their retry time. */
  readonly pending: number;
}

/** Why a channel of an alert is still owed after a pass. */
export type OwedReason =
  /** Another sender holds the claim: its lease has not passed, or it won the claim's write just now. */
  | 'held'
  /** An earlier send failed, and the delivery waits for its retry time. */
  | 'waiting'
  /** This pass sent it and the send failed; its record says when it is retried. */
  | 'failed'
  /** This pass sent it but outlived its lease: the sender that took the claim over owns the record. */
  | 'taken-over';

/** What one pass over one alert's deliveries did. */
export interface AlertPass {
  /** Every send attempted (and every delivery closed without a send), as reported. */
  readonly deliveries: DeliveryResult[];
  /** The channels still owed after this pass, and why; empty when every channel is settled. */
  readonly owed: ReadonlyMap<string, OwedReason>;
}

interface Claimed {
  readonly record: DeliveryRecord;
  readonly version: number;
  readonly unknownOutcomesLeft: number;
}

/** Sends what `entries` still owe, alert by alert, and records each delivery as it ends. */
export async function deliverOutbox(
  deps: OutboxDeliveryDeps,
  entries: readonly OutboxEntry[],
): Promise<OutboxPass> {
  const deliveries: DeliveryResult[] = [];
  const settled = new Set<string>();
  const failed = new Map<string, string | null>();
  let pending = 0;
  for (const entry of entries) {
    const pass = await deliverEntry(deps, entry);
    deliveries.push(...pass.deliveries);
    pending += pass.pending;
    if (pass.open) {
      const error = pass.deliveries.find((d) => !d.ok)?.error;
      if (error !== undefined) failed.set(entry.alert.id, error);
    } else {
      settled.add(entry.alert.id);
    }
  }
  return { deliveries, settled, failed, pending };
}

async function deliverEntry(
  deps: OutboxDeliveryDeps,
  entry: OutboxEntry,
): Promise<{ deliveries: DeliveryResult[]; open: boolean; pending: number }> {
  const pass = await deliverAlert(deps, entry.alert, deps.sink.channelsFor(entry.alert, entry.channels));
  const pending = [...pass.owed.values()].filter((why) => why === 'held' || why === 'waiting').length;
  return { deliveries: pass.deliveries, open: pass.owed.size > 0, pending };
}

/**
 * Claims, sends and marks the deliveries of `alert` to `channels` (names the sink knows), each on
 * its own record: what is settled or held by another sender is skipped, the rest is claimed with a
 * conditional write, sent in one call to the sink, and marked as each channel's send ends.
 * @throws the store's error when a record could not be read or written (after the sends that were
 *   claimed have ended and every mark was tried): the caller retries later, and a delivery whose
 *   mark was lost is taken over after its lease.
 */
export async function deliverAlert(
  deps: OutboxDeliveryDeps,
  alert: Alert,
  requested: readonly string[],
): Promise<AlertPass> {
  const channels = [...new Set(requested)];
  const owed = new Map<string, OwedReason>();
  if (channels.length === 0) return { deliveries: [], owed };
  const stored = new Map((await deps.store.listDeliveries(alert.id)).map((s) => [s.record.channel, s]));
  const deliveries: DeliveryResult[] = [];
  const claimed = new Map<string, Claimed>();

  await Promise.all(
    channels.map(async (channel) => {
      const current = stored.get(channel) ?? null;
      const decision = decideClaim(current?.record ?? null, {
        alertId: alert.id,
        channel,
        holder: deps.holder,
        now: deps.now(),
        leaseMs: deps.leaseMs,
      });
      if (decision.action === 'skip') {
        if (decision.reason !== 'settled') owed.set(channel, decision.reason);
        return;
      }
      if ((await deps.store.saveDelivery(decision.record, current?.version ?? null)) === 'conflict') {
        // Another sender wrote the record first: it owns this delivery now.
        owed.set(channel, 'held');
        return;
      }
      if (decision.action === 'close') {
        deliveries.push(closedWithoutSending(decision.record));
        return;
      }
      claimed.set(channel, {
        record: decision.record,
        version: (current?.version ?? 0) + 1,
        unknownOutcomesLeft: decision.unknownOutcomesLeft,
      });
    }),
  );
  if (claimed.size === 0) return { deliveries, owed };

  // Each channel's record is written once, from the sink's callback or, for a sink that has none, after it returns.
  const marks = new Map<string, Promise<DeliveryRecord | null>>();
  let storeError: { error: unknown } | null = null;
  const mark = (result: DeliveryResult): Promise<DeliveryRecord | null> => {
    const existing = marks.get(result.channel);
    if (existing) return existing;
    const claim = claimed.get(result.channel);
    const writing = claim
      ? (async () => {
          const next = settleDelivery(claim.record, result, {
            now: deps.now(),
            retryHoldMs: deps.retryHoldMs,
          });
          try {
            // 'conflict': this sender outlived its lease and another took over; that sender's record stands.
            return (await deps.store.saveDelivery(next, claim.version)) === 'saved' ? next : null;
          } catch (error) {
            storeError ??= { error };
            return null;
          }
        })()
      : Promise.resolve(null);
    marks.set(result.channel, writing);
    return writing;
  };
  const results = [
    ...(await deps.sink.deliver(alert, [...claimed.keys()], {
      maxUnknownOutcomes: (channel) => claimed.get(channel)?.unknownOutcomesLeft ?? 1,
      onResult: async (result) => void (await mark(result)),
    })),
  ];
  const answered = new Set(results.map((r) => r.channel));
  for (const channel of claimed.keys()) {
    if (answered.has(channel)) continue;
    // Claimed but not attempted (the sink no longer has the channel): release it for a retry rather than hold it for a lease.
    results.push({
      channel,
      alertId: alert.id,
      ok: false,
      attempts: 0,
      error: 'the sink did not attempt this channel',
    });
  }
  for (const result of results) {
    const record = await mark(result);
    deliveries.push(record ? reportedResult(result, record) : result);
    if (isSettled(record)) continue;
    owed.set(result.channel, record === null && claimed.has(result.channel) ? 'taken-over' : 'failed');
  }
  if (storeError !== null) throw (storeError as { error: unknown }).error;
  return { deliveries, owed };
}

/** How long a sender waits for the deliveries another sender holds. */
export interface AwaitHoldersOptions {
  /** Stop waiting once `deps.now()` would pass this; what is still held then stays owed (`held`). */
  readonly waitUntil: Date;
  /** Pause between two looks at a held delivery. */
  readonly pollMs: number;
  /** @default node:timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * {@link deliverAlert}, for a sender with no later pass of its own to leave a held delivery to
 * (the notifier Lambda: an invocation holding a claim may have died with it, and a retried
 * invocation must finish the job). Every `pollMs` it looks again at each delivery another sender
 * holds, until that sender settles it (nothing left to do), its send fails (owed: `waiting` or,
 * when its retry time has come, sent by this sender), or its lease passes (taken over and sent
 * here, as the ledger allows), or until `waitUntil`.
 */
export async function deliverAlertAwaitingHolders(
  deps: OutboxDeliveryDeps,
  alert: Alert,
  channels: readonly string[],
  opts: AwaitHoldersOptions,
): Promise<AlertPass> {
  const first = await deliverAlert(deps, alert, channels);
  const deliveries = [...first.deliveries];
  const owed = new Map(first.owed);
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const pollMs = Math.max(1, opts.pollMs);
  const deadline = opts.waitUntil.getTime();
  const maxLooks = Math.max(0, Math.ceil((deadline - deps.now().getTime()) / pollMs));
  for (let look = 0; look < maxLooks; look++) {
    const held = [...owed].filter(([, why]) => why === 'held' || why === 'taken-over').map(([c]) => c);
    if (held.length === 0 || deps.now().getTime() + pollMs > deadline) break;
    await sleep(pollMs);
    const again = await deliverAlert(deps, alert, held);
    deliveries.push(...again.deliveries);
    for (const channel of held) {
      const why = again.owed.get(channel);
      if (why === undefined) owed.delete(channel);
      else owed.set(channel, why);
    }
  }
  return { deliveries, owed };
}

/** The result reported for a delivery closed without a send: its sender vanished after an earlier unknown outcome. */
function closedWithoutSending(record: DeliveryRecord): DeliveryResult {
  return {
    channel: record.channel,
    alertId: record.alertId,
    ok: false,
    attempts: 0,
    error: `${record.lastError ?? 'outcome unknown'} after an earlier unknown outcome (maybe delivered; not sent again)`,
    unknownAttempts: 0,
    maybeDelivered: true,
  };
}
