import type { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Props of an encrypted, TLS-only queue. */
export interface EncryptedQueueProps {
  /**
   * How long a message is kept.
   * @default Duration.days(4) (the SQS default)
   */
  readonly retentionPeriod?: Duration;
  /**
   * How long a received message stays invisible to other consumers.
   * @default Duration.seconds(30) (the SQS default)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Where messages go after too many receives.
   * @default - none (use for dead-letter queues themselves)
   */
  readonly deadLetterQueue?: sqs.DeadLetterQueue;
}

/** An SQS queue encrypted with SQS-managed keys whose policy denies any request not made over TLS. */
export function encryptedQueue(scope: Construct, id: string, props: EncryptedQueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: props.retentionPeriod,
    visibilityTimeout: props.visibilityTimeout,
    deadLetterQueue: props.deadLetterQueue,
  });
}
