import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Alerting } from './alerting';
import type { CertwatchMetrics } from './certwatch-metrics';
import type { CheckPipeline } from './check-pipeline';
import { DeploymentConfigError } from './deployment-config-error';
import type { RunWatchdog } from './watchdog';

/** What to do when an alarm changes state. */
export interface AlarmActionStrategy {
  /** Attaches this strategy's actions to `alarm`. */
  addActions(alarm: cloudwatch.Alarm): void;
}

/** Options of `notifySns`. */
export interface NotifySnsOptions {
  /**
   * Also notify when the alarm returns to OK, so whoever was paged learns it is over.
   * @default true
   */
  readonly onOk?: boolean;
}

/** Alarm actions that publish to an SNS topic. */
export function notifySns(topic: sns.ITopic, options: NotifySnsOptions = {}): AlarmActionStrategy {
  const action = new cwActions.SnsAction(topic);
  return {
    addActions(alarm) {
      alarm.addAlarmAction(action);
      if (options.onOk ?? true) alarm.addOkAction(action);
    },
  };
}

/** No alarm actions (alarms still show on the dashboard). */
export const noAlarmActions: AlarmActionStrategy = { addActions() {} };

/** Every alarm of the monitor, keyed by what it means. */
export const MONITOR_ALARMS = [
  'DispatcherErrors',
  'DispatchMissed',
  'DispatchShardDeadLetters',
  'DispatchQueueBacklog',
  'CheckerErrors',
  'CheckerThrottles',
  'CheckDeadLetters',
  'CheckQueueBacklog',
  'ScheduleDeadLetters',
  'NotifierErrors',
  'NotifierDeadLetters',
  'DeliveryFailures',
  'NotificationsFailed',
  'WatchdogErrors',
  'UncheckedAddresses',
  'StaleEndpoints',
  'CanaryFailed',
] as const;

export type MonitorAlarmKey = (typeof MONITOR_ALARMS)[number];

/**
 * Alarm thresholds keyed by meaning. Every alarm pages on the first
 * occurrence: each of these means a certificate may go unchecked or an alert
 * undelivered. `DispatchMissed` is the exception: it fires when *fewer* than
 * this many successful dispatches happened in its window. `CheckQueueBacklog`
 * is an age in seconds: the oldest check message waited at least this long.
 */
export type MonitorThresholds = Record<MonitorAlarmKey, number>;

/** Thresholds that follow from the deployment rather than from a constant. */
type DerivedThresholdKey = 'CheckQueueBacklog' | 'DispatchQueueBacklog';

/**
 * The fixed default thresholds. `CheckQueueBacklog` defaults to the check pipeline's
 * `runPlan.backlogAgeLimit` (half the schedule interval plus the retries of a failing check, at most one interval);
 * `DispatchQueueBacklog` to the pipeline's `runPlan.dispatchBacklogAgeLimit` (the rounds of shards the dispatch takes).
 */
export const DEFAULT_MONITOR_THRESHOLDS: Omit<MonitorThresholds, DerivedThresholdKey> = {
  DispatcherErrors: 1,
  DispatchMissed: 1,
  DispatchShardDeadLetters: 1,
  CheckerErrors: 1,
  CheckerThrottles: 1,
  CheckDeadLetters: 1,
  ScheduleDeadLetters: 1,
  NotifierErrors: 1,
  NotifierDeadLetters: 1,
  DeliveryFailures: 1,
  NotificationsFailed: 1,
  WatchdogErrors: 1,
  UncheckedAddresses: 1,
  StaleEndpoints: 1,
  CanaryFailed: 1,
};

/** Period and number of periods of the "no successful dispatch" alarm. */
export interface SilenceWindow {
  readonly period: Duration;
  readonly evaluationPeriods: number;
}

/**
 * The "no successful dispatch for 1.5 intervals" window, within CloudWatch's limits.
 *
 * CloudWatch periods are multiples of 60 s, and periods × evaluation periods may
 * not exceed one day (periods under an hour) or seven days. The window is cut
 * into about ten periods that must *all* be breaching (missing data counts as
 * breaching), so the alarm fires between 1.5 intervals and 1.5 intervals plus
 * one period (a tenth of the window) after the last success. Windows over a
 * day use periods of at least an hour.
 *
 * @throws DeploymentConfigError for intervals over about 4.6 days (window over 7 days)
 */
