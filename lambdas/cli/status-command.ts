/** `certwatch status`: the stored state of every endpoint address, soonest expiry first. */
import { resolve } from 'node:path';
import { BUILTIN_DEFAULTS, loadConfig, resolveEndpoints } from '../config';
import { type AddressState, nagiosExitCode, STATUS_RANK, worstStatus } from '../core/model';
import { jsonLine } from '../core/untrusted-text';
import { detectorBrokenFor } from '../pipeline/watchdog';
import type { DetectorBroken, StateStore } from '../store/state-store';
import { type CliIo, terminalSafe, useColour } from './cli-io';
import { storeErrorForUser } from './store-errors';
import { openStore } from './local-runtime';
import {
  displayDate,
  OUTPUT_OPTIONS,
  outputUsage,
  outputArgs,
  renderCsv,
  renderNagios,
} from './output-format';
import { renderColumns } from './render-results';
import { openStoreErrorForUser, parseCommandArgs, STORE_OPTIONS, storeArgs, storeLabel } from './run-command';

export const STATUS_USAGE = `Usage: certwatch status [options]

Shows the stored state of every endpoint address, soonest expiry first.

Options:
      --config FILE             show only the endpoints of this config, judged by its warnDays and
                                criticalDays (nagios perfdata); without it, every stored endpoint
      --state-dir DIR           embedded DynamoDB data directory (default .certwatch)
      --dynamodb-endpoint URL   read from this DynamoDB instead ('aws' for the real service)
      --table NAME              DynamoDB table (default certwatch)
${outputUsage(32)}
      --no-color                never colour the table
  -h, --help                    show this help

When the latest run failed because the canary found the detector broken, a
line (table, nagios) or the field latestRunFailed (json) says so, and status
exits 2: the stored results of a broken detector prove nothing.

Exit codes (Nagios), from the worst stored status: 0 ok, 1 warning,
2 critical, expired or error (or the state store failed, or the latest run
failed), 3 unknown: no stored state, usage or config error, or the embedded
state directory is in use by a run in progress.
`;

/** The latest run, when a canary failure failed it (`latestRunFailed` in the JSON). */
export interface LatestRunFailed {
  readonly runId: string;
  readonly startedAt: string;
  /** "the detector is broken: …" */
  readonly reason: string;
  readonly detectorBroken: DetectorBroken;
}

/** Whether the newest run failed: a canary failure belongs to it (`detectorBrokenFor`). Reads three run items. */
export async function latestRunFailed(store: StateStore): Promise<LatestRunFailed | null> {
  const runs = await store.listRuns(3);
  const latest = runs[0];
  if (latest === undefined) return null;
  const broken = detectorBrokenFor(latest, runs);
  return broken === null
    ? null
    : { runId: latest.runId, startedAt: latest.startedAt, reason: broken.reason, detectorBroken: broken };
}

function latestRunLine(failed: LatestRunFailed): string {
  return terminalSafe(
    `latest run ${failed.runId} FAILED: ${failed.reason} (canary at ${failed.detectorBroken.at})`,
  );
}

/** Soonest expiry first; unknown expiry (never obtained a certificate) after known ones, worst status first. */
export function byUrgency(a: AddressState, b: AddressState): number {
  const da = a.notAfter ? Date.parse(a.notAfter) : Number.POSITIVE_INFINITY;
  const db = b.notAfter ? Date.parse(b.notAfter) : Number.POSITIVE_INFINITY;
  if (da !== db) return da - db;
  return STATUS_RANK[b.status] - STATUS_RANK[a.status] || a.key.localeCompare(b.key);
}

function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const mins = Math.round((now - Date.parse(iso)) / 60_000);
  if (mins < 60) return `${mins}m ago`;
  if (mins < 48 * 60) return `${Math.round(mins / 60)}h ago`;
  return `${Math.round(mins / 1440)}d ago`;
}

