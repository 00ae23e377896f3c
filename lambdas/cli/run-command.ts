/**
 * `certwatch run`: one full monitoring cycle locally, through the same
 * functions the Lambdas run: dispatch → check every address → alert policy →
 * state → deliveries → watchdog judgement.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadTrustStore } from '../cert/trust-store';
import { type Alert, type DeliveryResult, nagiosExitCode, worstStatus } from '../core/model';
import { runCycle } from '../pipeline/run-cycle';
import { scheduleIntervalMs } from '../core/schedule-interval';
import { type CliIo, parseIntOption, terminalSafe, UsageError, useColour } from './cli-io';
import {
  createLocalNotifiers,
  DEFAULT_CONFIG,
  DEFAULT_STATE_DIR,
  DEFAULT_TABLE,
  loadLocalConfig,
  localSink,
  openStore,
} from './local-runtime';
import { renderSummary, renderTable, toJsonLine } from './render-results';

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
      --json                    print results as JSON Lines instead of the table
      --no-color                never colour the table
  -h, --help                    show this help

Exit codes (Nagios): 0 ok, 1 warning, 2 critical/expired/error or a monitor failure
(undelivered alert, incomplete run), 3 usage or config error.
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

/** parseArgs with errors turned into one-line usage errors. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
) {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals: false as const });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
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

export async function runRunCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs(argv, {
    ...STORE_OPTIONS,
    concurrency: { type: 'string' },
    json: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  });
  if (v.help) {
    io.stdout.write(RUN_USAGE);
    return 0;
  }
  const args = storeArgs(v);
  const concurrency =
    v.concurrency === undefined ? 128 : parseIntOption(v.concurrency, '--concurrency', 1, 4096);
  const colour = v['no-color'] === true ? false : useColour(io, io.stdout);
  const loaded = await loadLocalConfig(args.config, io);
  const opened = await openStore({ ...args, historyTtlDays: loaded.config.defaults.historyTtlDays });
  const local = createLocalNotifiers(loaded.channels);
  const log = (line: string) => io.stderr.write(`${line}\n`);
  try {
    const now = () => new Date();
    const trust = loadTrustStore({});
    const deliveries: DeliveryResult[] = [];
    const printAlert = (alert: Alert, results: readonly DeliveryResult[]) => {
      const where =
        results.length === 0
          ? 'no channel configured'
          : results.map((r) => (r.ok ? `${r.channel} ok` : `${r.channel} FAILED: ${r.error}`)).join(', ');
      log(
        `ALERT ${alert.severity.toUpperCase()} ${terminalSafe(alert.endpoint)}${alert.address ? ` [${alert.address}]` : ''}: ${terminalSafe(alert.summary)} -> ${terminalSafe(where)}`,
      );
    };
    const sink = localSink(local.notifiers, (alert, results) => {
      deliveries.push(...results);
      printAlert(alert, results);
    });
    const cycle = await runCycle(
      {
        store: opened.store,
        sink,
        trust,
        now,
        onCheckError: (msg, error) =>
          log(`certwatch: check of ${msg.endpointId} [${msg.address ?? 'dns'}] failed: ${String(error)}`),
        onDispatched: (d) =>
          log(
            `certwatch run ${d.runId}: ${d.endpoints} endpoints, ${d.expected} addresses ` +
              `(inventory +${d.inventory.added} ~${d.inventory.updated} -${d.inventory.removed}; state: ${opened.location})`,
          ),
      },
      loaded.endpoints,
      { concurrency, intervalMs: scheduleIntervalMs(loaded.config.schedule) },
    );
    const { dispatched, judgement, failedChecks } = cycle;
    const order = new Map(loaded.endpoints.map((e, i) => [e.id, i]));
    const results = [...cycle.results].sort(
      (a, b) =>
        (order.get(a.target) ?? 0) - (order.get(b.target) ?? 0) ||
        (a.address ?? '').localeCompare(b.address ?? ''),
    );
    if (v.json) for (const r of results) io.stdout.write(`${toJsonLine(r)}\n`);
    else {
      io.stdout.write(renderTable(results, { colour }));
      io.stdout.write(`\n${renderSummary(results, now().getTime() - Date.parse(dispatched.startedAt))}`);
    }
    const failedDeliveries = deliveries.filter((d) => !d.ok).length;
    const alertsSent = cycle.outcomes.reduce((n, o) => n + o.alerts.length, 0);
    log(
      `run ${judgement?.complete ? 'complete' : 'INCOMPLETE'}: ${judgement?.completed ?? '?'} of ${dispatched.expected} checks; ` +
        `${alertsSent} new alert${alertsSent === 1 ? '' : 's'}, ${failedDeliveries} failed deliver${failedDeliveries === 1 ? 'y' : 'ies'}`,
    );
    const worst = nagiosExitCode(worstStatus(results.map((r) => r.status)));
    const monitorFailed = failedDeliveries > 0 || failedChecks > 0 || judgement?.complete === false;
    return monitorFailed ? 2 : worst;
  } finally {
    local.close();
    await opened.close();
  }
}
