import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Duration, Stack, Stage, TimeZone, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { inventoryLines } from '../lambdas/core/inventory-lines';
import {
  DISPATCH_PLAN_FORMAT,
  DISPATCH_SHARD_LIMITS,
  type DispatchPlanFile,
  planDispatchShards,
} from '../lambdas/pipeline/dispatch-plan';
import { INVENTORY_PARTITIONS, inventoryPartitionOf } from '../lambdas/store/inventory-partition';
import type { Endpoint, TrustProfile } from '../lambdas/core/model';
import {
  ADDRESSES_PER_ENDPOINT,
  backlogAgeLimitMs,
  planCheckerConcurrency,
  watchdogGraceMs,
} from '../lambdas/core/run-capacity';
import { scheduleInvokeRole } from './schedule-role';
import { CANARY_EVENT } from '../lambdas/canary/canary-event';
import { MAINTENANCE_EVENT, MAINTENANCE_TICK_EXPRESSION } from '../lambdas/pipeline/maintenance-event';
import type { AlertSeverity } from './alerting';
import { CertwatchFunction, type FunctionDefaults } from './certwatch-function';
import { DeploymentConfigError } from './deployment-config-error';
import { encryptedQueue } from './queues';
import { type ResolvedSecret, SecretReferences } from './secret-refs';
import type { StateTable } from './state-table';

/**
 * File name of the endpoint inventory bundled next to the dispatcher's index.js (env CONFIG_FILE):
 * gzip NDJSON (lambdas/core/inventory-lines.ts), one gzip member per dispatch shard, which the
 * dispatcher reads as a stream, a shard at a time.
 */
export const ENDPOINTS_FILE_NAME = 'certwatch.endpoints.ndjson.gz';

/** File name of the dispatch plan bundled next to the dispatcher's index.js (env DISPATCH_PLAN_FILE). */
export const DISPATCH_PLAN_FILE_NAME = 'certwatch.dispatch-plan.json';

/** A dispatch shard is tried this many times before it is parked in the dispatch-shard dead-letter queue. */
export const DISPATCH_SHARD_MAX_RECEIVE_COUNT = 3;

/** File name of the trust profiles bundled next to the checker's index.js (env TRUST_FILE), when there are any. */
export const TRUST_FILE_NAME = 'certwatch.trust.json';

/** Resolving and enqueueing 100k endpoints takes minutes; the run is judged by the watchdog either way. */
export const DISPATCHER_TIMEOUT = Duration.minutes(15);

/** A check message is tried this many times before it is parked in the dead-letter queue. */
export const CHECK_MAX_RECEIVE_COUNT = 3;

/** SQS recommends a visibility timeout of at least six times the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Lambda's hard limit on one invocation. */
const LAMBDA_MAX_TIMEOUT_S = 900;

/**
 * Checker memory in MB. A check mostly waits on the network (handshake round trips, timeouts of dead
 * endpoints, DynamoDB and SNS calls), and Lambda bills memory × wall time, so the checker runs small:
 * `npm run bench:cost` prices each size from the measured CPU and wait of a batch, and the bundled
 * checker's peak RSS for a batch of ten is pinned below half of this by the bundle smoke test.
 */
export const CHECKER_MEMORY_MB = 256;

/**
 * The checker's level of Lambda's own log records. One invocation per batch of 10 checks: its INFO
 * records (start, report: ~700 bytes an invocation) would be ~15% of the checks' log ingestion
 * (bench:cost). The checker's own lines and the function's metrics (Duration, Errors, Throttles) do
 * not depend on them.
 */
export const CHECKER_SYSTEM_LOG_LEVEL = lambda.SystemLogLevel.WARN;

/**
 * Dispatcher memory in MB: one dispatch shard's endpoints and resolutions, or the plan (bench:scale
 * measures both, each well under half of this). An invocation mostly waits on DNS, DynamoDB and SQS,
 * and Lambda bills memory × wall time, so the dispatcher runs small.
 */
export const DISPATCHER_MEMORY_MB = 512;

