import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustProfileOf } from '../../lambdas/cert/trust-store';
import { loadConfig } from '../../lambdas/config';
import { readInventoryFile } from '../../lambdas/handlers/runtime/inventory-file';
import { DISPATCH_SHARD_LIMITS } from '../../lambdas/pipeline/dispatch-plan';
import { CertwatchStack } from '../../lib/certwatch-stack';
import {
  CHECK_MAX_RECEIVE_COUNT,
  checkerTiming,
  ENDPOINTS_FILE_NAME,
  TRUST_FILE_NAME,
  DISPATCH_PLAN_FILE_NAME,
  DISPATCH_SHARD_MAX_RECEIVE_COUNT,
} from '../../lib/check-pipeline';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { DeploymentConfigError } from '../../lib/deployment-config-error';
import { makePki } from '../support/cert-factory';
import {
  appWithoutBundling,
  EXTRA_TOPIC_ARN,
  FULL_CONFIG_YAML,
  MINIMAL_CONFIG_YAML,
  logicalIdOf,
  policyStatementsOfRole,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

describe('checkerTiming', () => {
  it.each([
    // probe ms, max batch, records at once → batch, timeout s, visibility s
    [10_000, 10, 10, 10, 60, 360],
    [8_000, 10, 10, 10, 60, 360],
    [12_000, 10, 10, 10, 66, 396],
    [10_000, 10, 1, 10, 330, 1_980],
    [10_000, 10, 4, 10, 120, 720],
    [60_000, 10, 1, 4, 750, 4_500],
    [120_000, 10, 10, 10, 390, 2_340],
    [120_000, 10, 2, 4, 750, 4_500],
    [1_000, 3, 10, 3, 60, 360],
  ])(
    'probe %i ms, batch ≤ %i, %i at once → batch %i, timeout %i s, visibility %i s',
    (probeMs, maxBatch, perRound, batch, timeout, visibility) => {
      const timing = checkerTiming(probeMs, maxBatch, perRound);
      expect(timing.batchSize).toBe(batch);
      expect(timing.timeout.toSeconds()).toBe(timeout);
      expect(timing.visibilityTimeout.toSeconds()).toBe(visibility);
      // The probe deadline sits well inside the function timeout, which sits inside the visibility timeout.
      expect(timing.timeout.toSeconds()).toBeGreaterThanOrEqual((3 * probeMs) / 1000);
      expect(timing.visibilityTimeout.toSeconds()).toBeGreaterThan(timing.timeout.toSeconds());
    },
  );

  it('refuses a probe deadline that cannot fit in one invocation', () => {
    expect(() => checkerTiming(300_000, 10, 10)).toThrow(DeploymentConfigError);
    expect(() => checkerTiming(300_000, 10, 10)).toThrow(/at most 290000 ms/);
  });
});

describe('CheckPipeline', () => {
  const tmp = tempDir('certwatch-pipeline-');
  let s: SynthesizedStack;

  beforeAll(() => {
    s = synthFromConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML), `${tmp.dir}/out`);
  });
  afterAll(() => tmp.cleanup());

  const fnId = (prefix: string) => logicalIdOf(s.template, 'AWS::Lambda::Function', prefix);
  const queueId = (prefix: string) => logicalIdOf(s.template, 'AWS::SQS::Queue', prefix);

  it('schedules the dispatcher with the configured cron, time zone, retries and dead-letter queue', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 */6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [fnId('PipelineDispatcherFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId('ScheduleDeadLetterQueue'), 'Arn'] } },
        Input: JSON.stringify({
          scheduledTime: '<aws.scheduler.scheduled-time>',
          executionId: '<aws.scheduler.execution-id>',
        }),
      },
    });
  });

  it('lets the scheduler invoke only the unqualified dispatcher, for this account only', () => {
    expect(policyStatementsOfRole(s.template, 'PipelineScheduleRole')).toEqual([
      {
        Sid: 'InvokeTarget',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [fnId('PipelineDispatcherFunction'), 'Arn'] },
      },
      {
        Sid: 'DeadLetter',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId('ScheduleDeadLetterQueue'), 'Arn'] },
      },
    ]);
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });

  it('runs the dispatcher for up to 15 minutes with 512 MB and the bundled inventory', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      MemorySize: 512,
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: logicalIdOf(s.template, 'AWS::DynamoDB::Table', 'State') },
          QUEUE_URL: { Ref: queueId('PipelineQueue') },
          CONFIG_FILE: ENDPOINTS_FILE_NAME,
          SCHEDULE_INTERVAL_MS: String(6 * 3_600_000),
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('writes the resolved inventory for the dispatcher bundle', async () => {
    const endpoints = await readInventoryFile(s.stack.pipeline.endpointsFile);
    expect(endpoints.map((e: { id: string; timeoutMs: number }) => [e.id, e.timeoutMs])).toEqual([
      ['example.com:443', 8_000],
      ['api.example.com:8443', 12_000],
      ['192.0.2.10:443', 8_000],
    ]);
  });

  it('gives the dispatcher exactly its store actions on the table, SendMessage on both queues and consumes its shards', () => {
    const statements = policyStatementsOfRole(s.template, 'PipelineDispatcherRole');
    expect(statements.filter((st) => st.Sid !== 'WriteOwnLogs')).toEqual([
      {
        Sid: 'StateTable',
        Effect: 'Allow',
        Action: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::DynamoDB::Table', 'State'), 'Arn'] },
      },
      {
        Sid: 'EnqueueChecks',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId('PipelineQueue'), 'Arn'] },
      },
      {
        Sid: 'EnqueueDispatchShards',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId('PipelineDispatchQueue'), 'Arn'] },
      },
      // The event source's own grant: the dispatch-shard queue only.
      {
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        Resource: { 'Fn::GetAtt': [queueId('PipelineDispatchQueue'), 'Arn'] },
      },
    ]);
  });

  it("leaves the checker's per-invocation platform records out of its log group, and keeps every other function's", () => {
    // Prepare
    const functions = s.template.findResources('AWS::Lambda::Function');
    const levels = Object.fromEntries(
      Object.entries(functions).map(([id, f]) => [
        id.replace(/Function[0-9A-F]{8}$/, ''),
        (f.Properties.LoggingConfig as { SystemLogLevel?: string }).SystemLogLevel,
      ]),
    );
    // Assess
    expect(levels).toEqual({
      PipelineChecker: 'WARN',
      PipelineDispatcher: 'INFO',
      AlertingNotifier: 'INFO',
      Watchdog: 'INFO',
    });
  });

  it('runs each dispatch shard in a dispatcher invocation of its own, retried, then parked after three receives', () => {
    // Prepare
    const dispatcher = logicalIdOf(s.template, 'AWS::Lambda::Function', 'PipelineDispatcherFunction');
    // Assess
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: dispatcher },
      EventSourceArn: { 'Fn::GetAtt': [queueId('PipelineDispatchQueue'), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DISPATCH_SHARD_LIMITS.concurrency },
    });
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 900,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId('PipelineDispatchDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: DISPATCH_SHARD_MAX_RECEIVE_COUNT,
      },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DISPATCH_QUEUE_URL: { Ref: queueId('PipelineDispatchQueue') },
          DISPATCH_PLAN_FILE: DISPATCH_PLAN_FILE_NAME,
        }),
      },
    });
    expect(DISPATCH_SHARD_MAX_RECEIVE_COUNT).toBe(3);
  });

  it('encrypts the check queue, parks a message after three receives and waits six checker timeouts', () => {
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 66,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId('PipelineDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: CHECK_MAX_RECEIVE_COUNT,
      },
    });
    expect(CHECK_MAX_RECEIVE_COUNT).toBe(3);
  });

  it.each([
    'PipelineQueue',
    'PipelineDeadLetterQueue',
    'PipelineDispatchQueue',
    'PipelineDispatchDeadLetterQueue',
    'ScheduleDeadLetterQueue',
    'AlertingNotifierDeadLetterQueue',
  ])('%s is encrypted and denies requests without TLS', (prefix) => {
    const id = queueId(prefix);
    expect(s.template.findResources('AWS::SQS::Queue')[id]?.Properties.SqsManagedSseEnabled).toBe(true);
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { 'Fn::GetAtt': [id, 'Arn'] },
          },
        ]),
      },
    });
  });

  it.each(['PipelineDeadLetterQueue', 'ScheduleDeadLetterQueue', 'AlertingNotifierDeadLetterQueue'])(
    '%s keeps messages for 14 days',
    (prefix) => {
      expect(
        s.template.findResources('AWS::SQS::Queue')[queueId(prefix)]?.Properties.MessageRetentionPeriod,
      ).toBe(14 * 86_400);
    },
  );

  it('feeds the checker small batches with partial failures and the configured concurrency', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId('PipelineQueue'), 'Arn'] },
      FunctionName: { Ref: fnId('PipelineCheckerFunction') },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  it('sizes the checker from the longest probe deadline (12 s) with 256 MB on arm64', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 66,
      MemorySize: 256,
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          TABLE_NAME: Match.anyValue(),
          ALERT_TOPIC_ARN: { Ref: logicalIdOf(s.template, 'AWS::SNS::Topic', 'AlertingTopic') },
          SNS_CHANNELS: JSON.stringify([
            { name: 'pager', topicArn: EXTRA_TOPIC_ARN, minSeverity: 'critical' },
          ]),
          HISTORY_TTL_DAYS: Match.stringLikeRegexp('^\\d+$'),
          PER_ENDPOINT_METRICS: 'true',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('lets the checker use the table, publish to the alert topic and the configured topics, and consume the queue', () => {
    const statements = policyStatementsOfRole(s.template, 'PipelineCheckerRole');
    expect(statements.filter((st) => st.Sid !== 'WriteOwnLogs')).toEqual([
      {
        Sid: 'StateTable',
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        Resource: { 'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::DynamoDB::Table', 'State'), 'Arn'] },
      },
      {
        Sid: 'PublishAlerts',
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: [{ Ref: logicalIdOf(s.template, 'AWS::SNS::Topic', 'AlertingTopic') }, EXTRA_TOPIC_ARN],
      },
      {
        Sid: 'EncryptAlerts',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::KMS::Key', 'AlertingTopicKey'), 'Arn'] },
      },
      {
        Sid: 'RecheckAfterMaintenance',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId('PipelineQueue'), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        Resource: { 'Fn::GetAtt': [queueId('PipelineQueue'), 'Arn'] },
      },
    ]);
  });
});