export function silenceWindow(interval: Duration): SilenceWindow {
  const windowSeconds = roundUpToMinute(1.5 * interval.toSeconds());
  let periodSeconds = Math.max(60, roundUpToMinute(windowSeconds / 10));
  if (windowSeconds > 86_400) periodSeconds = Math.max(periodSeconds, 3_600);
  const evaluationPeriods = Math.ceil(windowSeconds / periodSeconds);
  const limit = periodSeconds < 3_600 ? 86_400 : 604_800;
  if (evaluationPeriods * periodSeconds > limit) {
    throw new DeploymentConfigError(
      `schedule: runs ${interval.toHumanString()} apart cannot be watched by a CloudWatch alarm (1.5 intervals exceed 7 days); schedule at least every 4 days`,
    );
  }
  return { period: Duration.seconds(periodSeconds), evaluationPeriods };
}

function roundUpToMinute(seconds: number): number {
  return Math.ceil(seconds / 60) * 60;
}

/** Props of the monitor's alarms. */
export interface MonitorAlarmsProps {
  readonly metrics: CertwatchMetrics;
  readonly pipeline: CheckPipeline;
  readonly alerting: Alerting;
  readonly watchdog: RunWatchdog;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Longest gap between two runs. */
  readonly scheduleInterval: Duration;
  /** What every alarm does on ALARM (and OK). */
  readonly actions: AlarmActionStrategy;
  /**
   * Overrides of the default thresholds.
   * @default - DEFAULT_MONITOR_THRESHOLDS, and `CheckQueueBacklog` from the pipeline's `runPlan.backlogAgeLimit`
   */
  readonly thresholds?: Partial<MonitorThresholds>;
  /**
   * Prefix of the alarm names.
   * @default - the stack name
   */
  readonly alarmNamePrefix?: string;
}

/**
 * Everything that can make certwatch silently stop checking or alerting, as
 * CloudWatch alarms: function errors and throttles, a dispatch that did not
 * happen, messages parked in dead-letter queues, undelivered notifications,
 * runs with unchecked addresses and addresses gone stale.
 */
export class MonitorAlarms extends Construct {
  readonly alarms: Partial<Record<MonitorAlarmKey, cloudwatch.Alarm>> = {};

