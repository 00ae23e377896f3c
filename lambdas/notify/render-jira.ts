/**
 * Jira Cloud rendering: the issue an incident opens, the comment an alert
 * adds, and the markers that let certwatch find its issue again.
 *
 * Descriptions and comments are Atlassian Document Format (ADF): structured
 * JSON whose text nodes Jira shows as text. Wiki markup, Markdown, `[~user]`
 * mentions and `{html}` are not parsed inside a text node, and a link or a
 * mention is a node or mark of its own, which only certwatch writes. So
 * untrusted text needs no markup escaping here; it is cleaned by the shared
 * rule set (core/untrusted-text, target `plain`) for controls, bidi and
 * invisible characters, and bounded. The summary is plain text too.
 *
 * Every issue carries the labels `certwatch` and `certwatch-<hash of the
 * incident key>` (a Jira label has no spaces: the key itself cannot be one),
 * which the search for a lost issue asks for, and ends with two text lines
 * naming the incident key and the alert that opened it, which confirm it.
 *
 * Pure functions, no I/O.
 */
import { type IncidentChange, incidentTag } from '../core/incident-lifecycle';
import type { Alert } from '../core/model';
import { boundIdentifier, cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, viewAlert } from './alert-view';

/** Jira's limits (characters) and the bounds certwatch renders to. */
export const JIRA_LIMITS = {
  summary: 255,
  label: 255,
  heading: 300,
  summaryText: 600,
  detail: 2000,
  action: 500,
  fact: 300,
  findingMessage: 500,
  footer: 300,
  identifier: 1000,
} as const;

/** The label every issue certwatch opens carries. */
export const JIRA_LOOKUP_LABEL = 'certwatch';

/** An ADF text node (never empty: ADF forbids it). */
export interface AdfText {
  readonly type: 'text';
  readonly text: string;
  readonly marks?: readonly [{ readonly type: 'strong' }];
}

/** An ADF paragraph. */
export interface AdfParagraph {
  readonly type: 'paragraph';
  readonly content: readonly AdfText[];
}

/** An ADF bullet list of paragraphs. */
export interface AdfBulletList {
  readonly type: 'bulletList';
  readonly content: readonly { readonly type: 'listItem'; readonly content: readonly [AdfParagraph] }[];
}

/** An ADF document (a description or a comment body). */
export interface AdfDoc {
  readonly version: 1;
  readonly type: 'doc';
  readonly content: readonly (AdfParagraph | AdfBulletList)[];
}

/** The body of `POST /rest/api/3/issue`. */
export interface JiraIssueCreate {
  readonly fields: {
    readonly project: { readonly key: string };
    readonly issuetype: { readonly id: string } | { readonly name: string };
    readonly summary: string;
    readonly description: AdfDoc;
    readonly labels: readonly string[];
  };
}

/** The body of `POST /rest/api/3/issue/{key}/comment`. */
export interface JiraComment {
  readonly body: AdfDoc;
}

/** The body of `POST /rest/api/3/search/jql` that finds an incident's open issue. */
export interface JiraSearch {
  readonly jql: string;
  readonly fields: readonly ['description'];
  readonly maxResults: number;
}

const INCIDENT_MARKER = 'certwatch-incident: ';
const ALERT_MARKER = 'certwatch-alert: ';

function plain(text: string, max: number, layout: TextLayout = 'line'): string {
  return cleanUntrusted(text, { target: 'plain', layout, maxLength: max });
}

function text(value: string, strong = false): AdfText[] {
  if (value === '') return [];
  return [
    strong ? { type: 'text', text: value, marks: [{ type: 'strong' }] } : { type: 'text', text: value },
  ];
}

function paragraph(...content: AdfText[][]): AdfParagraph {
  return { type: 'paragraph', content: content.flat() };
}

function bullets(items: readonly AdfText[][]): AdfBulletList {
  return {
    type: 'bulletList',
    content: items.map((item) => ({ type: 'listItem', content: [paragraph(item)] as const })),
  };
}

