/** `certwatch silence add|list|expire`: time-boxed silences in the state store. */
import { type Silence, silenceEffectiveEnd } from '../core/maintenance';
import { formatDuration } from '../config/duration';
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

export const SILENCE_USAGE = `Usage: certwatch silence add (--endpoint X | --tag T) --until TIME --reason TEXT
       certwatch silence list [--all] [--format table|json]
       certwatch silence expire ID

Quiets the alerts of one endpoint or tag until a set time: they are recorded and shown
as "silenced", not sent. Revocation, and expiry inside the critical window, still page.
A silence always ends (at most maintenance.maxSilence, 30 days by default); its start
and its end are announced to the endpoints' channels by 'certwatch run' (or the
deployed stack).

Options of add:
      --endpoint X              the endpoint, by id (host:port) or name
      --tag T                   every endpoint with this tag
      --until TIME              2026-12-03T02:00 (in --time-zone), 2026-12-03T01:00Z, or a
                                duration from now like 4h or 3d
      --reason TEXT             why (shown in status and the announcements)
      --time-zone ZONE          IANA zone --until is read in (default UTC)
Options of list:
      --all                     also silences that ended
      --format table|json       json: one silence per line
Common options:
${STORE_USAGE}
  -h, --help                    show this help

Exit codes: 0 done, 3 usage error, unknown silence, or the store is in use by a run.
`;

const OPTIONS = {
  ...STORE_OPTIONS,
  endpoint: { type: 'string' },
  tag: { type: 'string' },
  until: { type: 'string' },
  reason: { type: 'string' },
  'time-zone': { type: 'string' },
  all: { type: 'boolean' },
  format: { type: 'string' },
} as const;

export interface SilenceCommandDeps {
  /** The clock (tests). @default the system clock */
  readonly now?: () => Date;
}

export async function runSilenceCommand(
  argv: string[],
  io: CliIo,
  deps: SilenceCommandDeps = {},
): Promise<number> {
  const { values: v, positionals } = parseSubcommandArgs('silence', argv, OPTIONS);
  if (v.help) {
    io.stdout.write(SILENCE_USAGE);
    return 0;
  }
  const [sub, ...rest] = positionals;
  const now = (deps.now ?? (() => new Date()))();
  return runSubcommand('silence', sub, rest, {
    add: (more) => {
      noMoreArguments(more);
      return add(v, io, now);
    },
    list: (more) => {
      noMoreArguments(more);
      return list(v, io, now);
    },
    expire: (more) => expire(v, more, io, now),
  });
}

type Values = ReturnType<typeof parseSubcommandArgs<typeof OPTIONS>>['values'];

async function add(v: Values, io: CliIo, now: Date): Promise<number> {
  if ((v.endpoint === undefined) === (v.tag === undefined)) {
    throw new UsageError('give either --endpoint or --tag (one silence silences one endpoint or one tag)');
  }
  const reason = v.reason?.trim();
  if (!reason) throw new UsageError('--reason: required (why the alerts are silenced)');
  const timeZone = timeZoneArg(v['time-zone']);
  const until = timeArg(v.until, '--until', timeZone, now, true);
  const { maxSilenceMs } = maintenanceLimits(v, io);
  if (until.getTime() <= now.getTime()) throw new UsageError(`--until: '${v.until}' is not in the future`);
  if (until.getTime() - now.getTime() > maxSilenceMs) {
    throw new UsageError(
      `--until: at most ${formatDuration(maxSilenceMs)} from now (maintenance.maxSilence), got '${v.until}'`,
    );
  }
  const silence: Silence = {
    id: newId('sil'),
    endpoint: v.endpoint ?? null,
    tag: v.tag ?? null,
    until: until.toISOString(),
    reason,
    createdAt: now.toISOString(),
    expiredAt: null,
  };
  const { saved, unmatched } = await withSuppressionStore(v, async (store, state) => ({
    saved: await store.saveSilence(silence, [], null),
    unmatched: await unmatchedScope(state, {
      endpoints: silence.endpoint === null ? [] : [silence.endpoint],
      tags: silence.tag === null ? [] : [silence.tag],
    }),
  }));
  if (saved !== 'saved') throw new UsageError('a silence with the same id exists already; try again');
  warnUnmatched(io, unmatched);
  const scope = silence.endpoint !== null ? silence.endpoint : `tag ${silence.tag}`;
  io.stdout.write(
    `silence ${silence.id}: ${terminalSafe(scope)} until ${silence.until} (${terminalSafe(reason)}); ` +
      `announced on the next 'certwatch run' (or within a minute when deployed)\n`,
  );
  return 0;
}

function isActive(s: Silence, now: Date): boolean {
  return now.getTime() < Date.parse(silenceEffectiveEnd(s));
}

async function list(v: Values, io: CliIo, now: Date): Promise<number> {
  const format = listFormat(v.format);
  const stored = await withSuppressionStore(v, (store) => store.listSilences());
  const shown = stored
    .filter((s) => v.all === true || isActive(s.silence, now))
    .sort(
      (a, b) => a.silence.until.localeCompare(b.silence.until) || a.silence.id.localeCompare(b.silence.id),
    );
  return writeList(io, format, shown, {
    json: (s) => ({
      ...s.silence,
      state: isActive(s.silence, now) ? 'active' : 'ended',
      announced: s.announced,
    }),
    none: v.all ? 'No silences.' : 'No active silences.',
    headers: ['ID', 'SCOPE', 'UNTIL', 'STATE', 'REASON'],
    row: ({ silence: s }) => [
      terminalSafe(s.id),
      terminalSafe(s.endpoint ?? `tag:${s.tag ?? ''}`),
      silenceEffectiveEnd(s),
      isActive(s, now) ? 'active' : 'ended',
      terminalSafe(s.reason),
    ],
  });
}

async function expire(v: Values, rest: readonly string[], io: CliIo, now: Date): Promise<number> {
  const [id, ...extra] = rest;
  if (id === undefined)
    throw new UsageError('expected the id of the silence to expire (see certwatch silence list)');
  noMoreArguments(extra);
  const outcome = await withSuppressionStore(v, async (store) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await store.getSilence(id);
      if (stored === null) return 'unknown' as const;
      if (!isActive(stored.silence, now)) return 'ended' as const;
      const expired = { ...stored.silence, expiredAt: now.toISOString() };
      if ((await store.saveSilence(expired, stored.announced, stored.version)) === 'saved')
        return 'expired' as const;
    }
    return 'busy' as const;
  });
  if (outcome === 'unknown')
    throw new UsageError(`no silence '${terminalSafe(id, 64)}' (see certwatch silence list --all)`);
  if (outcome === 'ended') throw new UsageError(`silence '${terminalSafe(id, 64)}' has ended already`);
  if (outcome === 'busy') throw new UsageError(`silence '${terminalSafe(id, 64)}' kept changing; try again`);
  io.stdout.write(`silence ${id} expired now; its end is announced, and its alerts page as usual again\n`);
  return 0;
}