/** An SNS topic from the config (channel type `sns`) the checker also publishes alerts to. */
export interface SnsChannelSpec {
  readonly name: string;
  readonly topicArn: string;
  readonly minSeverity: AlertSeverity;
}

/**
 * Subnets and security groups the checker and the dispatcher run in (`vpc:` in the config), by id:
 * nothing is looked up, so the synth works offline.
 */
export interface VpcPlacement {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** How many checkers a run gets and what follows from it (see lambdas/core/run-capacity.ts). */
export interface RunPlan {
  /** The SQS event source's maximum concurrency. */
  readonly checkerConcurrency: number;
  /** Address checks a run is sized for: the endpoints times ADDRESSES_PER_ENDPOINT. */
  readonly addresses: number;
  /** How long a run takes at this concurrency when every check takes its full probe deadline. */
  readonly worstCaseRun: Duration;
  /** The share of the schedule interval a run may take. */
  readonly runBudget: Duration;
  /** When the watchdog may judge a run: dispatch, the worst-case run, every retry, 15 minutes of slack. */
  readonly watchdogGrace: Duration;
  /** Age of the oldest check message that means the queue is backlogged. */
  readonly backlogAgeLimit: Duration;
  /** Age of the oldest dispatch-shard message that means the dispatch falls behind: its rounds of shards. */
  readonly dispatchBacklogAgeLimit: Duration;
}

/** How long the checker may run and how many records it takes at once. */
export interface CheckerTiming {
  readonly batchSize: number;
  readonly timeout: Duration;
  readonly visibilityTimeout: Duration;
}

/**
 * Sizes the checker so the probe deadline sits well inside the Lambda timeout.
 *
 * The handler works through a batch `recordConcurrency` records at a time, so
 * a batch takes ceil(batchSize / recordConcurrency) rounds. Each round is
 * budgeted three probe deadlines: one for the probe itself and two for what
 * follows it (certificate analysis, the state reads and conditional writes,
 * alert publishing, each with SDK retries). Plus 30 s for a cold start (bundle
 * load, trust store), and at least 60 s overall. When a batch does not fit in
 * Lambda's 900 s, it shrinks until it does.
 *
 * The queue's visibility timeout is six times the function timeout (the SQS
 * recommendation for Lambda consumers), so a message is never redelivered
 * while a checker still works on it, and a failed record is retried within
 * minutes rather than hours.
 *
 * @param probeTimeoutMs the longest probe deadline of any endpoint
 * @param maxBatchSize upper bound for the SQS batch size (1–10)
 * @param recordConcurrency records the handler checks at once
 * @throws DeploymentConfigError when even a batch of one cannot fit
 */
export function checkerTiming(
  probeTimeoutMs: number,
  maxBatchSize = 10,
  recordConcurrency = 10,
): CheckerTiming {
  const perRound = Math.max(1, Math.floor(recordConcurrency));
  for (let batchSize = Math.min(10, Math.max(1, Math.floor(maxBatchSize))); batchSize >= 1; batchSize--) {
    const rounds = Math.ceil(batchSize / perRound);
    const seconds = Math.max(60, Math.ceil((3 * rounds * probeTimeoutMs) / 1000) + 30);
    if (seconds <= LAMBDA_MAX_TIMEOUT_S) {
      return {
        batchSize,
        timeout: Duration.seconds(seconds),
        visibilityTimeout: Duration.seconds(seconds * VISIBILITY_TIMEOUT_FACTOR),
      };
    }
  }
  throw new DeploymentConfigError(
    `timeoutMs ${probeTimeoutMs}: a probe deadline this long cannot fit in a Lambda invocation; use at most ${Math.floor(((LAMBDA_MAX_TIMEOUT_S - 30) / 3) * 1000)} ms`,
  );
}

/** Props of the check pipeline. */
export interface CheckPipelineProps {
  /** Where the inventory, address states and runs live. */
  readonly stateTable: StateTable;
  /** Topic the checker publishes alerts to. */
  readonly alertTopic: sns.ITopic;
  /**
   * Key of the alert topic, which publishers must be allowed to use.
   * @default - the topic is not encrypted with a customer managed key
   */
  readonly alertTopicKey?: kms.IKey;
  /**
   * Topic the checker pages when its canary judges a known-bad certificate wrongly.
   * @default - the alert topic
   */
  readonly opsTopic?: sns.ITopic;
  /**
   * Key of the ops topic, when it is not the alert topic's.
   * @default - none
   */
  readonly opsTopicKey?: kms.IKey;
  /**
   * Further SNS topics (channel type `sns`) the checker publishes to.
   * @default - none
   */
  readonly snsChannels?: readonly SnsChannelSpec[];
  /** The resolved endpoint inventory; serialized into the dispatcher's bundle. */
  readonly endpoints: readonly Endpoint[];
  /**
   * The trust profiles the endpoints name; serialized into the checker's bundle (CA certificates
   * are public; a file, because the environment holds 4 KB in all).
   * @default - none: every endpoint is judged against the system roots
   */
  readonly trustProfiles?: readonly TrustProfile[];
  /** Scheduler expression of the runs, `rate(...)` or `cron(...)`. */
  readonly scheduleExpression: string;
  /**
   * IANA time zone the cron expression is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /** Longest gap between two runs (drives the dispatcher's SCHEDULE_INTERVAL_MS). */
  readonly scheduleInterval: Duration;
  /** Longest probe deadline of any endpoint, in ms. */
  readonly probeTimeoutMs: number;
  /**
   * Most checker invocations at once (the SQS event source's maximum concurrency; at least 2).
   * Refused (DeploymentConfigError) when it cannot finish a run within half the schedule interval.
   * @default - derived from the inventory, the schedule and the probe deadline (`planCheckerConcurrency`), at least 10
   */
  readonly checkerConcurrency?: number;
  /**
   * Days the checker keeps each result in the history (DynamoDB TTL).
   * @default 90
   */
  readonly historyTtlDays?: number;
  /**
   * Whether the checker emits the per-endpoint `DaysToExpiry` metric (one custom metric per endpoint, $0.30 a month each).
   * @default false
   */
  readonly perEndpointMetrics?: boolean;
  /**
   * Upper bound for the SQS batch size; it shrinks when long probe deadlines require it.
   * @default 10
   */
  readonly maxBatchSize?: number;
  /**
   * Records the checker handler processes at once (its in-handler concurrency); sizes the timeout.
   * @default 10
   */
  readonly recordConcurrency?: number;
  /** Receives schedule invocations the scheduler could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /**
   * Log retention, removal and level of both functions.
   * @default - the `FunctionDefaults` defaults
   */
  readonly functionDefaults?: FunctionDefaults;
  /**
   * Run the checker (which probes) and the dispatcher (which resolves names) in these subnets, so
   * private addresses and names in private hosted zones are checked. The subnets need a route to
   * the AWS APIs: a NAT gateway, or VPC endpoints for DynamoDB, SQS, SNS, Secrets Manager and
   * CloudWatch Logs.
   * @default - outside any VPC: public endpoints only
   */
  readonly vpc?: VpcPlacement;
  /**
   * The Secrets Manager secrets holding the endpoints' client keys (`clientKey:`), which the
   * checker reads when it probes those endpoints.
   * @default - none
   */
  readonly clientKeySecrets?: readonly ResolvedSecret[];
}

/**
 * The scheduled fan-out: an EventBridge Scheduler schedule invokes the
 * dispatcher, which enqueues one message per endpoint address on an SQS queue;
 * the checker consumes it in small batches, reports failures per record and
 * parks a message that failed three times in a dead-letter queue, so no
 * endpoint can hold up the others.
 */
export class CheckPipeline extends Construct {
  readonly dispatcher: CertwatchFunction;
  readonly checker: CertwatchFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Carries one message per dispatch shard of a run, from the scheduled dispatcher to itself. */
  readonly dispatchQueue: sqs.Queue;
  readonly dispatchDeadLetterQueue: sqs.Queue;
  /** The dispatch plan bundled with the dispatcher (its shards). */
  readonly dispatchPlan: DispatchPlanFile;
  readonly schedule: scheduler.Schedule;
  /** Invokes the checker's canary once per run. */
  readonly canarySchedule: scheduler.Schedule;
  /** Invokes the checker's maintenance tick every minute: announcements, and re-checks when a window ends. */
  readonly maintenanceSchedule: scheduler.Schedule;
  readonly timing: CheckerTiming;
  /** The checker concurrency and the run deadline derived from the inventory, the schedule and the timeout. */
  readonly runPlan: RunPlan;
  /** Path of the inventory file copied into the dispatcher bundle. */
  readonly endpointsFile: string;
  /** Path of the trust profiles copied into the checker bundle; null when no endpoint names one. */
  readonly trustFile: string | null;

