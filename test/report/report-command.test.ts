import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { presignReportLink, REPORT_USAGE } from '../../lambdas/cli/report-command';
import { REPORT_OBJECT_KEY } from '../../lambdas/report/report-object';
import { type FakeAws, startFakeAws } from '../support/fake-aws';
import { runCli } from '../support/run-cli';

/** Fake credentials: signing is local arithmetic, so a presigned URL needs no network and no account. */
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

describe('certwatch report', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-report-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('documents its options', async () => {
    // Act
    const help = await runCli(['report', '--help']);
    const overview = await runCli(['--help']);
    // Assess
    expect(help).toEqual({ code: 0, stdout: REPORT_USAGE, stderr: '' });
    for (const option of [
      '--html FILE',
      '--state-dir',
      '--dynamodb-endpoint',
      '--table',
      '--aws',
      '--stack',
      '--bucket',
      '--region',
      '--expires',
    ])
      expect(help.stdout).toContain(option);
    expect(overview.stdout).toContain('certwatch report --html FILE | --aws');
  });

  it('writes the page of an empty store, and says where', async () => {
    // Prepare
    const file = join(dir, 'empty.html');
    // Act
    const run = await runCli(['report', '--html', file, '--state-dir', join(dir, 'state')]);
    // Assess
    expect(run).toEqual({ code: 0, stdout: '', stderr: `certwatch: report written to ${file}\n` });
    expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>[\s\S]*No stored state\./);
  });

  it('writes the page to standard output for -', async () => {
    const run = await runCli(['report', '--html', '-', '--state-dir', join(dir, 'state-stdout')]);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith('<!doctype html>')).toBe(true);
  });

  it.each([
    ['no output named', [], "report: --html FILE is required (or --aws for the deployed report's link)"],
    ['both outputs', ['--html', 'x.html', '--aws'], 'report: give either --html FILE or --aws, not both'],
    [
      'a link option without --aws',
      ['--html', 'x.html', '--bucket', 'b-b-b'],
      'report: --bucket, --stack, --region and --expires go with --aws',
    ],
    [
      'both a bucket and a stack',
      ['--aws', '--bucket', 'b-b-b', '--stack', 'Certwatch'],
      'report --aws: give either --bucket NAME or --stack NAME, not both',
    ],
    [
      'a bad stack name',
      ['--aws', '--stack', 'no_such/stack'],
      "--stack: 'no_such/stack' is not a CloudFormation stack name",
    ],
    [
      'a bad bucket name',
      ['--aws', '--bucket', 'Not_A_Bucket'],
      "--bucket: 'Not_A_Bucket' is not an S3 bucket name",
    ],
    [
      'a bad region',
      ['--aws', '--bucket', 'certwatch-report', '--region', 'moon'],
      "--region: 'moon' is not an AWS region like eu-west-1",
    ],
    [
      'a link beyond 7 days',
      ['--aws', '--bucket', 'certwatch-report', '--region', 'eu-west-1', '--expires', '8d'],
      "--expires: must be between 1s and 7d, got '8d'",
    ],
    [
      'a bad duration',
      ['--aws', '--bucket', 'certwatch-report', '--region', 'eu-west-1', '--expires', 'soon'],
      "--expires: expected a duration like 15m, 12h or 7d, got 'soon'",
    ],
    [
      'an unwritable file',
      ['--html', '/nonexistent-dir/r.html', '--state-dir', 'STATE'],
      '--html: cannot write /nonexistent-dir/r.html: ENOENT',
    ],
  ])('refuses %s with one line and exit 3', async (_name, args, line) => {
    // Act
    const run = await runCli(['report', ...args.map((a) => a.replace('STATE', join(dir, 'state-err')))], {
      env: CREDENTIALS,
    });
    // Assess
    expect(run).toEqual({ code: 3, stdout: '', stderr: `certwatch: ${line}\n` });
  });

  it('prints a presigned GET of the report object, signed offline', async () => {
    // Act
    const run = await runCli(
      ['report', '--aws', '--bucket', 'certwatch-report-abc', '--region', 'eu-west-1', '--expires', '15m'],
      { env: CREDENTIALS },
    );
    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const url = new URL(run.stdout.trim());
    expect(`${url.origin}${url.pathname}`).toBe(
      `https://certwatch-report-abc.s3.eu-west-1.amazonaws.com/${REPORT_OBJECT_KEY}`,
    );
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': expect.stringMatching(/^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/),
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
  });

  it('takes the bucket and region from the environment, and carries a session token', async () => {
    // Act
    const run = await runCli(['report', '--aws'], {
      env: {
        ...CREDENTIALS,
        AWS_SESSION_TOKEN: 'session-token-123',
        AWS_REGION: 'us-east-2',
        CERTWATCH_REPORT_BUCKET: 'env-report-bucket',
      },
    });
    // Assess: the default link works for an hour
    const url = new URL(run.stdout.trim());
    expect(url.host).toBe('env-report-bucket.s3.us-east-2.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session-token-123');
  });
});

