/**
 * `certwatch notify --test` with GitHub and Jira channels (derived from the
 * channel registry): each opens a test ticket and closes it at once, against
 * loopback stand-ins of both APIs; a wrong token is one FAILED line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli';
import { type FakeGitHub, type FakeJira, fakeGitHub, fakeJira } from '../support/ticket-vendors';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

describe('certwatch notify --test (github, jira)', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let github: FakeGitHub;
  let jira: FakeJira;
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-notify-tickets-'));
    github = fakeGitHub({ prefix: '/gh', repo: 'acme/certs', token: 'ghp_t0k3n' });
    jira = fakeJira({ prefix: '/jira', project: 'OPS', email: 'certwatch@example.com', token: 'j1ra' });
    receiver = await startWebhookReceiver({
      responder: (req) => github.respond(req) ?? jira.respond(req) ?? { status: 404 },
    });
    config = join(dir, 'certwatch.config.yaml');
    writeFileSync(
      config,
      [
        'channels:',
        `  - { name: renewals, type: github, repo: acme/certs, token: env:GH_TOKEN, labels: [tls], apiUrl: "${receiver.url('/gh')}" }`,
        `  - { name: ops-jira, type: jira, baseUrl: "${receiver.url('/jira')}", project: OPS, email: certwatch@example.com, apiToken: env:JIRA_TOKEN }`,
        `  - { name: wrong-token, type: github, repo: acme/certs, token: nope, apiUrl: "${receiver.url('/gh')}" }`,
        'endpoints:',
        '  - host: example.com',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens and closes a test ticket on each channel and reports each one', async () => {
    // Act
    const r = await runCli(['notify', '--test', '--config', config], {
      env: { GH_TOKEN: 'ghp_t0k3n', JIRA_TOKEN: 'j1ra' },
    });
    // Assess
    expect(r.stdout.split('\n')).toEqual([
      'ok      renewals (4 attempts)',
      'ok      ops-jira (5 attempts)',
      expect.stringMatching(
        /^FAILED {2}wrong-token: look for the issue of certwatch:test: HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1:\d+: \{"message":"Bad credentials"\}$/,
      ),
      '',
    ]);
    expect(r.code).toBe(2);
    expect([...github.issues.values()].map((i) => [i.number, i.state, i.labels, i.comments.length])).toEqual([
      [1, 'closed', ['certwatch', 'tls'], 1],
    ]);
    expect([...jira.issues.values()].map((i) => [i.key, i.status, i.comments.length])).toEqual([
      ['OPS-1', 'Done', 1],
    ]);
  });
});