  constructor(scope: Construct, id: string, props: CheckPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.timing = checkerTiming(props.probeTimeoutMs, props.maxBatchSize, props.recordConcurrency);
    const bundle = dispatchBundle(props.endpoints);
    this.dispatchPlan = bundle.plan;
    this.runPlan = runPlan(props, this.timing, bundle.plan.shards.length);

    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', { retentionPeriod: Duration.days(14) });
    this.queue = encryptedQueue(this, 'Queue', {
      visibilityTimeout: this.timing.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: CHECK_MAX_RECEIVE_COUNT },
    });

    const trustProfiles = props.trustProfiles ?? [];
    const known = new Set(trustProfiles.map((p) => p.id));
    const orphan = props.endpoints.find((e) => e.trust !== undefined && !known.has(e.trust));
    if (orphan) {
      throw new DeploymentConfigError(
        `endpoints: ${orphan.id} names trust profile ${orphan.trust}, which is not among the trust profiles given`,
      );
    }
    this.endpointsFile = writeAssemblyFile(this, 'certwatch-endpoints', bundle.inventory, 'ndjson.gz');
    const planFile = writeAssemblyFile(this, 'certwatch-dispatch-plan', JSON.stringify(bundle.plan), 'json');
    this.dispatchDeadLetterQueue = encryptedQueue(this, 'DispatchDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
    });
    this.dispatchQueue = encryptedQueue(this, 'DispatchQueue', {
      // As the check queue: a shard is never redelivered while an invocation may still work on it.
      visibilityTimeout: Duration.seconds(DISPATCHER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: {
        queue: this.dispatchDeadLetterQueue,
        maxReceiveCount: DISPATCH_SHARD_MAX_RECEIVE_COUNT,
      },
    });
    this.trustFile =
      trustProfiles.length > 0
        ? writeAssemblyFile(this, 'certwatch-trust', JSON.stringify(trustProfiles), 'json')
        : null;
    this.dispatcher = new CertwatchFunction(this, 'Dispatcher', {
      ...props.functionDefaults,
      handler: 'dispatcher',
      description:
        'certwatch: records a run and queues its dispatch shards; per shard, syncs the inventory and enqueues one check per endpoint address',
      timeout: DISPATCHER_TIMEOUT,
      memorySize: DISPATCHER_MEMORY_MB,
      environment: {
        TABLE_NAME: props.stateTable.table.tableName,
        QUEUE_URL: this.queue.queueUrl,
        DISPATCH_QUEUE_URL: this.dispatchQueue.queueUrl,
        CONFIG_FILE: ENDPOINTS_FILE_NAME,
        DISPATCH_PLAN_FILE: DISPATCH_PLAN_FILE_NAME,
        SCHEDULE_INTERVAL_MS: String(props.scheduleInterval.toMilliseconds()),
      },
      bundledFiles: { [this.endpointsFile]: ENDPOINTS_FILE_NAME, [planFile]: DISPATCH_PLAN_FILE_NAME },
    });
    props.stateTable.grantStoreAccess(this.dispatcher.role, 'dispatcher');
    this.dispatcher.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EnqueueChecks',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
    this.dispatcher.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EnqueueDispatchShards',
        actions: ['sqs:SendMessage'],
        resources: [this.dispatchQueue.queueArn],
      }),
    );
    // Each shard in an invocation of its own; a failed one is retried, then parked in the DLQ.
    this.dispatcher.function.addEventSource(
      new eventSources.SqsEventSource(this.dispatchQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: Math.max(2, DISPATCH_SHARD_LIMITS.concurrency),
      }),
    );

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'certwatch: starts a monitoring run',
      schedule: scheduler.ScheduleExpression.expression(
        props.scheduleExpression,
        TimeZone.of(props.timeZone ?? 'UTC'),
      ),
      target: new targets.LambdaInvoke(this.dispatcher.function, {
        role: scheduleInvokeRole(
          this,
          'ScheduleRole',
          this.dispatcher.function,
          props.scheduleDeadLetterQueue,
        ),
        deadLetterQueue: props.scheduleDeadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        // The execution id is stable across the scheduler's retries of one firing: an idempotency key.
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          executionId: scheduler.ContextAttribute.executionId,
        }),
      }),
    });

    const snsChannels = props.snsChannels ?? [];
    this.checker = new CertwatchFunction(this, 'Checker', {
      ...props.functionDefaults,
      handler: 'checker',
      description:
        'certwatch: probes one endpoint address per message, applies the alert policy, publishes alerts',
      timeout: this.timing.timeout,
      memorySize: CHECKER_MEMORY_MB,
      systemLogLevel: CHECKER_SYSTEM_LOG_LEVEL,
      environment: {
        TABLE_NAME: props.stateTable.table.tableName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        OPS_TOPIC_ARN: (props.opsTopic ?? props.alertTopic).topicArn,
        HISTORY_TTL_DAYS: String(props.historyTtlDays ?? 90),
        PER_ENDPOINT_METRICS: String(props.perEndpointMetrics ?? false),
        SNS_CHANNELS: stack.toJsonString(
          snsChannels.map((c) => ({ name: c.name, topicArn: c.topicArn, minSeverity: c.minSeverity })),
        ),
        ...(this.trustFile ? { TRUST_FILE: TRUST_FILE_NAME } : {}),
        // The maintenance tick sends a window's endpoints here to be re-checked when it ends.
        QUEUE_URL: this.queue.queueUrl,
      },
      ...(this.trustFile ? { bundledFiles: { [this.trustFile]: TRUST_FILE_NAME } } : {}),
    });
    props.stateTable.grantStoreAccess(this.checker.role, 'checker');
    if (props.vpc) placeInVpc(this, props.vpc, [this.dispatcher, this.checker]);
    SecretReferences.grantRead(this.checker.role, props.clientKeySecrets ?? [], 'ReadClientKeys');
    this.checker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishAlerts',
        actions: ['sns:Publish'],
        resources: [
          ...new Set([
            props.alertTopic.topicArn,
            (props.opsTopic ?? props.alertTopic).topicArn,
            ...snsChannels.map((c) => c.topicArn),
          ]),
        ],
      }),
    );
    const keys = [props.alertTopicKey, props.opsTopicKey].filter((k): k is kms.IKey => k !== undefined);
    if (keys.length > 0) {
      this.checker.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptAlerts',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: keys.map((k) => k.keyArn),
        }),
      );
    }
    // The canary runs in the checker itself, once per run, so it tests the very bundle, trust
    // roots and runtime that judge the endpoints (see lambdas/canary).
    this.canarySchedule = new scheduler.Schedule(this, 'CanarySchedule', {
      description: 'certwatch: runs the canary (known-bad certificates) in the checker',
      schedule: scheduler.ScheduleExpression.expression(
        props.scheduleExpression,
        TimeZone.of(props.timeZone ?? 'UTC'),
      ),
      target: new targets.LambdaInvoke(this.checker.function, {
        role: scheduleInvokeRole(
          this,
          'CanaryScheduleRole',
          this.checker.function,
          props.scheduleDeadLetterQueue,
        ),
        deadLetterQueue: props.scheduleDeadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        input: scheduler.ScheduleTargetInput.fromObject({
          certwatch: CANARY_EVENT,
          executionId: scheduler.ContextAttribute.executionId,
        }),
      }),
    });
    // Maintenance windows and silences: announcements and the end-of-window re-check run in the
    // checker (it holds the alert sink); the re-check goes through the check queue like any run.
    this.checker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RecheckAfterMaintenance',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
    this.maintenanceSchedule = new scheduler.Schedule(this, 'MaintenanceSchedule', {
      description: 'certwatch: announces maintenance windows and silences, re-checks when a window ends',
      schedule: scheduler.ScheduleExpression.expression(MAINTENANCE_TICK_EXPRESSION, TimeZone.of('UTC')),
      target: new targets.LambdaInvoke(this.checker.function, {
        role: scheduleInvokeRole(
          this,
          'MaintenanceScheduleRole',
          this.checker.function,
          props.scheduleDeadLetterQueue,
        ),
        deadLetterQueue: props.scheduleDeadLetterQueue,
        retryAttempts: 2,
        // A tick older than a few minutes is superseded by the next one.
        maxEventAge: Duration.minutes(5),
        input: scheduler.ScheduleTargetInput.fromObject({
          certwatch: MAINTENANCE_EVENT,
          executionId: scheduler.ContextAttribute.executionId,
        }),
      }),
    });
    this.checker.function.addEventSource(
      new eventSources.SqsEventSource(this.queue, {
        batchSize: this.timing.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: Math.max(2, this.runPlan.checkerConcurrency),
        maxBatchingWindow: Duration.seconds(1),
      }),
    );
  }
}

