/**
 * Processes one CheckMessage: probe the address, apply the alert policy to the
 * stored state, write it back with a single-item conditional write, then
 * deliver the alerts through the outbox. The checker Lambda runs this per SQS
 * record; `certwatch run` runs it per address locally.
 *
 * Why an outbox: the conditional state write decides the alerts. A duplicated
 * or concurrent delivery of the same check loses the race (or sees lastRunId
 * already applied) and decides nothing; a crash or a failing channel leaves
 * the alert in the outbox, and the next delivery (SQS redelivery in AWS, the
 * next run locally) sends what is still owed.
 *
 * Who sends: each (alert, channel) delivery is claimed, and marked the moment
 * it ends, in its own delivery record (`outbox-delivery.ts`). So a redelivered
 * message, a concurrent run whose state write copied the outbox, or a rerun
 * after a crash sends nothing the channel already accepted, and nothing
 * another sender is still sending.
 */
import { buildCheckResult } from '../cert/build-check-result';
import type { TrustStore } from '../cert/trust-store';
import { evaluateCheck, isObsoleteSibling, retirementAlerts } from '../core/alert-policy';
import { evaluateDivergence } from '../core/divergence';
import { type AlertCause, quietingSuppressor } from '../core/suppression';
import { QUIETED_KEPT } from '../core/suppression-step';
import {
  type AddressState,
  type Alert,
  type CheckResult,
  type DeliveryResult,
  type Endpoint,
  type OutboxEntry,
  type QuietedAlert,
  addressKey,
} from '../core/model';
import { randomUUID } from 'node:crypto';
import { probeSettingsOf, protocolOf, servernameFor } from '../core/probe-settings';
import type { CheckCompletion, StateStore, StoredAddressState } from '../store/state-store';
import type { CheckMessage } from './check-message';
import { checkAddress } from './check-target';
import { type AlertSink, DEFAULT_OUTBOX_LEASE_MS, deliverOutbox } from './outbox-delivery';

export type { AlertSink, SinkDeliverOptions } from './outbox-delivery';

export interface ProcessCheckDeps {
  readonly store: StateStore;
  readonly sink: AlertSink;
  /**
   * The anchors an endpoint's chains are judged against (its trust profile, `Endpoint.trust`);
   * hosts pass `TrustStores.forEndpoint`, which builds each profile's store once per process.
   */
  readonly trustFor: (endpoint: Endpoint) => TrustStore;
  readonly now: () => Date;
  /** Probe + analysis of one address; the real network check by default. */
  readonly check?: (endpoint: Endpoint, address: string, now: () => Date) => Promise<CheckResult>;
  /**
   * Reads the private key of an endpoint's client certificate (`clientKey:`) from its reference;
   * hosts pass `clientKeyReader(their secret resolver)`.
   * @default none: an endpoint with a client certificate fails its check naming the missing reader
   */
  readonly clientKey?: (keyRef: string) => Promise<string>;
  /**
   * How long a claimed delivery is left to its sender before another may take it over (it must
   * outlast the sink's longest send: `DEFAULT_SEND_TIMEOUT_MS`, 75 s), and how long a failed
   * delivery waits before it is retried. Default 2 min.
   */
  readonly outboxLeaseMs?: number;
  /** Names the sender in the delivery records it claims. Default a random id per call. */
  readonly holder?: string;
  /**
   * Counts the check in its run. Hosts that check a batch pass `CompletionBatch.add` and flush it
   * after the batch (one counter write for the batch).
   * @default `store.recordCheckCompleted` (one counter write per check)
   */
  readonly recordCompletion?: (runId: string, completion: CheckCompletion) => Promise<void>;
}

/** See `ProcessCheckDeps.outboxLeaseMs`. */
export { DEFAULT_OUTBOX_LEASE_MS } from './outbox-delivery';

export type ProcessCheckStatus = 'checked' | 'duplicate' | 'unknown-endpoint';

export interface ProcessCheckOutcome {
  readonly status: ProcessCheckStatus;
  readonly result: CheckResult | null;
  readonly state: AddressState | null;
  /** Alerts decided by this delivery. */
  readonly alerts: readonly Alert[];
  /** Every delivery attempted (new alerts and any retried from the outbox). */
  readonly deliveries: readonly DeliveryResult[];
  /**
   * Alerts this delivery tried to send that are still owed and will be retried (a failed
   * channel): the checker has the message redelivered for them. Absent = none.
   */
  readonly owed?: readonly string[];
  /**
   * Deliveries of this address not attempted by this delivery: another sender holds them (a
   * concurrent run, or one that died mid-send and whose lease has not passed), or they wait for
   * their retry time. They are still owed and go out later. Absent = 0.
   */
  readonly pending?: number;
  /** Alerts a maintenance window or silence quieted (recorded in the state, not sent). Absent = none. */
  readonly quieted?: readonly QuietedAlert[];
}

