/**
 * `certwatch run`: one full monitoring cycle locally, through the same
 * functions the Lambdas run: dispatch → check every address → alert policy →
 * state → deliveries → watchdog judgement.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { canaryFailureAlert, detectorBrokenMark } from '../canary/canary-alert';
import { type CanaryDeps, type CanaryReport, runCanary } from '../canary/run-canary';
import { TrustStores } from '../cert/trust-store';
import { clientKeyReader, envSecretResolver } from '../config/secret-ref';
import { type Alert, type DeliveryResult, nagiosExitCode, worstStatus } from '../core/model';
import { runCycleWithMaintenance } from '../pipeline/maintenance-cycle';
import { DEFAULT_RUN_LEASE_MS } from '../pipeline/run-cycle';
import { RunLeaseHeldError, RunLeaseLostError } from '../pipeline/run-lease';
import { scheduleIntervalMs } from '../core/schedule-interval';
import { decode } from '../core/decode';
import { StateDirInUseError } from '../store/embedded-dynamodb';
import type { RunLease } from '../store/state-store';
import { storedItem } from '../store/stored-items';
import { parseCliArgs, parseDurationArg } from './args';
import { awsErrorAdvice } from './aws-errors';
import {
  type CliIo,
  MonitorFailure,
  parseIntOption,
  RunSkipped,
  terminalSafe,
  UsageError,
  useColour,
} from './cli-io';
import {
  createLocalNotifiers,
  DEFAULT_CONFIG,
  DEFAULT_STATE_DIR,
  DEFAULT_TABLE,
  loadLocalConfig,
  localSink,
  openStore,
} from './local-runtime';
import { OUTPUT_OPTIONS, outputUsage, outputArgs } from './output-format';
import {
  renderResultsCsv,
  renderResultsNagios,
  renderSummary,
  renderTable,
  toJsonLine,
  toJsonRecord,
} from './render-results';
import { storeErrorForUser } from './store-errors';
import { primeRootSubjectKeys } from './root-subject-keys';

export const RUN_USAGE = `Usage: certwatch run [options]

One full monitoring cycle: sync the inventory from the config, check every
address, apply the alert policy, store state, deliver alerts, and judge the run.

Options:
      --config FILE             config file (default ${DEFAULT_CONFIG})
      --state-dir DIR           embedded DynamoDB data directory (default ${DEFAULT_STATE_DIR})
      --dynamodb-endpoint URL   use this DynamoDB (e.g. DynamoDB Local) instead of the embedded store;
                                'aws' uses the real service with your AWS credentials
      --table NAME              DynamoDB table (default ${DEFAULT_TABLE})
      --concurrency N           addresses checked at once (default 128)
      --lease DURATION          run lease: how long another run is kept off this store if this one
                                stops renewing it (e.g. crashes): 90s, 2m; a bare number is seconds;
                                default 2m, renewed every third
${outputUsage(32)}
      --no-color                never colour the table
  -h, --help                    show this help

One run at a time per store: a run takes the store's run lease first. While
another run holds it, run prints one line naming that run and exits 3 without
checking anything.

Every run also runs the canary of 'certwatch selftest' (known-bad certificates on
127.0.0.1, about 0.3 s, beside the checks); a fixture judged wrongly pages every
channel with "the detector is broken: ..." and fails the run.

Exit codes (Nagios): 0 ok, 1 warning, 2 critical/expired/error or a monitor failure
(undelivered alert, incomplete run, state store failure, canary judged wrongly), 3 usage or config error,
or not run because another run holds the store.
`;

export interface CommonStoreArgs {
  config: string;
  stateDir: string;
  dynamodbEndpoint: string | null;
  table: string;
}

export const STORE_OPTIONS = {
  config: { type: 'string' },
  'state-dir': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  table: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** parseArgs for a command without positional arguments, errors in certwatch's words. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: O,
) {
  return parseCliArgs(command, argv, options, false);
}

export function storeArgs(v: Record<string, unknown>): CommonStoreArgs {
  const endpoint = v['dynamodb-endpoint'] as string | undefined;
  if (endpoint !== undefined && endpoint !== 'aws' && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new UsageError(
      `--dynamodb-endpoint: expected a URL like http://127.0.0.1:8000 or 'aws', got '${endpoint}'`,
    );
  }
  const table = (v['table'] as string | undefined) ?? DEFAULT_TABLE;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
    throw new UsageError(
      `--table: '${table}' is not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`,
    );
  }
  return {
    config: (v['config'] as string | undefined) ?? DEFAULT_CONFIG,
    stateDir: (v['state-dir'] as string | undefined) ?? DEFAULT_STATE_DIR,
    dynamodbEndpoint: endpoint ?? null,
    table,
  };
}

/** Where the state lives, for messages (also when it could not be opened). */
export function storeLabel(args: Pick<CommonStoreArgs, 'stateDir' | 'dynamodbEndpoint' | 'table'>): string {
  if (args.dynamodbEndpoint === null) return `embedded DynamoDB in ${args.stateDir}`;
  return `table ${args.table} at ${args.dynamodbEndpoint === 'aws' ? 'AWS' : args.dynamodbEndpoint}`;
}

