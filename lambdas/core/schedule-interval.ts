/**
 * Derives the interval between runs from an EventBridge Scheduler expression.
 *
 * The interval drives the "no successful dispatch" alarm window, the
 * watchdog's staleness judgement and the dispatcher's SCHEDULE_INTERVAL_MS, so
 * for a cron expression it is the *longest* gap between two consecutive fire
 * times: an alarm tuned to the longest gap never fires between two runs that
 * are merely far apart (e.g. a weekday-only schedule over the weekend).
 */

/** A schedule expression certwatch cannot use or cannot derive an interval from. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const MINUTE_MS = 60_000;
const RATE_UNITS_MS: Record<string, number> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  day: 24 * 60 * MINUTE_MS,
  days: 24 * 60 * MINUTE_MS,
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Fire times are simulated over this many days: long enough for monthly and leap-year patterns. */
const SIMULATED_DAYS = 800;

/**
 * Interval between runs, in milliseconds, of `rate(...)` or `cron(...)`.
 * Cron fire times are evaluated in UTC: a daylight-saving shift moves a local
 * schedule by at most an hour, which the 1.5 × interval alarm window absorbs.
 *
 * @throws ScheduleExpressionError for `at(...)`, malformed expressions and the
 *   cron features (`L`, `W`, `#`) whose interval cannot be derived.
 */
export function scheduleIntervalMs(expression: string): number {
  const trimmed = expression.trim();
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/i.exec(trimmed);
  if (rate) {
    const value = Number(rate[1]);
    const unitMs = RATE_UNITS_MS[rate[2]!.toLowerCase()];
    if (unitMs === undefined)
      throw new ScheduleExpressionError(`${expression}: unit must be minutes, hours or days`);
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ScheduleExpressionError(`${expression}: rate must be a positive whole number`);
    }
    // EventBridge Scheduler rejects rate(1 hours) and rate(6 hour) at deploy time; say so at validation time.
    if ((value === 1) === rate[2]!.toLowerCase().endsWith('s')) {
      throw new ScheduleExpressionError(
        `${expression}: use the singular unit for 1 and the plural otherwise (rate(1 hour), rate(6 hours))`,
      );
    }
    return value * unitMs;
  }
  const cron = /^cron\((.*)\)$/i.exec(trimmed);
  if (cron) return cronIntervalMs(expression, cron[1]!.trim().split(/\s+/));
  throw new ScheduleExpressionError(
    `${expression}: expected a recurring schedule, rate(N minutes|hours|days) or cron(min hour dom month dow year)`,
  );
}

function cronIntervalMs(expression: string, fields: string[]): number {
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      `${expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)`,
    );
  }
  const [minF, hourF, domF, monthF, dowF, yearF] = fields as [string, string, string, string, string, string];
  if (/[LW#]/i.test(domF.replace(/^\?$/, '')) || /[L#]/i.test(dowF)) {
    throw new ScheduleExpressionError(
      `${expression}: L, W and # are not supported; use a rate() or a plain cron expression`,
    );
  }
  if (yearF !== '*')
    throw new ScheduleExpressionError(`${expression}: the year field must be * for a recurring monitor`);
  const minutes = parseField(expression, 'minutes', minF, 0, 59);
  const hours = parseField(expression, 'hours', hourF, 0, 23);
  const doms = parseField(expression, 'day-of-month', domF, 1, 31);
  const months = parseField(expression, 'month', monthF, 1, 12, MONTH_NAMES, 1);
  // EventBridge numbers days of the week 1 (SUN) to 7 (SAT).
  const dows = parseField(expression, 'day-of-week', dowF, 1, 7, DAY_NAMES, 1);
  if (domF !== '?' && dowF !== '?') {
    throw new ScheduleExpressionError(`${expression}: one of day-of-month and day-of-week must be ?`);
  }

  const start = Date.UTC(2024, 0, 1);
  const dayMs = 24 * 60 * MINUTE_MS;
  let previous: number | null = null;
  let longest = 0;
  for (let day = 0; day < SIMULATED_DAYS; day++) {
    const date = new Date(start + day * dayMs);
    if (!months.has(date.getUTCMonth() + 1)) continue;
    if (!doms.has(date.getUTCDate()) || !dows.has(date.getUTCDay() + 1)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = start + day * dayMs + hour * 60 * MINUTE_MS + minute * MINUTE_MS;
        if (previous !== null) longest = Math.max(longest, at - previous);
        previous = at;
      }
    }
  }
  if (longest === 0) throw new ScheduleExpressionError(`${expression}: fires less than twice in two years`);
  return longest;
}

/** Parses one cron field into the sorted set of values it matches (`*` and `?` match all). */
function parseField(
  expression: string,
  name: string,
  field: string,
  min: number,
  max: number,
  names: readonly string[] = [],
  nameBase = 0,
): Set<number> {
  const fail = (why: string) =>
    new ScheduleExpressionError(`${expression}: ${name} field "${field}": ${why}`);
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    const n = named >= 0 ? named + nameBase : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw fail(`"${token}" is not in ${min}-${max}`);
    return n;
  };
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw fail(`bad step "${stepText}"`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      lo = value(a);
      hi = value(b);
      if (hi < lo) throw fail(`range ${range} runs backwards`);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return new Set([...out].sort((a, b) => a - b));
}