/** The state could not be written after repeated conflicts; the message should be retried. */
export class StateConflictError extends Error {
  override readonly name = 'StateConflictError';
}

const MAX_SAVE_ATTEMPTS = 5;

/** Why a divergence alert would go out, for the suppression rules. */
const DIVERGENCE_CAUSE: AlertCause = { codes: ['DIVERGENT_CERTIFICATES'], criticalExpiry: false };

export async function processCheck(
  callerDeps: ProcessCheckDeps,
  msg: CheckMessage,
): Promise<ProcessCheckOutcome> {
  // One holder per call: two concurrent deliveries in one process are two senders.
  const deps: ProcessCheckDeps = {
    ...callerDeps,
    holder: callerDeps.holder ?? `sender-${randomUUID().slice(0, 13)}`,
  };
  const endpoint = await deps.store.getEndpoint(msg.endpointId);
  if (!endpoint) {
    // Removed from the inventory after dispatch: nothing to check, but the run still counts it (on its shard).
    await recordCompletion(deps, msg.runId, {
      key: addressKey(msg.endpointId, msg.address),
      daysLeft: null,
      failed: false,
    });
    return { status: 'unknown-endpoint', result: null, state: null, alerts: [], deliveries: [] };
  }
  const key = addressKey(endpoint.id, msg.address);
  // Eventually consistent, half the read units: the state was written a run ago. A read a second
  // stale (a concurrent delivery just saved) is caught by the save, which is conditional on this
  // version: the loop below then re-reads strongly and finds the duplicate.
  let stored = await deps.store.getAddressState(key, { eventual: true });
  if (stored?.state.lastRunId === msg.runId) {
    const { deliveries, owed, pending } = await flushOutbox(deps, key, stored);
    return { status: 'duplicate', result: null, state: stored.state, alerts: [], deliveries, owed, pending };
  }

  const result = await runCheck(deps, endpoint, msg);

  for (let attempt = 1; attempt <= MAX_SAVE_ATTEMPTS; attempt++) {
    if (attempt > 1) stored = await deps.store.getAddressState(key);
    if (stored?.state.lastRunId === msg.runId) {
      // A concurrent delivery of the same check won the race; it owns the alerts.
      return { status: 'duplicate', result, state: stored.state, alerts: [], deliveries: [] };
    }
    const now = deps.now();
    const prev = stored?.state ?? null;
    const evaluated = evaluateCheck(prev, result, {
      endpoint,
      runId: msg.runId,
      now,
      ...(msg.suppressors ? { suppressors: msg.suppressors } : {}),
    });
    const storedSiblings = (await deps.store.listAddressStates(endpoint.id)).filter(
      (s) => s.state.key !== key,
    );
    const siblings = storedSiblings.map((s) => s.state);
    // The divergence decision is spread over the endpoint's addresses; `previous` dates this address's share of it.
    const divergence = evaluateDivergence(endpoint, [...siblings, evaluated.next], {
      runId: msg.runId,
      now,
      key,
      previous: prev,
    });
    // A silence quiets a divergence alert too (recorded; its key left, so it is decided again after the silence).
    const divergenceQuiet =
      divergence.alert?.kind === 'divergent'
        ? quietingSuppressor(msg.suppressors ?? [], DIVERGENCE_CAUSE)
        : null;
    const alerts =
      divergence.alert && divergenceQuiet === null
        ? [...evaluated.alerts, divergence.alert]
        : [...evaluated.alerts];
    const quieted = [...(evaluated.quieted ?? [])];
    if (divergence.alert && divergenceQuiet !== null) {
      const { id, kind, severity, summary, occurredAt } = divergence.alert;
      quieted.push({ id, kind, severity, summary, at: occurredAt, by: divergenceQuiet });
    }
    const entries: OutboxEntry[] = [
      ...(prev?.outbox?.entries ?? []),
      ...alerts.map((alert) => ({ alert, channels: null, attempts: 0, lastError: null })),
    ];
    const next: AddressState = {
      ...evaluated.next,
      alerting: {
        ...evaluated.next.alerting,
        divergenceKey: divergenceQuiet === null ? divergence.key : evaluated.next.alerting.divergenceKey,
      },
      ...(divergenceQuiet === null
        ? {}
        : {
            quieted: [...(evaluated.next.quieted ?? []), quieted.at(-1) as QuietedAlert].slice(-QUIETED_KEPT),
          }),
      outbox: entries.length > 0 ? { entries, claimedAt: now.toISOString() } : null,
    };
    const expectedVersion = stored?.version ?? null;
    const siblingCount = { siblings: storedSiblings.length };
    if ((await deps.store.saveAddressState(next, expectedVersion, siblingCount)) === 'saved') {
      if (historyWorthy(prev, next, result, alerts.length))
        await deps.store.appendHistory(result, endpoint.id);
      await recordCompletion(deps, msg.runId, {
        key,
        daysLeft: next.daysLeft,
        failed: next.consecutiveFailures > 0,
      });
      const saved: StoredAddressState = { state: next, version: (expectedVersion ?? 0) + 1 };
      const flushed = await flushOutbox(deps, key, saved);
      const retirement = await retireObsoleteSiblings(deps, endpoint, msg, storedSiblings);
      return {
        status: 'checked',
        result,
        state: next,
        alerts: [...alerts, ...retirement.alerts],
        deliveries: [...flushed.deliveries, ...retirement.deliveries],
        owed: [...flushed.owed, ...retirement.owed],
        pending: flushed.pending + retirement.pending,
        ...(quieted.length > 0 ? { quieted } : {}),
      };
    }
  }
  throw new StateConflictError(
    `state of ${key} kept changing under ${MAX_SAVE_ATTEMPTS} attempts; retry the check`,
  );
}

