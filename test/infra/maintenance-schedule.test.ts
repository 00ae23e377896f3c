import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import {
  FULL_CONFIG_YAML,
  logicalIdOf,
  policyStatementsOfRole,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

describe('CheckPipeline maintenance schedule', () => {
  const tmp = tempDir('certwatch-maintenance-');
  let s: SynthesizedStack;

  beforeAll(() => {
    s = synthFromConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML), `${tmp.dir}/out`);
  });
  afterAll(() => tmp.cleanup());

  const fnId = (prefix: string) => logicalIdOf(s.template, 'AWS::Lambda::Function', prefix);
  const queueId = (prefix: string) => logicalIdOf(s.template, 'AWS::SQS::Queue', prefix);

  it('invokes the checker with the maintenance event every minute, in UTC, with retries and the dead-letter queue', () => {
    // Assess
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [fnId('PipelineCheckerFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId('ScheduleDeadLetterQueue'), 'Arn'] } },
        Input: JSON.stringify({ certwatch: 'maintenance', executionId: '<aws.scheduler.execution-id>' }),
      },
    });
  });

  it('lets that schedule invoke only the checker, and the checker send re-checks to the check queue only', () => {
    // Assess
    expect(policyStatementsOfRole(s.template, 'PipelineMaintenanceScheduleRole')).toEqual([
      {
        Sid: 'InvokeTarget',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [fnId('PipelineCheckerFunction'), 'Arn'] },
      },
      {
        Sid: 'DeadLetter',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId('ScheduleDeadLetterQueue'), 'Arn'] },
      },
    ]);
    expect(policyStatementsOfRole(s.template, 'PipelineCheckerRole')).toContainEqual({
      Sid: 'RecheckAfterMaintenance',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [queueId('PipelineQueue'), 'Arn'] },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          ALERT_TOPIC_ARN: Match.anyValue(),
          QUEUE_URL: { Ref: queueId('PipelineQueue') },
        }),
      },
    });
  });
});
