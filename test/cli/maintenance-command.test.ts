/**
 * `certwatch maintenance` and `certwatch silence` against the embedded store `run` and
 * `status` use: add, list, cancel/expire, the one line each bad argument gets, and a run
 * whose connection failure a window quiets ("in maintenance" in status and its JSON).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli';

describe('certwatch maintenance and silence', () => {
  let dir: string;
  let state: string;
  let config: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-maintenance-'));
    state = join(dir, 'state');
    config = join(dir, 'c.yaml');
    // Port 1 on loopback refuses: a connection failure, alerted at the first failed check.
    writeFileSync(
      config,
      'defaults: { failuresBeforeAlert: 1 }\nmaintenance: { maxSilence: 7d }\nendpoints:\n  - { host: "127.0.0.1:1", name: refused, tags: [edge] }\n',
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const store = () => ['--state-dir', state];

  it('adds, lists and cancels a window', async () => {
    // Act
    const added = await runCli([
      'maintenance',
      'add',
      '--id',
      'later',
      '--name',
      'later work',
      '--tag',
      'edge',
      '--start',
      '2099-01-01T02:00',
      '--end',
      '2099-01-01T04:00',
      '--time-zone',
      'Europe/Berlin',
      ...store(),
    ]);
    const listed = await runCli(['maintenance', 'list', '--format', 'json', ...store()]);
    const cancelled = await runCli(['maintenance', 'cancel', 'later', ...store()]);
    const after = await runCli(['maintenance', 'list', ...store()]);
    const all = await runCli(['maintenance', 'list', '--all', '--format', 'json', ...store()]);
    // Assess
    // Nothing was run on this store yet: the scope matches no stored endpoint, which is said, not refused.
    expect(added).toMatchObject({
      code: 0,
      stderr: 'certwatch: warning: no stored endpoint matches tag edge (yet)\n',
    });
    expect(added.stdout).toContain(
      'maintenance window later scheduled: later work, 2099-01-01 02:00 GMT+1 to 2099-01-01 04:00 GMT+1',
    );
    expect(JSON.parse(listed.stdout)).toMatchObject({
      id: 'later',
      start: '2099-01-01T01:00:00.000Z',
      end: '2099-01-01T03:00:00.000Z',
      tags: ['edge'],
      state: 'scheduled',
      leadTimeMs: 86_400_000,
    });
    expect(cancelled).toMatchObject({ code: 0 });
    expect(after.stdout).toBe('No scheduled or running maintenance windows.\n');
    expect(JSON.parse(all.stdout)).toMatchObject({ id: 'later', state: 'cancelled' });
  });

  it.each([
    {
      argv: [
        'maintenance',
        'add',
        '--name',
        'x',
        '--tag',
        'edge',
        '--start',
        '2099-01-01T04:00',
        '--end',
        '2099-01-01T02:00',
      ],
      line: "certwatch: --end: must be after --start (2099-01-01T04:00), got '2099-01-01T02:00'\n",
    },
    {
      argv: [
        'maintenance',
        'add',
        '--name',
        'x',
        '--tag',
        'edge',
        '--start',
        '2099-01-01T02:00',
        '--end',
        '2099-01-01T04:00',
        '--time-zone',
        'Mars/Olympus',
      ],
      line: "certwatch: --time-zone: unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Berlin or UTC)\n",
    },
    {
      argv: ['maintenance', 'add', '--name', 'x', '--start', '2099-01-01T02:00', '--end', '2099-01-01T04:00'],
      line: 'certwatch: --endpoint or --tag: required (which endpoints the window covers)\n',
    },
    {
      argv: ['maintenance', 'cancel', 'nope'],
      line: "certwatch: no maintenance window 'nope' (see certwatch maintenance list --all)\n",
    },
    {
      argv: ['maintenance', 'pause'],
      line: "certwatch: unknown subcommand 'pause' (expected add, list or cancel)\n",
    },
    {
      argv: ['silence', 'add', '--endpoint', 'refused', '--until', '31d', '--reason', 'known'],
      line: "certwatch: --until: at most 30d from now (maintenance.maxSilence), got '31d'\n",
    },
    {
      argv: [
        'silence',
        'add',
        '--endpoint',
        'refused',
        '--tag',
        'edge',
        '--until',
        '1h',
        '--reason',
        'known',
      ],
      line: 'certwatch: give either --endpoint or --tag (one silence silences one endpoint or one tag)\n',
    },
    {
      argv: ['silence', 'add', '--tag', 'edge', '--until', '1h'],
      line: 'certwatch: --reason: required (why the alerts are silenced)\n',
    },
    {
      argv: ['silence', 'add', '--tag', 'edge', '--until', 'soon', '--reason', 'x'],
      line: "certwatch: --until: expected a time like 2026-12-03T02:00 (in the time zone), 2026-12-03T01:00Z, or a duration like 4h or 3d, got 'soon'\n",
    },
    {
      argv: ['silence', 'expire', 'nope'],
      line: "certwatch: no silence 'nope' (see certwatch silence list --all)\n",
    },
  ])('$argv.0 $argv.1: one line, exit 3: $line', async ({ argv, line }) => {
    // Act
    const run = await runCli([...argv, ...store()], { cwd: dir });
    // Assess
    expect(run).toEqual({ code: 3, stdout: '', stderr: line });
  });

  it('applies the config maxSilence', async () => {
    // Act
    const run = await runCli([
      'silence',
      'add',
      '--tag',
      'edge',
      '--until',
      '8d',
      '--reason',
      'x',
      '--config',
      config,
      ...store(),
    ]);
    // Assess
    expect(run).toEqual({
      code: 3,
      stdout: '',
      stderr: "certwatch: --until: at most 7d from now (maintenance.maxSilence), got '8d'\n",
    });
  });

  it('adds, lists and expires a silence', async () => {
    // Act
    const added = await runCli([
      'silence',
      'add',
      '--endpoint',
      'refused',
      '--until',
      '2h',
      '--reason',
      'port closed on purpose',
      ...store(),
    ]);
    const id = /^silence (sil-[0-9a-f]{8}):/.exec(added.stdout)?.[1] ?? '';
    const listed = await runCli(['silence', 'list', '--format', 'json', ...store()]);
    const expired = await runCli(['silence', 'expire', id, ...store()]);
    const again = await runCli(['silence', 'expire', id, ...store()]);
    const after = await runCli(['silence', 'list', ...store()]);
    // Assess
    expect(added.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      id,
      endpoint: 'refused',
      tag: null,
      state: 'active',
      reason: 'port closed on purpose',
    });
    expect(expired).toMatchObject({ code: 0 });
    expect(again).toEqual({ code: 3, stdout: '', stderr: `certwatch: silence '${id}' has ended already\n` });
    expect(after.stdout).toBe('No active silences.\n');
  });

  it('runs with a window: announces it, quiets the connection failure, and status shows it in maintenance', async () => {
    // Prepare
    const added = await runCli([
      'maintenance',
      'add',
      '--id',
      'now',
      '--name',
      'port work',
      '--endpoint',
      'refused',
      '--start',
      '2020-01-01T00:00Z',
      '--end',
      '2099-01-01T00:00Z',
      '--message',
      'Closing port 1.',
      ...store(),
    ]);
    expect(added.code).toBe(0);
    // Act
    const run = await runCli(['run', '--config', config, ...store(), '--format', 'json']);
    const status = await runCli(['status', ...store()]);
    const json = await runCli(['status', '--format', 'json', ...store()]);
    // Assess
    const alertLines = run.stderr.split('\n').filter((l) => /^(ALERT|QUIETED) /.test(l));
    expect(alertLines).toEqual([
      'ALERT INFO maintenance port work: maintenance scheduled: port work, 2020-01-01 00:00 UTC to 2099-01-01 00:00 UTC -> no channel configured',
      'ALERT INFO maintenance port work: maintenance started: port work, until 2099-01-01 00:00 UTC -> no channel configured',
      // The silence the test above added and expired: both ends are still announced, once.
      expect.stringMatching(
        /^ALERT INFO silence refused: silenced: refused until \S+: port closed on purpose -> no channel configured$/,
      ),
      'ALERT INFO silence refused: silence ended early: refused (port closed on purpose) -> no channel configured',
      expect.stringMatching(
        /^QUIETED CRITICAL refused \[127\.0\.0\.1\]: unreachable for 1 consecutive checks since .* \(in maintenance port work, until 2099-01-01T00:00:00\.000Z\)$/,
      ),
    ]);
    expect(status.stdout).toContain('CONNECTION_REFUSED (in maintenance port work until 2099-01-01 00:00Z)');
    expect(JSON.parse(json.stdout)).toMatchObject({
      endpointName: 'refused',
      status: 'error',
      suppressedBy: { kind: 'maintenance', id: 'now', name: 'port work', until: '2099-01-01T00:00:00.000Z' },
      quieted: [{ kind: 'error', severity: 'critical', by: { kind: 'maintenance', id: 'now' } }],
    });
  });
});
