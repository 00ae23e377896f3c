/**
 * Slack rendering: a Block Kit message for an incoming webhook.
 *
 * Untrusted text is cleaned by the shared rule set (core/untrusted-text,
 * targets `slack` and `slackCode`) and never reaches Slack's parser as markup:
 * - `&`, `<`, `>` are entity-escaped in every text object (Slack's control
 *   characters), so `<!channel>`, `<@U123>` and `<https://x|click>` display
 *   literally and notify nobody;
 * - prose (summary, findings, detail, action) goes in `plain_text` objects,
 *   which Slack never formats;
 * - field values are mrkdwn only for the bold label; the value sits in a code
 *   span with backticks replaced, so `*`, `_`, `~` inside it stay literal, and
 *   `verbatim` stops Slack from auto-linking URLs and channel names.
 *
 * Pure functions, no I/O.
 */
import type { Alert, Severity } from '../core/model';
import { cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, viewAlert } from './alert-view';

/** Block Kit limits (characters). */
export const SLACK_LIMITS = {
  header: 150,
  sectionText: 3000,
  fieldText: 2000,
  contextText: 2000,
  fallbackText: 3000,
} as const;

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
  readonly verbatim?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'divider' };

/** Body posted to a Slack incoming webhook. */
export interface SlackMessage {
  /** Notification and accessibility fallback. */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
  readonly unfurl_links: false;
  readonly unfurl_media: false;
}

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '\u{1F534}',
  warning: '\u{1F7E0}',
  info: '\u{1F535}',
};

function emojiFor(alert: Alert): string {
  if (alert.kind === 'test') return '\u{1F9EA}';
  if (alert.kind === 'resolved' || alert.kind === 'renewed') return '\u2705';
  return SEVERITY_EMOJI[alert.severity] ?? '\u26A0\uFE0F';
}

function plain(text: string, max: number, layout: TextLayout = 'line'): SlackText {
  return {
    type: 'plain_text',
    text: cleanUntrusted(text, { target: 'slack', layout, maxLength: max }),
    emoji: false,
  };
}

function field(label: string, value: string): SlackText {
  const prefix = `*${label}*\n`;
  return {
    type: 'mrkdwn',
    text:
      prefix +
      cleanUntrusted(value, { target: 'slackCode', maxLength: SLACK_LIMITS.fieldText - prefix.length }),
    verbatim: true,
  };
}

function findingsText(view: AlertView): string {
  const lines = view.findings.map((f) => `\u2022 ${f.severity.toUpperCase()} ${f.code}: ${f.message}`);
  if (view.omittedFindings > 0) lines.push(`\u2022 \u2026 and ${view.omittedFindings} more`);
  return `Findings:\n${lines.join('\n')}`;
}

/** The Slack webhook body for one alert. */
export function renderSlackMessage(alert: Alert): SlackMessage {
  const view = viewAlert(alert);
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`${emojiFor(alert)} ${view.tag}: ${view.endpoint}`, SLACK_LIMITS.header) },
  ];
  if (view.summary) blocks.push({ type: 'section', text: plain(view.summary, SLACK_LIMITS.sectionText) });
  // A section holds at most 10 fields; the view has at most 7.
  blocks.push({ type: 'section', fields: view.facts.map((f) => field(f.label, f.value)) });
  if (view.findings.length > 0) {
    blocks.push({ type: 'section', text: plain(findingsText(view), SLACK_LIMITS.sectionText, 'lines') });
  }
  if (view.detail) {
    blocks.push({ type: 'section', text: plain(view.detail, SLACK_LIMITS.sectionText, 'lines') });
  }
  blocks.push({
    type: 'section',
    text: plain(`What to do next: ${view.action || 'No action needed.'}`, SLACK_LIMITS.sectionText),
  });
  blocks.push({ type: 'context', elements: [plain(view.footer, SLACK_LIMITS.contextText)] });
  return {
    text: cleanUntrusted(`${emojiFor(alert)} ${view.title}`, {
      target: 'slack',
      maxLength: SLACK_LIMITS.fallbackText,
    }),
    blocks,
    unfurl_links: false,
    unfurl_media: false,
  };
}
