/**
 * The one day-count rule. Every surface that shows days to expiry (the table, the JSON
 * `daysLeft`, findings, alerts, the Nagios line and perfdata, the HTML report) counts with
 * these functions, so a certificate never shows -13 in one place and "12 days ago" in another.
 *
 * The rule: whole days from now until `notAfter`, rounded toward the past (floor).
 * - 7.9 days left is 7: a threshold such as "warn at 7 days" fires no later than it should.
 * - 0.5 days left is 0, "in less than a day": still valid, never shown as expired.
 * - expired 0.25 days ago is -1, "1 day ago": the sign alone says "expired" (truncating toward
 *   zero would show 0, the same as a certificate that is still valid, and under-state urgency).
 * - expired 12.25 days ago is -13, "13 days ago": the day in progress counts.
 *
 * `daysLeft < 0` exactly when `now` is after `notAfter`. Pure: no clock of its own.
 */

/** Milliseconds in a day (UTC days; leap seconds do not exist in JavaScript time). */
export const DAY_MS = 86_400_000;

/** Whole days from `nowMs` until `notAfterMs`, floored; negative exactly when expired. */
export function wholeDaysLeft(notAfterMs: number, nowMs: number): number {
  // `+ 0` turns the -0 of floor(-0) into 0, so "0" never prints as "-0".
  return Math.floor((notAfterMs - nowMs) / DAY_MS) + 0;
}

/** {@link wholeDaysLeft} of an ISO time; null when it is unknown or not a time. */
export function daysUntil(notAfter: string | null, now: Date): number | null {
  if (notAfter === null) return null;
  const ms = Date.parse(notAfter);
  return Number.isNaN(ms) ? null : wholeDaysLeft(ms, now.getTime());
}

/** "1 day", "3 days" (the count as given, without sign). */
export function formatDays(days: number): string {
  return `${days} ${Math.abs(days) === 1 ? 'day' : 'days'}`;
}

/** "in 7 days", "in 1 day", "in less than a day" (0), "1 day ago" (-1), "13 days ago" (-13). */
export function describeDays(daysLeft: number): string {
  if (daysLeft > 0) return `in ${formatDays(daysLeft)}`;
  if (daysLeft === 0) return 'in less than a day';
  return `${formatDays(-daysLeft)} ago`;
}

/** "expires in 7 days", "expires in less than a day", "expired 13 days ago". */
export function describeDaysLeft(daysLeft: number): string {
  return daysLeft < 0 ? `expired ${describeDays(daysLeft)}` : `expires ${describeDays(daysLeft)}`;
}
