/** `certwatch maintenance add|list|cancel`: announced maintenance windows in the state store. */
import {
  cancelledBeforeStart,
  formatInZone,
  type MaintenanceWindow,
  windowEffectiveEnd,
} from '../core/maintenance';
import { parseDurationArg } from './args';
import { type CliIo, terminalSafe, UsageError } from './cli-io';
import {
  listFormat,
  maintenanceLimits,
  newId,
  noMoreArguments,
  parseSubcommandArgs,
  runSubcommand,
  STORE_OPTIONS,
  STORE_USAGE,
  timeArg,
  timeZoneArg,
  unmatchedScope,
  warnUnmatched,
  withSuppressionStore,
  writeList,
} from './suppression-cli';

export const MAINTENANCE_USAGE = `Usage: certwatch maintenance add --name NAME (--endpoint X | --tag T)... --start TIME --end TIME [options]
       certwatch maintenance list [--all] [--format table|json]
       certwatch maintenance cancel ID

Announced maintenance windows. During a window, connection, handshake and hostname
failures of its endpoints are recorded and shown as "in maintenance" but do not page;
expiry and revocation alerts always do. The window is announced to the channels of its
endpoints when it is scheduled, a lead time before it starts, when it starts and when it
ends; at the end its endpoints are re-checked, the all-clear lists those that are fine,
and any still broken pages at once. 'certwatch run' (or the deployed stack) sends them.

Options of add:
      --name NAME               what the announcements call it
      --endpoint X              an endpoint in scope, by id (host:port) or name (repeatable)
      --tag T                   endpoints with this tag are in scope (repeatable)
      --start TIME              2026-12-03T02:00 (in --time-zone) or 2026-12-03T01:00Z
      --end TIME                after --start
      --time-zone ZONE          IANA zone the times are read and announced in (default UTC)
      --message TEXT            what the announcements say about it
      --lead-time DURATION      reminder this long before the start (default the config's
                                maintenance.leadTime, 24h); 0 sends none
      --id ID                   its id (default a new one)
Options of list:
      --all                     also windows that ended or were cancelled
      --format table|json       json: one window per line
Common options:
${STORE_USAGE}
  -h, --help                    show this help

Exit codes: 0 done, 3 usage error, unknown window, or the store is in use by a run.
`;

const OPTIONS = {
  ...STORE_OPTIONS,
  name: { type: 'string' },
  endpoint: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  start: { type: 'string' },
  end: { type: 'string' },
  'time-zone': { type: 'string' },
  message: { type: 'string' },
  'lead-time': { type: 'string' },
  id: { type: 'string' },
  all: { type: 'boolean' },
  format: { type: 'string' },
} as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface MaintenanceCommandDeps {
  /** The clock (tests). @default the system clock */
  readonly now?: () => Date;
}

export async function runMaintenanceCommand(
  argv: string[],
  io: CliIo,
  deps: MaintenanceCommandDeps = {},
): Promise<number> {
  const { values: v, positionals } = parseSubcommandArgs('maintenance', argv, OPTIONS);
  if (v.help) {
    io.stdout.write(MAINTENANCE_USAGE);
    return 0;
  }
  const [sub, ...rest] = positionals;
  const now = (deps.now ?? (() => new Date()))();
  return runSubcommand('maintenance', sub, rest, {
    add: (more) => {
      noMoreArguments(more);
      return add(v, io, now);
    },
    list: (more) => {
      noMoreArguments(more);
      return list(v, io, now);
    },
    cancel: (more) => cancel(v, more, io, now),
  });
}

type Values = ReturnType<typeof parseSubcommandArgs<typeof OPTIONS>>['values'];

