import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_OBJECT_KEY } from '../../lambdas/report/report-object';
import {
  FULL_CONFIG_YAML,
  logicalIdOf,
  policyStatementsOfRole,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

describe('RunWatchdog', () => {
  const tmp = tempDir('certwatch-watchdog-');
  let s: SynthesizedStack;

  beforeAll(() => {
    s = synthFromConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML), `${tmp.dir}/out`);
  });
  afterAll(() => tmp.cleanup());

  it('runs every 15 minutes through its own narrowly scoped scheduler role', () => {
    const fnId = logicalIdOf(s.template, 'AWS::Lambda::Function', 'WatchdogFunction');
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: {
          Arn: {
            'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::SQS::Queue', 'ScheduleDeadLetterQueue'), 'Arn'],
          },
        },
      },
    });
    expect(policyStatementsOfRole(s.template, 'WatchdogScheduleRole')).toContainEqual({
      Sid: 'InvokeTarget',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
  });

  it('judges runs after dispatch, the worst-case run, three check attempts and 15 minutes, and knows the interval', () => {
    const dispatcherTimeout = 900;
    // 3 endpoints × 2 addresses fit in one round of 4 checkers × 10 checks: one 12 s probe deadline + 1 s.
    const worstCaseRun = 13;
    const visibilityTimeout = 6 * 66;
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      MemorySize: 1024,
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: logicalIdOf(s.template, 'AWS::DynamoDB::Table', 'State') },
          OPS_TOPIC_ARN: { Ref: logicalIdOf(s.template, 'AWS::SNS::Topic', 'AlertingTopic') },
          SCHEDULE_INTERVAL_MS: String(6 * 3_600_000),
          WATCHDOG_GRACE_MS: String((dispatcherTimeout + worstCaseRun + 3 * visibilityTimeout + 900) * 1000),
          REPORT_BUCKET: { Ref: logicalIdOf(s.template, 'AWS::S3::Bucket', 'ReportBucket') },
          HEARTBEAT: {
            'Fn::Join': [
              '',
              [
                '{"secretArn":"',
                {
                  Ref: logicalIdOf(
                    s.template,
                    'AWS::SecretsManager::Secret',
                    'SecretsEnvCERTWATCHHEARTBEATURL',
                  ),
                },
                '"}',
              ],
            ],
          },
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('may read the table, update runs, page the ops topic and write the report page, nothing more', () => {
    const statements = policyStatementsOfRole(s.template, 'WatchdogFunctionRole').filter(
      (st) => st.Sid !== 'WriteOwnLogs' && st.Sid !== 'ReadHeartbeat',
    );
    expect(statements).toEqual([
      {
        Sid: 'StateTable',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::DynamoDB::Table', 'State'), 'Arn'] },
      },
      {
        Sid: 'PageOps',
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: { Ref: logicalIdOf(s.template, 'AWS::SNS::Topic', 'AlertingTopic') },
      },
      {
        Sid: 'EncryptPages',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::KMS::Key', 'AlertingTopicKey'), 'Arn'] },
      },
      {
        Sid: 'WriteReport',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': [
            '',
            [
              { 'Fn::GetAtt': [logicalIdOf(s.template, 'AWS::S3::Bucket', 'ReportBucket'), 'Arn'] },
              `/${REPORT_OBJECT_KEY}`,
            ],
          ],
        },
      },
    ]);
  });
});
