/**
 * In-memory stand-ins for the GitHub Issues and Jira Cloud REST APIs, as
 * responders for the loopback webhook receiver (test/support/webhook-receiver.ts):
 * they keep issues, comments and states, answer as the vendors document, and
 * refuse a request without the right credentials (401). Each handles only the
 * paths under its `prefix` and returns null for anything else.
 */
import type { ReceivedRequest, ScriptedResponse } from './webhook-receiver';

export interface FakeGitHubIssue {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly labels: readonly string[];
  state: 'open' | 'closed';
  stateReason: string | null;
  readonly comments: string[];
}

export interface FakeGitHub {
  readonly issues: Map<number, FakeGitHubIssue>;
  respond(req: ReceivedRequest): ScriptedResponse | null;
}

const json = (status: number, body: unknown): ScriptedResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

/** GitHub's REST API for one repository, under `prefix` (e.g. `/gh`: `/gh/repos/acme/certs/issues`). */
export function fakeGitHub(opts: {
  readonly prefix: string;
  readonly repo: string;
  readonly token: string;
}): FakeGitHub {
  const issues = new Map<number, FakeGitHubIssue>();
  const base = `${opts.prefix}/repos/${opts.repo}/issues`;
  const view = (i: FakeGitHubIssue) => ({
    number: i.number,
    html_url: `https://github.example/${opts.repo}/issues/${i.number}`,
    title: i.title,
    body: i.body,
    state: i.state,
    labels: i.labels.map((name) => ({ name })),
  });
  return {
    issues,
    respond(req) {
      const url = new URL(req.path, 'http://x');
      if (!url.pathname.startsWith(base)) return null;
      if (req.headers.authorization !== `Bearer ${opts.token}`) {
        return json(401, { message: 'Bad credentials' });
      }
      const rest = url.pathname.slice(base.length);
      if (rest === '' && req.method === 'GET') {
        const label = url.searchParams.get('labels');
        const perPage = Number(url.searchParams.get('per_page') ?? 30);
        const page = Number(url.searchParams.get('page') ?? 1);
        const open = [...issues.values()]
          .filter(
            (i) => i.state === url.searchParams.get('state') && (label === null || i.labels.includes(label)),
          )
          .sort((a, b) => b.number - a.number);
        return json(200, open.slice((page - 1) * perPage, page * perPage).map(view));
      }
      if (rest === '' && req.method === 'POST') {
        const b = req.json as { title: string; body: string; labels: string[] };
        const issue: FakeGitHubIssue = {
          number: issues.size + 1,
          title: b.title,
          body: b.body,
          labels: b.labels,
          state: 'open',
          stateReason: null,
          comments: [],
        };
        issues.set(issue.number, issue);
        return json(201, view(issue));
      }
      const m = /^\/(\d+)(\/comments)?$/.exec(rest);
      const issue = m ? issues.get(Number(m[1])) : undefined;
      if (!m || !issue) return json(404, { message: 'Not Found' });
      if (m[2] && req.method === 'POST') {
        issue.comments.push((req.json as { body: string }).body);
        return json(201, { id: 1000 + issue.comments.length, body: issue.comments.at(-1) });
      }
      if (!m[2] && req.method === 'PATCH') {
        const b = req.json as { state: 'open' | 'closed'; state_reason: string };
        issue.state = b.state;
        issue.stateReason = b.state_reason;
        return json(200, view(issue));
      }
      return json(404, { message: 'Not Found' });
    },
  };
}

export interface FakeJiraIssue {
  readonly key: string;
  readonly fields: {
    readonly project: { key: string };
    readonly issuetype: { name?: string; id?: string };
    readonly summary: string;
    readonly description: unknown;
    readonly labels: readonly string[];
  };
  status: 'To Do' | 'Done';
  readonly comments: unknown[];
}

export interface FakeJira {
  readonly issues: Map<string, FakeJiraIssue>;
  respond(req: ReceivedRequest): ScriptedResponse | null;
}

/** The transitions the fake offers: `Done` (id 31) from To Do, `Reopen` (id 11) from Done. */
export const FAKE_JIRA_TRANSITIONS = {
  done: { id: '31', name: 'Done' },
  reopen: { id: '11', name: 'Reopen' },
};

/** Jira Cloud's REST API v3 for one project, under `prefix` (e.g. `/jira`: `/jira/rest/api/3/issue`). */
export function fakeJira(opts: {
  readonly prefix: string;
  readonly project: string;
  readonly email: string;
  readonly token: string;
}): FakeJira {
  const issues = new Map<string, FakeJiraIssue>();
  const base = `${opts.prefix}/rest/api/3`;
  const auth = `Basic ${Buffer.from(`${opts.email}:${opts.token}`).toString('base64')}`;
  return {
    issues,
    respond(req) {
      const url = new URL(req.path, 'http://x');
      if (!url.pathname.startsWith(base)) return null;
      if (req.headers.authorization !== auth) return { status: 401, body: 'Unauthorized' };
      const rest = url.pathname.slice(base.length);
      if (rest === '/issue' && req.method === 'POST') {
        const b = req.json as { fields: FakeJiraIssue['fields'] };
        const key = `${opts.project}-${issues.size + 1}`;
        issues.set(key, { key, fields: b.fields, status: 'To Do', comments: [] });
        return json(201, {
          id: String(10000 + issues.size),
          key,
          self: `https://jira.example/rest/api/3/issue/${key}`,
        });
      }
      if (rest === '/search/jql' && req.method === 'POST') {
        const { jql } = req.json as { jql: string };
        const label = /labels = "([^"]+)"/.exec(jql)?.[1];
        const openOnly = jql.includes('statusCategory != Done');
        const found = [...issues.values()].filter(
          (i) =>
            (label === undefined || i.fields.labels.includes(label)) && (!openOnly || i.status !== 'Done'),
        );
        return json(200, {
          issues: found.map((i) => ({
            id: i.key,
            key: i.key,
            fields: { description: i.fields.description },
          })),
          isLast: true,
        });
      }
      const m = /^\/issue\/([A-Z][A-Z0-9_]*-\d+)(\/comment|\/transitions)?$/.exec(rest);
      const issue = m ? issues.get(m[1] as string) : undefined;
      if (!m || !issue)
        return json(404, {
          errorMessages: ['Issue does not exist or you do not have permission to see it.'],
        });
      if (m[2] === '/comment' && req.method === 'POST') {
        issue.comments.push((req.json as { body: unknown }).body);
        return json(201, { id: String(issue.comments.length) });
      }
      if (m[2] === '/transitions' && req.method === 'GET') {
        const offered =
          issue.status === 'Done' ? [FAKE_JIRA_TRANSITIONS.reopen] : [FAKE_JIRA_TRANSITIONS.done];
        return json(200, { transitions: offered });
      }
      if (m[2] === '/transitions' && req.method === 'POST') {
        const { id } = (req.json as { transition: { id: string } }).transition;
        if (issue.status !== 'Done' && id === FAKE_JIRA_TRANSITIONS.done.id) issue.status = 'Done';
        else if (issue.status === 'Done' && id === FAKE_JIRA_TRANSITIONS.reopen.id) issue.status = 'To Do';
        else return json(400, { errorMessages: ['Transition id is not valid for this issue.'] });
        return { status: 204 };
      }
      if (!m[2] && req.method === 'GET') {
        const key = issue.status === 'Done' ? 'done' : 'new';
        return json(200, {
          key: issue.key,
          fields: { status: { name: issue.status, statusCategory: { key } } },
        });
      }
      return json(404, { errorMessages: ['Not found'] });
    },
  };
}