/**
 * The checker concurrency for the inventory, the schedule and the probe deadline, and the watchdog
 * grace and backlog limit that follow from it.
 *
 * @throws DeploymentConfigError when an explicit concurrency, or any concurrency, cannot finish a run in time
 */
function runPlan(props: CheckPipelineProps, timing: CheckerTiming, dispatchShards: number): RunPlan {
  const addresses = props.endpoints.length * ADDRESSES_PER_ENDPOINT;
  const intervalMs = props.scheduleInterval.toMilliseconds();
  const plan = planCheckerConcurrency(
    {
      addresses,
      intervalMs,
      probeTimeoutMs: props.probeTimeoutMs,
      checksPerInvocation: Math.min(timing.batchSize, props.recordConcurrency ?? 10),
    },
    props.checkerConcurrency === undefined ? undefined : Math.floor(props.checkerConcurrency),
  );
  if (!plan.ok) throw new DeploymentConfigError(plan.reason);
  const visibilityTimeoutMs = timing.visibilityTimeout.toMilliseconds();
  // The shards run DISPATCH_SHARD_LIMITS.concurrency at a time, each within the dispatcher's timeout;
  // the scheduled invocation that queues them takes seconds (within GRACE_SLACK_MS).
  const dispatchMs =
    Math.ceil(Math.max(1, dispatchShards) / DISPATCH_SHARD_LIMITS.concurrency) *
    DISPATCHER_TIMEOUT.toMilliseconds();
  return {
    checkerConcurrency: plan.concurrency,
    addresses,
    worstCaseRun: Duration.millis(plan.worstCaseRunMs),
    runBudget: Duration.millis(plan.runBudgetMs),
    watchdogGrace: Duration.millis(
      watchdogGraceMs({
        dispatchMs,
        worstCaseRunMs: plan.worstCaseRunMs,
        maxReceiveCount: CHECK_MAX_RECEIVE_COUNT,
        visibilityTimeoutMs,
      }),
    ),
    backlogAgeLimit: Duration.millis(
      backlogAgeLimitMs(intervalMs, CHECK_MAX_RECEIVE_COUNT, visibilityTimeoutMs),
    ),
    dispatchBacklogAgeLimit: Duration.millis(dispatchMs),
  };
}

