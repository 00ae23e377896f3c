/**
 * Shared fixtures of the infrastructure tests: a small config written to a
 * temp dir and the stack synthesized from it with bundling skipped (the
 * template is what these tests assert; the real bundles are built once, by
 * synth-offline.test.ts).
 *
 * Each file synthesizes each config it needs once, in `beforeAll`. What costs
 * is loading aws-cdk-lib cold (seconds of CPU), not a synth once it is warm
 * (a fraction of a second): the infra files share one module graph per worker
 * (vitest.config.ts), so they pay that once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../lambdas/config';
import { CertwatchStack, type CertwatchStackProps } from '../../lib/certwatch-stack';
import { settingsFromConfig } from '../../lib/deploy-settings';

/** Values that must never reach the template: what the `env:` references resolve to locally. */
export const LOCAL_SECRET_VALUES = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0CERTWATCH/B0CERTWATCH/slacksecret1234567890',
  TEAMS_WEBHOOK_URL: 'https://example.webhook.office.com/webhookb2/teamssecret0987654321',
  DISCORD_WEBHOOK_URL: 'https://discord.example.com/api/webhooks/123/discordsecret-4f2a',
  MATTERMOST_WEBHOOK_URL: 'https://mattermost.example.com/hooks/mattermostsecret7c1d',
  CERTWATCH_HEARTBEAT_URL: 'https://hc-ping.example.com/heartbeatsecret-5a1b',
} as const;

export const EXTRA_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:pager';
export const HOOK_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:certwatch/hook-signing-AbCdEf';

/**
 * A config exercising every deployable feature: cron + time zone, every channel type the stack
 * delivers (smtp is for the local CLI; the stack refuses it), both subscription kinds.
 */
export const FULL_CONFIG_YAML = `# certwatch infra test config
schedule: cron(0 */6 * * ? *)
timezone: Europe/Berlin
defaults:
  timeout: 8s
checker:
  concurrency: 4
  perEndpointMetrics: true
dashboard: true
heartbeatUrl: env:CERTWATCH_HEARTBEAT_URL
channels:
  - name: ops-slack
    type: slack
    minSeverity: warning
    url: env:SLACK_WEBHOOK_URL
  - name: ops-teams
    type: teams
    url: env:TEAMS_WEBHOOK_URL
  - name: hook
    type: webhook
    url: secretsmanager:certwatch/hook#url
    secret: secretsmanager:${HOOK_SECRET_ARN}
    signatureHeader: X-Hook-Signature
  - name: ops-discord
    type: discord
    url: env:DISCORD_WEBHOOK_URL
  - name: ops-googlechat
    type: googlechat
    minSeverity: critical
    url: secretsmanager:certwatch/googlechat
  - name: ops-mattermost
    type: mattermost
    url: env:MATTERMOST_WEBHOOK_URL
  - name: pager
    type: sns
    topicArn: ${EXTRA_TOPIC_ARN}
    minSeverity: critical
  - name: oncall
    type: pagerduty
    routingKey: secretsmanager:certwatch/pagerduty#routingKey
    region: eu
  - name: genie
    type: opsgenie
    apiKey: secretsmanager:certwatch/opsgenie
  - name: renewals
    type: github
    repo: acme/certificates
    token: secretsmanager:certwatch/github#token
    labels: [tls]
  - name: jira
    type: jira
    baseUrl: https://acme.atlassian.net
    project: OPS
    email: certwatch@example.com
    apiToken: secretsmanager:certwatch/jira
subscriptions:
  - email: ops@example.com
  - sms: "+15551234567"
    minSeverity: critical
  - sms: "+15557654321"
    minSeverity: warning
endpoints:
  - host: example.com
  - host: api.example.com:8443
    timeout: 12s
  - host: 192.0.2.10
`;

/** The smallest deployable config: defaults everywhere, no channels. */
export const MINIMAL_CONFIG_YAML = `endpoints:
  - host: example.com
`;

/** A temp dir that the caller removes with `cleanup()` (afterAll). */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `yaml` as `<dir>/<name>` and returns its path. */
export function writeConfig(dir: string, name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

/** An app whose NodejsFunctions skip bundling (their assets get a placeholder hash). */
export function appWithoutBundling(outdir: string): App {
  return new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
}

export interface SynthesizedStack {
  readonly stack: CertwatchStack;
  readonly template: Template;
  readonly json: string;
}

/** Loads `configPath` like bin/app.ts does and synthesizes the stack without bundling. */
export function synthFromConfig(
  configPath: string,
  outdir: string,
  extra: Partial<Omit<CertwatchStackProps, 'settings'>> = {},
): SynthesizedStack {
  const app = appWithoutBundling(outdir);
  const stack = new CertwatchStack(app, 'Certwatch', {
    settings: settingsFromConfig(loadConfig(configPath)),
    ...extra,
  });
  const template = Template.fromStack(stack);
  return { stack, template, json: JSON.stringify(template.toJSON()) };
}

/** The logical id of the only resource of `type` whose logical id starts with `prefix`. */
export function logicalIdOf(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** Statements of the IAM policy attached to the role whose logical id starts with `rolePrefix`. */
export function policyStatementsOfRole(template: Template, rolePrefix: string): Record<string, unknown>[] {
  const roleId = logicalIdOf(template, 'AWS::IAM::Role', rolePrefix);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
}