/**
 * The embedded store's directory lock keeps a second process out before it can read the lease
 * inside, so the holder also leaves this note next to it, for the refusal line to name it.
 */
const LEASE_NOTE = 'run-lease.json';

function leaseWords(l: RunLease): string {
  return terminalSafe(`run ${l.runId} on host ${l.host}, pid ${l.pid}, since ${l.acquiredAt}`);
}

/** The run named in the embedded store's lease note, if the note is there and its process may still be alive. */
function leaseNoteHolder(stateDir: string): RunLease | null {
  let note: RunLease;
  try {
    const decoded = decode(storedItem.runLease, JSON.parse(readFileSync(join(stateDir, LEASE_NOTE), 'utf8')));
    if (!decoded.ok) return null;
    note = decoded.value;
  } catch {
    return null;
  }
  if (note.host !== hostname()) return note;
  try {
    process.kill(note.pid, 0);
    return note;
  } catch (error) {
    // EPERM: alive, someone else's; ESRCH: the note is left over from a run that died.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? note : null;
  }
}

/**
 * The one line for a store that could not be opened; an embedded state directory locked by a
 * run names that run (from its lease note). `then` says what this command does about it.
 */
export function openStoreErrorForUser(error: unknown, args: CommonStoreArgs, then: string): unknown {
  const holder = error instanceof StateDirInUseError ? leaseNoteHolder(args.stateDir) : null;
  if (holder) return new RunSkipped(`another run holds ${storeLabel(args)}: ${leaseWords(holder)}; ${then}`);
  return storeErrorForUser(error, storeLabel(args));
}

/** Stand-ins for tests: `canary` replaces the canary's detector (a deliberately broken one). */
export interface RunCommandDeps {
  readonly canary?: CanaryDeps;
}

