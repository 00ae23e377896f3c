/** Renders check results for people (a table) and for machines (JSON Lines). */
import type { CheckResult, Status } from '../core/model';
import { jsonLine } from '../core/untrusted-text';
import { terminalSafe } from './cli-io';
import { displayDate, type NagiosRow, renderCsv, renderNagios } from './output-format';

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
    // What was spoken before TLS (`tls` for plain host:port); null for a certificate file.
    scheme: r.scheme ?? null,
  };
}

/** The most readable part of a DN: its CN, else its O, else the whole DN. */
export function shortName(dn: string | null | undefined): string {
  if (!dn) return '-';
  const cn = /(?:^|,\s*)CN=((?:\\.|[^,])*)/.exec(dn)?.[1];
  const o = /(?:^|,\s*)O=((?:\\.|[^,])*)/.exec(dn)?.[1];
  return (cn ?? o ?? dn).trim() || dn;
}

/** How {@link renderTable} lays results out. */
export interface TableOptions {
  readonly colour: boolean;
  /** Whether results come from the network (an ADDRESS column); false for `inspect`'s files. @default true */
  readonly network?: boolean;
  /** The zone of the EXPIRES dates (`--tz`). @default 'UTC' */
  readonly timeZone?: string;
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
    displayDate(r.notAfter, opts.timeZone ?? 'UTC'),
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

/** The columns of `--format csv`: the JSON field names, the chain's leaf as subject and issuer. */
export const RESULT_CSV_HEADER = [
  'target',
  'host',
  'port',
  'address',
  'servername',
  'status',
  'daysLeft',
  'notAfter',
  'subject',
  'issuer',
  'findings',
  'protocol',
  'cipher',
  'checkedAt',
  'durationMs',
  'scheme',
] as const;

/** What a CSV row reads of a result's JSON record (`inspect` nulls the network fields). */
type ResultCsvRecord = Omit<ReturnType<typeof toJsonRecord>, 'host' | 'port'> & {
  readonly host: string | null;
  readonly port: number | null;
};

/** `--format csv` of results in their JSON shape (`inspect` nulls the network fields there). */
export function renderResultsCsv(records: readonly ResultCsvRecord[]): string {
  return renderCsv(
    RESULT_CSV_HEADER,
    records.map((r) => [
      r.target,
      r.host,
      r.port,
      r.address,
      r.servername,
      r.status,
      r.daysLeft,
      r.notAfter,
      r.chain[0]?.subject ?? null,
      r.chain[0]?.issuer ?? null,
      [...new Set(r.findings.map((f) => f.code))].join(' '),
      r.protocol,
      r.cipher,
      r.checkedAt,
      r.durationMs,
      r.scheme,
    ]),
  );
}

/** `--format nagios` of results: one plugin line; `network` labels each by its address too. */
export function renderResultsNagios(
  results: readonly CheckResult[],
  opts: {
    readonly network: boolean;
    readonly warnDays: number;
    readonly criticalDays: number;
    readonly timeZone: string;
  },
): string {
  const rows: NagiosRow[] = results.map((r) => ({
    label: opts.network ? `${r.target} [${r.address ?? 'dns'}]` : r.target,
    status: r.status,
    daysLeft: r.daysLeft,
    notAfter: r.notAfter,
    findings: r.findings,
  }));
  return renderNagios(rows, opts);
}
