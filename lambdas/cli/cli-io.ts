import { cleanUntrusted } from '../core/untrusted-text';

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

/** Parses a whole number within [min, max] for option `what`. */
export function parseIntOption(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${what}: expected a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${what}: must be between ${min} and ${max}, got ${n}`);
  return n;
}
