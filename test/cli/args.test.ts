/**
 * Argument handling shared by every command: one line in certwatch's words for any argument
 * error, durations with units (a bare number is seconds), and the version flags.
 */
import { describe, expect, it } from 'vitest';
import { argumentProblem, parseDurationArg } from '../../lambdas/cli/args';
import { parseDuration } from '../../lambdas/config/duration';
import { runCli } from '../support/run-cli';
import pkg from '../../package.json';

const OPTIONS = {
  timeout: { type: 'string', short: 't' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

describe('argumentProblem', () => {
  it.each([
    { argv: ['--bogus'], positionals: true, problem: 'unknown option --bogus' },
    { argv: ['--bogus=1'], positionals: true, problem: 'unknown option --bogus' },
    { argv: ['-x'], positionals: true, problem: 'unknown option -x' },
    { argv: ['-hx'], positionals: true, problem: 'unknown option -x' },
    { argv: ['--timeout'], positionals: true, problem: 'option --timeout needs a value' },
    { argv: ['-t'], positionals: true, problem: 'option -t (--timeout) needs a value' },
    {
      argv: ['--timeout', '-5'],
      positionals: true,
      problem: "option --timeout needs a value (for one that starts with '-', write --timeout=-5)",
    },
    { argv: ['--json=yes'], positionals: true, problem: 'option --json takes no value' },
    { argv: ['host', 'extra'], positionals: false, problem: "unexpected argument 'host'" },
    { argv: ['--', 'x'], positionals: false, problem: "unexpected argument 'x'" },
  ])('$argv → $problem', ({ argv, positionals, problem }) => {
    // Act
    const found = argumentProblem(argv, OPTIONS, positionals);
    // Assess
    expect(found).toBe(problem);
  });
});

describe('parseDurationArg', () => {
  const bounds = { minMs: 1, maxMs: 600_000 };

  it.each([
    { value: '10', ms: 10_000 },
    { value: '2.5', ms: 2_500 },
    { value: '500ms', ms: 500 },
    { value: '10s', ms: 10_000 },
    { value: '2m', ms: 120_000 },
    { value: '1m30s', ms: 90_000 },
    { value: ' 3s ', ms: 3_000 },
  ])('$value → $ms ms', ({ value, ms }) => {
    // Act & Assess
    expect(parseDurationArg(value, '--timeout', bounds)).toBe(ms);
  });

  it.each([
    {
      value: 'soon',
      message: "--timeout: expected a duration like 10 (seconds), 500ms, 10s or 2m, got 'soon'",
    },
    { value: '-1', message: "--timeout: expected a duration like 10 (seconds), 500ms, 10s or 2m, got '-1'" },
    { value: '11m', message: "--timeout: must be between 1ms and 10m, got '11m'" },
    { value: '0', message: "--timeout: must be between 1ms and 10m, got '0'" },
  ])('refuses $value in one line naming the option', ({ value, message }) => {
    // Act & Assess
    expect(() => parseDurationArg(value, '--timeout', bounds)).toThrow(message);
  });

  it('leaves the config meaning alone: a bare number string is no config duration, a YAML number is ms', () => {
    // Act & Assess
    expect(parseDuration('10')).toBeNull();
    expect(parseDuration(10)).toBe(10);
    expect(parseDuration('10', { bareNumber: 's' })).toBe(10_000);
  });
});

describe('certwatch argument errors', () => {
  it.each([
    {
      argv: ['check', '--bogus', 'example.com'],
      line: 'certwatch: unknown option --bogus (see certwatch check --help)',
    },
    {
      argv: ['check', '-t'],
      line: 'certwatch: option -t (--timeout) needs a value (see certwatch check --help)',
    },
    {
      argv: ['inspect', '--bogus', 'x.pem'],
      line: 'certwatch: unknown option --bogus (see certwatch inspect --help)',
    },
    { argv: ['run', 'extra'], line: "certwatch: unexpected argument 'extra' (see certwatch run --help)" },
    {
      argv: ['status', '--json=1'],
      line: 'certwatch: option --json takes no value (see certwatch status --help)',
    },
    { argv: ['notify', '--bogus'], line: 'certwatch: unknown option --bogus (see certwatch notify --help)' },
    { argv: ['--bogus'], line: 'certwatch: unknown option --bogus (see certwatch --help)' },
    {
      argv: ['frobnicate'],
      line: "certwatch: unknown command 'frobnicate' (expected check, inspect, run, status, notify, report, selftest, maintenance, silence or version)",
    },
    { argv: ['-v'], line: 'certwatch: -v is not an option: -V or --version prints the version' },
    {
      argv: ['check', '--format', 'xml', 'example.com'],
      line: "certwatch: --format: expected one of table, json, nagios, csv, got 'xml'",
    },
    {
      argv: ['check', '--json', '--format', 'csv', 'example.com'],
      line: 'certwatch: --json means --format json; it cannot be combined with --format csv',
    },
  ])('$argv → one line, exit 3', async ({ argv, line }) => {
    // Act
    const r = await runCli(argv);
    // Assess: exactly the one line, in certwatch's words (no Node parseArgs text)
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe('');
  });

  it.each([['-V'], ['--version'], ['version']])('%s prints the version', async (flag) => {
    // Act
    const r = await runCli([flag]);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`certwatch ${pkg.version}\n`);
  });
});
