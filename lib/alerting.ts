import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  keepsTickets,
  type NotifierChannelWith,
  secretFields,
  withSecretValues,
} from '../lambdas/channels/registry';
import type { Severity } from '../lambdas/core/model';
import { CertwatchFunction, type FunctionDefaults } from './certwatch-function';
import { encryptedQueue } from './queues';
import { type ResolvedSecret, type SecretEnvRef, type SecretRef, SecretReferences } from './secret-refs';
import { type StateTable, TICKET_PARTITIONS } from './state-table';

/** Alert severities (the domain model's). */
export type AlertSeverity = Severity;

/** A person subscribed to the alert topic. */
export interface AlertSubscription {
  readonly protocol: 'email' | 'sms';
  /** E-mail address or E.164 phone number. */
  readonly endpoint: string;
  /**
   * Lowest severity delivered. Above `info`, the subscription gets a filter
   * policy on the `severity` message attribute, which also keeps out messages
   * without one (CloudWatch alarm notifications on a shared ops topic).
   * @default 'info' (everything, no filter)
   */
  readonly minSeverity?: AlertSeverity;
}

/** A channel the notifier delivers (chat and webhook types, see lambdas/channels), with its secrets as references. */
export type ChatChannelSpec = NotifierChannelWith<SecretRef>;

/** The notifier's CHANNELS entry: the channel with every secret replaced by its Secrets Manager reference. */
export type NotifierChannelEnv = NotifierChannelWith<SecretEnvRef>;

/** Props of the alerting construct. */
export interface AlertingProps {
  /**
   * People subscribed to the alert topic, each receiving alerts at or above its `minSeverity`.
   * @default - none
   */
  readonly subscriptions?: readonly AlertSubscription[];
  /**
   * Chat and webhook channels; a notifier function is created when there is at least one.
   * @default - none (no notifier)
   */
  readonly chatChannels?: readonly ChatChannelSpec[];
  /** Where secret references are resolved (shared with the watchdog's heartbeat). */
  readonly secrets: SecretReferences;
  /** Where the notifier claims and records each (alert, chat channel) delivery. */
  readonly stateTable: StateTable;
  /**
   * Days the notifier's delivery records are kept (DynamoDB TTL), as the checker keeps its own.
   * @default 90
   */
  readonly historyTtlDays?: number;
  /**
   * Notifier timeout: covers every channel's delivery with retries.
   * @default Duration.seconds(180)
   */
  readonly notifierTimeout?: Duration;
  /**
   * Notifier memory in MB (it only formats and POSTs small JSON documents).
   * @default 256
   */
  readonly notifierMemorySize?: number;
  /**
   * Log retention, removal and level of the notifier.
   * @default - the `FunctionDefaults` defaults
   */
  readonly functionDefaults?: FunctionDefaults;
  /**
   * What happens to the topic key when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/** Filter values for a subscriber that wants `minSeverity` and above. */
export function severitiesAtOrAbove(minSeverity: AlertSeverity): AlertSeverity[] {
  const order: AlertSeverity[] = ['info', 'warning', 'critical'];
  return order.slice(order.indexOf(minSeverity));
}

/**
 * The alert path: a KMS-encrypted, TLS-only SNS topic the checker publishes
 * to; e-mail and SMS subscriptions; and the notifier function subscribed to
 * it, delivering to Slack, Teams and webhooks with secrets read from Secrets
 * Manager at run time.
 *
 * The topic key is a customer managed key because CloudWatch alarms (which
 * publish to this topic when it doubles as the ops topic) cannot use the
 * AWS managed `alias/aws/sns` key.
 */
export class Alerting extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  /** The notifier; undefined when no chat channel is configured. */
  readonly notifier?: CertwatchFunction;
  /** Receives alerts SNS could not hand to the notifier and notifier invocations that failed every retry. */
  readonly notifierDeadLetterQueue?: sqs.Queue;
  /** Secrets the notifier reads. */
  readonly channelSecrets: readonly ResolvedSecret[];

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'certwatch: encrypts the alert topic',
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // CloudWatch alarm actions publish to this topic and must be able to use its key.
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'certwatch alerts',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    for (const subscription of props.subscriptions ?? []) {
      const minSeverity = subscription.minSeverity ?? 'info';
      const options: subs.EmailSubscriptionProps & subs.SmsSubscriptionProps =
        minSeverity === 'info'
          ? {}
          : {
              filterPolicy: {
                severity: sns.SubscriptionFilter.stringFilter({
                  allowlist: severitiesAtOrAbove(minSeverity),
                }),
              },
            };
      this.topic.addSubscription(
        subscription.protocol === 'email'
          ? new subs.EmailSubscription(subscription.endpoint, options)
          : new subs.SmsSubscription(subscription.endpoint, options),
      );
    }

    const channels = props.chatChannels ?? [];
    const used: ResolvedSecret[] = [];
    const envChannels: NotifierChannelEnv[] = channels.map((channel) => {
      const refs: Record<string, SecretEnvRef | null> = {};
      for (const { field, value } of secretFields(channel)) {
        if (value === null) {
          refs[field] = null;
          continue;
        }
        const secret = props.secrets.resolve(value, `channel "${channel.name}" ${field}`);
        used.push(secret);
        refs[field] = secret.envRef;
      }
      return withSecretValues(channel, refs);
    });
    this.channelSecrets = used;
    if (channels.length === 0) return;

    this.notifierDeadLetterQueue = encryptedQueue(this, 'NotifierDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
    });
    this.notifier = new CertwatchFunction(this, 'Notifier', {
      ...props.functionDefaults,
      handler: 'notifier',
      description: 'certwatch: delivers alerts from the alert topic to Slack, Teams and webhooks',
      // Worst-case HTTP delivery (4 attempts of 5 s plus Retry-After waits up to 30 s) is about 110 s.
      timeout: props.notifierTimeout ?? Duration.seconds(180),
      memorySize: props.notifierMemorySize ?? 256,
      environment: {
        CHANNELS: stack.toJsonString(envChannels),
        TABLE_NAME: props.stateTable.table.tableName,
        HISTORY_TTL_DAYS: String(props.historyTtlDays ?? 90),
      },
      // Failed asynchronous invocations (after Lambda's own retries) are kept, not dropped.
      deadLetterQueue: this.notifierDeadLetterQueue,
    });
    const fn = this.notifier.function;
    SecretReferences.grantRead(this.notifier.role, used, 'ReadChannelSecrets');
    // Ticket channels keep their incident → ticket mapping in TICKET# items; without one, delivery records only.
    props.stateTable.grantStoreAccess(this.notifier.role, 'notifier', {
      alsoPartitions: channels.some((c) => keepsTickets(c)) ? TICKET_PARTITIONS : [],
    });
    this.topic.addSubscription(
      new subs.LambdaSubscription(fn, {
        deadLetterQueue: this.notifierDeadLetterQueue,
        // Only certwatch alerts (they carry `kind`); CloudWatch alarm notifications on a shared topic are not chat alerts.
        filterPolicy: { kind: sns.SubscriptionFilter.existsFilter() },
      }),
    );
  }
}
