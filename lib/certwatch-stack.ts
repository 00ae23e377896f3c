import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct, IConstruct } from 'constructs';
import type { Endpoint, TrustProfile } from '../lambdas/core/model';
import { Alerting, type AlertSubscription, type ChatChannelSpec } from './alerting';
import type { FunctionDefaults } from './certwatch-function';
import { CertwatchMetrics } from './certwatch-metrics';
import { CheckPipeline, type SnsChannelSpec, type VpcPlacement } from './check-pipeline';
import { CertwatchDashboard } from './dashboard';
import { DeploymentConfigError } from './deployment-config-error';
import { MonitorAlarms, type MonitorThresholds, notifySns } from './monitor-alarms';
import { encryptedQueue } from './queues';
import { ReportBucket } from './report-bucket';
import { scheduleIntervalMs } from '../lambdas/core/schedule-interval';
import { REPORT_BUCKET_OUTPUT } from '../lambdas/report/report-object';
import { parseSecretRef } from '../lambdas/config/secret-ref';
import { type SecretRef, SecretReferences } from './secret-refs';
import { StateTable } from './state-table';
import { RunWatchdog } from './watchdog';

/** What certwatch monitors and how it alerts: the deployable part of the config. */
export interface CertwatchSettings {
  /** Scheduler expression of the runs, `rate(...)` or `cron(...)`. */
  readonly schedule: string;
  /**
   * IANA time zone a cron schedule is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /** The resolved endpoint inventory (defaults merged), bundled with the dispatcher. */
  readonly endpoints: readonly Endpoint[];
  /**
   * The trust profiles the endpoints name (`trust:` in the config), bundled with the checker.
   * @default - none: every endpoint is judged against the system roots
   */
  readonly trustProfiles?: readonly TrustProfile[];
  /**
   * Most checker invocations at once; refused at synth when it cannot finish a run within half
   * the schedule interval.
   * @default - derived from the endpoint count, the schedule and the probe deadline (at least 10); see `planCheckerConcurrency`
   */
  readonly checkerConcurrency?: number;
  /**
   * Days each check result is kept in the history (DynamoDB TTL).
   * @default 90
   */
  readonly historyTtlDays?: number;
  /**
   * Emit the per-endpoint `DaysToExpiry` metric: one CloudWatch custom metric per endpoint,
   * $0.30 per endpoint per month. The dashboard's expiry table reads the check logs either way.
   * @default false
   */
  readonly perEndpointMetrics?: boolean;
  /**
   * Deploy the CloudWatch dashboard (`dashboard: true` in the config): $3 a month, free if it is one of
   * the account's first 3 dashboards. The alarms and metrics exist either way.
   * @default false
   */
  readonly dashboard?: boolean;
  /**
   * Probe deadline of endpoints without their own, in ms; the checker timeout is sized from the longest.
   * @default 10000
   */
  readonly defaultTimeoutMs?: number;
  /**
   * E-mail and SMS subscribers of the alert topic.
   * @default - none
   */
  readonly subscriptions?: readonly AlertSubscription[];
  /**
   * Extra SNS topics alerts are published to.
   * @default - none
   */
  readonly snsChannels?: readonly SnsChannelSpec[];
  /**
   * Slack, Teams and webhook channels (delivered by the notifier).
   * @default - none
   */
  readonly chatChannels?: readonly ChatChannelSpec[];
  /**
   * Dead-man's-switch URL the watchdog pings, as a secret reference.
   * @default - no heartbeat
   */
  readonly heartbeatUrl?: SecretRef;
  /**
   * Subnets and security groups the checker and the dispatcher run in (`vpc:` in the config).
   * @default - outside any VPC
   */
  readonly vpc?: VpcPlacement;
}

/** Props of the certwatch stack. */
export interface CertwatchStackProps extends StackProps {
  /** What to monitor and whom to alert. */
  readonly settings: CertwatchSettings;
  /**
   * Topic the monitor's own alarms and the watchdog's pages go to. If it is
   * encrypted, its key policy must let `cloudwatch.amazonaws.com` use the key
   * (alarm actions), and the watchdog needs key permissions granted outside this stack.
   * @default - the alert topic (the same people hear about certificates and about the monitor)
   */
  readonly opsTopic?: sns.ITopic;
  /**
   * Log retention, removal and level of every function.
   * @default - the `FunctionDefaults` defaults
   */
  readonly functionDefaults?: FunctionDefaults;
  /**
   * Overrides of the alarm thresholds (`CheckQueueBacklog` in seconds).
   * @default - DEFAULT_MONITOR_THRESHOLDS, and `CheckQueueBacklog` derived from the schedule
   */
  readonly alarmThresholds?: Partial<MonitorThresholds>;
  /**
   * How long after its start a run is judged by the watchdog.
   * @default - the dispatcher's timeout, plus the worst-case run at the checker concurrency, plus three
   * full check attempts (visibility timeout each), plus 15 minutes (`CheckPipeline.runPlan`)
   */
  readonly watchdogGrace?: Duration;
}

/**
 * certwatch on AWS: the state table, the scheduled check pipeline, the alert
 * topic with its subscribers and chat notifier, the watchdog, the alarms that
 * page when the monitor itself fails, and (opt-in) a dashboard.
 */
export class CertwatchStack extends Stack {
  readonly stateTable: StateTable;
  readonly pipeline: CheckPipeline;
  readonly alerting: Alerting;
  readonly watchdog: RunWatchdog;
  /** The private bucket the watchdog writes the HTML report to. */
  readonly reportBucket: ReportBucket;
  readonly monitorAlarms: MonitorAlarms;
  /** The dashboard; undefined unless `settings.dashboard` is set. */
  readonly dashboard?: CertwatchDashboard;
  /** Longest gap between two runs, derived from the schedule. */
  readonly scheduleInterval: Duration;

