/** `certwatch notify --test`: proves every configured channel works, before a real alert depends on it. */
import { makeTestAlert } from '../notify';
import { type CliIo, terminalSafe, UsageError } from './cli-io';
import { createLocalNotifiers, DEFAULT_CONFIG, loadLocalConfig, localSink } from './local-runtime';
import { parseCommandArgs } from './run-command';

export const NOTIFY_USAGE = `Usage: certwatch notify --test [--config FILE]

Sends a clearly marked test alert through every channel in the config and
reports success or failure per channel. Exit 0 when all succeed, 2 otherwise.
`;

export async function runNotifyCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs(argv, {
    test: { type: 'boolean' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.stdout.write(NOTIFY_USAGE);
    return 0;
  }
  if (!v.test) throw new UsageError('notify: only --test is supported (certwatch notify --test)');
  const loaded = await loadLocalConfig(v.config ?? DEFAULT_CONFIG, io);
  if (loaded.channels.length === 0) {
    io.stdout.write(`No channels configured in ${loaded.path}; nothing to test.\n`);
    return 0;
  }
  const local = createLocalNotifiers(loaded.channels);
  try {
    const results = await localSink(local.notifiers).deliver(makeTestAlert(new Date()), null);
    for (const r of results) {
      io.stdout.write(
        r.ok
          ? `ok      ${r.channel} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'})\n`
          : `FAILED  ${r.channel}: ${terminalSafe(r.error ?? 'unknown error')}\n`,
      );
    }
    return results.every((r) => r.ok) ? 0 : 2;
  } finally {
    local.close();
  }
}
