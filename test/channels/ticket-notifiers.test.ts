/**
 * The ticket channels (GitHub Issues, Jira Cloud) against loopback stand-ins of
 * their REST APIs: the exact requests (path, method, headers, auth, body), the
 * incident → ticket mapping in the state store, the marker search that finds
 * a ticket when that mapping is lost, an unknown outcome that must not open a
 * second ticket, and hostile certificate text.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GitHubChannel } from '../../lambdas/channels/github-channel';
import type { JiraChannel } from '../../lambdas/channels/jira-channel';
import { incidentChanges, incidentTag } from '../../lambdas/core/incident-lifecycle';
import type { Alert } from '../../lambdas/core/model';
import { createNotifier } from '../../lambdas/notify/notifiers';
import { renderGitHubComment, renderGitHubIssue } from '../../lambdas/notify/render-github';
import {
  adfTexts,
  readJiraMarkers,
  renderJiraComment,
  renderJiraIssue,
  renderJiraSearch,
} from '../../lambdas/notify/render-jira';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { deliverAlert } from '../../lambdas/pipeline/outbox-delivery';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { HOSTILE, makeAlert } from '../notify/alert-fixtures';
import { unsafeStrings } from '../notify/incident-fixtures';
import { type FakeGitHub, type FakeJira, fakeGitHub, fakeJira } from '../support/ticket-vendors';
import {
  hang,
  type ReceivedRequest,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver';

const GH_TOKEN = 'ghp_t0k3n';
const JIRA_TOKEN = 'j1ra-t0k3n';
const noWait = { sleep: async () => undefined };

function gitHubAt(rx: WebhookReceiver): GitHubChannel {
  return {
    type: 'github',
    name: 'gh',
    minSeverity: 'info',
    repo: 'acme/certs',
    token: GH_TOKEN,
    labels: ['tls'],
    apiUrl: rx.url('/gh'),
  };
}

function jiraAt(rx: WebhookReceiver): JiraChannel {
  return {
    type: 'jira',
    name: 'jira',
    minSeverity: 'info',
    baseUrl: rx.url('/jira'),
    project: 'OPS',
    issueType: 'Task',
    email: 'certwatch@example.com',
    apiToken: JIRA_TOKEN,
    resolveTransition: 'done',
    labels: ['tls'],
  };
}

/** `METHOD path` of each request. */
const lines = (requests: readonly ReceivedRequest[]) => requests.map((r) => `${r.method} ${r.path}`);

/** A reminder about the same expiry incident as {@link makeAlert}'s threshold alert. */
const reminder = makeAlert({
  id: 'example.com:443|192.0.2.10:renotify:2026-11-23T08:00:00.000Z',
  kind: 'renotify',
  summary: 'still not renewed: expires in 2 days',
  daysLeft: 2,
});
const threshold = makeAlert({ id: 'example.com:443|192.0.2.10:threshold:3' });
const renewed = makeAlert({
  id: 'example.com:443|192.0.2.10:renewed:2026-11-24T08:00:00.000Z',
  kind: 'renewed',
  severity: 'info',
  status: 'ok',
  summary: 'renewed: now expires in 90 days',
  findings: [],
});
const EXPIRY_KEY = 'certwatch:example.com:443|192.0.2.10:expiry';