export async function runStatusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs('status', argv, {
    ...STORE_OPTIONS,
    ...OUTPUT_OPTIONS,
    'no-color': { type: 'boolean' },
  });
  if (v.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  const output = outputArgs(v, io.env);
  // An explicit --config must exist and be valid (one line, exit 3, before the store is opened).
  const config = v.config === undefined ? null : loadConfig(resolve(io.cwd ?? process.cwd(), v.config));
  const only = config === null ? null : new Set(resolveEndpoints(config).map((e) => e.id));
  const { warnDays, criticalDays } = config?.defaults ?? BUILTIN_DEFAULTS.defaults;
  const args = storeArgs(v);
  const label = storeLabel(args);
  const opened = await openStore(args).catch((error: unknown) => {
    throw openStoreErrorForUser(error, args, 'try again when it has finished');
  });
  try {
    const stored = await opened.store.listAllAddressStates().catch((error: unknown) => {
      throw storeErrorForUser(error, label);
    });
    const states = stored
      .map((s) => s.state)
      .filter((s) => only === null || only.has(s.endpointId))
      .sort(byUrgency);
    if (states.length === 0) {
      // UNKNOWN: nothing is known yet, which is not "all is well".
      const which = only === null ? '' : ` for the endpoints of ${v.config}`;
      if (output.format === 'nagios') io.stdout.write(`CERTWATCH UNKNOWN - no stored state${which}\n`);
      else if (output.format === 'table') {
        io.stdout.write(`No stored state in ${opened.location}${which}. Run 'certwatch run' first.\n`);
      } else if (output.format === 'csv') io.stdout.write(renderCsv(STATE_CSV_HEADER, []));
      return 3;
    }
    const failed = await latestRunFailed(opened.store).catch((error: unknown) => {
      throw storeErrorForUser(error, label);
    });
    const code = failed !== null ? 2 : nagiosExitCode(worstStatus(states.map((s) => s.status)));
    const write = (text: string) => io.stdout.write(text);
    switch (output.format) {
      case 'json':
        for (const s of states)
          write(`${jsonLine(failed === null ? s : { ...s, latestRunFailed: failed })}\n`);
        return code;
      case 'csv':
        write(renderCsv(STATE_CSV_HEADER, states.map(stateCsvRow)));
        return code;
      case 'nagios':
        write(
          renderNagios(
            states.map((s) => ({ ...s, label: `${endpointLabel(s)} [${s.address ?? 'dns'}]` })),
            { warnDays, criticalDays, timeZone: output.timeZone },
          ),
        );
        // Long output (the lines after the first): the reason for the exit code.
        if (failed !== null) write(`${latestRunLine(failed)}\n`);
        return code;
      case 'table':
        write(
          renderStateTable(
            states,
            output.timeZone,
            v['no-color'] === true ? false : useColour(io, io.stdout),
          ),
        );
        if (failed !== null) write(`\n${latestRunLine(failed)}\n`);
        return code;
      default:
        return output.format satisfies never;
    }
  } finally {
    await opened.close();
  }
}

function endpointLabel(s: AddressState): string {
  return s.endpointName === s.endpointId ? s.endpointId : `${s.endpointName} (${s.endpointId})`;
}

function renderStateTable(states: readonly AddressState[], timeZone: string, colour: boolean): string {
  const now = Date.now();
  const header = [
    'ENDPOINT',
    'ADDRESS',
    'STATUS',
    'DAYS',
    'EXPIRES',
    'LAST CHECK',
    'LAST OK',
    'FAILS',
    'FINDINGS',
  ];
  const rows = states.map((s) => [
    terminalSafe(endpointLabel(s)),
    terminalSafe(s.address ?? '-'),
    s.status,
    s.daysLeft === null ? '-' : String(s.daysLeft),
    displayDate(s.notAfter, timeZone),
    ago(s.lastCheckedAt, now),
    ago(s.lastSuccessAt, now),
    String(s.consecutiveFailures),
    findingsCell(s),
  ]);
  return `${renderColumns(
    header,
    rows,
    states.map((st) => st.status),
    colour,
    2,
  )}\n`;
}

/** The findings, and the window or silence covering the address ("in maintenance", "silenced"). */
function findingsCell(s: AddressState): string {
  const codes = s.findings.length === 0 ? '-' : [...new Set(s.findings.map((f) => f.code))].join(',');
  const by = s.suppressedBy;
  if (!by) return codes;
  const label = by.kind === 'maintenance' ? `in maintenance ${by.name}` : `silenced: ${by.name}`;
  return `${codes} (${terminalSafe(label, 60)} until ${by.until.slice(0, 16).replace('T', ' ')}Z)`;
}

/** The columns of `status --format csv`: the stored state's JSON field names. */
export const STATE_CSV_HEADER = [
  'endpointId',
  'endpointName',
  'host',
  'port',
  'address',
  'status',
  'daysLeft',
  'notAfter',
  'issuer',
  'findings',
  'lastCheckedAt',
  'lastSuccessAt',
  'consecutiveFailures',
  'failingSince',
] as const;

function stateCsvRow(s: AddressState) {
  return [
    s.endpointId,
    s.endpointName,
    s.host,
    s.port,
    s.address,
    s.status,
    s.daysLeft,
    s.notAfter,
    s.issuer,
    [...new Set(s.findings.map((f) => f.code))].join(' '),
    s.lastCheckedAt,
    s.lastSuccessAt,
    s.consecutiveFailures,
    s.failingSince,
  ];
}