export async function runRunCommand(argv: string[], io: CliIo, deps: RunCommandDeps = {}): Promise<number> {
  const { values: v } = parseCommandArgs('run', argv, {
    ...STORE_OPTIONS,
    concurrency: { type: 'string' },
    lease: { type: 'string' },
    ...OUTPUT_OPTIONS,
    'no-color': { type: 'boolean' },
  });
  if (v.help) {
    io.stdout.write(RUN_USAGE);
    return 0;
  }
  const args = storeArgs(v);
  const concurrency =
    v.concurrency === undefined ? 128 : parseIntOption(v.concurrency, '--concurrency', 1, 4096);
  const leaseMs =
    v.lease === undefined
      ? DEFAULT_RUN_LEASE_MS
      : parseDurationArg(v.lease, '--lease', { minMs: 1, maxMs: 600_000 });
  if (leaseMs < 1_000) throw new UsageError(`--lease: must be at least 1s, got '${v.lease}'`);
  const colour = v['no-color'] === true ? false : useColour(io, io.stdout);
  const output = outputArgs(v, io.env);
  const loaded = await loadLocalConfig(args.config, io);
  const label = storeLabel(args);
  const embedded = args.dynamodbEndpoint === null;
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openStore({ ...args, historyTtlDays: loaded.config.defaults.historyTtlDays });
  } catch (error) {
    throw openStoreErrorForUser(error, args, 'not running');
  }
  primeRootSubjectKeys();
  const local = createLocalNotifiers(loaded.channels, opened.tickets);
  const log = (line: string) => io.stderr.write(`${line}\n`);
  let noteWritten = false;
  // The canary runs beside the cycle (it adds its own duration only when it is the slower one).
  let canary: Promise<CanaryReport> | null = null;
  try {
    const now = () => new Date();
    canary = runCanary(deps.canary);
    const trust = new TrustStores(loaded.trustProfiles);
    const deliveries: DeliveryResult[] = [];
    const printAlert = (alert: Alert, results: readonly DeliveryResult[]) => {
      const where =
        results.length === 0
          ? 'no channel configured'
          : results
              .map((r) => (r.ok ? `${r.channel} ok` : `${r.channel} FAILED: ${deliveryError(r.error)}`))
              .join(', ');
      log(
        `ALERT ${alert.severity.toUpperCase()} ${terminalSafe(alert.endpoint)}${alert.address ? ` [${alert.address}]` : ''}: ${terminalSafe(alert.summary)} -> ${terminalSafe(where)}`,
      );
    };
    const sink = localSink(local.notifiers, (alert, results) => {
      deliveries.push(...results);
      printAlert(alert, results);
    });
    const withMaintenance = await runCycleWithMaintenance(
      {
        store: opened.store,
        suppressions: opened.suppressions,
        sink,
        // An announcement no channel took is still shown (the sink prints those it delivered).
        onAnnounced: (alert, results) => {
          if (results.length === 0 && local.notifiers.length === 0) printAlert(alert, []);
        },
        trustFor: (endpoint) => trust.forEndpoint(endpoint),
        now,
        clientKey: clientKeyReader(envSecretResolver(io.env), (path) =>
          readFileSync(resolve(dirname(loaded.path), path), 'utf8'),
        ),
        onCheckError: (msg, error) =>
          log(`certwatch: check of ${msg.endpointId} [${msg.address ?? 'dns'}] failed: ${String(error)}`),
        onLeaseTaken: (lease, previous) => {
          if (embedded) {
            writeFileSync(join(args.stateDir, LEASE_NOTE), `${JSON.stringify(lease)}\n`);
            noteWritten = true;
          }
          if (previous) {
            log(
              `certwatch run ${lease.runId}: took over the run lease of ${leaseWords(previous)}, ` +
                'which was never released (did that run crash?)',
            );
          }
        },
        onDispatched: (d) =>
          log(
            `certwatch run ${d.runId}: ${d.endpoints} endpoints, ${d.expected} addresses ` +
              `(inventory +${d.inventory.added} ~${d.inventory.updated} -${d.inventory.removed}; state: ${opened.location})`,
          ),
      },
      loaded.endpoints,
      loaded.config.maintenance.windows,
      {
        concurrency,
        intervalMs: scheduleIntervalMs(loaded.config.schedule),
        lease: { leaseMs, holder: { host: hostname(), pid: process.pid }, exclusive: embedded },
      },
    ).catch((error: unknown) => {
      throw runErrorForUser(error, label);
    });
    const { cycle } = withMaintenance;
    // Quieted alerts are recorded in the state and shown here, never dropped without a word.
    for (const outcome of cycle.outcomes) {
      for (const q of outcome.quieted ?? []) {
        const by = q.by.kind === 'maintenance' ? `in maintenance ${q.by.name}` : `silenced: ${q.by.name}`;
        const where = outcome.state?.address ? ` [${outcome.state.address}]` : '';
        log(
          `QUIETED ${q.severity.toUpperCase()} ${terminalSafe(outcome.state?.endpointName ?? '')}${where}: ${terminalSafe(q.summary)} (${terminalSafe(by)}, until ${q.by.until})`,
        );
      }
    }
    const owedAnnouncements = withMaintenance.ticks.flatMap((t) => t.owed);
    const { dispatched, judgement, failedChecks } = cycle;
    const order = new Map(loaded.endpoints.map((e, i) => [e.id, i]));
    const results = [...cycle.results].sort(
      (a, b) =>
        (order.get(a.target) ?? 0) - (order.get(b.target) ?? 0) ||
        (a.address ?? '').localeCompare(b.address ?? ''),
    );
    if (output.format === 'json') for (const r of results) io.stdout.write(`${toJsonLine(r)}\n`);
    else if (output.format === 'csv') io.stdout.write(renderResultsCsv(results.map(toJsonRecord)));
    else if (output.format === 'nagios') {
      const { warnDays, criticalDays } = loaded.config.defaults;
      io.stdout.write(
        renderResultsNagios(results, { network: true, warnDays, criticalDays, timeZone: output.timeZone }),
      );
    } else {
      io.stdout.write(renderTable(results, { colour, timeZone: output.timeZone }));
      io.stdout.write(`\n${renderSummary(results, now().getTime() - Date.parse(dispatched.startedAt))}`);
    }
    const canaryReport = await canary;
    log(
      `canary: ${canaryReport.verdicts.filter((x) => x.ok).length} of ${canaryReport.verdicts.length} fixtures judged right (${canaryReport.durationMs} ms)`,
    );
    for (const failure of canaryReport.failures) log(`certwatch: ${failure}`);
    const broken = detectorBrokenMark(canaryReport, now());
    if (broken !== null) {
      await sink.deliver(canaryFailureAlert(canaryReport, dispatched.runId, now()), null);
      // The run is failed in the store too: `status` shows it until a run with a working detector.
      await opened.store.markDetectorBroken(broken, dispatched.runId).catch((error: unknown) => {
        throw storeErrorForUser(error, label, '; the canary failure was paged but not recorded on the run');
      });
    }
    const failedDeliveries = deliveries.filter((d) => !d.ok).length + owedAnnouncements.length;
    const alertsSent = cycle.outcomes.reduce((n, o) => n + o.alerts.length, 0);
    // No judgement here: another judge (the deployed watchdog, after this run's deadline) holds it.
    const verdict =
      judgement === null
        ? 'judged elsewhere'
        : broken !== null
          ? 'FAILED (the detector is broken)'
          : judgement.complete
            ? 'complete'
            : 'INCOMPLETE';
    log(
      `run ${verdict}: ${judgement?.completed ?? '?'} of ${dispatched.expected} checks; ` +
        `${alertsSent} new alert${alertsSent === 1 ? '' : 's'}, ${failedDeliveries} failed deliver${failedDeliveries === 1 ? 'y' : 'ies'}`,
    );
    const worst = nagiosExitCode(worstStatus(results.map((r) => r.status)));
    const monitorFailed =
      failedDeliveries > 0 ||
      failedChecks > 0 ||
      judgement?.complete === false ||
      canaryReport.failures.length > 0;
    return monitorFailed ? 2 : worst;
  } finally {
    // Never leave the canary's servers behind, also when the cycle failed.
    await canary;
    if (noteWritten) rmSync(join(args.stateDir, LEASE_NOTE), { force: true });
    local.close();
    await opened.close();
  }
}

/** The one line a run that could not finish prints (see `RunSkipped`, `MonitorFailure`). */
function runErrorForUser(error: unknown, label: string): unknown {
  if (error instanceof RunLeaseHeldError) {
    const h = error.holder;
    return new RunSkipped(
      `another run holds the run lease of ${label}: ${leaseWords(h)}; ` +
        `the lease expires at ${h.until} unless renewed; not running`,
    );
  }
  if (error instanceof RunLeaseLostError) {
    return new MonitorFailure(
      `${error.message} after it lapsed (this run stalled for longer than --lease?); ` +
        'stopped before checking everything; the run that holds it now carries on',
    );
  }
  return storeErrorForUser(error, label, '; run stopped, the next run resumes from the stored state');
}

/** A failed delivery's error as the user reads it: an AWS failure says what to set. */
export function deliveryError(error: string | null | undefined): string {
  return awsErrorAdvice(error) ?? error ?? 'unknown error';
}
