import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError, scheduleIntervalMs } from '../../lambdas/core/schedule-interval';

const H = 3_600_000;

describe('scheduleIntervalMs', () => {
  it.each([
    ['rate(6 hours)', 6 * H],
    ['rate(1 hour)', H],
    ['rate(30 minutes)', 30 * 60_000],
    ['rate(1 day)', 24 * H],
    ['cron(0 */6 * * ? *)', 6 * H],
    ['cron(0 0,12 * * ? *)', 12 * H],
    ['cron(0 8,9,17 * * ? *)', 15 * H],
    ['cron(15 3 * * ? *)', 24 * H],
    ['cron(0 9 ? * MON *)', 7 * 24 * H],
    ['cron(*/15 * * * ? *)', 15 * 60_000],
  ])('%s is %d ms', (expression, expected) => {
    // Act
    const ms = scheduleIntervalMs(expression);
    // Assess
    expect(ms).toBe(expected);
  });

  it.each([
    ['every 6 hours', /expected rate/],
    ['rate(0 hours)', /at least 1/],
    ['rate(1 hours)', /singular/],
    ['rate(6 hour)', /singular/],
    ['cron(0 */6 * *)', /6 fields/],
  ])('rejects %s', (expression, message) => {
    expect(() => scheduleIntervalMs(expression)).toThrow(ScheduleExpressionError);
    expect(() => scheduleIntervalMs(expression)).toThrow(message);
  });
});