async function add(v: Values, io: CliIo, now: Date): Promise<number> {
  const name = v.name?.trim();
  if (!name) throw new UsageError('--name: required (what the announcements call the window)');
  const endpoints = v.endpoint ?? [];
  const tags = v.tag ?? [];
  if (endpoints.length === 0 && tags.length === 0) {
    throw new UsageError('--endpoint or --tag: required (which endpoints the window covers)');
  }
  const timeZone = timeZoneArg(v['time-zone']);
  const start = timeArg(v.start, '--start', timeZone, now);
  const end = timeArg(v.end, '--end', timeZone, now);
  if (end.getTime() <= start.getTime()) {
    throw new UsageError(`--end: must be after --start (${v.start}), got '${v.end}'`);
  }
  if (end.getTime() <= now.getTime()) throw new UsageError(`--end: '${v.end}' is in the past`);
  const limits = maintenanceLimits(v, io);
  const leadTimeMs =
    v['lead-time'] === undefined
      ? limits.leadTimeMs
      : v['lead-time'] === '0'
        ? 0
        : parseDurationArg(v['lead-time'], '--lead-time', { minMs: 0, maxMs: 30 * 86_400_000 });
  const id = v.id ?? newId('mw');
  if (!ID.test(id))
    throw new UsageError(`--id: expected letters, digits, "_", "." or "-" (at most 64), got '${id}'`);
  const window: MaintenanceWindow = {
    id,
    name,
    endpoints,
    tags,
    start: start.toISOString(),
    end: end.toISOString(),
    timeZone,
    message: v.message ?? '',
    leadTimeMs,
    createdAt: now.toISOString(),
    cancelledAt: null,
    source: 'cli',
  };
  const { saved, unmatched } = await withSuppressionStore(v, async (store, state) => ({
    saved: await store.saveWindow(window, [], null),
    unmatched: await unmatchedScope(state, window),
  }));
  if (saved !== 'saved') throw new UsageError(`--id: a window '${id}' exists already`);
  warnUnmatched(io, unmatched);
  io.stdout.write(
    `maintenance window ${id} scheduled: ${terminalSafe(name)}, ${formatInZone(window.start, timeZone)} to ${formatInZone(window.end, timeZone)}; ` +
      `announced on the next 'certwatch run' (or within a minute when deployed)\n`,
  );
  return 0;
}

/** Where a window stands at `now`. */
export function windowState(
  w: MaintenanceWindow,
  now: Date,
): 'scheduled' | 'running' | 'ended' | 'cancelled' {
  if (cancelledBeforeStart(w)) return 'cancelled';
  const t = now.getTime();
  if (t < Date.parse(w.start)) return 'scheduled';
  return t < Date.parse(windowEffectiveEnd(w)) ? 'running' : 'ended';
}

async function list(v: Values, io: CliIo, now: Date): Promise<number> {
  const format = listFormat(v.format);
  const stored = await withSuppressionStore(v, (store) => store.listWindows());
  const shown = stored
    .map((s) => ({ ...s, state: windowState(s.window, now) }))
    .filter((s) => v.all === true || s.state === 'scheduled' || s.state === 'running')
    .sort((a, b) => a.window.start.localeCompare(b.window.start) || a.window.id.localeCompare(b.window.id));
  return writeList(io, format, shown, {
    json: (s) => ({ ...s.window, state: s.state, announced: s.announced }),
    none: v.all ? 'No maintenance windows.' : 'No scheduled or running maintenance windows.',
    headers: ['ID', 'NAME', 'SCOPE', 'START', 'END', 'STATE', 'ANNOUNCED'],
    row: ({ window: w, state, announced }) => [
      terminalSafe(w.id),
      terminalSafe(w.name),
      terminalSafe([...w.endpoints, ...w.tags.map((t) => `tag:${t}`)].join(',')),
      formatInZone(w.start, w.timeZone),
      formatInZone(windowEffectiveEnd(w), w.timeZone),
      state,
      announced
        .filter((a) => !a.startsWith('recheck@'))
        .map((a) => a.replace(/@.*/, ''))
        .join(',') || '-',
    ],
  });
}

async function cancel(v: Values, rest: readonly string[], io: CliIo, now: Date): Promise<number> {
  const [id, ...extra] = rest;
  if (id === undefined)
    throw new UsageError('expected the id of the window to cancel (see certwatch maintenance list)');
  noMoreArguments(extra);
  const outcome = await withSuppressionStore(v, async (store) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await store.getWindow(id);
      if (stored === null) return 'unknown' as const;
      const state = windowState(stored.window, now);
      if (state === 'ended' || state === 'cancelled') return state;
      const cancelled = { ...stored.window, cancelledAt: now.toISOString() };
      if ((await store.saveWindow(cancelled, stored.announced, stored.version)) === 'saved') return state;
    }
    return 'busy' as const;
  });
  switch (outcome) {
    case 'unknown':
      throw new UsageError(
        `no maintenance window '${terminalSafe(id, 64)}' (see certwatch maintenance list --all)`,
      );
    case 'ended':
    case 'cancelled':
      throw new UsageError(
        `maintenance window '${terminalSafe(id, 64)}' has ${outcome === 'ended' ? 'ended' : 'been cancelled'} already`,
      );
    case 'busy':
      throw new UsageError(`maintenance window '${terminalSafe(id, 64)}' kept changing; try again`);
    case 'scheduled':
      io.stdout.write(`maintenance window ${id} cancelled before its start; the cancellation is announced\n`);
      return 0;
    case 'running':
      io.stdout.write(
        `maintenance window ${id} ended now; its endpoints are re-checked and the end is announced\n`,
      );
      return 0;
    default:
      return outcome satisfies never;
  }
}
