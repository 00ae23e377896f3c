/**
 * GitHub Issues and Jira across runs of the real pipeline (`runCycle`, the
 * functions the Lambdas and `certwatch run` share), with a faked clock: a TLS
 * server on loopback, the embedded DynamoDB (state, delivery and ticket
 * records), and loopback stand-ins of both vendors. Proves that the policy's
 * open → remind → resolve sequences keep one ticket per incident: opened once,
 * reminded by comments, closed by the alert that ends the condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import { localSink } from '../../lambdas/cli/local-runtime';
import { createNotifier } from '../../lambdas/notify';
import { runCycle } from '../../lambdas/pipeline/run-cycle';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { DAY, HOUR, type RenewalServer, startRenewalServer } from '../support/renewal-server';
import { type FakeGitHub, type FakeJira, fakeGitHub, fakeJira } from '../support/ticket-vendors';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

describe('ticket channels across runs (faked clock)', () => {
  let tls: RenewalServer;
  let realNow: number;
  let port: number;
  let embedded: EmbeddedStateStore;
  let receiver: WebhookReceiver;
  let github: FakeGitHub;
  let jira: FakeJira;
  let t = 0;
  const now = () => new Date(t);

  beforeAll(async () => {
    tls = await startRenewalServer();
    ({ realNow, port } = tls);
    t = realNow;
    embedded = await openEmbeddedStateStore({});
    github = fakeGitHub({ prefix: '/gh', repo: 'acme/certs', token: 'ghp_t0k3n' });
    jira = fakeJira({ prefix: '/jira', project: 'OPS', email: 'certwatch@example.com', token: 'j1ra' });
    receiver = await startWebhookReceiver({
      responder: (req) => github.respond(req) ?? jira.respond(req) ?? { status: 404 },
    });
  });

  afterAll(async () => {
    await tls.close();
    await receiver.close();
    await embedded.close();
  });

  it('opens one ticket per condition, comments on each later alert, and closes it when the condition ends', async () => {
    // Prepare
    const { endpoint } = tls;
    const deps = { http: { sleep: async () => undefined }, tickets: embedded.store };
    const notifiers = [
      createNotifier(
        {
          type: 'github',
          name: 'gh',
          minSeverity: 'info',
          repo: 'acme/certs',
          token: 'ghp_t0k3n',
          labels: ['tls'],
          apiUrl: receiver.url('/gh'),
        },
        deps,
      ),
      createNotifier(
        {
          type: 'jira',
          name: 'jira',
          minSeverity: 'info',
          baseUrl: receiver.url('/jira'),
          project: 'OPS',
          issueType: 'Task',
          email: 'certwatch@example.com',
          apiToken: 'j1ra',
          resolveTransition: 'Done',
          labels: [],
        },
        deps,
      ),
    ];
    const trust = loadTrustStore({
      extraCaPem: tls.pki.root.certPem,
      extraCaSource: 'test root',
      includeSystemRoots: false,
    });
    const cycleDeps = { store: embedded.store, sink: localSink(notifiers), trustFor: () => trust, now };
    const run = async (atMs: number) => {
      t = atMs;
      const cycle = await runCycle(cycleDeps, [endpoint], { concurrency: 4, intervalMs: 7 * DAY });
      expect(cycle.judgement?.complete).toBe(true);
      return cycle.results[0];
    };

    // Act: the certificate counts down, is reminded about, renewed; then the server goes away and comes back
    await run(realNow); // 40 days: nothing
    await run(realNow + 11 * DAY); // crosses 30: opens expiry
    await run(realNow + 34 * DAY); // crosses 7 (and 14): the same ticket
    await run(realNow + 35 * DAY + 2 * HOUR); // 24 h later: reminder
    tls.renew();
    expect((await run(realNow + 35 * DAY + 3 * HOUR))?.status).toBe('ok'); // renewed: closes expiry
    await tls.stop();
    await run(realNow + 35 * DAY + 9 * HOUR); // 1st failure: nothing yet
    await run(realNow + 35 * DAY + 15 * HOUR); // 2nd failure: opens unreachable
    await run(realNow + 36 * DAY + 16 * HOUR); // still failing 25 h later: reminder
    await tls.start();
    expect((await run(realNow + 36 * DAY + 18 * HOUR))?.status).toBe('ok'); // answers: closes unreachable

    // Assess: GitHub has two issues, one per condition, each closed after its comments
    const address = `certwatch:127.0.0.1:${port}|127.0.0.1`;
    const gh = receiver.requests
      .filter((r) => r.path.startsWith('/gh/'))
      .map((r) => `${r.method} ${r.path.replace('/gh/repos/acme/certs', '')}`);
    expect(gh).toEqual([
      'GET /issues?state=open&labels=certwatch&per_page=50&page=1',
      'POST /issues',
      'POST /issues/1/comments',
      'POST /issues/1/comments',
      'POST /issues/1/comments',
      'PATCH /issues/1',
      'GET /issues?state=open&labels=certwatch&per_page=50&page=1',
      'POST /issues',
      'POST /issues/2/comments',
      'POST /issues/2/comments',
      'PATCH /issues/2',
    ]);
    const [expiry, unreachable] = [github.issues.get(1), github.issues.get(2)];
    expect(expiry?.title.replace(/\(\d{4}-\d\d-\d\d\)/, '(date)')).toBe(
      'shop (127.0.0.1): expires in 29 days (date)',
    );
    expect(expiry?.body).toContain(`<!-- certwatch-incident: ${address}:expiry -->`);
    expect(expiry?.labels).toEqual(['certwatch', 'tls']);
    // Each comment starts with the alert's tag and summary (Markdown-escaped: `\\(`).
    const heads = (comments: readonly string[] | undefined) =>
      comments?.map((c) =>
        c
          .split('\n\n')
          .slice(0, 2)
          .join(' / ')
          .replace(/\d{4}-\d\d-\d\d/g, 'DATE'),
      );
    expect(heads(expiry?.comments)).toEqual([
      '**CRITICAL: shop** / expires in 6 days \\(DATE\\)',
      '**CRITICAL: shop** / still not renewed: expires in 5 days \\(DATE\\)',
      '**INFO: shop** / renewed: expires DATE \u2192 DATE',
    ]);
    expect(heads(unreachable?.comments)).toEqual([
      expect.stringMatching(/^\*\*CRITICAL: shop\*\* \/ still unreachable after 3 consecutive checks since /),
      '**INFO: shop** / reachable again after 3 failed checks',
    ]);
    expect(expiry?.comments.at(-1)).toContain('certwatch closes this issue');
    expect(unreachable?.body).toContain(`<!-- certwatch-incident: ${address}:unreachable -->`);
    expect([expiry?.state, unreachable?.state]).toEqual(['closed', 'closed']);
    // ... and Jira the same two issues, commented on and resolved through the transition
    const jr = receiver.requests
      .filter((r) => r.path.startsWith('/jira/'))
      .map((r) => `${r.method} ${r.path.replace('/jira/rest/api/3', '')}`);
    expect(jr).toEqual([
      'POST /search/jql',
      'POST /issue',
      'POST /issue/OPS-1/comment',
      'POST /issue/OPS-1/comment',
      'POST /issue/OPS-1/comment',
      'GET /issue/OPS-1/transitions',
      'POST /issue/OPS-1/transitions',
      'POST /search/jql',
      'POST /issue',
      'POST /issue/OPS-2/comment',
      'POST /issue/OPS-2/comment',
      'GET /issue/OPS-2/transitions',
      'POST /issue/OPS-2/transitions',
    ]);
    expect([...jira.issues.values()].map((i) => [i.key, i.status, i.comments.length])).toEqual([
      ['OPS-1', 'Done', 3],
      ['OPS-2', 'Done', 2],
    ]);
    // The state keeps each incident's ticket, closed.
    for (const [channel, ids] of [
      ['gh', ['1', '2']],
      ['jira', ['OPS-1', 'OPS-2']],
    ] as const) {
      const records = await Promise.all(
        ['expiry', 'unreachable'].map((c) => embedded.store.getTicket(channel, `${address}:${c}`)),
      );
      expect(records.map((r) => [r?.record.ticketId, r?.record.state])).toEqual([
        [ids[0], 'closed'],
        [ids[1], 'closed'],
      ]);
    }
  });
});
