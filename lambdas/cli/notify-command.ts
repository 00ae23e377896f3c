/** `certwatch notify --test`: proves every configured channel works, before a real alert depends on it. */
import { makeTestAlert } from '../notify';
import { StateDirInUseError } from '../store/embedded-dynamodb';
import { type CliIo, terminalSafe, UsageError } from './cli-io';
import { createLocalNotifiers, DEFAULT_CONFIG, loadLocalConfig, localSink, openStore } from './local-runtime';
import {
  type CommonStoreArgs,
  deliveryError,
  parseCommandArgs,
  STORE_OPTIONS,
  storeArgs,
  storeLabel,
} from './run-command';
import { storeErrorForUser } from './store-errors';

export const NOTIFY_USAGE = `Usage: certwatch notify --test [options]

Sends a clearly marked test alert through every channel in the config and
reports success or failure per channel.

Options:
      --config FILE             config file (default ${DEFAULT_CONFIG})
      --state-dir DIR           also check that this embedded state store opens and answers
      --dynamodb-endpoint URL   also check that this DynamoDB answers ('aws' for the real service)
      --table NAME              the table to check (default certwatch)
  -h, --help                    show this help

Alerts wait in the state store until every channel has them, so a run needs
the store as much as the channels: with a store option, a store that does not
answer is reported in one line and the exit code is 2.

Exit codes: 0 every channel (and the store) answered, 2 a channel or the store
failed, 3 nothing to test (no channel configured), usage or config error.
`;

export async function runNotifyCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs('notify', argv, { ...STORE_OPTIONS, test: { type: 'boolean' } });
  if (v.help) {
    io.stdout.write(NOTIFY_USAGE);
    return 0;
  }
  if (!v.test) throw new UsageError('notify: only --test is supported (certwatch notify --test)');
  const store =
    v['state-dir'] !== undefined || v['dynamodb-endpoint'] !== undefined || v.table !== undefined
      ? storeArgs(v)
      : null;
  const loaded = await loadLocalConfig(v.config ?? DEFAULT_CONFIG, io);
  if (loaded.channels.length === 0) {
    io.stdout.write(`No channels configured in ${loaded.path}; nothing to test.\n`);
    if (store) await checkStore(store, io);
    // UNKNOWN: a check that tested nothing must not read as "alerts work".
    return 3;
  }
  const local = createLocalNotifiers(loaded.channels);
  try {
    const results = await localSink(local.notifiers).deliver(makeTestAlert(new Date()), null);
    for (const r of results) {
      io.stdout.write(
        r.ok
          ? `ok      ${r.channel} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'})\n`
          : `FAILED  ${r.channel}: ${terminalSafe(deliveryError(r.error))}\n`,
      );
    }
    if (store) await checkStore(store, io);
    return results.every((r) => r.ok) ? 0 : 2;
  } finally {
    local.close();
  }
}

/**
 * Opens the store and reads its run lease (one GetItem): prints one `ok` line, or throws the
 * one-line store failure. An embedded store held by a run in progress is evidently working.
 */
async function checkStore(args: CommonStoreArgs, io: CliIo): Promise<void> {
  const label = storeLabel(args);
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openStore(args);
  } catch (error) {
    if (error instanceof StateDirInUseError) {
      io.stdout.write(`ok      state store ${label} (in use by a run in progress)\n`);
      return;
    }
    throw storeErrorForUser(error, label);
  }
  try {
    const lease = await opened.store.getRunLease();
    io.stdout.write(
      `ok      state store ${label}${lease ? ` (run lease: run ${lease.runId} on ${terminalSafe(lease.host)} until ${lease.until})` : ''}\n`,
    );
  } catch (error) {
    throw storeErrorForUser(error, label);
  } finally {
    await opened.close();
  }
}
