/**
 * Processes one CheckMessage: probe the address, apply the alert policy to the
 * stored state, write it back with a single-item conditional write, then
 * deliver the alerts through the outbox. The checker Lambda runs this per SQS
 * record; `certwatch run` runs it per address locally.
 *
 * Why an outbox: the conditional state write is the claim to send the alerts
 * it decided. A duplicated or concurrent delivery of the same check loses the
 * race (or sees lastRunId already applied) and sends nothing; a crash or a
 * failing channel leaves the alert in the outbox, and the next delivery
 * (SQS redelivery in AWS, the next run locally) sends it again.
 */
import { buildCheckResult } from '../cert/build-check-result';
import type { TrustStore } from '../cert/trust-store';
import { evaluateCheck, isObsoleteSibling, retirementAlerts } from '../core/alert-policy';
import { evaluateDivergence } from '../core/divergence';
import {
  type AddressState,
  type Alert,
  type CheckResult,
  type DeliveryResult,
  type Endpoint,
  type OutboxEntry,
  addressKey,
} from '../core/model';
import { probeSettingsOf, servernameFor } from '../core/probe-settings';
import type { StateStore, StoredAddressState } from '../store/state-store';
import type { CheckMessage } from './check-message';
import { checkAddress } from './check-target';

/** Port: delivers one alert to channels (SNS topic in the checker Lambda; every channel locally). */
export interface AlertSink {
  /** `channels` null = every channel the alert routes to. Never rejects; one result per channel attempted. */
  deliver(alert: Alert, channels: readonly string[] | null): Promise<DeliveryResult[]>;
}

export interface ProcessCheckDeps {
  readonly store: StateStore;
  readonly sink: AlertSink;
  readonly trust: TrustStore;
  readonly now: () => Date;
  /** Probe + analysis of one address; the real network check by default. */
  readonly check?: (endpoint: Endpoint, address: string, now: () => Date) => Promise<CheckResult>;
  /** How long a claimed outbox is left to its sender before another delivery may take it over. Default 2 min. */
  readonly outboxLeaseMs?: number;
}

export type ProcessCheckStatus = 'checked' | 'duplicate' | 'unknown-endpoint';

export interface ProcessCheckOutcome {
  readonly status: ProcessCheckStatus;
  readonly result: CheckResult | null;
  readonly state: AddressState | null;
  /** Alerts decided by this delivery. */
  readonly alerts: readonly Alert[];
  /** Every delivery attempted (new alerts and any retried from the outbox). */
  readonly deliveries: readonly DeliveryResult[];
}

/** The state could not be written after repeated conflicts; the message should be retried. */
export class StateConflictError extends Error {
  override readonly name = 'StateConflictError';
}

const MAX_SAVE_ATTEMPTS = 5;
/** After this many failed attempts an outbox entry is dropped; every failure was reported before. */
const MAX_DELIVERY_ATTEMPTS = 10;

export async function processCheck(deps: ProcessCheckDeps, msg: CheckMessage): Promise<ProcessCheckOutcome> {
  const endpoint = await deps.store.getEndpoint(msg.endpointId);
  if (!endpoint) {
    // Removed from the inventory after dispatch: nothing to check, but the run still counts it.
    await deps.store.recordCheckCompleted(msg.runId);
    return { status: 'unknown-endpoint', result: null, state: null, alerts: [], deliveries: [] };
  }
  const key = addressKey(endpoint.id, msg.address);
  let stored = await deps.store.getAddressState(key);
  if (stored?.state.lastRunId === msg.runId) {
    const deliveries = await flushOutbox(deps, key, stored, false);
    return { status: 'duplicate', result: null, state: stored.state, alerts: [], deliveries };
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
    const evaluated = evaluateCheck(prev, result, { endpoint, runId: msg.runId, now });
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
    const alerts = divergence.alert ? [...evaluated.alerts, divergence.alert] : [...evaluated.alerts];
    const entries: OutboxEntry[] = [
      ...(prev?.outbox?.entries ?? []),
      ...alerts.map((alert) => ({ alert, channels: null, attempts: 0, lastError: null })),
    ];
    const next: AddressState = {
      ...evaluated.next,
      alerting: { ...evaluated.next.alerting, divergenceKey: divergence.key },
      outbox: entries.length > 0 ? { entries, claimedAt: now.toISOString() } : null,
    };
    const expectedVersion = stored?.version ?? null;
    if ((await deps.store.saveAddressState(next, expectedVersion)) === 'saved') {
      await deps.store.appendHistory(result, endpoint.id);
      await deps.store.recordCheckCompleted(msg.runId);
      const saved: StoredAddressState = { state: next, version: (expectedVersion ?? 0) + 1 };
      const deliveries = await flushOutbox(deps, key, saved, true);
      const retirement = await retireObsoleteSiblings(deps, endpoint, msg, storedSiblings);
      return {
        status: 'checked',
        result,
        state: next,
        alerts: [...alerts, ...retirement.alerts],
        deliveries: [...deliveries, ...retirement.deliveries],
      };
    }
  }
  throw new StateConflictError(
    `state of ${key} kept changing under ${MAX_SAVE_ATTEMPTS} attempts; retry the check`,
  );
}

