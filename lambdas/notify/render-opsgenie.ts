/**
 * Opsgenie rendering: one Alert API request per incident change of an alert
 * (core/incident-lifecycle.ts), all by `alias` (the incident key):
 * - open and update: create (`POST /v2/alerts`). While an alert with that alias
 *   is open Opsgenie does not create another: it counts the occurrence (`count`,
 *   `lastOccurredAt`) and keeps the first message. A reminder therefore never
 *   opens a second alert, yet one that a person closed while the certificate is
 *   still broken is opened again, as the policy's "never silent" promise wants.
 * - close: `POST /v2/alerts/{alias}/close?identifierType=alias`, with the
 *   closing alert's summary as the note.
 *
 * Opsgenie shows these fields as plain text, so untrusted text is cleaned by
 * the shared rule set (core/untrusted-text, target `plain`) and bounded to
 * Opsgenie's limits; no markup escaping is needed.
 *
 * Pure functions, no I/O.
 */
import { fitIncidentKey, type IncidentChange, incidentSeverity } from '../core/incident-lifecycle';
import type { Alert, Severity } from '../core/model';
import { boundIdentifier, cleanUntrusted } from '../core/untrusted-text';
import { viewAlert } from './alert-view';

/** Alert API limits (characters; `details` counts keys and values together). */
export const OPSGENIE_LIMITS = {
  message: 130,
  alias: 512,
  description: 15_000,
  entity: 512,
  source: 100,
  user: 100,
  note: 25_000,
  tags: 20,
  tag: 50,
  details: 8_000,
} as const;

/** Opsgenie's priorities, P1 the highest. */
export type OpsgeniePriority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

/** Priority of the created alert, from the incident's severity (an expired certificate is critical). */
export const OPSGENIE_PRIORITY = {
  critical: 'P1',
  warning: 'P3',
  info: 'P5',
} as const satisfies Record<Severity, OpsgeniePriority>;

/** Who the requests say they come from (`source` and `user`). */
export const OPSGENIE_SOURCE = 'certwatch';

/** Body of a create request. */
export interface OpsgenieCreate {
  readonly message: string;
  readonly alias: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly details: Readonly<Record<string, string>>;
  readonly entity: string;
  readonly source: string;
  readonly priority: OpsgeniePriority;
  readonly user: string;
}

/** Body of a close request. */
export interface OpsgenieClose {
  readonly source: string;
  readonly user: string;
  readonly note: string;
}

/** One request: its path below the API base URL, and its body. */
export type OpsgenieRequest =
  | { readonly action: 'create'; readonly path: string; readonly body: OpsgenieCreate }
  | { readonly action: 'close'; readonly path: string; readonly body: OpsgenieClose };

/** Bounds of each `details` value; together with their keys they stay under {@link OPSGENIE_LIMITS.details}. */
const DETAIL_LIMITS = { id: 500, fact: 300, text: 500, findings: 4000 } as const;

function line(text: string, max: number): string {
  return cleanUntrusted(text, { target: 'plain', maxLength: max });
}

/** `example.com (192.0.2.10): expires in 3 days`: which endpoint and address, and what happened. */
function headline(alert: Alert, max: number): string {
  const endpoint = alert.endpoint || alert.endpointId;
  const where = alert.address === null ? endpoint : `${endpoint} (${alert.address})`;
  return line(`${where}: ${alert.summary}`, max);
}

function descriptionOf(alert: Alert): string {
  const view = viewAlert(alert);
  const parts = [
    view.summary,
    view.detail,
    `Next step: ${view.action}`,
    view.facts.map((f) => `${f.label}: ${f.value}`).join('\n'),
  ];
  if (view.findings.length > 0) {
    const more = view.omittedFindings > 0 ? `\n(${view.omittedFindings} more)` : '';
    parts.push(
      `Findings:\n${view.findings.map((f) => `- ${f.severity.toUpperCase()} ${f.code}: ${f.message}`).join('\n')}${more}`,
    );
  }
  parts.push(view.footer);
  return cleanUntrusted(parts.join('\n\n'), {
    target: 'plain',
    layout: 'lines',
    maxLength: OPSGENIE_LIMITS.description,
  });
}

function detailsOf(alert: Alert): Record<string, string> {
  const { id, fact, text, findings } = DETAIL_LIMITS;
  const details: Record<string, string> = {
    alertId: boundIdentifier(alert.id, id),
    kind: line(alert.kind, 40),
    endpoint: line(alert.endpoint, fact),
    endpointId: boundIdentifier(alert.endpointId, fact),
    status: line(alert.status, 40),
  };
  if (alert.address !== null) details.address = line(alert.address, fact);
  if (alert.daysLeft !== null) details.daysLeft = String(alert.daysLeft);
  if (alert.notAfter !== null) details.notAfter = line(alert.notAfter, fact);
  if (alert.issuer !== null) details.issuer = line(alert.issuer, text);
  if (alert.findings.length > 0) {
    const listed = alert.findings.map((f) => `${f.code} (${f.severity}): ${f.message}`).join('\n');
    details.findings = cleanUntrusted(listed, { target: 'plain', layout: 'lines', maxLength: findings });
  }
  if (alert.action !== '') details.action = line(alert.action, text);
  if (alert.owner !== null) details.owner = line(alert.owner, fact);
  details.occurredAt = line(alert.occurredAt, fact);
  return details;
}

/** The request for one incident change of `alert`. */
export function renderOpsgenieRequest(alert: Alert, change: IncidentChange): OpsgenieRequest {
  const alias = fitIncidentKey(change.key, OPSGENIE_LIMITS.alias);
  if (change.action === 'close') {
    return {
      action: 'close',
      path: `/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
      body: {
        source: OPSGENIE_SOURCE,
        user: OPSGENIE_SOURCE,
        note: headline(alert, OPSGENIE_LIMITS.note),
      },
    };
  }
  const tags = [OPSGENIE_SOURCE, alert.kind, change.condition, alert.severity].map((t) =>
    line(t, OPSGENIE_LIMITS.tag),
  );
  return {
    action: 'create',
    path: '/v2/alerts',
    body: {
      message: headline(alert, OPSGENIE_LIMITS.message),
      alias,
      description: descriptionOf(alert),
      tags: [...new Set(tags)].slice(0, OPSGENIE_LIMITS.tags),
      details: detailsOf(alert),
      entity: boundIdentifier(alert.endpointId, OPSGENIE_LIMITS.entity),
      source: OPSGENIE_SOURCE,
      priority: OPSGENIE_PRIORITY[incidentSeverity(alert)],
      user: OPSGENIE_SOURCE,
    },
  };
}