/** The alert as ADF: what happened, what to do, its facts and findings. */
function alertContent(view: AlertView): (AdfParagraph | AdfBulletList)[] {
  const content: (AdfParagraph | AdfBulletList)[] = [
    paragraph(text(plain(`${view.tag}: ${view.endpoint}`, JIRA_LIMITS.heading), true)),
  ];
  if (view.summary) content.push(paragraph(text(plain(view.summary, JIRA_LIMITS.summaryText))));
  if (view.detail) {
    for (const line of plain(view.detail, JIRA_LIMITS.detail, 'lines').split('\n')) {
      if (line !== '') content.push(paragraph(text(line)));
    }
  }
  content.push(
    paragraph(
      text('What to do next: ', true),
      text(plain(view.action || 'No action needed.', JIRA_LIMITS.action)),
    ),
  );
  if (view.facts.length > 0) {
    content.push(
      bullets(
        view.facts.map((f) => [
          ...text(`${plain(f.label, 60)}: `, true),
          ...text(plain(f.value, JIRA_LIMITS.fact) || '\u2014'),
        ]),
      ),
    );
  }
  if (view.findings.length > 0) {
    content.push(paragraph(text('Findings', true)));
    const items = view.findings.map((f) =>
      text(plain(`${f.severity.toUpperCase()} ${f.code}: ${f.message}`, JIRA_LIMITS.findingMessage)),
    );
    if (view.omittedFindings > 0) items.push(text(`\u2026 and ${view.omittedFindings} more`));
    content.push(bullets(items));
  }
  content.push(paragraph(text(plain(view.footer, JIRA_LIMITS.footer))));
  return content;
}

/** The line naming the incident an issue is about. */
export function jiraIncidentMarker(key: string): string {
  return `${INCIDENT_MARKER}${boundIdentifier(key, JIRA_LIMITS.identifier)}`;
}

/** Every text of an ADF value, one entry per text node, depth and count bounded (answers are untyped). */
export function adfTexts(value: unknown, limit = 2000): string[] {
  const out: string[] = [];
  const walk = (node: unknown, depth: number) => {
    if (out.length >= limit || depth > 20 || node === null || typeof node !== 'object') return;
    const n = node as { type?: unknown; text?: unknown; content?: unknown };
    if (n.type === 'text' && typeof n.text === 'string') out.push(n.text);
    if (Array.isArray(n.content)) for (const child of n.content.slice(0, limit)) walk(child, depth + 1);
  };
  walk(value, 0);
  return out;
}

/**
 * The markers in an issue description: whether it names the incident `key`, and the alert that
 * opened it. Only the description's last two texts count, where certwatch writes them: a
 * certificate's text earlier in it cannot pass for a marker.
 */
export function readJiraMarkers(
  description: unknown,
  key: string,
): { readonly incident: boolean; readonly alert: string | null } {
  const [incident, alert] = adfTexts(description).slice(-2);
  const named = incident === jiraIncidentMarker(key) && alert?.startsWith(ALERT_MARKER) === true;
  return { incident: named, alert: named && alert ? alert.slice(ALERT_MARKER.length) : null };
}

/** `{ id }` for an issue type given by number, `{ name }` otherwise. */
function issueTypeOf(issueType: string): { readonly id: string } | { readonly name: string } {
  return /^\d+$/.test(issueType) ? { id: issueType } : { name: issueType };
}

/** The labels of an incident's issue: `certwatch`, its incident tag, then the channel's. */
export function jiraLabels(change: IncidentChange, labels: readonly string[]): string[] {
  return [...new Set([JIRA_LOOKUP_LABEL, incidentTag(change.key), ...labels])];
}

/** The issue an incident opens. */
export function renderJiraIssue(
  alert: Alert,
  change: IncidentChange,
  channel: { readonly project: string; readonly issueType: string; readonly labels: readonly string[] },
): JiraIssueCreate {
  const endpoint = alert.endpoint || alert.endpointId;
  const where = alert.address === null ? endpoint : `${endpoint} (${alert.address})`;
  return {
    fields: {
      project: { key: channel.project },
      issuetype: issueTypeOf(channel.issueType),
      summary: plain(`${where}: ${alert.summary}`, JIRA_LIMITS.summary),
      description: {
        version: 1,
        type: 'doc',
        content: [
          ...alertContent(viewAlert(alert)),
          paragraph(
            text(
              `certwatch keeps this issue: it comments on each reminder and resolves it when the condition (${plain(change.condition, 100)}) is over.`,
            ),
          ),
          paragraph(text(jiraIncidentMarker(change.key))),
          paragraph(text(`${ALERT_MARKER}${boundIdentifier(alert.id, JIRA_LIMITS.identifier)}`)),
        ],
      },
      labels: jiraLabels(change, channel.labels),
    },
  };
}

/** The comment an alert adds to its incident's issue. */
export function renderJiraComment(alert: Alert, change: IncidentChange): JiraComment {
  const content = alertContent(viewAlert(alert));
  if (change.action === 'close')
    content.push(paragraph(text('certwatch resolves this issue: the condition is over.')));
  return { body: { version: 1, type: 'doc', content } };
}

/** The search for the open issue of an incident in `project`. */
export function renderJiraSearch(project: string, change: IncidentChange): JiraSearch {
  return {
    jql: `project = "${project}" AND labels = "${incidentTag(change.key)}" AND statusCategory != Done ORDER BY created ASC`,
    fields: ['description'],
    maxResults: 10,
  };
}
