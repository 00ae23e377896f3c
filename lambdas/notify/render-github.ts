/**
 * GitHub Issues rendering: the issue an incident opens, the comment an alert
 * adds, and the markers that let certwatch find its issue again.
 *
 * Issue bodies and comments are GitHub-flavoured Markdown, which also finds
 * mentions (`@org/team`) and references (`#1`) in the rendered text. Untrusted
 * text is cleaned by the shared rule set (core/untrusted-text, target
 * `github`), which escapes the Markdown and makes `@` and `#` the fullwidth
 * `＠` and `＃`: a hostile certificate name can neither format, link, embed
 * HTML, notify anyone nor post into another issue. Titles are plain text on
 * GitHub and are cleaned for the `plain` target.
 *
 * Every issue body ends with two HTML comments (hidden when rendered): the
 * incident key, which finds the open issue of an incident when certwatch's
 * state lost it, and the id of the alert that opened it.
 *
 * Pure functions, no I/O.
 */
import type { IncidentChange } from '../core/incident-lifecycle';
import type { Alert } from '../core/model';
import { boundIdentifier, cleanUntrusted, type TextLayout } from '../core/untrusted-text';
import { type AlertView, viewAlert } from './alert-view';

/** GitHub's limits (characters): titles are cut by certwatch, bodies by GitHub at 65536. */
export const GITHUB_LIMITS = {
  title: 256,
  summary: 600,
  detail: 2000,
  action: 500,
  fact: 300,
  findings: 4000,
  footer: 300,
  identifier: 1000,
} as const;

/** The label every issue certwatch opens carries; the search for a lost issue lists by it. */
export const GITHUB_LOOKUP_LABEL = 'certwatch';

/** The body of `POST /repos/{owner}/{repo}/issues`. */
export interface GitHubIssueCreate {
  readonly title: string;
  readonly body: string;
  readonly labels: readonly string[];
}

/** The body of `POST /repos/{owner}/{repo}/issues/{number}/comments`. */
export interface GitHubComment {
  readonly body: string;
}

/** The body of `PATCH /repos/{owner}/{repo}/issues/{number}` that closes it. */
export interface GitHubClose {
  readonly state: 'closed';
  readonly state_reason: 'completed';
}

const INCIDENT_MARKER = 'certwatch-incident:';
const ALERT_MARKER = 'certwatch-alert:';

/** `<!-- certwatch-incident: KEY -->`; `--` inside would end the comment, so it is spelled `-%2D`. */
function markerLine(name: string, value: string): string {
  return `<!-- ${name} ${boundIdentifier(value, GITHUB_LIMITS.identifier).replace(/--/g, '-%2D')} -->`;
}

/** The hidden line naming the incident an issue is about. */
export function githubIncidentMarker(key: string): string {
  return markerLine(INCIDENT_MARKER, key);
}

/** The markers in an issue body: its incident key and the alert that opened it (null when absent). */
export function readGitHubMarkers(body: string): {
  readonly incident: string | null;
  readonly alert: string | null;
} {
  const find = (name: string) => {
    const line = body.split('\n').find((l) => l.startsWith(`<!-- ${name} `) && l.endsWith(' -->'));
    return line === undefined ? null : line.slice(`<!-- ${name} `.length, -' -->'.length);
  };
  return { incident: find(INCIDENT_MARKER), alert: find(ALERT_MARKER) };
}

/** Whether `body` carries the marker of the incident `key`. */
export function hasGitHubIncidentMarker(body: string, key: string): boolean {
  return body.split('\n').includes(githubIncidentMarker(key));
}

function md(text: string, max: number, layout: TextLayout = 'line'): string {
  return cleanUntrusted(text, { target: 'github', layout, maxLength: max });
}

/** The alert as Markdown: what happened, what to do, its facts and findings. */
function alertMarkdown(view: AlertView): string {
  // Each value is escaped on its own; the bold labels and list marks are certwatch's own Markdown.
  const parts: string[] = [`**${md(`${view.tag}: ${view.endpoint}`, GITHUB_LIMITS.title)}**`];
  if (view.summary) parts.push(md(view.summary, GITHUB_LIMITS.summary));
  if (view.detail) parts.push(md(view.detail, GITHUB_LIMITS.detail, 'lines'));
  parts.push(`**What to do next:** ${md(view.action || 'No action needed.', GITHUB_LIMITS.action)}`);
  if (view.facts.length > 0) {
    parts.push(
      view.facts
        .map((f) => `- **${md(f.label, 60)}:** ${md(f.value, GITHUB_LIMITS.fact) || '\u2014'}`)
        .join('\n'),
    );
  }
  if (view.findings.length > 0) {
    const lines = view.findings.map((f) => `${f.severity.toUpperCase()} ${f.code}: ${f.message}`);
    if (view.omittedFindings > 0) lines.push(`\u2026 and ${view.omittedFindings} more`);
    const listed = md(lines.join('\n'), GITHUB_LIMITS.findings, 'lines')
      .split('\n')
      .map((l) => `- ${l}`)
      .join('\n');
    parts.push(`**Findings**\n\n${listed}`);
  }
  parts.push(`<sub>${md(view.footer, GITHUB_LIMITS.footer)}</sub>`);
  return parts.join('\n\n');
}

/** The issue an incident opens: its first alert, the incident's markers and labels. */
export function renderGitHubIssue(
  alert: Alert,
  change: IncidentChange,
  labels: readonly string[],
): GitHubIssueCreate {
  const view = viewAlert(alert);
  const endpoint = alert.endpoint || alert.endpointId;
  const where = alert.address === null ? endpoint : `${endpoint} (${alert.address})`;
  return {
    title: cleanUntrusted(`${where}: ${alert.summary}`, { target: 'plain', maxLength: GITHUB_LIMITS.title }),
    body: [
      alertMarkdown(view),
      `<sub>certwatch keeps this issue: it comments on each reminder and closes it when the condition (${md(change.condition, 100)}) is over.</sub>`,
      `${githubIncidentMarker(change.key)}\n${markerLine(ALERT_MARKER, alert.id)}`,
    ].join('\n\n'),
    labels: [...new Set([GITHUB_LOOKUP_LABEL, ...labels])],
  };
}

/** The comment an alert adds to its incident's issue (a reminder, a second threshold, the close). */
export function renderGitHubComment(alert: Alert, change: IncidentChange): GitHubComment {
  const closing =
    change.action === 'close' ? '\n\n<sub>certwatch closes this issue: the condition is over.</sub>' : '';
  return { body: `${alertMarkdown(viewAlert(alert))}${closing}` };
}

/** Closes an issue as completed. */
export const GITHUB_CLOSE: GitHubClose = { state: 'closed', state_reason: 'completed' };
