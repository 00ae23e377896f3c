/** certwatch CLI entry: dispatches subcommands and maps errors to Nagios exit codes. */
import { StateStoreError } from '../store/state-store';
import { type CliIo, terminalSafe, UsageError } from './cli-io';
import { runCheckCommand } from './check-command';
import { runInspectCommand } from './inspect-command';
import { runNotifyCommand } from './notify-command';
import { runReportCommand } from './report-command';
import { runRunCommand } from './run-command';
import { runStatusCommand } from './status-command';

export const USAGE = `certwatch — TLS certificate monitor

Usage:
  certwatch check [options] host[:port] ...   check certificates now (see certwatch check --help)
  certwatch inspect [options] FILE...         judge a certificate chain file offline (PEM or DER, - for stdin)
  certwatch run [--config FILE]               one full monitoring cycle: check, store state, alert
  certwatch status [--config FILE]            stored state of every endpoint, soonest expiry first
  certwatch notify --test [--config FILE]     send a test alert through every configured channel
  certwatch report --html FILE | --aws        the stored state as an HTML page, or the deployed page's link

Run 'certwatch <command> --help' for the options of a command.
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  check: runCheckCommand,
  inspect: runInspectCommand,
  run: runRunCommand,
  status: runStatusCommand,
  notify: runNotifyCommand,
  report: runReportCommand,
};

/** Runs the CLI; resolves to the process exit code. Never throws for bad input. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(USAGE);
    return name === undefined ? 3 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write('certwatch 0.1.0\n');
    return 0;
  }
  try {
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) {
      throw new UsageError(`unknown command '${name}' (expected ${Object.keys(COMMANDS).join(', ')})`);
    }
    return await command(rest, io);
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === null) throw error;
    const message =
      error instanceof StateStoreError
        ? terminalSafe(`state store failed: ${error.message}`)
        : (error as Error).message;
    io.stderr.write(`certwatch: ${message}\n`);
    return code;
  }
}

/**
 * Errors that carry a complete message for the user (no stack trace), and the exit code each
 * means. 3: usage or config error, or skipped because another run holds the store (UNKNOWN:
 * nothing was checked); 2: a monitor failure.
 */
const USER_FACING_EXIT_CODES: Readonly<Record<string, 2 | 3>> = {
  UsageError: 3,
  ConfigError: 3,
  CaFileError: 3,
  TargetParseError: 3,
  RunSkipped: 3,
  MonitorFailure: 2,
};

/** The exit code of a user-facing error; null for a bug (the caller prints its stack). */
function exitCodeOf(error: unknown): 2 | 3 | null {
  if (!(error instanceof Error)) return null;
  if (Object.hasOwn(USER_FACING_EXIT_CODES, error.name)) return USER_FACING_EXIT_CODES[error.name] ?? null;
  // A store error a command did not put in its own words is still the store failing: the monitor failed.
  return error instanceof StateStoreError ? 2 : null;
}