/**
 * Attaches `functions` to the subnets and security groups of `placement`, by id (Subnet.fromSubnetId,
 * SecurityGroup.fromSecurityGroupId: no lookup, no VPC id needed), and lets their roles manage the
 * network interfaces Lambda creates there. Written on the CloudFormation resource because the
 * function construct is shared by every handler and only these two run in the VPC.
 */
function placeInVpc(
  scope: Construct,
  placement: VpcPlacement,
  functions: readonly CertwatchFunction[],
): void {
  if (placement.subnetIds.length === 0 || placement.securityGroupIds.length === 0) {
    throw new DeploymentConfigError('vpc: give at least one subnet id and one security group id');
  }
  const subnets = placement.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(scope, `VpcSubnet${i}`, id));
  const groups = placement.securityGroupIds.map((id, i) =>
    ec2.SecurityGroup.fromSecurityGroupId(scope, `VpcSecurityGroup${i}`, id, { mutable: false }),
  );
  const access = new iam.Policy(scope, 'VpcAccess', {
    statements: [
      new iam.PolicyStatement({
        sid: 'ManageVpcNetworkInterfaces',
        // Lambda's own list (AWSLambdaVPCAccessExecutionRole), written inline: the Describe actions
        // have no resource-level permissions, so their resource is "*".
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    ],
  });
  Validations.of(access).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Lambda needs ec2:Describe*/Create/DeleteNetworkInterface to place the function in the configured subnets; the Describe actions support no resource-level permissions.',
  });
  for (const fn of functions) {
    access.attachToRole(fn.role);
    const cfn = fn.function.node.defaultChild as lambda.CfnFunction;
    cfn.vpcConfig = {
      subnetIds: subnets.map((s) => s.subnetId),
      securityGroupIds: groups.map((g) => g.securityGroupId),
    };
    // The interfaces must be creatable before the function is.
    cfn.node.addDependency(access);
  }
}