function recordCompletion(deps: ProcessCheckDeps, runId: string, completion: CheckCompletion): Promise<void> {
  return deps.recordCompletion
    ? deps.recordCompletion(runId, completion)
    : deps.store.recordCheckCompleted(runId, completion);
}

/**
 * A history row is written at most once a week while nothing changes: often enough that no
 * address's history (and the chain the report shows from it) expires under the 90-day TTL.
 */
export const HISTORY_KEEPALIVE_MS = 7 * 86_400_000;

/**
 * Whether a check earns a history row: the first check of an address, any alert, and any change of
 * what the history shows (status, findings, certificate, failing or not); otherwise once per
 * {@link HISTORY_KEEPALIVE_MS} (by calendar week of the check time, so it does not drift). A steady
 * check (nothing changed but the check time) writes only its state.
 */
export function historyWorthy(
  prev: AddressState | null,
  next: AddressState,
  result: Pick<CheckResult, 'checkedAt'>,
  alerts: number,
): boolean {
  if (prev === null || alerts > 0) return true;
  if (
    prev.status !== next.status ||
    prev.fingerprint !== next.fingerprint ||
    prev.notAfter !== next.notAfter ||
    prev.issuer !== next.issuer ||
    prev.consecutiveFailures > 0 !== next.consecutiveFailures > 0 ||
    findingsDigest(prev) !== findingsDigest(next)
  ) {
    return true;
  }
  const week = (iso: string) => Math.floor(Date.parse(iso) / HISTORY_KEEPALIVE_MS);
  return week(prev.lastCheckedAt) !== week(result.checkedAt);
}

function findingsDigest(state: AddressState): string {
  return state.findings.map((f) => `${f.code}/${f.severity}/${f.certIndex ?? ''}`).join(',');
}

async function runCheck(deps: ProcessCheckDeps, endpoint: Endpoint, msg: CheckMessage): Promise<CheckResult> {
  const target = { host: endpoint.host, port: endpoint.port, id: endpoint.id };
  if (msg.address === null) {
    const now = deps.now();
    const unresolved = buildCheckResult(
      {
        host: endpoint.host,
        port: endpoint.port,
        address: null,
        servername: servernameFor(endpoint.host, endpoint),
        chainDer: [],
        protocol: null,
        cipher: null,
        error: { code: 'DNS_ERROR', message: msg.dnsError ?? `cannot resolve ${endpoint.host}` },
        durationMs: 0,
      },
      { target: endpoint.id, now, thresholds: endpoint.policy.expiry, trust: deps.trustFor(endpoint) },
    );
    return { ...unresolved, scheme: protocolOf(endpoint) };
  }
  if (deps.check) return deps.check(endpoint, msg.address, deps.now);
  return checkAddress(target, msg.address, {
    ...probeSettingsOf(endpoint),
    thresholds: endpoint.policy.expiry,
    firstAddressOnly: false,
    trust: deps.trustFor(endpoint),
    now: deps.now,
    ...(deps.clientKey === undefined ? {} : { clientKey: deps.clientKey }),
    ...(endpoint.revocation ? { revocation: endpoint.revocation } : {}),
  });
}

