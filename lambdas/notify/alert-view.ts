/**
 * The channel-independent presentation of an alert: labels, facts and
 * findings, already cleaned by the shared rule set (core/untrusted-text,
 * target `plain`) but not yet escaped. Each renderer cleans again for its own
 * target, which adds only that format's escaping (cleaning is idempotent), so
 * what a person reads is the same on every channel.
 *
 * Pure functions, no I/O.
 */
import type { Alert, AlertKind, Finding, Severity } from '../core/model';
import { boundIdentifier, cleanUntrusted } from '../core/untrusted-text';

/** Upper-case severity word used in titles, subjects and SMS. */
export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'CRITICAL',
  warning: 'WARNING',
  info: 'INFO',
};

/** What kind of event an alert reports, in words. */
export const KIND_LABEL: Record<AlertKind, string> = {
  threshold: 'expiry threshold',
  renotify: 'reminder',
  renewed: 'certificate renewed',
  resolved: 'resolved',
  problem: 'certificate problem',
  error: 'check failing',
  divergent: 'divergent certificates',
  monitor: 'monitor problem',
  test: 'notification test',
  announcement: 'maintenance or silence notice',
};

/** Bounds that keep every channel's message well inside its size limit, whatever the alert holds. */
export const VIEW_LIMITS = {
  endpoint: 200,
  fact: 300,
  summary: 500,
  detail: 2000,
  action: 500,
  findingMessage: 500,
  findings: 20,
} as const;

export interface AlertFact {
  readonly label: string;
  readonly value: string;
}

export interface FindingView {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
}

/** Sanitised, bounded, unescaped presentation of one alert. */
export interface AlertView {
  readonly isTest: boolean;
  /** `CRITICAL`, `WARNING`, `INFO`, or `TEST` for test alerts. */
  readonly tag: string;
  readonly endpoint: string;
  readonly summary: string;
  /** May span lines. */
  readonly detail: string;
  readonly action: string;
  readonly facts: readonly AlertFact[];
  readonly findings: readonly FindingView[];
  /** Findings beyond {@link VIEW_LIMITS.findings} that were left out. */
  readonly omittedFindings: number;
  /** `[CRITICAL] example.com: expires in 3 days` */
  readonly title: string;
  /** `certwatch alert <id> · <kind> · <occurredAt>` */
  readonly footer: string;
}

/** `3 days`, `1 day`, `today`, `expired 2 days ago`, or `unknown`. */
export function describeDaysLeft(daysLeft: number | null): string {
  if (daysLeft === null) return 'unknown';
  if (daysLeft < 0) return `expired ${-daysLeft} day${daysLeft === -1 ? '' : 's'} ago`;
  if (daysLeft === 0) return 'expires today';
  return `${daysLeft} day${daysLeft === 1 ? '' : 's'}`;
}

/** `2026-11-25 14:03 UTC` for an ISO timestamp; the sanitised input when it is not one. */
export function formatInstant(iso: string | null): string {
  if (iso === null) return 'unknown';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return line(iso, VIEW_LIMITS.fact);
  const d = new Date(ms).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)} UTC`;
}

/** `2026-11-25` for an ISO timestamp, null when absent or unreadable. */
export function formatDate(iso: string | null): string | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 10);
}

/** One line of untrusted text, bounded. */
function line(text: string | null, max: number): string {
  return cleanUntrusted(text ?? '', { target: 'plain', maxLength: max });
}

/** Untrusted text that may span lines, bounded. */
function lines(text: string, max: number): string {
  return cleanUntrusted(text, { target: 'plain', layout: 'lines', maxLength: max });
}

function findingView(f: Finding): FindingView {
  return {
    severity: f.severity,
    code: line(f.code, 64),
    message: line(f.message, VIEW_LIMITS.findingMessage),
  };
}

/** Builds the shared presentation of an alert. */
export function viewAlert(alert: Alert): AlertView {
  const isTest = alert.kind === 'test';
  const tag = isTest ? 'TEST' : SEVERITY_LABEL[alert.severity];
  const endpoint = line(alert.endpoint, VIEW_LIMITS.endpoint) || line(alert.endpointId, VIEW_LIMITS.endpoint);
  const summary = line(alert.summary, VIEW_LIMITS.summary);
  const endpointId = line(alert.endpointId, VIEW_LIMITS.fact);
  const facts: AlertFact[] = [
    {
      label: 'Endpoint',
      value: endpointId && endpointId !== endpoint ? `${endpoint} (${endpointId})` : endpoint,
    },
    { label: 'Address', value: line(alert.address, VIEW_LIMITS.fact) || 'n/a' },
    { label: 'Status', value: line(alert.status, 20) },
    { label: 'Days left', value: describeDaysLeft(alert.daysLeft) },
    { label: 'Expires', value: formatInstant(alert.notAfter) },
    { label: 'Issuer', value: line(alert.issuer, VIEW_LIMITS.fact) || 'unknown' },
  ];
  const owner = line(alert.owner, VIEW_LIMITS.fact);
  if (owner) facts.push({ label: 'Owner', value: owner });
  const findings = alert.findings.slice(0, VIEW_LIMITS.findings).map(findingView);
  return {
    isTest,
    tag,
    endpoint,
    summary,
    detail: lines(alert.detail, VIEW_LIMITS.detail),
    action: line(alert.action, VIEW_LIMITS.action),
    facts,
    findings,
    omittedFindings: alert.findings.length - findings.length,
    title: `[${tag}] ${endpoint}${summary ? `: ${summary}` : ''}`,
    footer: `certwatch alert ${line(alert.id, 200)} \u00B7 ${KIND_LABEL[alert.kind] ?? line(alert.kind, 40)} \u00B7 ${formatInstant(alert.occurredAt)}`,
  };
}

/**
 * Bounds on an alert carried whole (SNS Lambda envelope, generic webhook), so
 * a Publish stays far below the 256 KB SNS limit and a webhook body stays small.
 */
export const CARRIED_ALERT_LIMITS = {
  text: 1000,
  detail: 4000,
  field: 500,
  findings: 30,
  channels: 50,
} as const;

function lineOrNull(text: string | null, max: number): string | null {
  return text === null ? null : line(text, max);
}

/**
 * The alert with every string bounded and its text cleaned as {@link viewAlert}
 * cleans it (so a chat message rendered from the carried alert is the one
 * rendered from the original); ids and routing are kept intact for any sane size.
 */
export function boundAlert(alert: Alert): Alert {
  const { text, detail, field, findings, channels } = CARRIED_ALERT_LIMITS;
  return {
    ...alert,
    id: boundIdentifier(alert.id, field),
    endpoint: line(alert.endpoint, field),
    endpointId: boundIdentifier(alert.endpointId, field),
    address: lineOrNull(alert.address, field),
    notAfter: lineOrNull(alert.notAfter, field),
    issuer: lineOrNull(alert.issuer, field),
    findings: alert.findings.slice(0, findings).map((f) => ({ ...f, message: line(f.message, text) })),
    summary: line(alert.summary, text),
    detail: lines(alert.detail, detail),
    action: line(alert.action, text),
    occurredAt: line(alert.occurredAt, field),
    owner: lineOrNull(alert.owner, field),
    channels: alert.channels.slice(0, channels).map((c) => boundIdentifier(c, field)),
  };
}