describe('github and jira notifiers (loopback vendors)', () => {
  let rx: WebhookReceiver;
  let github: FakeGitHub;
  let jira: FakeJira;
  /** Requests answered by this instead of the fakes (1-based count), when set. */
  let override: ((req: ReceivedRequest, count: number) => ReturnType<typeof hang> | null) | null;
  let embedded: EmbeddedStateStore;

  beforeAll(async () => {
    rx = await startWebhookReceiver({
      responder: (req, count) =>
        override?.(req, count) ??
        github.respond(req) ??
        jira.respond(req) ?? { status: 404, body: 'no such path' },
    });
  });
  afterAll(async () => {
    await rx.close();
  });
  beforeEach(async () => {
    rx.requests.length = 0;
    github = fakeGitHub({ prefix: '/gh', repo: 'acme/certs', token: GH_TOKEN });
    jira = fakeJira({ prefix: '/jira', project: 'OPS', email: 'certwatch@example.com', token: JIRA_TOKEN });
    override = null;
    embedded = await openEmbeddedStateStore({});
  });
  afterEach(async () => {
    await embedded.close();
  });

  it('github: a test alert opens an issue and closes it, with the documented requests and headers', async () => {
    // Prepare
    const alert = makeTestAlert(new Date('2026-03-04T05:06:07.000Z'));
    const [open, close] = incidentChanges(alert);
    // Act
    const result = await createNotifier(gitHubAt(rx), { http: noWait }).send(alert);
    // Assess
    expect(result).toMatchObject({ channel: 'gh', ok: true, attempts: 4, error: null });
    expect(lines(rx.requests)).toEqual([
      'GET /gh/repos/acme/certs/issues?state=open&labels=certwatch&per_page=50&page=1',
      'POST /gh/repos/acme/certs/issues',
      'POST /gh/repos/acme/certs/issues/1/comments',
      'PATCH /gh/repos/acme/certs/issues/1',
    ]);
    for (const r of rx.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${GH_TOKEN}`);
      expect(r.headers.accept).toBe('application/vnd.github+json');
      expect(r.headers['x-github-api-version']).toBe('2022-11-28');
      expect(r.headers['user-agent']).toBe('certwatch-notifier/1');
      expect(r.headers['content-type']).toBe(
        r.method === 'GET' ? undefined : 'application/json; charset=utf-8',
      );
    }
    const [, create, comment, patch] = rx.requests;
    expect(create?.json).toEqual(renderGitHubIssue(alert, open!, ['tls']));
    expect(create?.json).toMatchObject({
      title: 'certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
      labels: ['certwatch', 'tls'],
    });
    expect((create?.json as { body: string } | undefined)?.body).toContain(
      '\n<!-- certwatch-incident: certwatch:test -->\n',
    );
    expect(comment?.json).toEqual(renderGitHubComment(alert, close!));
    expect(patch?.json).toEqual({ state: 'closed', state_reason: 'completed' });
    expect(github.issues.get(1)).toMatchObject({ state: 'closed', stateReason: 'completed' });
  });

  it('jira: a test alert creates an issue, comments and moves it through the resolve transition', async () => {
    // Prepare
    const alert = makeTestAlert(new Date('2026-03-04T05:06:07.000Z'));
    const channel = jiraAt(rx);
    const [open, close] = incidentChanges(alert);
    // Act
    const result = await createNotifier(channel, { http: noWait }).send(alert);
    // Assess
    expect(result).toMatchObject({ channel: 'jira', ok: true, attempts: 5, error: null });
    expect(lines(rx.requests)).toEqual([
      'POST /jira/rest/api/3/search/jql',
      'POST /jira/rest/api/3/issue',
      'POST /jira/rest/api/3/issue/OPS-1/comment',
      'GET /jira/rest/api/3/issue/OPS-1/transitions',
      'POST /jira/rest/api/3/issue/OPS-1/transitions',
    ]);
    const basic = `Basic ${Buffer.from(`certwatch@example.com:${JIRA_TOKEN}`).toString('base64')}`;
    for (const r of rx.requests) {
      expect(r.headers.authorization).toBe(basic);
      expect(r.headers.accept).toBe('application/json');
    }
    const [search, create, comment, , transition] = rx.requests;
    expect(search?.json).toEqual({
      jql: `project = "OPS" AND labels = "${incidentTag('certwatch:test')}" AND statusCategory != Done ORDER BY created ASC`,
      fields: ['description'],
      maxResults: 10,
    });
    expect(create?.json).toEqual(renderJiraIssue(alert, open!, channel));
    expect(create?.json).toMatchObject({
      fields: {
        project: { key: 'OPS' },
        issuetype: { name: 'Task' },
        summary: 'certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
        labels: ['certwatch', incidentTag('certwatch:test'), 'tls'],
        description: { version: 1, type: 'doc' },
      },
    });
    expect(
      adfTexts((create?.json as { fields: { description: unknown } } | undefined)?.fields.description),
    ).toContain('certwatch-incident: certwatch:test');
    expect(comment?.json).toEqual(renderJiraComment(alert, close!));
    expect(transition?.json).toEqual({ transition: { id: '31' } });
    expect(jira.issues.get('OPS-1')?.status).toBe('Done');
  });

  it.each([
    ['github', (r: WebhookReceiver) => gitHubAt(r)],
    ['jira', (r: WebhookReceiver) => jiraAt(r)],
  ] as const)(
    '%s: open → remind → resolve keeps one ticket, through the state store',
    async (type, channelAt) => {
      // Prepare
      const notifier = createNotifier(channelAt(rx), { http: noWait, tickets: embedded.store });
      // Act
      const results = [];
      for (const alert of [threshold, reminder, renewed]) results.push(await notifier.send(alert));
      // Assess
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      const stored = await embedded.store.getTicket(type === 'github' ? 'gh' : 'jira', EXPIRY_KEY);
      if (type === 'github') {
        expect(lines(rx.requests)).toEqual([
          'GET /gh/repos/acme/certs/issues?state=open&labels=certwatch&per_page=50&page=1',
          'POST /gh/repos/acme/certs/issues',
          // The reminder and the close find the issue in the store: no search.
          'POST /gh/repos/acme/certs/issues/1/comments',
          'POST /gh/repos/acme/certs/issues/1/comments',
          'PATCH /gh/repos/acme/certs/issues/1',
        ]);
        expect(github.issues.size).toBe(1);
        expect(github.issues.get(1)?.comments).toHaveLength(2);
        expect(stored?.record).toMatchObject({ ticketId: '1', state: 'closed', incidentKey: EXPIRY_KEY });
      } else {
        expect(lines(rx.requests)).toEqual([
          'POST /jira/rest/api/3/search/jql',
          'POST /jira/rest/api/3/issue',
          'POST /jira/rest/api/3/issue/OPS-1/comment',
          'POST /jira/rest/api/3/issue/OPS-1/comment',
          'GET /jira/rest/api/3/issue/OPS-1/transitions',
          'POST /jira/rest/api/3/issue/OPS-1/transitions',
        ]);
        expect(jira.issues.size).toBe(1);
        expect(jira.issues.get('OPS-1')?.status).toBe('Done');
        expect(stored?.record).toMatchObject({ ticketId: 'OPS-1', state: 'closed', incidentKey: EXPIRY_KEY });
      }
    },
  );

  it.each([
    ['github', (r: WebhookReceiver) => gitHubAt(r)],
    ['jira', (r: WebhookReceiver) => jiraAt(r)],
  ] as const)(
    '%s: with the state lost, the reminder finds the ticket by its marker: no duplicate',
    async (type, channelAt) => {
      // Prepare: the threshold opens a ticket, recorded in a store that is then lost
      const lost = await openEmbeddedStateStore({});
      await createNotifier(channelAt(rx), { http: noWait, tickets: lost.store }).send(threshold);
      await lost.close();
      rx.requests.length = 0;
      const notifier = createNotifier(channelAt(rx), { http: noWait, tickets: embedded.store });
      // Act
      const remind = await notifier.send(reminder);
      const close = await notifier.send(renewed);
      // Assess
      expect([remind.ok, close.ok]).toEqual([true, true]);
      if (type === 'github') {
        expect(lines(rx.requests)).toEqual([
          'GET /gh/repos/acme/certs/issues?state=open&labels=certwatch&per_page=50&page=1',
          'POST /gh/repos/acme/certs/issues/1/comments',
          'POST /gh/repos/acme/certs/issues/1/comments',
          'PATCH /gh/repos/acme/certs/issues/1',
        ]);
        expect(github.issues.size).toBe(1);
      } else {
        expect(lines(rx.requests)).toEqual([
          'POST /jira/rest/api/3/search/jql',
          'POST /jira/rest/api/3/issue/OPS-1/comment',
          'POST /jira/rest/api/3/issue/OPS-1/comment',
          'GET /jira/rest/api/3/issue/OPS-1/transitions',
          'POST /jira/rest/api/3/issue/OPS-1/transitions',
        ]);
        expect(jira.issues.size).toBe(1);
      }
      // The search found it and wrote the record again: the close needed no search.
      expect(
        (await embedded.store.getTicket(type === 'github' ? 'gh' : 'jira', EXPIRY_KEY))?.record.state,
      ).toBe('closed');
    },
  );

  it.each([
    ['github', (r: WebhookReceiver) => gitHubAt(r), '/gh/repos/acme/certs/issues'],
    ['jira', (r: WebhookReceiver) => jiraAt(r), '/jira/rest/api/3/issue'],
  ] as const)(
    '%s: a create whose answer never came is not repeated; the retried delivery finds it by its marker',
    async (type, channelAt, createPath) => {
      // Prepare: the vendor opens the ticket but its answer never arrives
      override = (req) => {
        if (req.method !== 'POST' || new URL(req.path, 'http://x').pathname !== createPath) return null;
        (type === 'github' ? github : jira).respond(req);
        return hang();
      };
      const notifier = createNotifier(channelAt(rx), {
        http: { ...noWait, timeoutMs: 300 },
        tickets: embedded.store,
      });
      let t = Date.parse('2026-11-22T08:00:00.000Z');
      const deps = {
        store: embedded.store,
        sink: {
          channelsFor: () => [notifier.channel.name],
          deliver: async (
            alert: Alert,
            _c: unknown,
            opts: { maxUnknownOutcomes?: (c: string) => number } = {},
          ) => [
            await notifier.send(alert, {
              maxUnknownOutcomes: opts.maxUnknownOutcomes?.(notifier.channel.name) ?? 2,
            }),
          ],
        },
        now: () => new Date(t),
        holder: 'test',
        leaseMs: 120_000,
        retryHoldMs: 30_000,
      };
      // Act: the first delivery ends with an unknown outcome; the retry comes after the hold
      const first = await deliverAlert(deps, threshold, [notifier.channel.name]);
      override = null;
      t += 60_000;
      const retry = await deliverAlert(deps, threshold, [notifier.channel.name]);
      // Assess
      expect(first.deliveries[0]).toMatchObject({ ok: false, unknownAttempts: 1, maybeDelivered: true });
      expect(first.owed.get(notifier.channel.name)).toBe('failed');
      expect(retry.deliveries[0]).toMatchObject({ ok: true });
      expect(retry.owed.size).toBe(0);
      const record = await embedded.store.getDelivery(threshold.id, notifier.channel.name);
      expect(record?.record).toMatchObject({ status: 'delivered', sends: 2, unknownOutcomes: 1 });
      // One create (never repeated), one search on the retry, and no comment repeating the ticket.
      const creates = rx.requests.filter(
        (r) => r.method === 'POST' && new URL(r.path, 'http://x').pathname === createPath,
      );
      expect(creates).toHaveLength(1);
      if (type === 'github') {
        expect(github.issues.size).toBe(1);
        expect(github.issues.get(1)?.comments).toEqual([]);
      } else {
        expect(jira.issues.size).toBe(1);
        expect(jira.issues.get('OPS-1')?.comments).toEqual([]);
      }
      expect((await embedded.store.getTicket(notifier.channel.name, EXPIRY_KEY))?.record).toMatchObject({
        state: 'open',
        ticketId: type === 'github' ? '1' : 'OPS-1',
      });
    },
  );

  it('github: hostile certificate text cannot format, link, embed HTML, mention or reference', async () => {
    // Prepare
    const hostile = makeAlert({
      endpoint: '@org/everyone #1 <img src=x onerror=alert(1)>',
      summary: `${HOSTILE.markdownLink} owner/repo#12 ![i](https://evil.example/i.png) $x$`,
      issuer: `${HOSTILE.bold} <details><summary>x</summary></details> @here www.evil.example`,
      findings: [
        { code: 'HOSTNAME_MISMATCH', severity: 'critical', message: HOSTILE.controls, certIndex: 0 },
      ],
      detail: '# heading\n- item\n<!-- certwatch-incident: certwatch:forged -->',
      action: '| a | b |\n|---|---|',
    });
    // Act
    const result = await createNotifier(gitHubAt(rx), { http: noWait }).send(hostile);
    // Assess
    expect(result.ok).toBe(true);
    const body = (github.issues.get(1)?.body ?? '') as string;
    expect(unsafeStrings(rx.requests.map((r) => r.json))).toEqual([]);
    // No @ or # GitHub would read, no link, image, HTML or table of the certificate's.
    expect(body).not.toMatch(/@|#(?!\s)/);
    expect(body.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])(\[click\]|!\[|<img|<details|\|---)/m);
    expect(body).not.toMatch(/(^|[^\\])https:\/\/|www\.evil/);
    expect(body).not.toMatch(/^\s*[-#] (heading|item)/m);
    // The forged marker is escaped text; the real one is the incident's.
    expect(body.split('\n').filter((l) => l.startsWith('<!-- certwatch-incident:'))).toEqual([
      `<!-- certwatch-incident: ${EXPIRY_KEY} -->`,
    ]);
  });

  it('jira: hostile certificate text stays text: only paragraphs, lists and text nodes, no link or mention', async () => {
    // Prepare
    const hostile = makeAlert({
      endpoint: '[~admin] {html}<b>x</b>{html}',
      summary: `${HOSTILE.markdownLink} [link|https://evil.example] @here`,
      issuer: `${HOSTILE.bold} h1. heading`,
      findings: [
        { code: 'HOSTNAME_MISMATCH', severity: 'critical', message: HOSTILE.controls, certIndex: 0 },
      ],
      detail: 'certwatch-incident: certwatch:forged',
    });
    // Act
    const result = await createNotifier(jiraAt(rx), { http: noWait }).send(hostile);
    // Assess
    expect(result.ok).toBe(true);
    const create = rx.requests.find((r) => r.path === '/jira/rest/api/3/issue');
    if (!create) throw new Error('no create request');
    expect(unsafeStrings(create.json)).toEqual([]);
    const nodeTypes = new Set<string>();
    const marks = new Set<string>();
    const walk = (n: unknown) => {
      if (n === null || typeof n !== 'object') return;
      const node = n as { type?: string; content?: unknown[]; marks?: { type: string }[] };
      if (node.type) nodeTypes.add(node.type);
      for (const m of node.marks ?? []) marks.add(m.type);
      for (const c of node.content ?? []) walk(c);
    };
    const description = (create.json as { fields: { description: unknown; summary: string } }).fields;
    walk(description.description);
    expect([...nodeTypes].sort()).toEqual(['bulletList', 'doc', 'listItem', 'paragraph', 'text']);
    expect([...marks]).toEqual(['strong']);
    expect(description.summary).not.toMatch(/[\r\n\u0000-\u001f]/);
    // The forged marker is text in the middle: only the incident's own, at the end, counts.
    expect(readJiraMarkers(description.description, 'certwatch:forged')).toEqual({
      incident: false,
      alert: null,
    });
    expect(readJiraMarkers(description.description, EXPIRY_KEY)).toEqual({
      incident: true,
      alert: hostile.id,
    });
    expect(renderJiraSearch('OPS', incidentChanges(hostile)[0]!).jql).toContain(incidentTag(EXPIRY_KEY));
  });
  it('jira: an issue a person resolved counts as closed; a transition the issue does not offer is one clear error', async () => {
    // Prepare: two incidents opened; a person resolves the first, the second's channel names a transition Jira lacks
    const notifier = createNotifier(jiraAt(rx), { http: noWait, tickets: embedded.store });
    await notifier.send(threshold);
    const jira1 = jira.issues.get('OPS-1');
    if (jira1) jira1.status = 'Done';
    const other = makeAlert({
      id: 'other.example:443|192.0.2.11:threshold:3',
      endpoint: 'other',
      endpointId: 'other.example:443',
      address: '192.0.2.11',
    });
    const otherRenewed = {
      ...renewed,
      id: 'other.example:443|192.0.2.11:renewed:x',
      endpoint: 'other',
      endpointId: 'other.example:443',
      address: '192.0.2.11',
    };
    const wrong = createNotifier(
      { ...jiraAt(rx), resolveTransition: 'Close' },
      { http: noWait, tickets: embedded.store },
    );
    await wrong.send(other);
    rx.requests.length = 0;
    // Act
    const resolved = await notifier.send(renewed);
    const refused = await wrong.send(otherRenewed);
    // Assess
    expect(resolved).toMatchObject({ ok: true, error: null });
    expect(lines(rx.requests.slice(0, 3))).toEqual([
      'POST /jira/rest/api/3/issue/OPS-1/comment',
      'GET /jira/rest/api/3/issue/OPS-1/transitions',
      'GET /jira/rest/api/3/issue/OPS-1?fields=status',
    ]);
    expect(refused).toMatchObject({
      ok: false,
      error: 'resolve OPS-2: no transition "Close" (offered: "Done")',
    });
    expect(jira.issues.get('OPS-2')?.status).toBe('To Do');
  });
});
