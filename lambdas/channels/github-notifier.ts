/**
 * Delivery of the `github` channel type through the GitHub REST API
 * (`Authorization: Bearer <token>`, `X-GitHub-Api-Version: 2022-11-28`):
 * - open: `POST /repos/{owner}/{repo}/issues`;
 * - update: `POST /repos/{owner}/{repo}/issues/{number}/comments`;
 * - close: that comment, then `PATCH /repos/{owner}/{repo}/issues/{number}`
 *   `{ state: closed, state_reason: completed }`;
 * - find a lost issue: `GET /repos/{owner}/{repo}/issues?state=open&labels=certwatch`,
 *   page by page, for the body with the incident's marker. Listing is read from
 *   GitHub's database, unlike the search API's index, so an issue opened a
 *   moment ago is found.
 */
import type { GitHubChannel } from './github-channel';
import {
  GITHUB_CLOSE,
  GITHUB_LOOKUP_LABEL,
  hasGitHubIncidentMarker,
  readGitHubMarkers,
  renderGitHubComment,
  renderGitHubIssue,
} from '../notify/render-github';
import type { NotifierFactory } from './channel-notifier';
import { fieldOf, type TicketApi, TicketSendError, ticketNotifier } from './ticket-notifier';

/** The GitHub REST API version certwatch speaks. */
export const GITHUB_API_VERSION = '2022-11-28';

/** Open issues listed per page, and pages read at most, when looking for a lost issue. */
export const GITHUB_LOOKUP = { perPage: 50, maxPages: 20, maxPageBytes: 4 * 1024 * 1024 } as const;

function issueNumber(answer: unknown, what: string): string {
  const n = fieldOf(answer, 'number');
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new TicketSendError(`${what}: the answer has no issue number`);
  }
  return String(n);
}

export function gitHubApi(channel: GitHubChannel): TicketApi {
  const repo = `${channel.apiUrl}/repos/${channel.repo}`;
  return {
    headers: {
      authorization: `Bearer ${channel.token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION,
    },
    async findOpen(call, change) {
      for (let page = 1; page <= GITHUB_LOOKUP.maxPages; page++) {
        const label = `look for the issue of ${change.key}`;
        const answer = await call({
          label,
          method: 'GET',
          url: `${repo}/issues?state=open&labels=${GITHUB_LOOKUP_LABEL}&per_page=${GITHUB_LOOKUP.perPage}&page=${page}`,
          maxResponseBytes: GITHUB_LOOKUP.maxPageBytes,
        });
        if (!Array.isArray(answer)) throw new TicketSendError(`${label}: the answer is not a list of issues`);
        for (const issue of answer) {
          const body = fieldOf(issue, 'body');
          if (typeof body !== 'string' || !hasGitHubIncidentMarker(body, change.key)) continue;
          return { id: issueNumber(issue, label), openedBy: readGitHubMarkers(body).alert };
        }
        if (answer.length < GITHUB_LOOKUP.perPage) return null;
      }
      throw new TicketSendError(
        `look for the issue of ${change.key}: more than ${GITHUB_LOOKUP.perPage * GITHUB_LOOKUP.maxPages} open issues labelled ${GITHUB_LOOKUP_LABEL}`,
      );
    },
    async open(call, alert, change) {
      const label = `open an issue for ${change.key}`;
      const answer = await call({
        label,
        method: 'POST',
        url: `${repo}/issues`,
        body: renderGitHubIssue(alert, change, channel.labels),
        once: true,
      });
      return issueNumber(answer, label);
    },
    async comment(call, id, alert, change) {
      await call({
        label: `comment on issue ${id}`,
        method: 'POST',
        url: `${repo}/issues/${id}/comments`,
        body: renderGitHubComment(alert, change),
      });
    },
    async close(call, id, alert, change) {
      await this.comment(call, id, alert, change);
      await call({
        label: `close issue ${id}`,
        method: 'PATCH',
        url: `${repo}/issues/${id}`,
        body: GITHUB_CLOSE,
      });
    },
  };
}

export const gitHubNotifier: NotifierFactory<GitHubChannel> = (channel, deps) =>
  ticketNotifier(channel, gitHubApi(channel), deps);
