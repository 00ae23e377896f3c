/**
 * The output formats every result-printing command offers (`--format table|json|nagios|csv`,
 * `--json` as the old name of `--format json`) and the time zone dates are shown in (`--tz`).
 * The table and JSON renderers live in render-results; this module adds the two formats other
 * tools read: a Nagios plugin line and RFC 4180 CSV.
 */
import { describeDays } from '../core/day-count';
import { cleanUntrusted } from '../core/untrusted-text';
import type { Status } from '../core/model';
import { UsageError } from './cli-io';

/** Every output format, with what `--help` says of it. */
export const OUTPUT_FORMATS = {
  table: 'a table for people (the default)',
  json: 'JSON Lines, one object per result (--json is the same)',
  nagios: 'one Nagios/Icinga/Checkmk plugin line: STATUS - summary | days=N;WARN;CRIT',
  csv: 'RFC 4180 CSV with a header row, safe to open in a spreadsheet',
} as const satisfies Record<string, string>;

export type OutputFormat = keyof typeof OUTPUT_FORMATS;

/** parseArgs declarations of the output options. */
export const OUTPUT_OPTIONS = {
  format: { type: 'string' },
  json: { type: 'boolean' },
  tz: { type: 'string' },
} as const;

/** The `--help` lines of the output options, descriptions starting at `column` (as the command's others do). */
export function outputUsage(column: number): string {
  const line = (option: string, text: string) => `      ${option}`.padEnd(column) + text;
  const more = (text: string) => ' '.repeat(column) + text;
  return [
    line(
      '--format FORMAT',
      `${Object.keys(OUTPUT_FORMATS).join(', ')} (default table); --json is --format json`,
    ),
    line('--tz ZONE', 'time zone of the dates in table and nagios output: UTC (default), local,'),
    more('or an IANA zone such as Europe/Berlin (json and csv keep ISO-8601 UTC)'),
  ].join('\n');
}

/** The output options as parsed. */
export interface OutputArgs {
  readonly format: OutputFormat;
  /** An IANA time zone name ('UTC' by default). */
  readonly timeZone: string;
}

/** Reads `--format`, `--json` and `--tz`; throws UsageError naming a bad one. */
export function outputArgs(
  values: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): OutputArgs {
  const given = values['format'] as string | undefined;
  if (given !== undefined && !Object.hasOwn(OUTPUT_FORMATS, given)) {
    throw new UsageError(
      `--format: expected one of ${Object.keys(OUTPUT_FORMATS).join(', ')}, got '${given}'`,
    );
  }
  if (values['json'] === true && given !== undefined && given !== 'json') {
    throw new UsageError(`--json means --format json; it cannot be combined with --format ${given}`);
  }
  const format: OutputFormat =
    values['json'] === true ? 'json' : ((given as OutputFormat | undefined) ?? 'table');
  return { format, timeZone: parseTimeZone(values['tz'] as string | undefined, env) };
}

/** `--tz`: UTC, local (TZ, else this machine's zone) or an IANA zone Intl knows. */
export function parseTimeZone(
  value: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (value === undefined || value.toUpperCase() === 'UTC') return 'UTC';
  const zone = value === 'local' ? env['TZ'] || Intl.DateTimeFormat().resolvedOptions().timeZone : value;
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new UsageError(
      `--tz: unknown time zone '${value === 'local' ? zone : value}' (expected UTC, local, or an IANA zone such as Europe/Berlin)`,
    );
  }
}

/** The calendar date (YYYY-MM-DD) of an ISO-8601 instant in `timeZone`; '-' for none. */
export function displayDate(iso: string | null, timeZone: string): string {
  if (!iso) return '-';
  const when = new Date(iso);
  if (timeZone === 'UTC' || Number.isNaN(when.getTime())) return iso.slice(0, 10);
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(when);
}

// ---------------------------------------------------------------------------
// Nagios
// ---------------------------------------------------------------------------

/** What a Nagios line needs of one result (a check result or a stored state). */
export interface NagiosRow {
  /** `host:port [address]`, or a file name for `inspect`. */
  readonly label: string;
  readonly status: Status;
  readonly daysLeft: number | null;
  readonly notAfter: string | null;
  readonly findings: readonly { readonly code: string; readonly message: string }[];
}

