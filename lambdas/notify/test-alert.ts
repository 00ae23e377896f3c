/**
 * The alert `certwatch notify --test` sends to prove each channel is wired.
 * Pure: the clock is passed in.
 */
import { bareSubject, buildAlert } from '../core/build-alert';
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
  return buildAlert({
    kind: 'test',
    severity: 'info',
    scope: null,
    event: now.toISOString(),
    audience: { name: 'certwatch notification test', id: 'certwatch-test', owner: null, channels },
    subject: bareSubject('ok'),
    text: {
      summary: TEST_ALERT_SUMMARY,
      detail:
        'This is a test notification sent by `certwatch notify --test` to check that this channel delivers ' +
        'certwatch alerts. No certificate is affected.',
      action: 'No action needed.',
    },
    now,
  });
}
