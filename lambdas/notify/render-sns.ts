/**
 * SNS rendering: one Publish with `MessageStructure: 'json'`, so each
 * subscription protocol gets a message made for it — a full plain-text body
 * for email, a one-line ASCII text for SMS, and a versioned JSON envelope for
 * the notifier Lambda, which recovers the structured {@link Alert} with
 * `parseSnsAlertEnvelope` (parse-sns-envelope.ts) and fans it out to the chat channels.
 *
 * Pure functions, no I/O.
 */
import type { MessageAttributeValue, PublishCommandInput } from '@aws-sdk/client-sns';
import type { Alert } from '../core/model';
import { cleanUntrusted } from '../core/untrusted-text';
import { boundAlert, formatDate, formatInstant, KIND_LABEL, viewAlert } from './alert-view';

/**
 * SNS subjects must be ASCII without line breaks or control characters and
 * *less than* 100 characters.
 */
export const SNS_SUBJECT_MAX = 99;
/** One SMS part holds 140 bytes; ASCII-only text of this length is never split or re-encoded. */
export const SNS_SMS_MAX = 140;
/** Version of the Lambda envelope; bump only with a parser that still reads the old one. */
export const SNS_ENVELOPE_VERSION = 1;

/** The structure the notifier Lambda receives as its SNS message. */
export interface SnsAlertEnvelope {
  readonly certwatch: typeof SNS_ENVELOPE_VERSION;
  readonly alert: Alert;
}

/** SNS Subject: printable ASCII, single line, starts with `[`, under 100 characters. */
export function renderSnsSubject(alert: Alert): string {
  return cleanUntrusted(viewAlert(alert).title, { target: 'ascii', maxLength: SNS_SUBJECT_MAX });
}

const SMS_TAG: Record<string, string> = { CRITICAL: 'CRIT', WARNING: 'WARN', INFO: 'INFO', TEST: 'TEST' };

/** e.g. `CRIT example.com exp 3d 2026-11-25: Renew the certificate` — ASCII, at most 140 characters. */
export function renderSnsSms(alert: Alert): string {
  const view = viewAlert(alert);
  const date = formatDate(alert.notAfter);
  let what = view.summary;
  if ((alert.kind === 'threshold' || alert.kind === 'renotify') && alert.daysLeft !== null && date) {
    what = alert.daysLeft < 0 ? `EXPIRED ${date}` : `exp ${alert.daysLeft}d ${date}`;
  }
  const endpoint = cleanUntrusted(view.endpoint, { target: 'plain', maxLength: 60 });
  const head = `${SMS_TAG[view.tag] ?? view.tag} ${endpoint} ${what}`;
  const text = view.action ? `${head}: ${view.action}` : head;
  return cleanUntrusted(text, { target: 'ascii', maxLength: SNS_SMS_MAX });
}

/** Full plain-text body for email (and the `default` protocol). */
export function renderSnsEmail(alert: Alert): string {
  const view = viewAlert(alert);
  const width = Math.max(...view.facts.map((f) => f.label.length)) + 2;
  const lines: string[] = [view.title, ''];
  for (const fact of view.facts) lines.push(`${`${fact.label}:`.padEnd(width)}${fact.value}`);
  lines.push('');
  if (view.findings.length > 0) {
    lines.push('Findings:');
    for (const f of view.findings) lines.push(`  - [${f.severity}] ${f.code}: ${f.message}`);
    if (view.omittedFindings > 0) lines.push(`  - ... and ${view.omittedFindings} more`);
    lines.push('');
  }
  if (view.detail) lines.push('Details:', view.detail, '');
  lines.push('What to do next:', view.action || 'No action needed.', '');
  lines.push(
    `Alert id: ${cleanUntrusted(alert.id, { target: 'plain', maxLength: 200 })}`,
    `Kind: ${KIND_LABEL[alert.kind] ?? 'unknown'}`,
    `Occurred at: ${formatInstant(alert.occurredAt)}`,
    '',
    '-- ',
    'Sent by certwatch.',
  );
  return lines.join('\n');
}

function attribute(value: string): MessageAttributeValue {
  // SNS rejects empty attribute values; filter policies match on exact strings, so keep them one short line.
  return {
    DataType: 'String',
    StringValue: cleanUntrusted(value, { target: 'plain', maxLength: 256 }) || '-',
  };
}

/** The PublishCommand input for one alert to one topic. */
export function renderSnsPublish(alert: Alert, topicArn: string): PublishCommandInput {
  const text = renderSnsEmail(alert);
  const envelope: SnsAlertEnvelope = { certwatch: SNS_ENVELOPE_VERSION, alert: boundAlert(alert) };
  return {
    TopicArn: topicArn,
    Subject: renderSnsSubject(alert),
    MessageStructure: 'json',
    Message: JSON.stringify({
      default: text,
      email: text,
      sms: renderSnsSms(alert),
      lambda: JSON.stringify(envelope),
    }),
    MessageAttributes: {
      severity: attribute(alert.severity),
      status: attribute(alert.status),
      endpoint: attribute(alert.endpoint),
      kind: attribute(alert.kind),
    },
  };
}
