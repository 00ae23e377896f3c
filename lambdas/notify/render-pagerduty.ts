/**
 * PagerDuty rendering: one Events API v2 event per incident change of an alert
 * (core/incident-lifecycle.ts): `trigger` for an opening or updating change,
 * `resolve` for a closing one, both under the incident's `dedup_key`.
 *
 * PagerDuty shows every field as plain text, so untrusted text needs no markup
 * escaping: it is cleaned by the shared rule set (core/untrusted-text, target
 * `plain`) like every other channel's, and bounded to PagerDuty's limits.
 *
 * Pure functions, no I/O.
 */
import { fitIncidentKey, type IncidentChange, incidentSeverity } from '../core/incident-lifecycle';
import type { Alert, Severity } from '../core/model';
import { boundIdentifier, cleanUntrusted } from '../core/untrusted-text';
import { boundAlert } from './alert-view';

/** Events API v2 limits (characters). */
export const PAGERDUTY_LIMITS = {
  dedupKey: 255,
  summary: 1024,
  source: 255,
} as const;

/** PagerDuty's severities (it has `error` too, which certwatch does not use). */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** Severity of the triggered alert, from the incident's severity (an expired certificate is critical). */
export const PAGERDUTY_SEVERITY = {
  critical: 'critical',
  warning: 'warning',
  info: 'info',
} as const satisfies Record<Severity, PagerDutySeverity>;

/** The alert's facts as `custom_details` shows them: the webhook contract's field names. */
export interface PagerDutyDetails {
  readonly alertId: string;
  readonly kind: string;
  readonly endpoint: string;
  readonly endpointId: string;
  readonly address: string | null;
  readonly status: string;
  readonly daysLeft: number | null;
  readonly notAfter: string | null;
  readonly issuer: string | null;
  readonly findings: readonly { code: string; severity: string; message: string }[];
  readonly detail: string;
  readonly action: string;
  readonly owner: string | null;
  readonly occurredAt: string;
}

/** A `trigger` event. */
export interface PagerDutyTrigger {
  readonly routing_key: string;
  readonly event_action: 'trigger';
  readonly dedup_key: string;
  readonly payload: {
    readonly summary: string;
    readonly source: string;
    readonly severity: PagerDutySeverity;
    readonly timestamp: string;
    readonly component?: string;
    readonly group?: string;
    readonly class: string;
    readonly custom_details: PagerDutyDetails;
  };
  readonly client: 'certwatch';
}

/** A `resolve` event: PagerDuty reads nothing but the key. */
export interface PagerDutyResolve {
  readonly routing_key: string;
  readonly event_action: 'resolve';
  readonly dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

/** `example.com (192.0.2.10): expires in 3 days`: which endpoint and address, and what happened. */
function summaryOf(alert: Alert): string {
  const endpoint = alert.endpoint || alert.endpointId;
  const where = alert.address === null ? endpoint : `${endpoint} (${alert.address})`;
  return cleanUntrusted(`${where}: ${alert.summary}`, {
    target: 'plain',
    maxLength: PAGERDUTY_LIMITS.summary,
  });
}

function detailsOf(alert: Alert): PagerDutyDetails {
  // boundAlert cleans and bounds every text field as the webhook carries it.
  const a = boundAlert(alert);
  return {
    alertId: a.id,
    kind: a.kind,
    endpoint: a.endpoint,
    endpointId: a.endpointId,
    address: a.address,
    status: a.status,
    daysLeft: a.daysLeft,
    notAfter: a.notAfter,
    issuer: a.issuer,
    findings: a.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message })),
    detail: a.detail,
    action: a.action,
    owner: a.owner,
    occurredAt: a.occurredAt,
  };
}

/** The event for one incident change of `alert`. */
export function renderPagerDutyEvent(
  alert: Alert,
  change: IncidentChange,
  routingKey: string,
): PagerDutyEvent {
  const dedupKey = fitIncidentKey(change.key, PAGERDUTY_LIMITS.dedupKey);
  if (change.action === 'close') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  }
  const component = cleanUntrusted(alert.address ?? '', { target: 'plain', maxLength: 255 });
  const group = cleanUntrusted(alert.owner ?? '', { target: 'plain', maxLength: 255 });
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summaryOf(alert),
      source: boundIdentifier(alert.endpointId, PAGERDUTY_LIMITS.source) || 'certwatch',
      severity: PAGERDUTY_SEVERITY[incidentSeverity(alert)],
      timestamp: alert.occurredAt,
      ...(component ? { component } : {}),
      ...(group ? { group } : {}),
      class: change.condition,
      custom_details: detailsOf(alert),
    },
    client: 'certwatch',
  };
}
