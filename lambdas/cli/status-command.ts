/** `certwatch status`: the stored state of every endpoint address, soonest expiry first. */
import type { AddressState } from '../core/model';
import { STATUS_RANK } from '../core/model';
import { jsonLine } from '../core/untrusted-text';
import { type CliIo, storeErrorForUser, terminalSafe, useColour } from './cli-io';
import { openStore } from './local-runtime';
import { renderColumns } from './render-results';
import { openStoreErrorForUser, parseCommandArgs, STORE_OPTIONS, storeArgs, storeLabel } from './run-command';

export const STATUS_USAGE = `Usage: certwatch status [options]

Shows the stored state of every endpoint address, soonest expiry first.

Options:
      --state-dir DIR           embedded DynamoDB data directory (default .certwatch)
      --dynamodb-endpoint URL   read from this DynamoDB instead ('aws' for the real service)
      --table NAME              DynamoDB table (default certwatch)
      --json                    JSON Lines, one stored state per line
  -h, --help                    show this help

Exit codes: 0 shown, 2 the state store failed, 3 usage error, or the embedded
state directory is in use by a run in progress.
`;

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
  const { values: v } = parseCommandArgs(argv, { ...STORE_OPTIONS, json: { type: 'boolean' } });
  if (v.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  const args = storeArgs(v);
  const label = storeLabel(args);
  const opened = await openStore(args).catch((error: unknown) => {
    throw openStoreErrorForUser(error, args, 'try again when it has finished');
  });
  try {
    const stored = await opened.store.listAllAddressStates().catch((error: unknown) => {
      throw storeErrorForUser(error, label);
    });
    const states = stored.map((s) => s.state).sort(byUrgency);
    if (v.json) {
      for (const s of states) io.stdout.write(`${jsonLine(s)}\n`);
      return 0;
    }
    if (states.length === 0) {
      io.stdout.write(`No stored state in ${opened.location}. Run 'certwatch run' first.\n`);
      return 0;
    }
    const now = Date.now();
    const colour = useColour(io, io.stdout);
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
      terminalSafe(s.endpointName === s.endpointId ? s.endpointId : `${s.endpointName} (${s.endpointId})`),
      terminalSafe(s.address ?? '-'),
      s.status,
      s.daysLeft === null ? '-' : String(s.daysLeft),
      s.notAfter ? s.notAfter.slice(0, 10) : '-',
      ago(s.lastCheckedAt, now),
      ago(s.lastSuccessAt, now),
      String(s.consecutiveFailures),
      s.findings.length === 0 ? '-' : [...new Set(s.findings.map((f) => f.code))].join(','),
    ]);
    io.stdout.write(
      `${renderColumns(
        header,
        rows,
        states.map((st) => st.status),
        colour,
        2,
      )}\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
}
