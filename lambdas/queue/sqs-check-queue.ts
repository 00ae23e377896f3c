/**
 * JSON messages over SQS: parallel SendMessageBatch calls of 10, with retries of the entries SQS
 * rejects. `SqsCheckQueue` sends check messages; the dispatcher also sends its dispatch shards.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { mapWithConcurrency } from '../core/concurrency';
import type { CheckMessage, CheckQueue } from '../pipeline/check-message';

export class QueueSendError extends Error {
  override readonly name = 'QueueSendError';
}

export interface SqsCheckQueueProps {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** SendMessageBatch calls in flight. @default 32 */
  readonly parallelBatches?: number;
  /** Attempts per batch for entries SQS reports as failed. @default 4 */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** What the messages are, for the error. @default 'check messages' */
  readonly noun?: string;
}

export class SqsJsonQueue<T> {
  /** SendMessageBatch calls made (for the dispatch benchmark). */
  batchCalls = 0;
  constructor(private readonly props: SqsCheckQueueProps) {}

  async sendAll(messages: readonly T[]): Promise<void> {
    const batches: T[][] = [];
    for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
    const failures = await mapWithConcurrency(
      batches,
      this.props.parallelBatches ?? 32,
      (batch) => this.sendBatch(batch),
      (error) => [String(error)],
    );
    const failed = failures.flat();
    if (failed.length > 0) {
      throw new QueueSendError(
        `${failed.length} ${this.props.noun ?? 'check messages'} could not be queued: ${failed.slice(0, 3).join('; ')}`,
      );
    }
  }

  /** Sends one batch; returns the reasons of entries still failing after retries. */
  private async sendBatch(batch: T[]): Promise<string[]> {
    const sleep = this.props.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    let pending = batch.map((m, i) => ({ id: String(i), m }));
    let reasons: string[] = [];
    for (let attempt = 1; attempt <= (this.props.maxAttempts ?? 4) && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(100 * 2 ** attempt);
      this.batchCalls++;
      const out = await this.props.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.props.queueUrl,
          Entries: pending.map(({ id, m }) => ({ Id: id, MessageBody: JSON.stringify(m) })),
        }),
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      reasons = (out.Failed ?? []).map((f) => `${f.Code ?? 'error'}: ${f.Message ?? ''}`);
      // Sender faults (malformed entries) will not succeed on retry.
      if ((out.Failed ?? []).some((f) => f.SenderFault)) break;
      pending = pending.filter((p) => failed.has(p.id));
    }
    return pending.length > 0 ? reasons : [];
  }
}

/** CheckQueue over SQS. */
export class SqsCheckQueue extends SqsJsonQueue<CheckMessage> implements CheckQueue {}