describe('CheckPipeline trust profiles', () => {
  const tmp = tempDir('certwatch-pipeline-trust-');
  const pki = makePki();
  let withTrust: SynthesizedStack;
  let without: SynthesizedStack;

  beforeAll(() => {
    mkdirSync(join(tmp.dir, 'ca'));
    writeFileSync(join(tmp.dir, 'ca', 'corp-root.pem'), pki.root.certPem);
    const config = writeConfig(
      tmp.dir,
      'trust.yaml',
      [
        'defaults:',
        '  trust: { caFiles: [ca/corp-root.pem], systemRoots: false }',
        'endpoints:',
        '  - host: intranet.example',
        '  - host: example.com',
        '    trust: {}',
        '',
      ].join('\n'),
    );
    withTrust = synthFromConfig(config, join(tmp.dir, 'out-trust'));
    without = synthFromConfig(
      writeConfig(tmp.dir, 'min.yaml', MINIMAL_CONFIG_YAML),
      join(tmp.dir, 'out-min'),
    );
  });
  afterAll(() => tmp.cleanup());

  const checkerVariables = (s: SynthesizedStack): Record<string, unknown> => {
    const id = logicalIdOf(s.template, 'AWS::Lambda::Function', 'PipelineCheckerFunction');
    return s.template.toJSON().Resources[id].Properties.Environment.Variables;
  };

  it('bundles the profiles the endpoints name beside the checker, and names only their ids in the inventory', async () => {
    // Act
    const profiles = JSON.parse(readFileSync(withTrust.stack.pipeline.trustFile ?? '', 'utf8'));
    const endpoints = await readInventoryFile(withTrust.stack.pipeline.endpointsFile);
    // Assess
    const expected = trustProfileOf(false, [pki.root.der]);
    expect(profiles).toEqual([expected]);
    expect(endpoints.map((e: { id: string; trust?: string }) => [e.id, e.trust])).toEqual([
      ['intranet.example:443', expected.id],
      ['example.com:443', undefined],
    ]);
    expect(checkerVariables(withTrust).TRUST_FILE).toBe(TRUST_FILE_NAME);
    // The CA certificates travel as a bundled file, never through the 4 KB environment.
    expect(JSON.stringify(checkerVariables(withTrust))).not.toContain(
      expected.caCertificates[0]?.slice(0, 40),
    );
  });

  it('bundles nothing and sets no TRUST_FILE when every endpoint trusts the system roots', () => {
    expect(without.stack.pipeline.trustFile).toBeNull();
    expect(checkerVariables(without)).not.toHaveProperty('TRUST_FILE');
  });

  it('refuses an inventory that names a profile it was not given', () => {
    // Prepare
    const settings = settingsFromConfig(loadConfig(join(tmp.dir, 'trust.yaml')));
    // Act
    const act = () =>
      new CertwatchStack(appWithoutBundling(join(tmp.dir, 'out-orphan')), 'Certwatch', {
        settings: { ...settings, trustProfiles: [] },
      });
    // Assess
    expect(act).toThrow(DeploymentConfigError);
    expect(act).toThrow(
      /endpoints: intranet\.example:443 names trust profile [0-9a-f]{16}, which is not among/,
    );
  });
});
