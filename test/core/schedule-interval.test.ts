import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError, scheduleIntervalMs } from '../../lambdas/core/schedule-interval';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('scheduleIntervalMs', () => {
  it.each([
    ['rate(1 minute)', MIN],
    ['rate(5 minutes)', 5 * MIN],
    ['rate(6 hours)', 6 * HOUR],
    ['rate(1 day)', DAY],
    ['rate(7 days)', 7 * DAY],
    ['cron(0 */6 * * ? *)', 6 * HOUR],
    ['cron(*/15 * * * ? *)', 15 * MIN],
    ['cron(0 8,20 * * ? *)', 12 * HOUR],
    ['cron(0 1,2,3 * * ? *)', 22 * HOUR],
    ['cron(30 9 * * ? *)', DAY],
    // Weekdays only: the weekend gap (Friday 09:00 → Monday 09:00) is the interval.
    ['cron(0 9 ? * MON-FRI *)', 3 * DAY],
    ['cron(0 9 ? * 2-6 *)', 3 * DAY],
    ['cron(0 0 ? * SUN *)', 7 * DAY],
    // Monthly on the 1st: the longest month.
    ['cron(0 0 1 * ? *)', 31 * DAY],
    ['cron(0 0 1 JAN,JUL ? *)', 184 * DAY],
  ])('%s → %i ms', (expression, expected) => {
    expect(scheduleIntervalMs(expression)).toBe(expected);
  });

  it.each([
    ['at(2030-01-01T00:00:00)', /expected a recurring schedule/],
    ['rate(0 hours)', /positive whole number/],
    ['rate(2 weeks)', /unit must be minutes, hours or days/],
    ['cron(0 9 * *)', /needs 6 fields/],
    ['cron(0 9 L * ? *)', /L, W and # are not supported/],
    ['cron(0 9 ? * MON#1 *)', /L, W and # are not supported/],
    ['cron(0 9 * * MON *)', /one of day-of-month and day-of-week must be \?/],
    ['cron(0 25 * * ? *)', /hours field "25": "25" is not in 0-23/],
    ['cron(0 9 * * ? 2030)', /year field must be \*/],
    ['cron(0 9 30 2 ? *)', /fires less than twice/],
  ])('%s is refused', (expression, reason) => {
    expect(() => scheduleIntervalMs(expression)).toThrow(ScheduleExpressionError);
    expect(() => scheduleIntervalMs(expression)).toThrow(reason);
  });
});
