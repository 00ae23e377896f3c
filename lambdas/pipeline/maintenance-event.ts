/**
 * The event that asks the deployed checker to run the maintenance tick (EventBridge Scheduler
 * sends it every minute; see lib/check-pipeline.ts). Pure: the stack and the handler share the
 * one constant.
 */

/** `{"certwatch": "maintenance"}` marks a maintenance tick; SQS batches carry `Records` instead. */
export const MAINTENANCE_EVENT = 'maintenance';

/** How often the deployed stack ticks: announcements and end-of-window re-checks are at most this late. */
export const MAINTENANCE_TICK_EXPRESSION = 'rate(1 minute)';

export interface MaintenanceEvent {
  readonly certwatch: typeof MAINTENANCE_EVENT;
  /** The scheduler's execution id, for the log. */
  readonly executionId?: string;
}

/** Whether `event` asks for the maintenance tick. */
export function isMaintenanceEvent(event: unknown): event is MaintenanceEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { certwatch?: unknown }).certwatch === MAINTENANCE_EVENT
  );
}
