/**
 * `certwatch notify --test` with PagerDuty and Opsgenie channels: the command
 * is derived from the channel registry, so the new types need nothing of their
 * own there; this proves it against one receiver standing in for both vendors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const cli = (argv: string[], env: Record<string, string>) => runCli(argv, { env });

describe('certwatch notify --test (pagerduty, opsgenie)', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-notify-'));
    receiver = await startWebhookReceiver({
      responder: (req) =>
        req.path === '/refuse/v2/alerts'
          ? { status: 401, body: '{"message":"Could not authenticate","took":0.0,"requestId":"r"}' }
          : { status: 202, body: '{"status":"success"}' },
    });
    config = join(dir, 'certwatch.config.yaml');
    writeFileSync(
      config,
      [
        'channels:',
        `  - { name: oncall, type: pagerduty, routingKey: env:PD_KEY, url: "${receiver.url('/v2/enqueue')}" }`,
        `  - { name: ops-genie, type: opsgenie, apiKey: env:OG_KEY, url: "${receiver.url('/')}" }`,
        `  - { name: wrong-key, type: opsgenie, apiKey: nope, url: "${receiver.url('/refuse')}" }`,
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

  it('opens and closes a test incident on each channel and reports each one', async () => {
    // Act
    const r = await cli(['notify', '--test', '--config', config], {
      PD_KEY: 'R0UT1NGKEY',
      OG_KEY: 'gen1e-key',
    });
    // Assess
    expect(r.stdout.split('\n')).toEqual([
      'ok      oncall (2 attempts)',
      'ok      ops-genie (2 attempts)',
      expect.stringMatching(
        /^FAILED {2}wrong-key: create certwatch:test: HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1:\d+: \{"message":"Could not authenticate"/,
      ),
      '',
    ]);
    expect(r.code).toBe(2);
    // Channels are tested in parallel, so their requests interleave: compared sorted (each channel's own order is asserted in its notifier test)
    expect(receiver.requests.map((q) => `${q.path} ${q.headers.authorization ?? '-'}`).sort()).toEqual([
      '/refuse/v2/alerts GenieKey nope',
      '/v2/alerts GenieKey gen1e-key',
      '/v2/alerts/certwatch%3Atest/close?identifierType=alias GenieKey gen1e-key',
      '/v2/enqueue -',
      '/v2/enqueue -',
    ]);
  });
});
