/**
 * certwatch CLI entry: dispatches subcommands and maps errors to Nagios exit codes.
 *
 * Each command is loaded only when it runs (`import()`; the bundle splits there), so
 * `certwatch --help` and `certwatch --version` load nothing but this file.
 */
import { version } from '../../package.json';
import { StateStoreError } from '../store/state-store';
import { awsErrorAdvice } from './aws-errors';
import { type CliIo, terminalSafe, UsageError } from './cli-io';

export const VERSION: string = version;

export const USAGE = `certwatch ${VERSION} — TLS certificate monitor

Usage:
  certwatch check [options] host[:port] ...   check certificates now (see certwatch check --help)
  certwatch inspect [options] FILE...         judge a certificate chain file offline (PEM or DER, - for stdin)
  certwatch run [--config FILE]               one full monitoring cycle: check, store state, alert
  certwatch status [--config FILE]            stored state of every endpoint, soonest expiry first
  certwatch notify --test [--config FILE]     send a test alert through every configured channel
  certwatch report --html FILE | --aws        the stored state as an HTML page, or the deployed page's link
  certwatch selftest                          prove the detector works: check built-in known-bad certificates
  certwatch maintenance add|list|cancel       announced maintenance windows: failures in them do not page
  certwatch silence add|list|expire           quiet one endpoint or tag until a set time (at most 30 days)
  certwatch version                           print the version (also -V, --version)

Run 'certwatch <command> --help' for the options of a command.

Exit codes (Nagios): 0 ok, 1 warning, 2 critical/expired/error or a monitor failure,
3 unknown: usage or config error, nothing to check or test, or another run holds the store.
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Every command, loaded on use. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  check: async () => (await import('./check-command')).runCheckCommand,
  inspect: async () => (await import('./inspect-command')).runInspectCommand,
  run: async () => (await import('./run-command')).runRunCommand,
  status: async () => (await import('./status-command')).runStatusCommand,
  notify: async () => (await import('./notify-command')).runNotifyCommand,
  report: async () => (await import('./report-command')).runReportCommand,
  selftest: async () => (await import('./selftest-command')).runSelftestCommand,
  maintenance: async () => (await import('./maintenance-command')).runMaintenanceCommand,
  silence: async () => (await import('./silence-command')).runSilenceCommand,
};

const HELP = new Set(['-h', '--help', 'help']);
const VERSION_ARGS = new Set(['-V', '--version', 'version']);

/** Runs the CLI; resolves to the process exit code. Never throws for bad input. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || HELP.has(name)) {
    io.stdout.write(USAGE);
    return name === undefined ? 3 : 0;
  }
  if (VERSION_ARGS.has(name)) {
    io.stdout.write(`certwatch ${VERSION}\n`);
    return 0;
  }
  try {
    if (name === '-v') {
      // check_ssl_cert's -v is --verbose, ssl-cert-check's -V the version: neither meaning is guessed.
      throw new UsageError('-v is not an option: -V or --version prints the version');
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) {
      throw new UsageError(
        name.startsWith('-')
          ? `unknown option ${name} (see certwatch --help)`
          : `unknown command '${name}' (expected ${Object.keys(COMMANDS).join(', ')} or version)`,
      );
    }
    return await (await load())(rest, io);
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === null) throw error;
    io.stderr.write(`certwatch: ${messageOf(error as Error)}\n`);
    return code;
  }
}

function messageOf(error: Error): string {
  if (error instanceof StateStoreError) {
    return terminalSafe(`state store failed: ${awsErrorAdvice(error) ?? error.message}`);
  }
  if (!Object.hasOwn(USER_FACING_EXIT_CODES, error.name)) {
    // An AWS SDK failure no command put in its own words: what to set, in one line.
    return terminalSafe(awsErrorAdvice(error) ?? error.message);
  }
  return error.message;
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
  if (error instanceof StateStoreError) return 2;
  // An AWS SDK failure (no region, no credentials) is the environment's: UNKNOWN, nothing was done.
  return awsErrorAdvice(error) === null ? null : 3;
}