/** The plugin status word of each status (a monitor's error is CRITICAL, as its exit code 2 says). */
const NAGIOS_WORD = {
  ok: 'OK',
  warning: 'WARNING',
  critical: 'CRITICAL',
  expired: 'CRITICAL',
  error: 'CRITICAL',
} as const satisfies Record<Status, string>;

const STATUS_ORDER = ['ok', 'warning', 'critical', 'expired', 'error'] as const satisfies readonly Status[];
const RANK = { ok: 0, warning: 1, critical: 2, expired: 3, error: 4 } as const satisfies Record<
  Status,
  number
>;

/** Plugin output text must be one line without `|` (it starts the perfdata). */
function pluginText(text: string, max = 200): string {
  return cleanUntrusted(text, { target: 'plain', maxLength: max }).replace(/\|/g, '/');
}

/** A perfdata label: quoted, without the quote and `=` characters that would end it. */
function perfLabel(text: string): string {
  return `'${cleanUntrusted(text, { target: 'ascii', maxLength: 60 }).replace(/['=|]/g, '_')}'`;
}

function describeRow(r: NagiosRow, timeZone: string): string {
  const date = displayDate(r.notAfter, timeZone);
  const expiry =
    r.daysLeft === null
      ? null
      : r.daysLeft < 0
        ? `expired ${date} (${describeDays(r.daysLeft)})`
        : `expires ${date} (${describeDays(r.daysLeft)})`;
  const codes = [...new Set(r.findings.map((f) => f.code))];
  if (expiry === null) return `${r.label}: ${r.findings[0]?.message ?? 'no certificate'}`;
  return `${r.label}: ${expiry}${codes.length > 0 ? `; ${codes.join(',')}` : ''}`;
}

/**
 * One plugin line: `CERTWATCH STATUS - summary | days=N;WARN;CRIT[ 'label'=N;WARN;CRIT ...]`.
 * `days` is the fewest days left of all results (`U` when none is known); with more than one
 * result each also gets its own value.
 */
export function renderNagios(
  rows: readonly NagiosRow[],
  opts: { readonly warnDays: number; readonly criticalDays: number; readonly timeZone: string },
): string {
  if (rows.length === 0) return 'CERTWATCH UNKNOWN - nothing to report\n';
  const worst = rows.reduce((w, r) => (RANK[r.status] > RANK[w.status] ? r : w));
  const word = NAGIOS_WORD[worst.status];
  const th = `${opts.warnDays};${opts.criticalDays}`;
  const known = rows.flatMap((r) => (r.daysLeft === null ? [] : [r.daysLeft]));
  const perf = [`days=${known.length === 0 ? 'U' : Math.min(...known)};${th}`];
  let summary: string;
  if (rows.length === 1) summary = describeRow(worst, opts.timeZone);
  else {
    const counts = STATUS_ORDER.flatMap((s) => {
      const n = rows.filter((r) => r.status === s).length;
      return n === 0 ? [] : [`${n} ${s}`];
    });
    summary = `${rows.length} results: ${counts.join(', ')}; worst ${describeRow(worst, opts.timeZone)}`;
    for (const r of rows) perf.push(`${perfLabel(r.label)}=${r.daysLeft ?? 'U'};${th}`);
  }
  return `CERTWATCH ${word} - ${pluginText(summary)} | ${perf.join(' ')}\n`;
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/** A CSV cell: text (untrusted: cleaned and guarded against formulas), a number, or empty. */
export type CsvCell = string | number | null;

/**
 * A spreadsheet reads a cell starting with = + - @ (or a tab or CR) as a formula: such text
 * gets a leading apostrophe (OWASP's CSV injection advice). Numbers are written as numbers.
 */
export function csvText(text: string): string {
  const clean = cleanUntrusted(text, { target: 'plain' });
  return /^[=+\-@\t\r]/.test(clean) ? `'${clean}` : clean;
}

function csvField(cell: CsvCell): string {
  if (cell === null) return '';
  const text = typeof cell === 'number' ? String(cell) : csvText(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180: a header row, CRLF line ends, fields with `"`, `,` or line breaks quoted. */
export function renderCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}
