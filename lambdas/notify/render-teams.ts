/**
 * Microsoft Teams rendering: an Adaptive Card (1.4) wrapped as the `message`
 * that Teams Workflows ("When a Teams webhook request is received") expects.
 *
 * TextBlocks and FactSet values render a Markdown subset, so untrusted text is
 * cleaned by the shared rule set (core/untrusted-text, target `teams`), which
 * backslash-escapes it: `[click](https://evil.example)` shows literally instead
 * of becoming a link, `*bold*` stays as typed, and a line that would start a
 * list or heading is escaped at its start.
 *
 * Pure functions, no I/O.
 */
import type { Alert, Severity } from '../core/model';
import { cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, viewAlert } from './alert-view';

export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/**
 * Per-element bounds (UTF-16 units after escaping). Escaped text costs at most
 * 3 bytes per unit as JSON, so a card stays below ~23 KB, inside the ~28 KB
 * Teams message limit.
 */
export const TEAMS_LIMITS = {
  title: 300,
  summary: 800,
  fact: 200,
  finding: 300,
  findings: 10,
  detail: 1200,
  action: 400,
  footer: 300,
} as const;

export type TeamsColor = 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';

export interface TeamsTextBlock {
  readonly type: 'TextBlock';
  readonly text: string;
  readonly wrap: true;
  readonly size?: 'Small' | 'Medium' | 'Large';
  readonly weight?: 'Bolder';
  readonly color?: TeamsColor;
  readonly isSubtle?: boolean;
  readonly spacing?: 'Medium';
}

export interface TeamsFactSet {
  readonly type: 'FactSet';
  readonly facts: readonly { readonly title: string; readonly value: string }[];
}

export interface AdaptiveCard {
  readonly $schema: typeof ADAPTIVE_CARD_SCHEMA;
  readonly type: 'AdaptiveCard';
  readonly version: '1.4';
  readonly msteams: { readonly width: 'Full' };
  readonly body: readonly (TeamsTextBlock | TeamsFactSet)[];
}

/** Body posted to a Teams Workflows webhook. */
export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: readonly [
    {
      readonly contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE;
      readonly contentUrl: null;
      readonly content: AdaptiveCard;
    },
  ];
}

function esc(text: string, max: number, layout: TextLayout = 'line'): string {
  return cleanUntrusted(text, { target: 'teams', layout, maxLength: max });
}

const SEVERITY_COLOR: Record<Severity, TeamsColor> = {
  critical: 'Attention',
  warning: 'Warning',
  info: 'Good',
};

function colorFor(alert: Alert): TeamsColor {
  if (alert.kind === 'test') return 'Accent';
  return SEVERITY_COLOR[alert.severity] ?? 'Default';
}

function text(value: string, extra: Partial<TeamsTextBlock> = {}): TeamsTextBlock {
  return { type: 'TextBlock', text: value, wrap: true, ...extra };
}

function findingBlocks(view: AlertView): TeamsTextBlock[] {
  if (view.findings.length === 0) return [];
  const blocks = [text('**Findings**', { spacing: 'Medium' })];
  const shown = view.findings.slice(0, TEAMS_LIMITS.findings);
  for (const f of shown) {
    blocks.push(
      text(`**${f.severity.toUpperCase()}** ${esc(`${f.code}: ${f.message}`, TEAMS_LIMITS.finding)}`),
    );
  }
  const omitted = view.omittedFindings + view.findings.length - shown.length;
  if (omitted > 0) blocks.push(text(`\u2026 and ${omitted} more`, { isSubtle: true }));
  return blocks;
}

/** The Teams webhook body for one alert. */
export function renderTeamsMessage(alert: Alert): TeamsMessage {
  const view = viewAlert(alert);
  const body: (TeamsTextBlock | TeamsFactSet)[] = [
    text(esc(`${view.tag}: ${view.endpoint}`, TEAMS_LIMITS.title), {
      size: 'Large',
      weight: 'Bolder',
      color: colorFor(alert),
    }),
  ];
  if (view.summary) body.push(text(esc(view.summary, TEAMS_LIMITS.summary)));
  body.push({
    type: 'FactSet',
    facts: view.facts.map((f) => ({ title: f.label, value: esc(f.value, TEAMS_LIMITS.fact) })),
  });
  body.push(...findingBlocks(view));
  if (view.detail) {
    // Markdown joins single newlines into one paragraph; keep the author's line breaks.
    body.push(
      text(esc(view.detail, TEAMS_LIMITS.detail, 'lines').replace(/\n/g, '\n\n'), { spacing: 'Medium' }),
    );
  }
  body.push(
    text(`**What to do next:** ${esc(view.action || 'No action needed.', TEAMS_LIMITS.action)}`, {
      spacing: 'Medium',
    }),
  );
  body.push(text(esc(view.footer, TEAMS_LIMITS.footer), { size: 'Small', isSubtle: true }));
  return {
    type: 'message',
    attachments: [
      {
        contentType: ADAPTIVE_CARD_CONTENT_TYPE,
        contentUrl: null,
        content: {
          $schema: ADAPTIVE_CARD_SCHEMA,
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
        },
      },
    ],
  };
}
