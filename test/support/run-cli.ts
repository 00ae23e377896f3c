/**
 * Runs the CLI's `main` in-process, as `bin/certwatch.js` does, and captures
 * what it writes: the exit code, stdout and stderr.
 */
import { Writable } from 'node:stream';
import type { CliIo } from '../../lambdas/cli/cli-io';
import { main } from '../../lambdas/cli/main';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `main(argv)` with an empty environment unless `io.env` gives one. */
export async function runCli(
  argv: string[],
  io: Partial<Pick<CliIo, 'env' | 'cwd' | 'stdin'>> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await main(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: io.env ?? {},
    ...(io.cwd !== undefined ? { cwd: io.cwd } : {}),
    ...(io.stdin !== undefined ? { stdin: io.stdin } : {}),
  });
  return { code, stdout, stderr };
}
