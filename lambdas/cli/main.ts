/** certwatch CLI entry: dispatches subcommands and maps errors to Nagios exit codes. */
import { type CliIo, UsageError } from './cli-io';
import { runCheckCommand } from './check-command';
import { runNotifyCommand } from './notify-command';
import { runRunCommand } from './run-command';
import { runStatusCommand } from './status-command';

export const USAGE = `certwatch — TLS certificate monitor

Usage:
  certwatch check [options] host[:port] ...   check certificates now (see certwatch check --help)
  certwatch run [--config FILE]               one full monitoring cycle: check, store state, alert
  certwatch status [--config FILE]            stored state of every endpoint, soonest expiry first
  certwatch notify --test [--config FILE]     send a test alert through every configured channel

Run 'certwatch <command> --help' for the options of a command.
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  check: runCheckCommand,
  run: runRunCommand,
  status: runStatusCommand,
  notify: runNotifyCommand,
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
    if (!command) throw new UsageError(`unknown command '${name}' (expected check, run, status or notify)`);
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isUserFacing(error)) {
      io.stderr.write(`certwatch: ${(error as Error).message}\n`);
      return 3;
    }
    throw error;
  }
}

/** Errors that carry a complete message for the user (config errors, store errors): no stack trace. */
function isUserFacing(error: unknown): boolean {
  return error instanceof Error && ['ConfigError', 'CaFileError', 'TargetParseError'].includes(error.name);
}
