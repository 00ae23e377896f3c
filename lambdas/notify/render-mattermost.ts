/**
 * Mattermost rendering: the Slack-compatible incoming-webhook payload (a
 * message and one attachment), with Mattermost's own escaping.
 *
 * Mattermost renders Markdown in the message, the attachment's text and
 * field values, and finds mentions in the parsed text; it also turns the
 * Slack forms `<!channel>`, `<!here>`, `<!all>` and `<@user>` into real
 * mentions on arrival. Untrusted text there is cleaned by the shared rule set
 * (core/untrusted-text, target `mattermost`): Markdown is backslash-escaped,
 * so none of those forms survives, and `@` becomes the fullwidth `＠`, which
 * starts no mention. The attachment's `fallback` (notifications) and `footer`
 * are plain text in Mattermost, so they are cleaned for the `plain` target.
 *
 * Pure functions, no I/O.
 */
import type { Alert, Severity } from '../core/model';
import { cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, viewAlert } from './alert-view';

/** Bounds (UTF-16 units after escaping), well inside Mattermost's 16,383-character post limit. */
export const MATTERMOST_LIMITS = {
  text: 600,
  fallback: 500,
  summary: 600,
  detail: 1500,
  action: 500,
  fact: 300,
  findings: 1500,
  footer: 300,
} as const;

export interface MattermostField {
  readonly title: string;
  readonly value: string;
  readonly short: boolean;
}

/** The attachment under the message (its side bar colour, the alert's text and facts); the message is the headline. */
export interface MattermostAttachment {
  readonly fallback: string;
  readonly color: string;
  readonly text: string;
  readonly fields: readonly MattermostField[];
  readonly footer: string;
}

/** Body POSTed to a Mattermost incoming webhook. */
export interface MattermostMessage {
  readonly username: 'certwatch';
  readonly text: string;
  readonly attachments: readonly [MattermostAttachment];
}

/** The attachment's side bar, by what the alert says. */
export const MATTERMOST_COLORS = {
  critical: '#d13438',
  warning: '#f7a21b',
  info: '#2d7ff9',
  resolved: '#2eb67d',
  test: '#6264a7',
} as const satisfies Record<Severity | 'resolved' | 'test', string>;

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '\u{1F534}',
  warning: '\u{1F7E0}',
  info: '\u{1F535}',
};

function isResolution(alert: Alert): boolean {
  return alert.kind === 'resolved' || alert.kind === 'renewed';
}

function colorFor(alert: Alert): string {
  if (alert.kind === 'test') return MATTERMOST_COLORS.test;
  if (isResolution(alert)) return MATTERMOST_COLORS.resolved;
  return MATTERMOST_COLORS[alert.severity] ?? MATTERMOST_COLORS.info;
}

function emojiFor(alert: Alert): string {
  if (alert.kind === 'test') return '\u{1F9EA}';
  if (isResolution(alert)) return '\u2705';
  return SEVERITY_EMOJI[alert.severity] ?? '\u26A0\uFE0F';
}

function md(text: string, max: number, layout: TextLayout = 'line'): string {
  return cleanUntrusted(text, { target: 'mattermost', layout, maxLength: max });
}

function findingsValue(view: AlertView): string {
  const lines = view.findings.map((f) => `\u2022 ${f.severity.toUpperCase()} ${f.code}: ${f.message}`);
  if (view.omittedFindings > 0) lines.push(`\u2022 \u2026 and ${view.omittedFindings} more`);
  return md(lines.join('\n'), MATTERMOST_LIMITS.findings, 'lines');
}

function attachmentText(view: AlertView): string {
  // Each part is escaped on its own; the bold label is certwatch's own Markdown.
  const parts: string[] = [];
  if (view.summary) parts.push(md(view.summary, MATTERMOST_LIMITS.summary));
  if (view.detail) parts.push(md(view.detail, MATTERMOST_LIMITS.detail, 'lines'));
  parts.push(`**What to do next:** ${md(view.action || 'No action needed.', MATTERMOST_LIMITS.action)}`);
  return parts.join('\n\n');
}

/** The Mattermost webhook body for one alert. */
export function renderMattermostMessage(alert: Alert): MattermostMessage {
  const view = viewAlert(alert);
  const fields: MattermostField[] = view.facts.map((f) => ({
    title: f.label,
    value: md(f.value, MATTERMOST_LIMITS.fact) || '\u2014',
    short: true,
  }));
  if (view.findings.length > 0) fields.push({ title: 'Findings', value: findingsValue(view), short: false });
  const headline = `${view.endpoint}${view.summary ? `: ${view.summary}` : ''}`;
  return {
    username: 'certwatch',
    text: `${emojiFor(alert)} **${view.tag}** ${md(headline, MATTERMOST_LIMITS.text)}`,
    attachments: [
      {
        fallback: cleanUntrusted(`${emojiFor(alert)} ${view.title}`, {
          target: 'plain',
          maxLength: MATTERMOST_LIMITS.fallback,
        }),
        color: colorFor(alert),
        text: attachmentText(view),
        fields,
        footer: cleanUntrusted(view.footer, { target: 'plain', maxLength: MATTERMOST_LIMITS.footer }),
      },
    ],
  };
}
