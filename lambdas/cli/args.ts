/**
 * Argument parsing for every command: Node's parseArgs does the parsing, and every error it
 * would raise is put in certwatch's own words, one line naming the argument and pointing at the
 * command's help (Node's texts quote unevenly and speak of "positional arguments").
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseDuration } from '../config/duration';
import { terminalSafe, UsageError } from './cli-io';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs (strict) for `certwatch <command>`; throws UsageError in certwatch's words. */
export function parseCliArgs<O extends Options, P extends boolean>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals: P,
) {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals });
  } catch {
    // The problem echoes what was typed: kept to one short, terminal-safe line.
    const problem = terminalSafe(argumentProblem(argv, options, allowPositionals), 120);
    throw new UsageError(`${problem} (see certwatch ${command} --help)`);
  }
}

/** What is wrong with `argv`, found again token by token (parseArgs' own error names it unevenly). */
export function argumentProblem(argv: string[], options: Options, allowPositionals: boolean): string {
  const shorts = new Map(
    Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      if (!allowPositionals && i + 1 < argv.length) return `unexpected argument '${argv[i + 1]}'`;
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const option = Object.hasOwn(options, name) ? options[name] : undefined;
      if (!option) return `unknown option --${name}`;
      if (option.type === 'boolean') {
        if (eq >= 0) return `option --${name} takes no value`;
        continue;
      }
      if (eq >= 0) continue;
      const next = argv[i + 1];
      if (next === undefined) return `option --${name} needs a value`;
      if (next.startsWith('-') && next !== '-') {
        return `option --${name} needs a value (for one that starts with '-', write --${name}=${next})`;
      }
      i++;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      // A group of short flags (-hx) or a short option with its value attached (-t10).
      for (let j = 1; j < arg.length; j++) {
        const short = arg[j] as string;
        const name = shorts.get(short);
        if (name === undefined) return `unknown option -${short}`;
        if (options[name]?.type === 'boolean') continue;
        if (j + 1 < arg.length) break;
        const next = argv[i + 1];
        if (next === undefined) return `option -${short} (--${name}) needs a value`;
        if (next.startsWith('-') && next !== '-') {
          return `option -${short} (--${name}) needs a value (for one that starts with '-', write --${name}=${next})`;
        }
        i++;
      }
      continue;
    }
    if (!allowPositionals) return `unexpected argument '${arg}'`;
  }
  return 'bad arguments';
}

/** Bounds of a command-line duration, in milliseconds. */
export interface DurationBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * A command-line duration (`--timeout`, `--lease`): `500ms`, `10s`, `2m`, `1h`, `1m30s`; a bare
 * number means seconds, as in check_ssl_cert (`-t 10` is ten seconds).
 */
export function parseDurationArg(value: string, what: string, bounds: DurationBounds): number {
  const ms = parseDuration(value, { bareNumber: 's' });
  if (ms === null) {
    throw new UsageError(`${what}: expected a duration like 10 (seconds), 500ms, 10s or 2m, got '${value}'`);
  }
  if (ms < bounds.minMs || ms > bounds.maxMs) {
    throw new UsageError(
      `${what}: must be between ${formatBound(bounds.minMs)} and ${formatBound(bounds.maxMs)}, got '${value}'`,
    );
  }
  return ms;
}

function formatBound(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
