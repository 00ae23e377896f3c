/**
 * Discord rendering: one embed POSTed to a channel webhook.
 *
 * Embed titles, descriptions, field names and values render Discord's
 * Markdown, so untrusted text there is cleaned by the shared rule set
 * (core/untrusted-text, target `discord`), which backslash-escapes it:
 * `[click](https://evil.example)` shows literally instead of becoming a link,
 * `<@123>` and `<t:0>` show as typed, and `@everyone` is text. The footer is
 * plain text in Discord, so it is cleaned for the `plain` target. On top,
 * `allowed_mentions: { parse: [] }` tells Discord that nothing in the message
 * may notify anyone, whatever it contains.
 *
 * Pure functions, no I/O.
 */
import type { Alert, Severity } from '../core/model';
import { cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, viewAlert } from './alert-view';

/** Discord's own limits on an embed (characters; the total counts every text of every embed). */
export const DISCORD_EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
} as const;

/**
 * The bounds certwatch renders to (UTF-16 units after escaping, never fewer than Discord's
 * characters). With the field names and the description's labels they stay below
 * {@link DISCORD_EMBED_LIMITS.total}: 256 + (600 + 1200 + 500 + 40) + 7 × 200 + 1000 + 300 + 70 ≈ 5400.
 */
export const DISCORD_LIMITS = {
  title: 256,
  summary: 600,
  detail: 1200,
  action: 500,
  fact: 200,
  findings: 1000,
  footer: 300,
} as const;

/** One embed field. */
export interface DiscordField {
  readonly name: string;
  readonly value: string;
  readonly inline: boolean;
}

/** The embed certwatch sends (a subset of Discord's embed object). */
export interface DiscordEmbed {
  readonly title: string;
  readonly description: string;
  readonly color: number;
  readonly fields: readonly DiscordField[];
  readonly footer: { readonly text: string };
  /** ISO 8601; left out when the alert's time is unreadable. */
  readonly timestamp?: string;
}

/** Body POSTed to a Discord webhook. */
export interface DiscordMessage {
  readonly username: 'certwatch';
  readonly embeds: readonly [DiscordEmbed];
  /** Nothing in the message may notify a user, a role, @everyone or @here. */
  readonly allowed_mentions: { readonly parse: readonly [] };
}

/** Embed colours (0xRRGGBB) by what the alert says. */
export const DISCORD_COLORS = {
  critical: 0xd13438,
  warning: 0xf7a21b,
  info: 0x2d7ff9,
  resolved: 0x2eb67d,
  test: 0x6264a7,
} as const satisfies Record<Severity | 'resolved' | 'test', number>;

function colorFor(alert: Alert): number {
  if (alert.kind === 'test') return DISCORD_COLORS.test;
  if (alert.kind === 'resolved' || alert.kind === 'renewed') return DISCORD_COLORS.resolved;
  return DISCORD_COLORS[alert.severity] ?? DISCORD_COLORS.info;
}

function md(text: string, max: number, layout: TextLayout = 'line'): string {
  return cleanUntrusted(text, { target: 'discord', layout, maxLength: max });
}

function findingsValue(view: AlertView): string {
  const lines = view.findings.map((f) => `\u2022 ${f.severity.toUpperCase()} ${f.code}: ${f.message}`);
  if (view.omittedFindings > 0) lines.push(`\u2022 \u2026 and ${view.omittedFindings} more`);
  return md(lines.join('\n'), DISCORD_LIMITS.findings, 'lines');
}

function description(view: AlertView): string {
  // Each part is escaped on its own; the bold label is certwatch's own Markdown.
  const parts: string[] = [];
  if (view.summary) parts.push(md(view.summary, DISCORD_LIMITS.summary));
  if (view.detail) parts.push(md(view.detail, DISCORD_LIMITS.detail, 'lines'));
  parts.push(`**What to do next:** ${md(view.action || 'No action needed.', DISCORD_LIMITS.action)}`);
  return parts.join('\n\n');
}

function timestampOf(iso: string): string | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The Discord webhook body for one alert. */
export function renderDiscordMessage(alert: Alert): DiscordMessage {
  const view = viewAlert(alert);
  const fields: DiscordField[] = view.facts.map((f) => ({
    name: f.label,
    value: md(f.value, DISCORD_LIMITS.fact) || '\u2014',
    inline: true,
  }));
  if (view.findings.length > 0) fields.push({ name: 'Findings', value: findingsValue(view), inline: false });
  const timestamp = timestampOf(alert.occurredAt);
  return {
    username: 'certwatch',
    embeds: [
      {
        title: md(`${view.tag}: ${view.endpoint}`, DISCORD_LIMITS.title),
        description: description(view),
        color: colorFor(alert),
        fields,
        footer: { text: cleanUntrusted(view.footer, { target: 'plain', maxLength: DISCORD_LIMITS.footer }) },
        ...(timestamp ? { timestamp } : {}),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}
