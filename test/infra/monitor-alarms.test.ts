import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMESPACE, MetricNames } from '../../lambdas/core/metric-names';
import { DeploymentConfigError } from '../../lib/deployment-config-error';
import { MONITOR_ALARMS, type MonitorAlarmKey, silenceWindow } from '../../lib/monitor-alarms';
import {
  FULL_CONFIG_YAML,
  logicalIdOf,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

describe('silenceWindow', () => {
  it.each([
    // interval, period s, evaluation periods
    [Duration.minutes(5), 60, 8],
    [Duration.minutes(15), 180, 8],
    [Duration.hours(1), 540, 10],
    [Duration.hours(6), 3_240, 10],
    [Duration.hours(12), 6_480, 10],
    [Duration.days(1), 12_960, 10],
    [Duration.days(4), 51_840, 10],
  ])('every %s → %i s × %i', (interval, periodSeconds, evaluationPeriods) => {
    const w = silenceWindow(interval);
    expect(w.period.toSeconds()).toBe(periodSeconds);
    expect(w.evaluationPeriods).toBe(evaluationPeriods);
    // Within CloudWatch's limits, and never shorter than 1.5 intervals.
    const total = periodSeconds * evaluationPeriods;
    expect(periodSeconds % 60).toBe(0);
    expect(total).toBeLessThanOrEqual(periodSeconds < 3_600 ? 86_400 : 604_800);
    expect(total).toBeGreaterThanOrEqual(1.5 * interval.toSeconds());
  });

  it('refuses intervals whose window exceeds seven days', () => {
    expect(() => silenceWindow(Duration.days(5))).toThrow(DeploymentConfigError);
  });
});

/** What each alarm watches: namespace, metric, statistic, period, comparison, threshold, missing data. */
const EXPECTED: Record<
  MonitorAlarmKey,
  {
    namespace: string;
    metric: string;
    statistic: string;
    period: number;
    comparison: string;
    missing: string;
    evaluationPeriods?: number;
    dimension?: [string, string];
    threshold?: number;
  }
> = {
  DispatcherErrors: lambdaErrors('PipelineDispatcherFunction'),
  DispatchMissed: {
    namespace: METRIC_NAMESPACE,
    metric: MetricNames.DispatchSucceeded,
    statistic: 'Sum',
    period: 3_240,
    evaluationPeriods: 10,
    comparison: 'LessThanThreshold',
    missing: 'breaching',
  },
  // A datapoint per run; 1.5 intervals of breaching periods, missing ones included (a silent canary pages too).
  CanaryFailed: {
    namespace: METRIC_NAMESPACE,
    metric: MetricNames.CanaryFailures,
    statistic: 'Maximum',
    period: 3_240,
    evaluationPeriods: 10,
    comparison: 'GreaterThanOrEqualToThreshold',
    missing: 'breaching',
  },
  DispatchShardDeadLetters: deadLetters('PipelineDispatchDeadLetterQueue'),
  // One round of dispatch shards (the full config's inventory is one shard): the dispatcher's 900 s timeout.
  DispatchQueueBacklog: {
    ...deadLetters('PipelineDispatchQueue'),
    metric: 'ApproximateAgeOfOldestMessage',
    threshold: 900,
  },
  CheckerErrors: lambdaErrors('PipelineCheckerFunction'),
  CheckerThrottles: { ...lambdaErrors('PipelineCheckerFunction'), metric: 'Throttles' },
  CheckDeadLetters: deadLetters('PipelineDeadLetterQueue'),
  // Half the 6-hour interval plus three attempts of the 66 s checker (visibility timeout 6 × 66 s).
  CheckQueueBacklog: {
    ...deadLetters('PipelineQueue'),
    metric: 'ApproximateAgeOfOldestMessage',
    threshold: 3 * 3_600 + 3 * 6 * 66,
  },
  ScheduleDeadLetters: deadLetters('ScheduleDeadLetterQueue'),
  NotifierErrors: lambdaErrors('AlertingNotifierFunction'),
  NotifierDeadLetters: deadLetters('AlertingNotifierDeadLetterQueue'),
  DeliveryFailures: custom(MetricNames.DeliveryFailures, 'Sum', 300, 'notBreaching'),
  NotificationsFailed: {
    namespace: 'AWS/SNS',
    metric: 'NumberOfNotificationsFailed',
    statistic: 'Sum',
    period: 300,
    comparison: 'GreaterThanOrEqualToThreshold',
    missing: 'notBreaching',
    dimension: ['TopicName', 'AlertingTopic'],
  },
  WatchdogErrors: lambdaErrors('WatchdogFunction'),
  UncheckedAddresses: custom(MetricNames.UncheckedAddresses, 'Maximum', 900, 'ignore'),
  StaleEndpoints: custom(MetricNames.StaleEndpoints, 'Maximum', 1_800, 'breaching'),
};

function lambdaErrors(fnPrefix: string) {
  return {
    namespace: 'AWS/Lambda',
    metric: 'Errors',
    statistic: 'Sum',
    period: 300,
    comparison: 'GreaterThanOrEqualToThreshold',
    missing: 'notBreaching',
    dimension: ['FunctionName', fnPrefix] as [string, string],
  };
}

function deadLetters(queuePrefix: string) {
  return {
    namespace: 'AWS/SQS',
    metric: 'ApproximateNumberOfMessagesVisible',
    statistic: 'Maximum',
    period: 300,
    comparison: 'GreaterThanOrEqualToThreshold',
    missing: 'notBreaching',
    dimension: ['QueueName', queuePrefix] as [string, string],
  };
}

function custom(metric: string, statistic: string, period: number, missing: string) {
  return {
    namespace: METRIC_NAMESPACE,
    metric,
    statistic,
    period,
    comparison: 'GreaterThanOrEqualToThreshold',
    missing,
  };
}

describe('MonitorAlarms', () => {
  const tmp = tempDir('certwatch-alarms-');
  let s: SynthesizedStack;

  beforeAll(() => {
    s = synthFromConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML), `${tmp.dir}/out`);
  });
  afterAll(() => tmp.cleanup());

  it('creates one alarm per meaning', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', MONITOR_ALARMS.length);
  });

  it.each(MONITOR_ALARMS)(
    '%s watches its metric with its threshold (1 unless derived) and pages the ops topic on ALARM and OK',
    (key) => {
      const e = EXPECTED[key];
      const topic = { Ref: logicalIdOf(s.template, 'AWS::SNS::Topic', 'AlertingTopic') };
      const dimensionType: Record<string, [string, string]> = {
        FunctionName: ['AWS::Lambda::Function', 'Ref'],
        QueueName: ['AWS::SQS::Queue', 'Fn::GetAtt'],
        TopicName: ['AWS::SNS::Topic', 'Fn::GetAtt'],
      };
      let dimensions: unknown = Match.absent();
      if (e.dimension) {
        const [name, prefix] = e.dimension;
        const [type, intrinsic] = dimensionType[name]!;
        const id = logicalIdOf(s.template, type, prefix);
        const value =
          intrinsic === 'Ref'
            ? { Ref: id }
            : { 'Fn::GetAtt': [id, name === 'QueueName' ? 'QueueName' : 'TopicName'] };
        dimensions = [{ Name: name, Value: value }];
      }
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `Certwatch-${key}`,
        Namespace: e.namespace,
        MetricName: e.metric,
        Statistic: e.statistic,
        Period: e.period,
        Dimensions: dimensions,
        EvaluationPeriods: e.evaluationPeriods ?? 1,
        ...(e.evaluationPeriods ? { DatapointsToAlarm: e.evaluationPeriods } : {}),
        ComparisonOperator: e.comparison,
        Threshold: e.threshold ?? 1,
        TreatMissingData: e.missing,
        AlarmActions: [topic],
        OKActions: [topic],
      });
    },
  );
});
