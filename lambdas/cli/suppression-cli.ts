/**
 * What `certwatch maintenance` and `certwatch silence` share: the store they
 * open (the one `run` and `status` use, with the same options), the config
 * limits they read, and how they read times and print lists.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILTIN_DEFAULTS, loadConfig, type MaintenanceConfig } from '../config';
import { parseDuration } from '../config/duration';
import {
  DEFAULT_LEAD_TIME_MS,
  DEFAULT_MAX_SILENCE_MS,
  parseZonedTime,
  timeZoneProblem,
} from '../core/maintenance';
import { parseCliArgs } from './args';
import { jsonLine } from '../core/untrusted-text';
import { type CliIo, terminalSafe, UsageError } from './cli-io';
import { DEFAULT_CONFIG, openStore } from './local-runtime';
import { renderColumns } from './render-results';
import { openStoreErrorForUser, STORE_OPTIONS, storeArgs, storeLabel } from './run-command';
import { storeErrorForUser } from './store-errors';
import type { StateStore } from '../store/state-store';
import type { SuppressionStore } from '../store/suppression-store';

/**
 * The scope entries no stored endpoint matches (by id or name, or by tag): said on stderr, since a
 * window or silence that covers nothing is most likely a typo. Not an error: the config may add it later.
 */
export async function unmatchedScope(
  state: StateStore,
  scope: { readonly endpoints: readonly string[]; readonly tags: readonly string[] },
): Promise<string[]> {
  const endpoints = await state.listEndpoints();
  return [
    ...scope.endpoints.filter((e) => !endpoints.some((x) => x.id === e || x.name === e)),
    ...scope.tags.filter((t) => !endpoints.some((x) => x.tags.includes(t))).map((t) => `tag ${t}`),
  ];
}

export { STORE_OPTIONS };

/** The store options' help lines, shared by both commands. */
export const STORE_USAGE = `      --config FILE             config file whose maintenance limits apply (default ${DEFAULT_CONFIG}, when present)
      --state-dir DIR           embedded DynamoDB data directory (default .certwatch)
      --dynamodb-endpoint URL   use this DynamoDB instead ('aws' for the real service)
      --table NAME              DynamoDB table (default certwatch)`;

/** parseArgs for `certwatch <command> <subcommand> [ID]`. */
export function parseSubcommandArgs<O extends Parameters<typeof parseCliArgs>[2]>(
  command: string,
  argv: string[],
  options: O,
) {
  return parseCliArgs(command, argv, options, true);
}

/** The config's `maintenance:` limits: from --config, or the default config file when it exists. */
export function maintenanceLimits(v: Record<string, unknown>, io: CliIo): MaintenanceConfig {
  const given = v['config'] as string | undefined;
  const path = resolve(io.cwd ?? process.cwd(), given ?? DEFAULT_CONFIG);
  if (given === undefined && !existsSync(path)) {
    return { leadTimeMs: DEFAULT_LEAD_TIME_MS, maxSilenceMs: DEFAULT_MAX_SILENCE_MS, windows: [] };
  }
  return loadConfig(path).maintenance;
}

/** Runs `use` with the suppression store of the state store the options name, then closes it. */
export async function withSuppressionStore<T>(
  v: Record<string, unknown>,
  use: (store: SuppressionStore, state: StateStore) => Promise<T>,
): Promise<T> {
  const args = storeArgs(v);
  const opened = await openStore(args).catch((error: unknown) => {
    throw openStoreErrorForUser(error, args, 'try again when it has finished');
  });
  try {
    return await use(opened.suppressions, opened.store).catch((error: unknown) => {
      throw storeErrorForUser(error, storeLabel(args));
    });
  } finally {
    await opened.close();
  }
}

/** The default time zone of times given without an offset: `--time-zone`, else the config's `timezone`, else UTC. */
export function timeZoneArg(value: string | undefined, what = '--time-zone'): string {
  const zone = value ?? BUILTIN_DEFAULTS.timezone;
  const problem = timeZoneProblem(zone);
  if (problem !== null) throw new UsageError(`${what}: ${problem}`);
  return zone;
}

