/** Renders check results for people (a table) and for machines (JSON Lines). */
import type { CheckResult, Status } from '../core/model';
import { jsonLine } from '../core/untrusted-text';
import { terminalSafe } from './cli-io';

const STATUS_COLOUR: Record<Status, string> = {
  ok: '\x1b[32m',
  warning: '\x1b[33m',
  critical: '\x1b[31m',
  expired: '\x1b[1;31m',
  error: '\x1b[35m',
};
const RESET = '\x1b[0m';

/** One JSON Lines record per checked address, in the documented public shape. */
export function toJsonLine(r: CheckResult): string {
  return jsonLine(toJsonRecord(r));
}

/** The documented public shape of a result, every field present (`inspect` nulls the network ones). */
export function toJsonRecord(r: CheckResult) {
  return {
    target: r.target,
    host: r.host,
    port: r.port,
    address: r.address,
    servername: r.servername,
    status: r.status,
    daysLeft: r.daysLeft,
    notAfter: r.notAfter,
    findings: r.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message })),
    chain: r.chain,
    protocol: r.protocol,
    cipher: r.cipher,
    checkedAt: r.checkedAt,
    durationMs: r.durationMs,
  };
}

/** The most readable part of a DN: its CN, else its O, else the whole DN. */
export function shortName(dn: string | null | undefined): string {
  if (!dn) return '-';
  const cn = /(?:^|,\s*)CN=((?:\\.|[^,])*)/.exec(dn)?.[1];
  const o = /(?:^|,\s*)O=((?:\\.|[^,])*)/.exec(dn)?.[1];
  return (cn ?? o ?? dn).trim() || dn;
}

function ymd(iso: string | null): string {
  return iso ? iso.slice(0, 10) : '-';
}

/** How {@link renderTable} lays results out. */
export interface TableOptions {
  readonly colour: boolean;
  /** Whether results come from the network (an ADDRESS column); false for `inspect`'s files. @default true */
  readonly network?: boolean;
}

/** A fixed-width table, one row per address, followed by one line per finding of every non-ok row. */
export function renderTable(results: readonly CheckResult[], opts: TableOptions): string {
  const network = opts.network ?? true;
  const header = [
    'TARGET',
    ...(network ? ['ADDRESS'] : []),
    'STATUS',
    'DAYS',
    'EXPIRES',
    'ISSUER',
    'FINDINGS',
  ];
  const rows = results.map((r) => [
    terminalSafe(r.target),
    ...(network ? [terminalSafe(r.address ?? '-')] : []),
    r.status,
    r.daysLeft === null ? '-' : String(r.daysLeft),
    ymd(r.notAfter),
    terminalSafe(shortName(r.chain[0]?.issuer), 32),
    r.findings.length === 0 ? '-' : [...new Set(r.findings.map((f) => f.code))].join(','),
  ]);
  const out = [
    renderColumns(
      header,
      rows,
      results.map((r) => r.status),
      opts.colour,
      network ? 2 : 1,
    ),
  ];
  const details = results.flatMap((r) =>
    r.findings.map(
      (f) =>
        `  ${terminalSafe(r.target)}${network ? ` [${terminalSafe(r.address ?? 'dns')}]` : ''} ${f.code}: ${terminalSafe(f.message)}`,
    ),
  );
  if (details.length > 0) out.push('', ...details);
  return `${out.join('\n')}\n`;
}

/** Fixed-width columns (the last one unpadded) with the status column coloured on a TTY. */
export function renderColumns(
  header: readonly string[],
  rows: readonly string[][],
  statuses: readonly Status[],
  colour: boolean,
  statusColumn: number,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[], status?: Status) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
        return colour && status && i === statusColumn ? `${STATUS_COLOUR[status]}${padded}${RESET}` : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map((row, i) => line(row, statuses[i]))].join('\n');
}

/** What a summary counts: `{ one: 'address', many: 'addresses', done: 'checked' }` for `check` and `run`. */
export interface SummaryNoun {
  readonly one: string;
  readonly many: string;
  readonly done: string;
}

const ADDRESSES: SummaryNoun = { one: 'address', many: 'addresses', done: 'checked' };

/** "9 addresses: 2 ok, 1 warning, 3 critical, 1 expired, 2 error (4.1 s)" */
export function renderSummary(
  results: readonly CheckResult[],
  elapsedMs: number,
  noun: SummaryNoun = ADDRESSES,
): string {
  const counts = new Map<Status, number>();
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const parts = (['ok', 'warning', 'critical', 'expired', 'error'] as const)
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`);
  const what = results.length === 1 ? noun.one : noun.many;
  return `${results.length} ${what} ${noun.done}: ${parts.join(', ') || 'none'} (${(elapsedMs / 1000).toFixed(1)} s)\n`;
}