  constructor(scope: Construct, id: string, props: MonitorAlarmsProps) {
    super(scope, id);
    const t: MonitorThresholds = {
      ...DEFAULT_MONITOR_THRESHOLDS,
      CheckQueueBacklog: Math.ceil(props.pipeline.runPlan.backlogAgeLimit.toMilliseconds() / 1000),
      DispatchQueueBacklog: Math.ceil(props.pipeline.runPlan.dispatchBacklogAgeLimit.toMilliseconds() / 1000),
      ...props.thresholds,
    };
    const prefix = props.alarmNamePrefix ?? Stack.of(this).stackName;
    const five = Duration.minutes(5);
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const quietIsOk = cloudwatch.TreatMissingData.NOT_BREACHING;

    const add = (
      key: MonitorAlarmKey,
      description: string,
      metric: cloudwatch.IMetric,
      options: Partial<cloudwatch.CreateAlarmOptions> = {},
    ) => {
      const alarm = new cloudwatch.Alarm(this, key, {
        alarmName: `${prefix}-${key}`,
        alarmDescription: description,
        metric,
        threshold: t[key],
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: quietIsOk,
        ...options,
      });
      props.actions.addActions(alarm);
      this.alarms[key] = alarm;
    };
    const deadLetters = (queue: sqs.IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' });

    const { dispatcher, checker } = props.pipeline;
    add(
      'DispatcherErrors',
      'The dispatcher failed: a run may not have started, or a dispatch shard failed (SQS retries it).',
      dispatcher.function.metricErrors({ period: five }),
    );

    const silence = silenceWindow(props.scheduleInterval);
    add(
      'DispatchMissed',
      `No successful dispatch for 1.5 schedule intervals (${props.scheduleInterval.toHumanString()} each): certificates are not being checked.`,
      props.metrics.dispatchSucceeded(silence.period),
      {
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: silence.evaluationPeriods,
        datapointsToAlarm: silence.evaluationPeriods,
        // No data is exactly the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
    );
    add(
      'DispatchShardDeadLetters',
      'A dispatch shard failed three times and was parked: its endpoints were not dispatched (the run is judged incomplete).',
      deadLetters(props.pipeline.dispatchDeadLetterQueue),
    );
    add(
      'DispatchQueueBacklog',
      `A dispatch shard has waited ${Duration.seconds(t.DispatchQueueBacklog).toHumanString()} or longer: the dispatch falls behind (look for dispatcher throttles or errors).`,
      props.pipeline.dispatchQueue.metricApproximateAgeOfOldestMessage({
        period: five,
        statistic: 'Maximum',
      }),
    );
    add(
      'CheckerErrors',
      'The checker failed an invocation: its batch will be retried.',
      checker.function.metricErrors({ period: five }),
    );
    add(
      'CheckerThrottles',
      'The checker was throttled: checks are delayed (raise the concurrency or the account limit).',
      checker.function.metricThrottles({ period: five }),
    );
    add(
      'CheckDeadLetters',
      'Check messages failed three times and were parked: those addresses were not checked.',
      deadLetters(props.pipeline.deadLetterQueue),
    );
    add(
      'CheckQueueBacklog',
      `Check messages have waited ${Duration.seconds(t.CheckQueueBacklog).toHumanString()} or longer: the checkers fall behind the schedule (raise checker.concurrency, or look for throttles and slow endpoints).`,
      props.pipeline.queue.metricApproximateAgeOfOldestMessage({ period: five, statistic: 'Maximum' }),
    );
    // One datapoint per run. Every period of 1.5 intervals must breach, a missing one included: the
    // alarm fires when the canary judged a fixture wrongly and no good canary run followed, or when
    // it stopped reporting at all (a detector nobody tests is as bad as a broken one). The failed
    // canary also pages the ops topic directly, at once.
    add(
      'CanaryFailed',
      `The canary judged a known-bad certificate wrongly, or has not reported for 1.5 schedule intervals: the detector may be broken, so an "ok" proves nothing.`,
      props.metrics.canaryFailures(silence.period),
      {
        evaluationPeriods: silence.evaluationPeriods,
        datapointsToAlarm: silence.evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
    );
    add(
      'ScheduleDeadLetters',
      'The scheduler could not invoke the dispatcher or the watchdog.',
      deadLetters(props.scheduleDeadLetterQueue),
    );
    const { notifier, notifierDeadLetterQueue } = props.alerting;
    if (notifier) {
      add(
        'NotifierErrors',
        'The notifier failed: chat alerts may be late or lost.',
        notifier.function.metricErrors({ period: five }),
      );
    }
    if (notifierDeadLetterQueue) {
      add(
        'NotifierDeadLetters',
        'Alerts could not be handed to the notifier or failed every retry: chat channels missed them.',
        deadLetters(notifierDeadLetterQueue),
      );
    }
    add(
      'DeliveryFailures',
      'An alert could not be delivered to a channel after retries.',
      props.metrics.deliveryFailures(five),
    );
    add(
      'NotificationsFailed',
      'The alert topic failed to deliver notifications (e-mail, SMS or the notifier).',
      props.alerting.topic.metricNumberOfNotificationsFailed({ period: five, statistic: 'Sum' }),
    );
    add(
      'WatchdogErrors',
      'The watchdog failed: incomplete runs and stale addresses are not being judged.',
      props.watchdog.function.function.metricErrors({ period: five }),
    );
    add(
      'UncheckedAddresses',
      'A run finished with addresses left unchecked (the watchdog published the list to the ops topic).',
      props.metrics.uncheckedAddresses(Duration.minutes(15)),
      // The watchdog reports once per judged run; between runs the last judgement stands.
      { treatMissingData: cloudwatch.TreatMissingData.IGNORE },
    );
    add(
      'StaleEndpoints',
      'Addresses have not been checked successfully for two schedule intervals, or the watchdog stopped reporting.',
      props.metrics.staleEndpoints(Duration.minutes(30)),
      // The watchdog reports every 15 minutes; silence means the watchdog itself is down.
      { treatMissingData: cloudwatch.TreatMissingData.BREACHING },
    );
  }

  /** The alarms that exist (the notifier's only when chat channels are configured). */
  get all(): cloudwatch.Alarm[] {
    return MONITOR_ALARMS.flatMap((key) => (this.alarms[key] ? [this.alarms[key]] : []));
  }
}
