/**
 * The event that asks the deployed checker to run its canary (EventBridge Scheduler sends it once
 * per run; see lib/check-pipeline.ts). Pure: the stack and the handler share the one constant.
 */

/** `{"certwatch": "canary"}` marks a canary invocation; SQS batches carry `Records` instead. */
export const CANARY_EVENT = 'canary';

/** A canary invocation, as the scheduler sends it. */
export interface CanaryEvent {
  readonly certwatch: typeof CANARY_EVENT;
  /** The scheduler's execution id, stable across its retries of one firing: names the page. */
  readonly executionId?: string;
}

/** Whether `event` asks for the canary (anything else is left to the SQS path). */
export function isCanaryEvent(event: unknown): event is CanaryEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { certwatch?: unknown }).certwatch === CANARY_EVENT
  );
}
