/**
 * The one place an `Alert` is assembled. Every producer (the alert policy, the
 * divergence check, address retirement, the watchdog's monitor pages, the
 * notification test) states its facts; the builder fills the common fields and
 * makes the id, so the id rule and the field list live here only.
 *
 * Pure: the clock is passed in.
 */
import type { AlertText } from './alert-text';
import type { Alert, AlertKind, Severity, Status } from './model';

/** Who an alert is about and where it goes: an endpoint, or certwatch itself. `Endpoint` fits as is. */
export interface AlertAudience {
  /** Display name (`Alert.endpoint`). */
  readonly name: string;
  /** Endpoint id (`Alert.endpointId`). */
  readonly id: string;
  readonly owner: string | null;
  /** Channel names to deliver to; empty means all. */
  readonly channels: readonly string[];
}

/** What the alert reports about the address or endpoint. */
export type AlertSubject = Pick<
  Alert,
  'address' | 'status' | 'daysLeft' | 'notAfter' | 'issuer' | 'findings'
>;

/** A subject with nothing observed but a status: alerts about certwatch itself, tests, and the like. */
export function bareSubject(status: Status): AlertSubject {
  return { address: null, status, daysLeft: null, notAfter: null, issuer: null, findings: [] };
}

/** The facts of one alert. */
export interface AlertFacts {
  readonly kind: AlertKind;
  readonly severity: Severity;
  /**
   * What the id is scoped to: an address key, an endpoint id, or null for alerts about
   * certwatch itself (whose kind, `monitor` or `test`, is scope enough).
   */
  readonly scope: string | null;
  /** Names the event within its scope and kind. The same event must always give the same value. */
  readonly event: string;
  readonly audience: AlertAudience;
  readonly subject: AlertSubject;
  readonly text: AlertText;
  /** The injected clock: when the alert was decided. */
  readonly now: Date;
}

/**
 * Deterministic alert id, `scope:kind:event` (or `kind:event` without a scope). Ids are
 * idempotency keys downstream: the same event always gets the same id.
 */
export function alertId(scope: string | null, kind: AlertKind, event: string): string {
  return scope === null ? `${kind}:${event}` : `${scope}:${kind}:${event}`;
}

/** Assembles an alert from its facts. */
export function buildAlert(facts: AlertFacts): Alert {
  const { audience, subject, text } = facts;
  return {
    id: alertId(facts.scope, facts.kind, facts.event),
    kind: facts.kind,
    severity: facts.severity,
    endpoint: audience.name,
    endpointId: audience.id,
    address: subject.address,
    status: subject.status,
    daysLeft: subject.daysLeft,
    notAfter: subject.notAfter,
    issuer: subject.issuer,
    findings: subject.findings,
    summary: text.summary,
    detail: text.detail,
    action: text.action,
    occurredAt: facts.now.toISOString(),
    owner: audience.owner,
    channels: audience.channels,
  };
}