async function runCheck(deps: ProcessCheckDeps, endpoint: Endpoint, msg: CheckMessage): Promise<CheckResult> {
  const target = { host: endpoint.host, port: endpoint.port, id: endpoint.id };
  if (msg.address === null) {
    const now = deps.now();
    return buildCheckResult(
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
      { target: endpoint.id, now, thresholds: endpoint.policy.expiry, trust: deps.trust },
    );
  }
  if (deps.check) return deps.check(endpoint, msg.address, deps.now);
  return checkAddress(target, msg.address, {
    ...probeSettingsOf(endpoint),
    thresholds: endpoint.policy.expiry,
    firstAddressOnly: false,
    trust: deps.trust,
    now: deps.now,
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
): Promise<{ alerts: Alert[]; deliveries: DeliveryResult[] }> {
  const alerts: Alert[] = [];
  const deliveries: DeliveryResult[] = [];
  if (msg.address === null) return { alerts, deliveries };
  const now = deps.now();
  // The siblings were read just before this check's own write; a version that moved since only
  // makes the retirement's conditional write lose, and the next check retries.
  const obsolete = siblings.filter((s) => s.state.retiredAt || isObsoleteSibling(s.state, msg.runId, now));
  for (const sibling of obsolete) {
    const siblingKey = sibling.state.key;
    if (sibling.state.retiredAt) {
      deliveries.push(...(await flushOutbox(deps, siblingKey, sibling, false)));
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
      const claimed = { state: retired, version: sibling.version + 1 };
      deliveries.push(...(await flushOutbox(deps, siblingKey, claimed, true)));
    }
    const after = await deps.store.getAddressState(siblingKey);
    if (after?.state.retiredAt && (after.state.outbox?.entries.length ?? 0) === 0) {
      await deps.store.deleteAddressState(siblingKey, after.version);
    }
  }
  return { alerts, deliveries };
}

/**
 * Sends what the outbox holds and writes back what is still owed.
 * `claimed`: the caller's own state write just claimed the outbox; otherwise
 * it is only taken over once the previous sender's lease has passed.
 */
async function flushOutbox(
  deps: ProcessCheckDeps,
  key: string,
  stored: StoredAddressState,
  claimed: boolean,
): Promise<DeliveryResult[]> {
  const outbox = stored.state.outbox;
  if (!outbox || outbox.entries.length === 0) return [];
  let version = stored.version;
  if (!claimed) {
    const leaseMs = deps.outboxLeaseMs ?? 120_000;
    const now = deps.now();
    if (now.getTime() - Date.parse(outbox.claimedAt) < leaseMs) return [];
    const claim: AddressState = { ...stored.state, outbox: { ...outbox, claimedAt: now.toISOString() } };
    if ((await deps.store.saveAddressState(claim, version)) !== 'saved') return [];
    version++;
  }
  const deliveries: DeliveryResult[] = [];
  const remaining: OutboxEntry[] = [];
  for (const entry of outbox.entries) {
    const results = await deps.sink.deliver(entry.alert, entry.channels);
    deliveries.push(...results);
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0 && entry.attempts + 1 < MAX_DELIVERY_ATTEMPTS) {
      remaining.push({
        alert: entry.alert,
        channels: failed.map((r) => r.channel),
        attempts: entry.attempts + 1,
        lastError: failed.map((r) => `${r.channel}: ${r.error}`).join('; '),
      });
    }
  }
  // Write back what is still owed; on a conflict someone else moved the state on, and the next flush retries.
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 ? { state: stored.state, version } : await deps.store.getAddressState(key);
    if (!current) break;
    const sentIds = new Set(outbox.entries.map((e) => e.alert.id));
    const keep = (current.state.outbox?.entries ?? []).filter((e) => !sentIds.has(e.alert.id));
    const entries = [...keep, ...remaining];
    const next: AddressState = {
      ...current.state,
      outbox: entries.length > 0 ? { entries, claimedAt: current.state.outbox?.claimedAt ?? '' } : null,
    };
    if ((await deps.store.saveAddressState(next, current.version)) === 'saved') break;
  }
  return deliveries;
}