/**
 * Writes data for a bundle (the inventory, the trust profiles) into the cloud assembly
 * directory under a content-addressed name (repeated synths reuse it; `cdk.out` is where
 * build output belongs) and returns its path, for the function's bundle to copy.
 */
function writeAssemblyFile(scope: Construct, prefix: string, content: string | Buffer, ext: string): string {
  const digest = createHash('sha256').update(content).digest('hex').slice(0, 16);
  const outdir = Stage.of(scope)?.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'certwatch-'));
  const file = path.join(outdir, `${prefix}-${digest}.${ext}`);
  fs.mkdirSync(outdir, { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, content);
  return file;
}

/**
 * The inventory file's bytes: its NDJSON lines, gzip-compressed. A million endpoints must fit the
 * dispatcher's package (250 MB unzipped), and the dispatcher then streams it without holding the text.
 */
export function inventoryFileContent(endpoints: readonly Endpoint[]): Buffer {
  return zlib.gzipSync(Buffer.from(`${[...inventoryLines(endpoints)].join('\n')}\n`), { level: 9 });
}

/**
 * What the dispatcher bundles: the inventory cut into dispatch shards (`planDispatchShards`), one
 * gzip member per shard one after the other, and the plan naming each shard's segments and bytes.
 */
export function dispatchBundle(
  endpoints: readonly Endpoint[],
  shardEndpoints: number = DISPATCH_SHARD_LIMITS.endpoints,
): { inventory: Buffer; plan: DispatchPlanFile } {
  const shards = planDispatchShards(endpoints, inventoryPartitionOf, INVENTORY_PARTITIONS, shardEndpoints);
  const members: Buffer[] = [];
  let offset = 0;
  const planned = shards.map((shard) => {
    const member = inventoryFileContent(shard.endpoints);
    members.push(member);
    const entry = {
      offset,
      bytes: member.length,
      endpoints: shard.endpoints.length,
      segments: shard.segments,
    };
    offset += member.length;
    return entry;
  });
  return { inventory: Buffer.concat(members), plan: { format: DISPATCH_PLAN_FORMAT, shards: planned } };
}
