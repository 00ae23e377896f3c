/**
 * `certwatch report`: the stored state as one self-contained HTML page
 * (`--html FILE`), or a presigned link to the page the deployed watchdog keeps
 * in its S3 bucket (`--aws`).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { parseDuration } from '../config/duration';
import { gatherReport } from '../report/report-data';
import { DEFAULT_STACK_NAME, REPORT_BUCKET_OUTPUT, REPORT_OBJECT_KEY } from '../report/report-object';
import { renderReport } from '../report/render-report';
import { type CliIo, terminalSafe, UsageError } from './cli-io';
import { openStore } from './local-runtime';
import { openStoreErrorForUser, parseCommandArgs, STORE_OPTIONS, storeArgs, storeLabel } from './run-command';
import { storeErrorForUser } from './store-errors';

/** Environment variable the CLI reads the report bucket from when `--bucket` is not given. */
export const CLI_REPORT_BUCKET_ENV = 'CERTWATCH_REPORT_BUCKET';
const DEFAULT_LINK_SECONDS = 3600;
/** SigV4 presigned URLs work for at most 7 days. */
const MAX_LINK_SECONDS = 7 * 86_400;

export const REPORT_USAGE = `Usage: certwatch report --html FILE [options]
       certwatch report --aws [--stack NAME | --bucket NAME] [--region REGION] [--expires DURATION]

Writes the stored state as one self-contained HTML page: an expiry timeline
for the next 90 days, every address sorted by days left with filters by
status, owner and tag, each chain's details and a history sparkline. The page
loads nothing from anywhere (no CDN, no fonts) and runs no script but its own.

Options:
      --html FILE               write the page to FILE ('-' for standard output)
      --state-dir DIR           embedded DynamoDB data directory (default .certwatch)
      --dynamodb-endpoint URL   read from this DynamoDB instead ('aws' for the real service)
      --table NAME              DynamoDB table (default certwatch)
      --aws                     print a presigned link to the page the deployed watchdog
                                writes after every complete run
      --stack NAME              read the report bucket from this stack's output
                                ${REPORT_BUCKET_OUTPUT} (default ${DEFAULT_STACK_NAME})
      --bucket NAME             the report bucket itself (default $${CLI_REPORT_BUCKET_ENV})
      --region REGION           the bucket's region (default $AWS_REGION, then the AWS config)
      --expires DURATION        how long the link works, e.g. 15m, 12h, 7d (default 1h, at most 7d)
  -h, --help                    show this help

Exit codes: 0 written, 2 the state store failed, 3 usage error, or the embedded
state directory is in use by a run in progress.
`;

/** Where the link's AWS calls go: region and credentials; absent fields use the SDK's default chains. */
export interface AwsAccess {
  /** Absent: the SDK's (AWS_REGION, then the shared config file). */
  readonly region?: string;
  /** Absent: the SDK's default chain (environment, shared files, SSO, instance roles). */
  readonly credentials?: S3ClientConfig['credentials'];
}

export interface PresignOptions extends AwsAccess {
  readonly bucket: string;
  readonly expiresInSeconds: number;
}

const NO_REGION =
  'report --aws: no AWS region: pass --region or set AWS_REGION to the region of the report bucket';
const NO_CREDENTIALS =
  'report --aws: no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or sign in with aws sso login';

function clientConfig(access: AwsAccess) {
  return {
    ...(access.region === undefined ? {} : { region: access.region }),
    ...(access.credentials === undefined ? {} : { credentials: access.credentials }),
  };
}

/** An SDK failure as the one line the user reads: what to set, or what failed (`doing`). */
function awsErrorLine(error: unknown, doing: string): UsageError {
  const e = error instanceof Error ? error : new Error(String(error));
  if (e.name === 'CredentialsProviderError' || /credential/i.test(e.message))
    return new UsageError(NO_CREDENTIALS);
  if (/region is missing/i.test(e.message)) return new UsageError(NO_REGION);
  return new UsageError(`report --aws: ${doing}: ${terminalSafe(`${e.name}: ${e.message}`, 200)}`);
}

/** The client's region, or the one line saying to set one. */
async function requireRegion(client: { config: { region: () => Promise<string> } }): Promise<string> {
  return client.config.region().catch(() => {
    throw new UsageError(NO_REGION);
  });
}

