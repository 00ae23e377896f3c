/**
 * `certwatch status` exits with the Nagios code of the worst stored result and honours
 * --config; `notify --test` exits 3 when there is nothing to test; an AWS SDK failure reaches
 * the user as one line saying what to set.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AWS_ADVICE, classifyAwsError } from '../../lambdas/cli/aws-errors';
import { storeErrorForUser } from '../../lambdas/cli/store-errors';
import { StateStoreError } from '../../lambdas/store/state-store';
import { daysFromNow, makePki } from '../support/cert-factory';
import { runCli } from '../support/run-cli';
import { startTlsServer, type TlsTestServer } from '../support/tls-test-servers';

describe('certwatch status', () => {
  let dir: string;
  let ok: TlsTestServer;
  let soon: TlsTestServer;
  let state: string;
  let both: string;
  let okOnly: string;
  let neither: string;

  beforeAll(async () => {
    // Prepare: one ok endpoint and one that expires in 20 days (warning), under a trusted test root
    dir = mkdtempSync(join(tmpdir(), 'certwatch-status-'));
    const pki = makePki();
    const soonPki = makePki({ notAfter: daysFromNow(20.5) });
    ok = await startTlsServer({
      chainPem: [pki.leaf.certPem, pki.intermediate.certPem],
      keyPem: pki.leaf.key.privateKeyPem,
    });
    soon = await startTlsServer({
      chainPem: [soonPki.leaf.certPem, soonPki.intermediate.certPem],
      keyPem: soonPki.leaf.key.privateKeyPem,
    });
    writeFileSync(join(dir, 'roots.pem'), pki.root.certPem + soonPki.root.certPem);
    const config = (name: string, hosts: string[]) => {
      const file = join(dir, name);
      writeFileSync(
        file,
        [
          'defaults: { warnDays: 25, criticalDays: 5, trust: { caFiles: [roots.pem] } }',
          'endpoints:',
          ...hosts.map((h) => `  - { host: "${h}" }`),
          '',
        ].join('\n'),
      );
      return file;
    };
    both = config('both.yaml', [`127.0.0.1:${ok.port}`, `127.0.0.1:${soon.port}`]);
    okOnly = config('ok.yaml', [`127.0.0.1:${ok.port}`]);
    neither = config('neither.yaml', ['127.0.0.1:1']);
    state = join(dir, 'state');
    const run = await runCli(['run', '--config', both, '--state-dir', state, '--format', 'json']);
    expect(run.code).toBe(1);
  });

  afterAll(async () => {
    await ok.close();
    await soon.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { name: 'every stored endpoint: the warning', args: () => [], code: 1 },
    { name: '--config of both: the warning', args: () => ['--config', both], code: 1 },
    { name: '--config of the ok one only', args: () => ['--config', okOnly], code: 0 },
    { name: '--config naming none that is stored: unknown', args: () => ['--config', neither], code: 3 },
  ])('exits with the worst stored status: $name → $code', async ({ args, code }) => {
    // Act
    const r = await runCli(['status', '--state-dir', state, ...args()]);
    // Assess
    expect(r.code).toBe(code);
  });

  it('prints one Nagios line judged by the config thresholds', async () => {
    // Act
    const r = await runCli(['status', '--state-dir', state, '--config', both, '--format', 'nagios']);
    // Assess: soonest expiry first, each endpoint's days with the config's 25/5 thresholds
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^CERTWATCH WARNING - 2 results: 1 ok, 1 warning; worst .* \| days=20;25;5 /);
    expect(r.stdout).toMatch(
      / '127\.0\.0\.1:\d+ \[127\.0\.0\.1\]'=20;25;5 '127\.0\.0\.1:\d+ \[127\.0\.0\.1\]'=\d+;25;5\n$/,
    );
  });

  it('prints CSV of the stored states', async () => {
    // Act
    const r = await runCli(['status', '--state-dir', state, '--format', 'csv']);
    // Assess
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toMatch(/^endpointId,endpointName,host,port,address,status,daysLeft,notAfter,/);
    expect(lines).toHaveLength(4);
  });

  it('exits 3 on a store with no state', async () => {
    // Act
    const r = await runCli(['status', '--state-dir', join(dir, 'empty')]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^No stored state in .*Run 'certwatch run' first\.\n$/);
  });

  it('refuses a --config that does not exist, in one line', async () => {
    // Act
    const r = await runCli(['status', '--state-dir', state, '--config', '/nonexistent/certwatch.yaml']);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^certwatch: .*\/nonexistent\/certwatch\.yaml/),
    ]);
  });

  it('documents its options in --help', async () => {
    // Act
    const r = await runCli(['status', '--help']);
    // Assess
    expect(r.code).toBe(0);
    for (const option of [
      '--config FILE',
      '--state-dir DIR',
      '--format FORMAT',
      '--tz ZONE',
      '--dynamodb-endpoint URL',
    ]) {
      expect(r.stdout).toContain(option);
    }
  });
});

describe('certwatch notify --test', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-notify-'));
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 3 when no channel is configured', async () => {
    // Prepare
    const config = join(dir, 'none.yaml');
    writeFileSync(config, 'endpoints:\n  - host: example.com\n');
    // Act
    const r = await runCli(['notify', '--test', '--config', config]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/No channels configured in .*none\.yaml; nothing to test\./);
  });

  it('says what to set when an SNS channel has no AWS region or credentials', async () => {
    // Prepare: no region and no credentials anywhere the SDK looks (and no instance metadata)
    for (const name of [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_PROFILE',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
    ]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-aws-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'no-aws-credentials'));
    const config = join(dir, 'sns.yaml');
    writeFileSync(
      config,
      'channels:\n  - { name: ops-sns, type: sns, topicArn: "arn:aws:sns:eu-west-1:123456789012:ops" }\nendpoints:\n  - host: example.com\n',
    );
    // Act
    const r = await runCli(['notify', '--test', '--config', config]);
    // Assess: one line naming the channel and what to set, not the SDK's "Region is missing"
    expect(r.code).toBe(2);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^FAILED {2}ops-sns: no AWS (region: set AWS_REGION|credentials: set AWS_PROFILE)/,
      ),
    ]);
  });
});

describe('classifyAwsError', () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });

  it.each([
    { error: new Error('Region is missing'), kind: 'region' },
    { error: 'notifier threw: Region is missing', kind: 'region' },
    {
      error: named('CredentialsProviderError', 'Could not load credentials from any providers'),
      kind: 'credentials',
    },
    {
      error: named('UnrecognizedClientException', 'The security token included in the request is invalid.'),
      kind: 'rejected',
    },
    { error: named('InvalidClientTokenId', 'x'), kind: 'rejected' },
    {
      error: named('ExpiredTokenException', 'The security token included in the request is expired'),
      kind: 'expired',
    },
    {
      error: named('AccessDeniedException', 'User: arn:x is not authorized to perform: sns:Publish'),
      kind: 'denied',
    },
    { error: new Error('outer', { cause: new Error('Region is missing') }), kind: 'region' },
    { error: new Error('connect ECONNREFUSED 127.0.0.1:8000'), kind: null },
    { error: undefined, kind: null },
  ])('$error → $kind', ({ error, kind }) => {
    // Act & Assess
    expect(classifyAwsError(error)).toBe(kind);
  });

  it('names the variables to set, one line each', () => {
    // Assess
    expect(AWS_ADVICE.region).toContain('AWS_REGION');
    expect(AWS_ADVICE.credentials).toMatch(/AWS_PROFILE.*AWS_ACCESS_KEY_ID/);
    for (const line of Object.values(AWS_ADVICE)) expect(line).not.toContain('\n');
  });
});

describe('storeErrorForUser', () => {
  it.each([
    { cause: new Error('Region is missing'), says: AWS_ADVICE.region },
    {
      cause: Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      says: AWS_ADVICE.credentials,
    },
    { cause: new Error('connect ECONNREFUSED 127.0.0.1:8000'), says: 'connect ECONNREFUSED 127.0.0.1:8000' },
  ])('an AWS store failure says what to set: $says', ({ cause, says }) => {
    // Prepare
    const error = new StateStoreError('getRunLease', 'lease', cause.message, { cause });
    // Act
    const shown = storeErrorForUser(error, 'table certwatch at AWS') as Error;
    // Assess
    expect(shown.name).toBe('MonitorFailure');
    expect(shown.message).toBe(`state store table certwatch at AWS failed: getRunLease(lease): ${says}`);
  });
});
