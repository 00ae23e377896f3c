/**
 * The interval between runs of an EventBridge Scheduler expression. Alarms
 * ("no successful run for 1.5 intervals") and the watchdog ("no success for two
 * intervals") are measured in it.
 */

export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * `rate(6 hours)` → 6 h. For `cron(min hour dom month dow year)` the longest
 * gap between consecutive firings within a day is used for sub-daily
 * schedules (hours as `*`, `*\/N`, `a-b` or `a,b,c`); anything else counts as
 * daily (or weekly when a single day-of-week is given) — the conservative,
 * longer interval, so alarms never fire early.
 */
export function scheduleIntervalMs(expression: string): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = UNIT_MS[(rate[2] ?? '').replace(/s$/, '')] ?? 0;
    if (n < 1) throw new ScheduleExpressionError(`schedule '${expression}': the rate must be at least 1`);
    if ((n === 1) !== !(rate[2] ?? '').endsWith('s')) {
      throw new ScheduleExpressionError(
        `schedule '${expression}': use the singular unit for 1 and the plural otherwise (rate(1 hour), rate(6 hours))`,
      );
    }
    return n * unit;
  }
  const cron = /^cron\(([^)]*)\)$/.exec(expression.trim());
  if (!cron) {
    throw new ScheduleExpressionError(
      `schedule '${expression}': expected rate(N minutes|hours|days) or cron(min hour day-of-month month day-of-week year)`,
    );
  }
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      `schedule '${expression}': a cron expression has 6 fields, found ${fields.length}`,
    );
  }
  const [minute = '', hour = '', , , dow = ''] = fields;
  const minutes = expandField(minute, 0, 59);
  const hours = expandField(hour, 0, 23);
  if (!minutes || !hours) return singleDow(dow) ? 7 * UNIT_MS['day']! : UNIT_MS['day']!;
  const firings = hours.flatMap((h) => minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  if (firings.length <= 1) return singleDow(dow) ? 7 * UNIT_MS['day']! : UNIT_MS['day']!;
  let longest = (firings[0] ?? 0) + 1440 - (firings[firings.length - 1] ?? 0);
  for (let i = 1; i < firings.length; i++)
    longest = Math.max(longest, (firings[i] ?? 0) - (firings[i - 1] ?? 0));
  return longest * 60_000;
}

function singleDow(dow: string): boolean {
  return /^[A-Za-z]{3}$|^[1-7]$/.test(dow);
}

/** Values of one cron field, or null when it is too irregular to expand. */
function expandField(field: string, min: number, max: number): number[] | null {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    const start = m[1] === '*' ? min : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (step < 1 || start < min || end > max || start > end) return null;
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values];
}
