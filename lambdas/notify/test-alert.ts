/**
 * The alert `certwatch notify --test` sends to prove each channel is wired.
 * Pure: the clock is passed in.
 */
import type { Alert } from '../core/model';

export const TEST_ALERT_SUMMARY = 'TEST \u2014 certwatch notification test, no action needed';

/**
 * A clearly marked test alert. Its id is unique per millisecond so a receiver's
 * idempotency check never swallows a repeated test, and deliverAlerts sends
 * it to every selected channel whatever their `minSeverity`.
 *
 * @param channels channel names to test; empty (default) means all.
 */
export function makeTestAlert(now: Date, channels: readonly string[] = []): Alert {
  const at = now.toISOString();
  return {
    id: `test:${at}`,
    kind: 'test',
    severity: 'info',
    endpoint: 'certwatch notification test',
    endpointId: 'certwatch-test',
    address: null,
    status: 'ok',
    daysLeft: null,
    notAfter: null,
    issuer: null,
    findings: [],
    summary: TEST_ALERT_SUMMARY,
    detail:
      'This is a test notification sent by `certwatch notify --test` to check that this channel delivers ' +
      'certwatch alerts. No certificate is affected.',
    action: 'No action needed.',
    occurredAt: at,
    owner: null,
    channels,
  };
}