describe('certwatch report --aws reading the bucket from the stack', () => {
  let aws: FakeAws;
  const env = { ...CREDENTIALS, AWS_REGION: 'eu-west-1' };

  beforeAll(async () => {
    aws = await startFakeAws();
    aws.stacks.set('Certwatch', { ReportBucketName: 'certwatch-report-default', TableName: 't' });
    aws.stacks.set('CertwatchStaging', { ReportBucketName: 'certwatch-report-staging' });
    aws.stacks.set('CertwatchOld', { TableName: 't' });
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDFORMATION', aws.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await aws?.close();
  });

  it.each([
    ['the default stack', [], 'certwatch-report-default'],
    ['the stack named', ['--stack', 'CertwatchStaging'], 'certwatch-report-staging'],
  ])('signs a link to the bucket of %s', async (_name, args, bucket) => {
    // Act
    const run = await runCli(['report', '--aws', ...args], { env });
    // Assess
    expect(run.stderr).toBe('');
    expect(new URL(run.stdout.trim()).host).toBe(`${bucket}.s3.eu-west-1.amazonaws.com`);
  });

  it.each([
    [
      'a stack that does not exist',
      ['--stack', 'Nowhere'],
      'report --aws: no stack Nowhere in eu-west-1: pass --stack NAME (the name cdk deploy used), --region, or --bucket NAME',
    ],
    [
      'a stack deployed before the report existed',
      ['--stack', 'CertwatchOld'],
      'report --aws: stack CertwatchOld has no output ReportBucketName: deploy this version of certwatch, or pass --bucket NAME',
    ],
  ])('refuses %s with one line and exit 3', async (_name, args, line) => {
    const run = await runCli(['report', '--aws', ...args], { env });
    expect(run).toEqual({ code: 3, stdout: '', stderr: `certwatch: ${line}\n` });
  });
});

describe('presignReportLink', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('says to set a region when none is found, in one line', async () => {
    // Prepare: no region anywhere the SDK looks
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
    // Act
    const link = presignReportLink({
      bucket: 'certwatch-report',
      expiresInSeconds: 60,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    // Assess
    await expect(link).rejects.toThrow(
      /^report --aws: no AWS region: pass --region or set AWS_REGION to the region of the report bucket$/,
    );
  });

  it('says to set credentials when none are found, in one line', async () => {
    // Prepare: a provider that finds nothing, as the default chain does on a bare machine
    const nothing = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    };
    // Act
    const link = presignReportLink({
      bucket: 'certwatch-report',
      region: 'eu-west-1',
      expiresInSeconds: 60,
      credentials: nothing,
    });
    // Assess
    await expect(link).rejects.toThrow(
      /^report --aws: no AWS credentials: set AWS_PROFILE \(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), or sign in with aws sso login$/,
    );
  });
});
