/**
 * The options `check` and `inspect` share for how a chain is judged: what it is
 * judged against (`--ca-file`, repeatable, `--no-system-roots`), when (`--at`),
 * and the expiry thresholds (`--warn-days`, `--critical-days`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CaFileError, loadTrustStore, type TrustStore } from '../cert/trust-store';
import { parseIntOption, UsageError } from './cli-io';

/** parseArgs declarations of the shared options. */
export const JUDGEMENT_OPTIONS = {
  'ca-file': { type: 'string', multiple: true },
  'no-system-roots': { type: 'boolean' },
  at: { type: 'string' },
} as const;

/** The shared options as parsed. */
export interface JudgementArgs {
  /** `--ca-file` paths, resolved against the working directory. */
  readonly caFiles: readonly string[];
  /** False with `--no-system-roots`. */
  readonly systemRoots: boolean;
  /** `--at`: the instant chains are judged at; null for now. */
  readonly at: Date | null;
}

/** Reads the shared options out of parseArgs values; throws UsageError naming a bad one. */
export function judgementArgs(values: Record<string, unknown>, cwd: string): JudgementArgs {
  const caFiles = ((values['ca-file'] as string[] | undefined) ?? []).map((file) => resolve(cwd, file));
  const systemRoots = values['no-system-roots'] !== true;
  if (!systemRoots && caFiles.length === 0) {
    throw new UsageError('--no-system-roots without --ca-file would trust no certificate at all');
  }
  return { caFiles, systemRoots, at: parseAt(values['at'] as string | undefined) };
}

/** `--warn-days` and `--critical-days` (defaults 30 and 7); throws UsageError naming a bad one. */
export function expiryDayArgs(values: Record<string, unknown>): { warnDays: number; criticalDays: number } {
  const days = (name: 'warn-days' | 'critical-days', fallback: number) => {
    const value = values[name] as string | undefined;
    return value === undefined ? fallback : parseIntOption(value, `--${name}`, 0, 3650);
  };
  const warnDays = days('warn-days', 30);
  const criticalDays = days('critical-days', 7);
  if (criticalDays > warnDays) {
    throw new UsageError(`--critical-days (${criticalDays}) must not exceed --warn-days (${warnDays})`);
  }
  return { warnDays, criticalDays };
}

/** Whether the command line says what to trust (then it applies to every target, config endpoints too). */
export function givesTrust(args: JudgementArgs): boolean {
  return args.caFiles.length > 0 || !args.systemRoots;
}

/**
 * The trust store of `--ca-file` and `--no-system-roots`.
 * @throws UsageError naming the file (and the certificate's position and line) that cannot be used
 */
export function cliTrustStore(args: JudgementArgs): TrustStore {
  const caFiles = args.caFiles.map((path) => {
    try {
      return { pem: readFileSync(path, 'utf8'), source: path };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'error');
      throw new UsageError(`--ca-file ${path}: cannot read (${why})`);
    }
  });
  try {
    return loadTrustStore({ caFiles, includeSystemRoots: args.systemRoots });
  } catch (error) {
    if (error instanceof CaFileError) throw new UsageError(`--ca-file ${error.message}`);
    throw error;
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `--at`: an ISO-8601 date (midnight UTC) or date-time with a zone (`Z` or `+02:00`); a time
 * without a zone is refused rather than read in whatever zone this machine is in.
 */
export function parseAt(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const text = value.trim();
  const date = ISO_DATE.test(text)
    ? new Date(`${text}T00:00:00Z`)
    : ISO_DATE_TIME.test(text)
      ? new Date(text)
      : null;
  // Date rolls 2027-02-30 over into March; a day the month does not have is a typo.
  const real = date !== null && !Number.isNaN(date.getTime()) && sameCalendarDay(text, date);
  if (date === null || !real) {
    throw new UsageError(
      `--at: expected an ISO-8601 date or date-time with a zone, like 2027-01-15 or 2027-01-15T09:00:00Z, got '${value}'`,
    );
  }
  return date;
}

/** Whether the date part of `text` survives parsing (with any offset applied back). */
function sameCalendarDay(text: string, date: Date): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const shift = offset
    ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000
    : 0;
  return new Date(date.getTime() + shift).toISOString().slice(0, 10) === text.slice(0, 10);
}