  constructor(scope: Construct, id: string, props: CertwatchStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    if (settings.endpoints.length === 0) throw new DeploymentConfigError('endpoints: nothing to monitor');
    this.scheduleInterval = Duration.millis(scheduleIntervalMs(settings.schedule));
    const functionDefaults = props.functionDefaults;
    const secrets = new SecretReferences(this, 'Secrets');
    const metrics = new CertwatchMetrics();
    const perEndpointMetrics = settings.perEndpointMetrics ?? false;

    this.stateTable = new StateTable(this, 'State');
    this.alerting = new Alerting(this, 'Alerting', {
      subscriptions: settings.subscriptions,
      chatChannels: settings.chatChannels,
      secrets,
      stateTable: this.stateTable,
      ...(settings.historyTtlDays === undefined ? {} : { historyTtlDays: settings.historyTtlDays }),
      functionDefaults,
    });
    const opsTopic = props.opsTopic ?? this.alerting.topic;
    const opsTopicKey = props.opsTopic ? undefined : this.alerting.topicKey;

    const scheduleDeadLetterQueue = encryptedQueue(this, 'ScheduleDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
    });
    const probeTimeoutMs = Math.max(
      settings.defaultTimeoutMs ?? 10_000,
      ...settings.endpoints.map((e) => e.timeoutMs),
    );
    this.pipeline = new CheckPipeline(this, 'Pipeline', {
      stateTable: this.stateTable,
      alertTopic: this.alerting.topic,
      alertTopicKey: this.alerting.topicKey,
      opsTopic,
      snsChannels: settings.snsChannels,
      endpoints: settings.endpoints,
      trustProfiles: settings.trustProfiles ?? [],
      scheduleExpression: settings.schedule,
      timeZone: settings.timeZone,
      scheduleInterval: this.scheduleInterval,
      probeTimeoutMs,
      checkerConcurrency: settings.checkerConcurrency,
      ...(settings.historyTtlDays === undefined ? {} : { historyTtlDays: settings.historyTtlDays }),
      perEndpointMetrics,
      scheduleDeadLetterQueue,
      functionDefaults,
      ...(settings.vpc ? { vpc: settings.vpc } : {}),
      clientKeySecrets: settings.endpoints.flatMap((e) =>
        e.clientCertificate
          ? [secrets.resolve(parseSecretRef(e.clientCertificate.keyRef), `endpoint ${e.id} clientKey`)]
          : [],
      ),
    });

    const grace = props.watchdogGrace ?? this.pipeline.runPlan.watchdogGrace;
    this.reportBucket = new ReportBucket(this, 'Report');
    this.watchdog = new RunWatchdog(this, 'Watchdog', {
      reportBucket: this.reportBucket.bucket,
      stateTable: this.stateTable,
      opsTopic,
      opsTopicKey,
      scheduleInterval: this.scheduleInterval,
      grace,
      heartbeat: settings.heartbeatUrl ? secrets.resolve(settings.heartbeatUrl, 'heartbeatUrl') : undefined,
      scheduleDeadLetterQueue,
      functionDefaults,
    });

    this.monitorAlarms = new MonitorAlarms(this, 'Alarms', {
      metrics,
      pipeline: this.pipeline,
      alerting: this.alerting,
      watchdog: this.watchdog,
      scheduleDeadLetterQueue,
      scheduleInterval: this.scheduleInterval,
      actions: notifySns(opsTopic),
      thresholds: props.alarmThresholds,
    });
    if (settings.dashboard ?? false) {
      this.dashboard = new CertwatchDashboard(this, 'Dashboard', {
        metrics,
        pipeline: this.pipeline,
        alerting: this.alerting,
        watchdog: this.watchdog,
        alarms: this.monitorAlarms,
        scheduleDeadLetterQueue,
        scheduleInterval: this.scheduleInterval,
        perEndpointMetrics,
      });
    }

    acknowledgeNagFindings(secrets, [
      this.pipeline.deadLetterQueue,
      scheduleDeadLetterQueue,
      ...(this.alerting.notifierDeadLetterQueue ? [this.alerting.notifierDeadLetterQueue] : []),
    ]);

    new CfnOutput(this, 'AlertTopicArn', { value: this.alerting.topic.topicArn, description: 'Alert topic' });
    new CfnOutput(this, 'TableName', { value: this.stateTable.table.tableName, description: 'State table' });
    new CfnOutput(this, REPORT_BUCKET_OUTPUT, {
      value: this.reportBucket.bucket.bucketName,
      description:
        'HTML report bucket: certwatch report --aws --bucket <this> prints a presigned link to the page',
    });
    new CfnOutput(this, 'DispatcherName', {
      value: this.pipeline.dispatcher.function.functionName,
      description: 'Invoke once after the first deploy to start monitoring without waiting for the schedule',
    });
  }
}

/**
 * The cdk-nag AwsSolutions findings certwatch accepts, each on the narrowest
 * construct and with the reason it is right here.
 */
function acknowledgeNagFindings(secrets: SecretReferences, deadLetterQueues: readonly IConstruct[]): void {
  for (const queue of deadLetterQueues) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue; its depth alarm pages ops.',
    });
  }
  for (const secret of secrets.createdSecrets) {
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Holds a third-party webhook URL or signing key that only its issuer can rotate; there is no rotation Lambda to write.',
    });
  }
}
