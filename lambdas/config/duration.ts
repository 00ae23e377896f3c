/**
 * Durations, one parser for the config and the command line: a string of one
 * or more `<number><unit>` parts with units ms, s, m, h, d ("10s", "500ms",
 * "1h30m", "24h"). In the config a YAML number is milliseconds and a bare
 * number in a string is refused; on the command line (`bareNumber: 's'`) a
 * bare number means seconds, as in check_ssl_cert (`-t 10`).
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** How a duration string without a unit is read. */
export interface DurationSyntax {
  /** The unit of a bare number in a string (`"10"`); absent: a bare number string is not a duration. */
  readonly bareNumber?: 'ms' | 's';
}

const BARE_NUMBER = /^\d+(?:\.\d+)?$/;

/** Milliseconds of a duration, or null when `value` is not one. A `number` is milliseconds. */
export function parseDuration(value: unknown, syntax: DurationSyntax = {}): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  if (syntax.bareNumber !== undefined && BARE_NUMBER.test(text)) {
    return Math.round(Number(text) * (UNIT_MS[syntax.bareNumber] as number));
  }
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (!m) return null;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Math.round(total);
}

/** Compact human form, e.g. 86400000 → "1d", 5400000 → "1h30m", 1500 → "1s500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0ms';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] as number;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
