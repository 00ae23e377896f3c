/**
 * `certwatch inspect`: judge a certificate chain file offline, with the same
 * analysis, output and exit codes as `check` — the pre-deployment check for a
 * CI pipeline, and what users of check_ssl_cert `--file` expect.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildCheckResultWithEvidence } from '../cert/build-check-result';
import { readCertificateFile } from '../cert/certificate-file';
import type { TrustStore } from '../cert/trust-store';
import { type CheckResult, nagiosExitCode, type ProbeOutcome, worstStatus } from '../core/model';
import { parseTarget, TargetParseError } from '../core/parse-target';
import { completeFromAia } from '../pipeline/check-target';
import { type CaIssuersFetcher, fetchCaIssuers } from '../probe/fetch-ca-issuers';
import { DEFAULT_TIMEOUT_MS } from './check-command';
import { type CliIo, terminalSafe, UsageError, useColour } from './cli-io';
import { parseCliArgs } from './args';
import { OUTPUT_OPTIONS, type OutputArgs, outputArgs, outputUsage } from './output-format';
import {
  renderResultsCsv,
  renderResultsNagios,
  renderSummary,
  renderTable,
  toJsonRecord,
} from './render-results';
import { jsonLine } from '../core/untrusted-text';
import {
  cliTrustStore,
  expiryDayArgs,
  JUDGEMENT_OPTIONS,
  type JudgementArgs,
  judgementArgs,
} from './trust-options';
import { primeRootSubjectKeys } from './root-subject-keys';

export const INSPECT_USAGE = `Usage: certwatch inspect [options] FILE...

Judges certificate chain files offline, as check judges what a server sends:
PEM or DER, the leaf first, then the rest as a server would send them.
FILE - reads standard input. One result per file.

Options:
      --host NAME         judge whether the leaf covers NAME (a host name or IP address);
                          without it no host name is judged
      --ca-file PEM       also trust the CA certificates in PEM (added to Node's bundled roots); repeatable
      --no-system-roots   trust only the --ca-file certificates, not Node's bundled roots
      --at ISO-8601       judge as of this instant (2027-01-15, 2027-01-15T09:00:00Z); default now
  -w, --warn-days N       warning when the earliest expiry is within N days (default 30)
  -c, --critical-days N   critical when within N days (default 7)
      --fetch-issuers     fetch a missing issuer from the URL the certificate names (AIA caIssuers,
                          over the network); without it a chain that lacks its intermediate is
                          judged on what the file holds (UNTRUSTED_CHAIN)
${outputUsage(26)}
                          (json and csv as check prints them, the network fields empty)
      --no-color          never colour the table
  -h, --help              show this help

Exit codes (Nagios): 0 ok, 1 warning, 2 critical/expired/error, 3 usage error or a file
that is missing, empty, not a certificate file, or holds a private key.
`;

/** A chain file, or standard input, is refused beyond this: no certificate chain comes near it. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Options of `certwatch inspect`, as parsed. */
export interface InspectCommandOptions {
  /** The FILE arguments as given (`-` is standard input). */
  readonly files: readonly string[];
  /** The host name the leaf must cover; null judges none. */
  readonly host: string | null;
  readonly judgement: JudgementArgs;
  readonly warnDays: number;
  readonly criticalDays: number;
  readonly fetchIssuers: boolean;
  /** `--format`/`--json` and `--tz`. */
  readonly output: OutputArgs;
  readonly colour: boolean;
}

/** Parses argv (after `inspect`); throws UsageError naming the bad argument. */
export function parseInspectArgs(argv: string[], io: CliIo): InspectCommandOptions | 'help' {
  const parsed = parseCliArgs('inspect', argv, INSPECT_OPTIONS, true);
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length === 0)
    throw new UsageError('no files: give one or more chain files, or - for stdin');
  if (parsed.positionals.filter((f) => f === '-').length > 1) {
    throw new UsageError('- (standard input) can be given once');
  }
  const { warnDays, criticalDays } = expiryDayArgs(v);
  return {
    files: parsed.positionals,
    host: v.host === undefined ? null : hostName(v.host),
    judgement: judgementArgs(v, io.cwd ?? process.cwd()),
    warnDays,
    criticalDays,
    fetchIssuers: v['fetch-issuers'] === true,
    output: outputArgs(v, io.env),
    colour: v['no-color'] === true ? false : useColour(io, io.stdout),
  };
}

