/**
 * Google Chat rendering: a cards v2 message POSTed to a space's incoming
 * webhook.
 *
 * Card widgets (`textParagraph`, `decoratedText`) render an HTML subset, so
 * untrusted text there is cleaned by the shared rule set (core/untrusted-text,
 * target `googleChat`), which entity-escapes `&`, `<` and `>`: `<a href=…>`
 * or `<b>` in a certificate name shows as typed. The message's `text` (the
 * notification and accessibility fallback) uses Chat's own syntax, which has
 * no escape, so it is cleaned for `googleChatText`: no `<users/all>` mention
 * or `<url|label>` link can form. The card header holds only certwatch's own
 * words, so whether Chat formats it does not matter.
 *
 * Pure functions, no I/O.
 */
import type { Alert, Severity } from '../core/model';
import { cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, KIND_LABEL, viewAlert } from './alert-view';

/**
 * Per-widget bounds (UTF-16 units after escaping), keeping a message well inside Chat's
 * 32,000-byte limit whatever the alert holds.
 */
export const GOOGLE_CHAT_LIMITS = {
  text: 500,
  headline: 600,
  fact: 300,
  findings: 1500,
  detail: 1500,
  action: 500,
  footer: 300,
} as const;

/** The card id of every certwatch message (one card per message). */
export const GOOGLE_CHAT_CARD_ID = 'certwatch-alert';

export interface GoogleChatTextParagraph {
  readonly textParagraph: { readonly text: string };
}

export interface GoogleChatDecoratedText {
  readonly decoratedText: { readonly topLabel: string; readonly text: string; readonly wrapText: true };
}

export type GoogleChatWidget = GoogleChatTextParagraph | GoogleChatDecoratedText;

export interface GoogleChatSection {
  readonly header?: string;
  readonly widgets: readonly GoogleChatWidget[];
}

export interface GoogleChatCard {
  readonly header: { readonly title: string; readonly subtitle: string };
  readonly sections: readonly GoogleChatSection[];
}

/** Body POSTed to a Google Chat incoming webhook. */
export interface GoogleChatMessage {
  /** Notification and accessibility fallback; Chat shows it above the card. */
  readonly text: string;
  readonly cardsV2: readonly [{ readonly cardId: typeof GOOGLE_CHAT_CARD_ID; readonly card: GoogleChatCard }];
}

/** Colour of the severity word in the card (Chat's `<font color>`). */
export const GOOGLE_CHAT_COLORS = {
  critical: '#d13438',
  warning: '#c77700',
  info: '#1a73e8',
  resolved: '#188038',
  test: '#6264a7',
} as const satisfies Record<Severity | 'resolved' | 'test', string>;

function colorFor(alert: Alert): string {
  if (alert.kind === 'test') return GOOGLE_CHAT_COLORS.test;
  if (alert.kind === 'resolved' || alert.kind === 'renewed') return GOOGLE_CHAT_COLORS.resolved;
  return GOOGLE_CHAT_COLORS[alert.severity] ?? GOOGLE_CHAT_COLORS.info;
}

/** Escaped card text; line breaks become `<br>` (certwatch's own markup, added after escaping). */
function html(text: string, max: number, layout: TextLayout = 'line'): string {
  return cleanUntrusted(text, { target: 'googleChat', layout, maxLength: max }).replace(/\n/g, '<br>');
}

function paragraph(text: string): GoogleChatTextParagraph {
  return { textParagraph: { text } };
}

function findingsText(view: AlertView): string {
  const lines = view.findings.map((f) => `\u2022 ${f.severity.toUpperCase()} ${f.code}: ${f.message}`);
  if (view.omittedFindings > 0) lines.push(`\u2022 \u2026 and ${view.omittedFindings} more`);
  return lines.join('\n');
}

/** The Google Chat webhook body for one alert. */
export function renderGoogleChatMessage(alert: Alert): GoogleChatMessage {
  const view = viewAlert(alert);
  const headline = `${view.endpoint}${view.summary ? `: ${view.summary}` : ''}`;
  const sections: GoogleChatSection[] = [
    {
      widgets: [
        paragraph(
          `<font color="${colorFor(alert)}"><b>${view.tag}</b></font> ${html(headline, GOOGLE_CHAT_LIMITS.headline)}`,
        ),
      ],
    },
    {
      widgets: view.facts.map((f) => ({
        decoratedText: {
          topLabel: f.label,
          text: html(f.value, GOOGLE_CHAT_LIMITS.fact) || '\u2014',
          wrapText: true,
        },
      })),
    },
  ];
  if (view.findings.length > 0) {
    sections.push({
      header: 'Findings',
      widgets: [paragraph(html(findingsText(view), GOOGLE_CHAT_LIMITS.findings, 'lines'))],
    });
  }
  const closing: GoogleChatWidget[] = [];
  if (view.detail) closing.push(paragraph(html(view.detail, GOOGLE_CHAT_LIMITS.detail, 'lines')));
  closing.push(
    paragraph(
      `<b>What to do next:</b> ${html(view.action || 'No action needed.', GOOGLE_CHAT_LIMITS.action)}`,
    ),
  );
  closing.push(paragraph(`<font color="#5f6368">${html(view.footer, GOOGLE_CHAT_LIMITS.footer)}</font>`));
  sections.push({ widgets: closing });
  return {
    text: cleanUntrusted(view.title, { target: 'googleChatText', maxLength: GOOGLE_CHAT_LIMITS.text }),
    cardsV2: [
      {
        cardId: GOOGLE_CHAT_CARD_ID,
        card: {
          header: { title: `certwatch: ${view.tag}`, subtitle: KIND_LABEL[alert.kind] ?? 'alert' },
          sections,
        },
      },
    ],
  };
}
