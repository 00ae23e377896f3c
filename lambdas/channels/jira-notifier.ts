/**
 * Delivery of the `jira` channel type through the Jira Cloud REST API v3
 * (basic auth: the account's e-mail and API token):
 * - open: `POST /rest/api/3/issue` (an ADF description);
 * - update: `POST /rest/api/3/issue/{key}/comment`;
 * - close: that comment, then the resolve transition: `GET
 *   /rest/api/3/issue/{key}/transitions`, and `POST` the one named (or
 *   numbered) `resolveTransition`. An issue no longer offering it but already
 *   in a done status (a person resolved it) counts as closed;
 * - find a lost issue: `POST /rest/api/3/search/jql` for the open issue with
 *   the incident's label, confirmed by the marker line of its description.
 *   Jira's search index may lag a new issue by a moment; the retry of a
 *   delivery whose create got no answer comes a minute later (see ticket-notifier.ts).
 */
import { readJiraMarkers, renderJiraComment, renderJiraIssue, renderJiraSearch } from '../notify/render-jira';
import type { NotifierFactory } from './channel-notifier';
import type { JiraChannel } from './jira-channel';
import { fieldOf, type TicketApi, TicketSendError, ticketNotifier } from './ticket-notifier';

/** An issue key as Jira gives it (`OPS-42`): checked before it goes into a path. */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]*-\d+$/;

function issueKey(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ISSUE_KEY.test(value)) {
    throw new TicketSendError(`${what}: the answer has no issue key`);
  }
  return value;
}

export function jiraApi(channel: JiraChannel): TicketApi {
  const api = `${channel.baseUrl}/rest/api/3`;
  const wanted = channel.resolveTransition.toLowerCase();
  return {
    headers: {
      authorization: `Basic ${Buffer.from(`${channel.email}:${channel.apiToken}`).toString('base64')}`,
      accept: 'application/json',
    },
    async findOpen(call, change) {
      const label = `look for the issue of ${change.key}`;
      const answer = await call({
        label,
        method: 'POST',
        url: `${api}/search/jql`,
        body: renderJiraSearch(channel.project, change),
        maxResponseBytes: 4 * 1024 * 1024,
      });
      const issues = fieldOf(answer, 'issues');
      if (!Array.isArray(issues)) throw new TicketSendError(`${label}: the answer has no list of issues`);
      for (const issue of issues) {
        const markers = readJiraMarkers(fieldOf(fieldOf(issue, 'fields'), 'description'), change.key);
        if (markers.incident) return { id: issueKey(fieldOf(issue, 'key'), label), openedBy: markers.alert };
      }
      return null;
    },
    async open(call, alert, change) {
      const label = `open an issue for ${change.key}`;
      const answer = await call({
        label,
        method: 'POST',
        url: `${api}/issue`,
        body: renderJiraIssue(alert, change, channel),
        once: true,
      });
      return issueKey(fieldOf(answer, 'key'), label);
    },
    async comment(call, key, alert, change) {
      await call({
        label: `comment on ${key}`,
        method: 'POST',
        url: `${api}/issue/${key}/comment`,
        body: renderJiraComment(alert, change),
      });
    },
    async close(call, key, alert, change) {
      await this.comment(call, key, alert, change);
      const label = `resolve ${key}`;
      const answer = await call({ label, method: 'GET', url: `${api}/issue/${key}/transitions` });
      const transitions = fieldOf(answer, 'transitions');
      const list = Array.isArray(transitions) ? transitions : [];
      const match = list.find(
        (t) =>
          fieldOf(t, 'id') === channel.resolveTransition ||
          String(fieldOf(t, 'name')).toLowerCase() === wanted,
      );
      const id = fieldOf(match, 'id');
      if (typeof id === 'string') {
        await call({
          label,
          method: 'POST',
          url: `${api}/issue/${key}/transitions`,
          body: { transition: { id } },
        });
        return;
      }
      const issue = await call({ label, method: 'GET', url: `${api}/issue/${key}?fields=status` });
      const category = fieldOf(fieldOf(fieldOf(fieldOf(issue, 'fields'), 'status'), 'statusCategory'), 'key');
      if (category === 'done') return; // Resolved already (by a person).
      const offered = list.map((t) => JSON.stringify(String(fieldOf(t, 'name')).slice(0, 60))).slice(0, 10);
      throw new TicketSendError(
        `${label}: no transition ${JSON.stringify(channel.resolveTransition)} (offered: ${offered.join(', ') || 'none'})`,
      );
    },
  };
}

export const jiraNotifier: NotifierFactory<JiraChannel> = (channel, deps) =>
  ticketNotifier(channel, jiraApi(channel), deps);
