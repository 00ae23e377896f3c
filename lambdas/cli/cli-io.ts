import { cleanUntrusted } from '../core/untrusted-text';
import { StateDirInUseError } from '../store/embedded-dynamodb';
import { StateStoreError } from '../store/state-store';

/** What a CLI command may touch of its host process; injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory for relative paths; defaults to process.cwd(). */
  readonly cwd?: string;
  /** Standard input (`certwatch inspect -`); defaults to process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
}

/** A bad argument, target or input file: exit code 3 with one line naming what is wrong. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The monitor could not do its job (its state store failed, its run lease was taken over):
 * exit code 2, like any other monitor failure, with one line naming what failed.
 */
export class MonitorFailure extends Error {
  override readonly name = 'MonitorFailure';
}

/**
 * This command did nothing because another certwatch process has the store (a run holds its
 * run lease, or has the embedded state directory open): exit code 3 (UNKNOWN: nothing was
 * checked; the other run reports its own result), with one line naming the holder.
 */
export class RunSkipped extends Error {
  override readonly name = 'RunSkipped';
}

/**
 * Turns a store error into the one line the user sees, naming the store (`location`), the
 * operation and the cause; `then` is appended (what happens next). Other errors pass through.
 */
export function storeErrorForUser(error: unknown, location: string, then = ''): unknown {
  if (error instanceof StateDirInUseError) {
    return new RunSkipped(
      `the state directory of ${location} is in use by another certwatch process (a run in progress?); try again when it has finished`,
    );
  }
  if (!(error instanceof StateStoreError)) return error;
  const prefix = `${error.operation}(${error.key}): `;
  const cause = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new MonitorFailure(
    terminalSafe(
      `state store ${location} failed: ${error.operation}(${error.key}): ${cause || error.name}${then}`,
    ),
  );
}

/** Whether to colour output written to `stream`: only on a TTY, and never when NO_COLOR is set. */
export function useColour(io: CliIo, stream: { isTTY?: boolean }): boolean {
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  if (io.env['FORCE_COLOR'] !== undefined && io.env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

/**
 * Makes untrusted text (certificate subjects, server error strings) safe for a
 * terminal, by the shared rule set (core/untrusted-text, target `terminal`):
 * control characters would let a certificate move the cursor, rewrite earlier
 * lines or change the terminal title, and bidi controls would reorder the line.
 */
export function terminalSafe(text: string, maxLength?: number): string {
  return cleanUntrusted(text, { target: 'terminal', maxLength });
}

/** Parses a duration: plain milliseconds (`5000`), or `500ms`, `10s`, `2m`, `1h`. */
export function parseDurationMs(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${what}: expected a duration like 5000, 500ms or 10s, got '${value}'`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const ms = n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[unit as 'ms' | 's' | 'm' | 'h'];
  if (!Number.isFinite(ms) || ms < 1 || ms > 600_000) {
    throw new UsageError(`${what}: must be between 1ms and 10m, got '${value}'`);
  }
  return Math.round(ms);
}

/** Parses a whole number within [min, max] for option `what`. */
export function parseIntOption(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${what}: expected a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${what}: must be between ${min} and ${max}, got ${n}`);
  return n;
}
