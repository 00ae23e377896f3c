import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REPORT_BUCKET_ENV, REPORT_OBJECT_KEY } from '../lambdas/report/report-object';
import { scheduleInvokeRole } from './schedule-role';
import { CertwatchFunction, type FunctionDefaults } from './certwatch-function';
import { type ResolvedSecret, SecretReferences } from './secret-refs';
import type { StateTable } from './state-table';

/**
 * Watchdog memory in MB. A tick reads the run counters and the failing-address index, not every
 * state (bench:scale measures it at 1,000,000 addresses); the report it publishes once per run
 * reads a bounded page of rows.
 */
export const WATCHDOG_MEMORY_MB = 1024;

/** Props of the run watchdog. */
export interface RunWatchdogProps {
  /** Where runs and address states live. */
  readonly stateTable: StateTable;
  /** Topic paged with the addresses a run left unchecked. */
  readonly opsTopic: sns.ITopic;
  /**
   * Key of the ops topic, which publishers must be allowed to use.
   * @default - the topic is not encrypted with a customer managed key
   */
  readonly opsTopicKey?: kms.IKey;
  /** Longest gap between two runs: stale means no success for two of these. */
  readonly scheduleInterval: Duration;
  /** How old a run must be before it is judged: longer than dispatch plus every retry of every check. */
  readonly grace: Duration;
  /**
   * How often the watchdog runs.
   * @default Duration.minutes(15)
   */
  readonly every?: Duration;
  /**
   * Dead-man's-switch URL pinged after each successful watchdog run, as a secret reference.
   * @default - no heartbeat
   */
  readonly heartbeat?: ResolvedSecret;
  /** Where the watchdog writes the HTML report after every complete run (the one key it may write). */
  readonly reportBucket: s3.IBucket;
  /** Receives schedule invocations the scheduler could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /**
   * Log retention, removal and level.
   * @default - the `FunctionDefaults` defaults
   */
  readonly functionDefaults?: FunctionDefaults;
}

/**
 * The monitor of the monitor: every 15 minutes it judges the runs older than
 * the grace period (expected vs completed checks), pages the ops topic with the
 * addresses a run did not check, counts stale addresses, emits the run
 * metrics the alarms watch, pings an external heartbeat so that a dead
 * AWS account is noticed from outside too, and writes the HTML report after
 * every complete run.
 */
export class RunWatchdog extends Construct {
  readonly function: CertwatchFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: RunWatchdogProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      TABLE_NAME: props.stateTable.table.tableName,
      OPS_TOPIC_ARN: props.opsTopic.topicArn,
      SCHEDULE_INTERVAL_MS: String(props.scheduleInterval.toMilliseconds()),
      WATCHDOG_GRACE_MS: String(props.grace.toMilliseconds()),
      [REPORT_BUCKET_ENV]: props.reportBucket.bucketName,
    };
    if (props.heartbeat) environment.HEARTBEAT = Stack.of(this).toJsonString(props.heartbeat.envRef);

    this.function = new CertwatchFunction(this, 'Function', {
      ...props.functionDefaults,
      handler: 'watchdog',
      description:
        'certwatch: judges finished runs, pages on unchecked or stale addresses, pings the heartbeat',
      timeout: Duration.minutes(5),
      memorySize: WATCHDOG_MEMORY_MB,
      environment,
    });
    const role = this.function.role;
    props.stateTable.grantStoreAccess(role, 'watchdog');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PageOps',
        actions: ['sns:Publish'],
        resources: [props.opsTopic.topicArn],
      }),
    );
    if (props.opsTopicKey) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptPages',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.opsTopicKey.keyArn],
        }),
      );
    }
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteReport',
        actions: ['s3:PutObject'],
        resources: [props.reportBucket.arnForObjects(REPORT_OBJECT_KEY)],
      }),
    );
    if (props.heartbeat) SecretReferences.grantRead(role, [props.heartbeat], 'ReadHeartbeat');

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'certwatch: runs the watchdog',
      schedule: scheduler.ScheduleExpression.rate(props.every ?? Duration.minutes(15)),
      target: new targets.LambdaInvoke(this.function.function, {
        role: scheduleInvokeRole(this, 'ScheduleRole', this.function.function, props.scheduleDeadLetterQueue),
        deadLetterQueue: props.scheduleDeadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(10),
      }),
    });
  }
}