/**
 * Housekeeping after a check of one address (which proves the host resolved in this run): the
 * endpoint's other states that are obsolete (see `isObsoleteSibling`) are retired. Each gets its
 * closing alerts (`retirementAlerts`) through its own outbox, claimed by a conditional write so
 * that concurrent checkers of the same host retire it once, and is deleted when that outbox is
 * empty. A crash in between leaves `retiredAt` set and the next check finishes the job.
 */
async function retireObsoleteSiblings(
  deps: ProcessCheckDeps,
  endpoint: Endpoint,
  msg: CheckMessage,
  siblings: readonly StoredAddressState[],
): Promise<Flushed & { alerts: Alert[] }> {
  const alerts: Alert[] = [];
  const deliveries: DeliveryResult[] = [];
  const owed: string[] = [];
  let pending = 0;
  const add = (flushed: Flushed) => {
    deliveries.push(...flushed.deliveries);
    owed.push(...flushed.owed);
    pending += flushed.pending;
  };
  if (msg.address === null) return { alerts, deliveries, owed, pending };
  const now = deps.now();
  // The siblings were read just before this check's own write; a version that moved since only
  // makes the retirement's conditional write lose, and the next check retries.
  const obsolete = siblings.filter((s) => s.state.retiredAt || isObsoleteSibling(s.state, msg.runId, now));
  for (const sibling of obsolete) {
    const siblingKey = sibling.state.key;
    if (sibling.state.retiredAt) {
      add(await flushOutbox(deps, siblingKey, sibling));
    } else {
      const closing = retirementAlerts(sibling.state, { endpoint, now });
      const entries: OutboxEntry[] = [
        ...(sibling.state.outbox?.entries ?? []),
        ...closing.map((alert) => ({ alert, channels: null, attempts: 0, lastError: null })),
      ];
      const retired: AddressState = {
        ...sibling.state,
        retiredAt: now.toISOString(),
        outbox: entries.length > 0 ? { entries, claimedAt: now.toISOString() } : null,
      };
      // Another checker of this host got there first, or the address was checked again: leave it.
      if ((await deps.store.saveAddressState(retired, sibling.version)) !== 'saved') continue;
      alerts.push(...closing);
      const saved = { state: retired, version: sibling.version + 1 };
      add(await flushOutbox(deps, siblingKey, saved));
    }
    const after = await deps.store.getAddressState(siblingKey);
    if (after?.state.retiredAt && (after.state.outbox?.entries.length ?? 0) === 0) {
      await deps.store.deleteAddressState(siblingKey, after.version);
    }
  }
  return { alerts, deliveries, owed, pending };
}

/**
 * Sends what the outbox still owes (each delivery claimed and recorded on its own, see
 * `outbox-delivery.ts`) and writes back the outbox without the alerts now settled.
 */
async function flushOutbox(
  deps: ProcessCheckDeps,
  key: string,
  stored: StoredAddressState,
): Promise<Flushed> {
  const outbox = stored.state.outbox;
  if (!outbox || outbox.entries.length === 0) return { deliveries: [], owed: [], pending: 0 };
  const leaseMs = deps.outboxLeaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  const pass = await deliverOutbox(
    {
      store: deps.store,
      sink: deps.sink,
      now: deps.now,
      holder: deps.holder ?? 'certwatch',
      leaseMs,
      retryHoldMs: leaseMs,
    },
    outbox.entries,
  );
  const flushed = { deliveries: pass.deliveries, owed: [...pass.failed.keys()], pending: pass.pending };
  if (pass.settled.size === 0 && pass.failed.size === 0) return flushed;
  // On a conflict someone else moved the state on (a newer check, another sender's write-back): re-read and re-apply.
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 ? stored : await deps.store.getAddressState(key);
    const entries = current?.state.outbox?.entries;
    if (!current || !entries) break;
    const kept = entries
      .filter((e) => !pass.settled.has(e.alert.id))
      .map((e): OutboxEntry => {
        const error = pass.failed.get(e.alert.id);
        return error === undefined ? e : { ...e, attempts: e.attempts + 1, lastError: error };
      });
    const next: AddressState = {
      ...current.state,
      outbox: kept.length > 0 ? { entries: kept, claimedAt: current.state.outbox?.claimedAt ?? '' } : null,
    };
    if ((await deps.store.saveAddressState(next, current.version)) === 'saved') break;
  }
  return flushed;
}

/** What a flush of one outbox sent, and which of its alerts are still owed. */
interface Flushed {
  readonly deliveries: DeliveryResult[];
  readonly owed: string[];
  readonly pending: number;
}