/** A presigned GET of the report object. Signing is local: no request is sent. */
export async function presignReportLink(opts: PresignOptions): Promise<string> {
  // Loaded here, not with the CLI: every other command would pay for the S3 client at start-up.
  const [{ GetObjectCommand, S3Client }, { getSignedUrl }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  const client = new S3Client(clientConfig(opts));
  try {
    await requireRegion(client);
    return await getSignedUrl(client, new GetObjectCommand({ Bucket: opts.bucket, Key: REPORT_OBJECT_KEY }), {
      expiresIn: opts.expiresInSeconds,
    }).catch((error: unknown) => {
      throw awsErrorLine(error, 'could not sign the link');
    });
  } finally {
    client.destroy();
  }
}

/** The report bucket named by the deployed stack's output (one DescribeStacks call). */
export async function reportBucketOfStack(stackName: string, access: AwsAccess): Promise<string> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({ ...clientConfig(access), maxAttempts: 2 });
  try {
    const region = await requireRegion(client);
    const answer = await client
      .send(new DescribeStacksCommand({ StackName: stackName }))
      .catch((error: unknown) => {
        if (/does not exist/i.test((error as Error).message ?? ''))
          throw new UsageError(
            `report --aws: no stack ${stackName} in ${region}: pass --stack NAME (the name cdk deploy used), --region, or --bucket NAME`,
          );
        throw awsErrorLine(error, `could not read stack ${stackName}`);
      });
    const bucket = answer.Stacks?.[0]?.Outputs?.find(
      (o) => o.OutputKey === REPORT_BUCKET_OUTPUT,
    )?.OutputValue;
    if (!bucket)
      throw new UsageError(
        `report --aws: stack ${stackName} has no output ${REPORT_BUCKET_OUTPUT}: deploy this version of certwatch, or pass --bucket NAME`,
      );
    return bucket;
  } finally {
    client.destroy();
  }
}

/** Credentials from the command's own environment (tests and wrappers pass them in `io.env`). */
function envCredentials(env: CliIo['env']): S3ClientConfig['credentials'] {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

function linkSeconds(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LINK_SECONDS;
  const ms = parseDuration(value, { bareNumber: 's' });
  if (ms === null) throw new UsageError(`--expires: expected a duration like 15m, 12h or 7d, got '${value}'`);
  const seconds = Math.round(ms / 1000);
  if (seconds < 1 || seconds > MAX_LINK_SECONDS)
    throw new UsageError(`--expires: must be between 1s and 7d, got '${value}'`);
  return seconds;
}

async function printLink(v: Record<string, unknown>, io: CliIo): Promise<number> {
  const region = (v.region as string | undefined) ?? io.env['AWS_REGION'] ?? io.env['AWS_DEFAULT_REGION'];
  if (region !== undefined && !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(region))
    throw new UsageError(`--region: '${terminalSafe(region, 40)}' is not an AWS region like eu-west-1`);
  const stack = (v.stack as string | undefined) ?? DEFAULT_STACK_NAME;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stack))
    throw new UsageError(`--stack: '${terminalSafe(stack, 80)}' is not a CloudFormation stack name`);
  const expiresInSeconds = linkSeconds(v.expires as string | undefined);
  const credentials = envCredentials(io.env);
  const access: AwsAccess = {
    ...(region === undefined ? {} : { region }),
    ...(credentials === undefined ? {} : { credentials }),
  };
  if (v.bucket !== undefined && v.stack !== undefined)
    throw new UsageError('report --aws: give either --bucket NAME or --stack NAME, not both');
  // --stack asks the stack even when the environment names a bucket.
  const given =
    v.stack === undefined ? ((v.bucket as string | undefined) ?? io.env[CLI_REPORT_BUCKET_ENV]) : undefined;
  const bucket = given || (await reportBucketOfStack(stack, access));
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new UsageError(`--bucket: '${terminalSafe(bucket, 80)}' is not an S3 bucket name`);
  io.stdout.write(`${await presignReportLink({ bucket, expiresInSeconds, ...access })}\n`);
  return 0;
}

export async function runReportCommand(argv: string[], io: CliIo): Promise<number> {
  const { config: _config, ...storeOptions } = STORE_OPTIONS;
  const { values: v } = parseCommandArgs('report', argv, {
    ...storeOptions,
    html: { type: 'string' },
    aws: { type: 'boolean' },
    bucket: { type: 'string' },
    stack: { type: 'string' },
    region: { type: 'string' },
    expires: { type: 'string' },
  });
  if (v.help) {
    io.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (v.aws && v.html !== undefined)
    throw new UsageError('report: give either --html FILE or --aws, not both');
  if (v.aws) return printLink(v, io);
  if (v.html === undefined || v.html === '')
    throw new UsageError("report: --html FILE is required (or --aws for the deployed report's link)");
  if (v.bucket !== undefined || v.stack !== undefined || v.region !== undefined || v.expires !== undefined)
    throw new UsageError('report: --bucket, --stack, --region and --expires go with --aws');

  const args = storeArgs(v);
  const label = storeLabel(args);
  const opened = await openStore(args).catch((error: unknown) => {
    throw openStoreErrorForUser(error, args, 'try again when it has finished');
  });
  let page: string;
  try {
    const data = await gatherReport(opened.store, { source: opened.location, now: new Date() }).catch(
      (error: unknown) => {
        throw storeErrorForUser(error, label);
      },
    );
    page = renderReport(data);
  } finally {
    await opened.close();
  }
  if (v.html === '-') {
    io.stdout.write(page);
    return 0;
  }
  const path = resolve(io.cwd ?? process.cwd(), v.html);
  try {
    writeFileSync(path, page);
  } catch (error) {
    throw new UsageError(
      `--html: cannot write ${terminalSafe(path, 200)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  io.stderr.write(`certwatch: report written to ${terminalSafe(path, 200)}\n`);
  return 0;
}