/**
 * A time argument: `2026-12-03T02:00` (in `timeZone`), an instant with `Z` or an offset, or a
 * duration from now (`90m`, `4h`, `3d`) when `relative` allows it.
 */
export function timeArg(
  value: string | undefined,
  what: string,
  timeZone: string,
  now: Date,
  relative = false,
): Date {
  if (value === undefined) throw new UsageError(`${what}: required`);
  if (relative) {
    const ms = parseDuration(value);
    if (ms !== null && !/^\d+$/.test(value)) return new Date(now.getTime() + ms);
  }
  const parsed = parseZonedTime(value.trim(), timeZone);
  if (parsed === null) {
    const forms = relative
      ? 'a time like 2026-12-03T02:00 (in the time zone), 2026-12-03T01:00Z, or a duration like 4h or 3d'
      : 'a time like 2026-12-03T02:00 (in the time zone) or 2026-12-03T01:00Z';
    throw new UsageError(`${what}: expected ${forms}, got '${value}'`);
  }
  return parsed;
}

/** `--format table|json`. */
export function listFormat(value: string | undefined): 'table' | 'json' {
  if (value === undefined || value === 'table') return 'table';
  if (value === 'json') return 'json';
  throw new UsageError(`--format: expected table or json, got '${value}'`);
}

/** A short random id: `<prefix>-` and 8 hex digits. */
export function newId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** After a subcommand that takes no more positionals: one line naming the first extra one. */
export function noMoreArguments(rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(`unexpected argument '${terminalSafe(rest[0] ?? '', 40)}'`);
}

/**
 * Runs `command`'s subcommand `sub` (given the positionals after it), or says in one line which
 * subcommands there are.
 */
export function runSubcommand(
  command: string,
  sub: string | undefined,
  rest: readonly string[],
  handlers: Readonly<Record<string, (rest: readonly string[]) => Promise<number>>>,
): Promise<number> {
  const handler = sub === undefined || !Object.hasOwn(handlers, sub) ? undefined : handlers[sub];
  if (handler !== undefined) return handler(rest);
  const names = Object.keys(handlers);
  const expected = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  throw new UsageError(
    sub === undefined
      ? `expected ${expected} (see certwatch ${command} --help)`
      : `unknown subcommand '${terminalSafe(sub, 40)}' (expected ${expected})`,
  );
}

/** After saving a window or a silence: a warning when its scope names no stored endpoint (yet). */
export function warnUnmatched(io: CliIo, unmatched: readonly string[]): void {
  if (unmatched.length === 0) return;
  io.stderr.write(
    `certwatch: warning: no stored endpoint matches ${terminalSafe(unmatched.join(', '))} (yet)\n`,
  );
}

/** How a list subcommand shows its items. */
export interface ListView<T> {
  /** The JSON line of an item. */
  json(item: T): unknown;
  /** The line printed when there is nothing to show. */
  readonly none: string;
  readonly headers: readonly string[];
  /** The table row of an item (already terminal-safe). */
  row(item: T): string[];
}

/** A list subcommand's output: one JSON line per item, or a table, or the line saying there is none. */
export function writeList<T>(
  io: CliIo,
  format: 'table' | 'json',
  items: readonly T[],
  view: ListView<T>,
): number {
  if (format === 'json') {
    for (const item of items) io.stdout.write(`${jsonLine(view.json(item))}\n`);
    return 0;
  }
  if (items.length === 0) {
    io.stdout.write(`${view.none}\n`);
    return 0;
  }
  const rows = items.map((item) => view.row(item));
  io.stdout.write(
    `${renderColumns(
      view.headers,
      rows,
      items.map(() => 'ok'),
      false,
      2,
    )}\n`,
  );
  return 0;
}
