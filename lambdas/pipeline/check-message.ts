import type { SuppressionRef } from '../core/model';

/** The unit of work the dispatcher fans out: one address of one endpoint, in one run. */
export interface CheckMessage {
  readonly v: 1;
  readonly runId: string;
  readonly endpointId: string;
  /** Address to probe; null when DNS resolution failed at dispatch (then `dnsError` says why). */
  readonly address: string | null;
  readonly dnsError?: string;
  readonly dispatchedAt: string;
  /**
   * Maintenance windows and silences covering the endpoint when the run was dispatched (read once
   * per run, so the checker reads nothing more); absent when none did.
   */
  readonly suppressors?: readonly SuppressionRef[];
}

/** Validates a message body from the queue; returns a reason string when it is not a CheckMessage. */
export function parseCheckMessage(body: string): CheckMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const m = value as Partial<CheckMessage> | null;
  if (!m || typeof m !== 'object') return 'body is not an object';
  if (m.v !== 1) return `unsupported message version ${String(m.v)}`;
  if (typeof m.runId !== 'string' || m.runId === '') return 'runId missing';
  if (typeof m.endpointId !== 'string' || m.endpointId === '') return 'endpointId missing';
  if (m.address !== null && typeof m.address !== 'string') return 'address must be a string or null';
  if (typeof m.dispatchedAt !== 'string') return 'dispatchedAt missing';
  if (m.suppressors !== undefined && !isSuppressorList(m.suppressors)) return 'suppressors malformed';
  return m as CheckMessage;
}

/** Port: where dispatched check messages go (SQS in AWS, an in-memory queue locally). */
export interface CheckQueue {
  /** Sends all messages; resolves once every one is accepted, rejects if some could not be sent after retries. */
  sendAll(messages: readonly CheckMessage[]): Promise<void>;
}

function isSuppressorList(value: unknown): value is SuppressionRef[] {
  return (
    Array.isArray(value) &&
    value.length <= 64 &&
    value.every(
      (r: Partial<Record<keyof SuppressionRef, unknown>> | null) =>
        r !== null &&
        typeof r === 'object' &&
        (r.kind === 'maintenance' || r.kind === 'silence') &&
        typeof r.id === 'string' &&
        typeof r.name === 'string' &&
        typeof r.until === 'string',
    )
  );
}