const INSPECT_OPTIONS = {
  host: { type: 'string' },
  ...JUDGEMENT_OPTIONS,
  'warn-days': { type: 'string', short: 'w' },
  'critical-days': { type: 'string', short: 'c' },
  'fetch-issuers': { type: 'boolean' },
  ...OUTPUT_OPTIONS,
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--host`: a host name or IP literal in the canonical form `check` compares (a port is allowed and ignored). */
function hostName(value: string): string {
  try {
    return parseTarget(value).host;
  } catch (error) {
    if (error instanceof TargetParseError) throw new UsageError(`--host: ${error.message}`);
    throw error;
  }
}

/** One chain file's certificates, read and checked before anything is judged. */
interface ChainFile {
  /** What results name it by: the path as given, `stdin` for `-`. */
  readonly target: string;
  readonly certificates: readonly Uint8Array[];
}

/** What `inspect` reaches beyond its files; injected by tests. */
export interface InspectDeps {
  /** Used with `--fetch-issuers`. @default fetchCaIssuers, the process-wide cached HTTP fetcher */
  readonly fetchCaIssuers?: CaIssuersFetcher;
}

/** Runs `certwatch inspect`; returns the exit code. */
export async function runInspectCommand(argv: string[], io: CliIo, deps: InspectDeps = {}): Promise<number> {
  const opts = parseInspectArgs(argv, io);
  if (opts === 'help') {
    io.stdout.write(INSPECT_USAGE);
    return 0;
  }
  // Every file is read first: one bad input is one line and exit 3, before any result is printed.
  const chains: ChainFile[] = [];
  for (const file of opts.files) chains.push(await readChainFile(file, io));
  primeRootSubjectKeys();
  const trust = cliTrustStore(opts.judgement);
  const now = opts.judgement.at ?? new Date();
  const started = Date.now();
  const results: CheckResult[] = [];
  const fetcher = opts.fetchIssuers ? (deps.fetchCaIssuers ?? fetchCaIssuers) : null;
  for (const chain of chains) results.push(await inspectChain(chain, opts, trust, now, fetcher));

  const format = opts.output.format;
  if (format === 'json') {
    for (const r of results) io.stdout.write(`${inspectJsonLine(r, opts.host)}\n`);
  } else if (format === 'csv') {
    io.stdout.write(renderResultsCsv(results.map((r) => inspectJsonRecord(r, opts.host))));
  } else if (format === 'nagios') {
    io.stdout.write(
      renderResultsNagios(results, {
        network: false,
        warnDays: opts.warnDays,
        criticalDays: opts.criticalDays,
        timeZone: opts.output.timeZone,
      }),
    );
  } else {
    io.stdout.write(
      renderTable(results, { colour: opts.colour, network: false, timeZone: opts.output.timeZone }),
    );
    io.stdout.write(
      `\n${renderSummary(results, Date.now() - started, { one: 'file', many: 'files', done: 'inspected' })}`,
    );
  }
  if (opts.host === null) {
    io.stderr.write(
      'certwatch: note: no --host given, so no host name was judged (give --host NAME to judge one)\n',
    );
  }
  return nagiosExitCode(worstStatus(results.map((r) => r.status)));
}

/** The certificates of one FILE argument; UsageError (exit 3) with one line when there are none to judge. */
async function readChainFile(file: string, io: CliIo): Promise<ChainFile> {
  const shown = terminalSafe(file);
  let bytes: Uint8Array;
  if (file === '-') {
    bytes = await readStdin(io.stdin ?? process.stdin);
  } else {
    const path = resolve(io.cwd ?? process.cwd(), file);
    try {
      if (statSync(path).size > MAX_FILE_BYTES) {
        throw new UsageError(`${shown}: larger than 10 MiB, which no certificate chain is`);
      }
      bytes = readFileSync(path);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
      throw new UsageError(`${shown}: cannot read (${why})`);
    }
  }
  const contents = readCertificateFile(bytes);
  if (!contents.ok) throw new UsageError(`${file === '-' ? 'stdin' : shown}: ${contents.problem}`);
  return { target: file === '-' ? 'stdin' : file, certificates: contents.certificates };
}

async function readStdin(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk);
    total += buffer.length;
    if (total > MAX_FILE_BYTES)
      throw new UsageError('stdin: larger than 10 MiB, which no certificate chain is');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Judges one file as the analysis judges what a server sent: the certificates as the chain,
 * no connection (so no address, protocol or cipher), and the AIA fetch only when asked for.
 */
async function inspectChain(
  chain: ChainFile,
  opts: InspectCommandOptions,
  trust: TrustStore,
  now: Date,
  fetcher: CaIssuersFetcher | null,
): Promise<CheckResult> {
  const started = performance.now();
  const outcome: ProbeOutcome = {
    host: opts.host ?? '',
    port: 0,
    address: null,
    servername: null,
    chainDer: chain.certificates,
    protocol: null,
    cipher: null,
    error: null,
    durationMs: 0,
  };
  const judge = (aiaIssuers: readonly Uint8Array[]) =>
    buildCheckResultWithEvidence(outcome, {
      target: chain.target,
      now,
      thresholds: { warnDays: opts.warnDays, criticalDays: opts.criticalDays },
      trust,
      hostname: opts.host,
      ...(aiaIssuers.length > 0 ? { aiaIssuers } : {}),
    });
  const first = judge([]);
  const result =
    fetcher !== null && first.missingIssuer?.caIssuersUrls.length
      ? await completeFromAia(first, judge, fetcher, DEFAULT_TIMEOUT_MS)
      : first.result;
  return { ...result, durationMs: Math.round(performance.now() - started) };
}

/** `check`'s JSON object, every field present: the network fields are null, `host` is `--host` or null. */
export function inspectJsonLine(r: CheckResult, host: string | null): string {
  return jsonLine(inspectJsonRecord(r, host));
}

function inspectJsonRecord(r: CheckResult, host: string | null) {
  return {
    ...toJsonRecord(r),
    host,
    port: null,
    address: null,
    servername: null,
    protocol: null,
    cipher: null,
  };
}
