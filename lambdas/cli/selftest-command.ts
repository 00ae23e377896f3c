/**
 * `certwatch selftest`: runs the canary on demand (the same one every `certwatch run` runs) and
 * prints one line per fixture. Exit 0 when the detector judged every fixture right, 2 when not.
 */
import { CANARY_FIXTURES, type CanaryDeps, runCanary } from '../canary/run-canary';
import type { CliIo } from './cli-io';
import { parseCliArgs } from './args';

export const SELFTEST_USAGE = `Usage: certwatch selftest

Proves the detector works: serves built-in known-bad certificates (expired, hostname
mismatch, self-signed, malformed, a server that never answers) and one good one from
throwaway TLS servers on 127.0.0.1, checks each through the same probe and analysis as
any endpoint, and compares each verdict with the expected one. Needs no config and no
network beyond loopback; every 'certwatch run' does the same.

Exit codes: 0 every fixture judged right, 2 the detector is broken, 3 usage error.
`;

/** Runs the selftest; `deps` stand in for the detector in tests. */
export async function runSelftestCommand(argv: string[], io: CliIo, deps: CanaryDeps = {}): Promise<number> {
  const { values: v } = parseCliArgs('selftest', argv, { help: { type: 'boolean', short: 'h' } }, false);
  if (v.help) {
    io.stdout.write(SELFTEST_USAGE);
    return 0;
  }
  const report = await runCanary(deps);
  const width = Math.max(...Object.keys(CANARY_FIXTURES).map((n) => n.length));
  for (const verdict of report.verdicts) {
    const expected = verdict.expected.finding ?? 'no findings';
    io.stdout.write(
      verdict.ok
        ? `ok    ${verdict.fixture.padEnd(width)}  ${verdict.status} (${expected})\n`
        : `FAIL  ${verdict.fixture.padEnd(width)}  ${verdict.failure}\n`,
    );
  }
  const right = report.verdicts.filter((v) => v.ok).length;
  if (report.verdicts.length === 0) for (const f of report.failures) io.stdout.write(`FAIL  ${f}\n`);
  io.stdout.write(
    `canary: ${right} of ${Object.keys(CANARY_FIXTURES).length} fixtures judged right in ${report.durationMs} ms\n`,
  );
  return report.failures.length === 0 ? 0 : 2;
}
