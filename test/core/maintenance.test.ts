import { describe, expect, it } from 'vitest';
import {
  dueSilencePhases,
  dueWindowPhases,
  type MaintenanceWindow,
  parseZonedTime,
  type Silence,
  suppressorsFor,
  timeZoneProblem,
  windowCovers,
  windowRevision,
} from '../../lambdas/core/maintenance';
import { QUIETABLE_CODES, mayQuiet } from '../../lambdas/core/suppression';
import { FINDINGS, type FindingCode } from '../../lambdas/core/findings';
import { at, hours, makeEndpoint, T0 } from './policy-fixtures';

const ENDPOINT = makeEndpoint(); // id example.com:443, name "Example site", tag prod

function makeWindow(overrides: Partial<MaintenanceWindow> = {}): MaintenanceWindow {
  return {
    id: 'w1',
    name: 'db upgrade',
    endpoints: ['example.com:443'],
    tags: [],
    start: at(hours(48)).toISOString(),
    end: at(hours(50)).toISOString(),
    timeZone: 'UTC',
    message: 'Upgrading the database',
    leadTimeMs: hours(24),
    createdAt: T0.toISOString(),
    cancelledAt: null,
    source: 'cli',
    ...overrides,
  };
}

function makeSilence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: 's1',
    endpoint: null,
    tag: 'prod',
    until: at(hours(10)).toISOString(),
    reason: 'known bad chain, ticket OPS-1',
    createdAt: T0.toISOString(),
    expiredAt: null,
    ...overrides,
  };
}

describe('windowCovers', () => {
  it.each([
    { name: 'before the start', window: {}, now: hours(47.9), covers: false },
    { name: 'at the start (inclusive)', window: {}, now: hours(48), covers: true },
    { name: 'inside', window: {}, now: hours(49), covers: true },
    { name: 'at the end (exclusive)', window: {}, now: hours(50), covers: false },
    { name: 'by name', window: { endpoints: ['Example site'] }, now: hours(49), covers: true },
    { name: 'by tag', window: { endpoints: [], tags: ['prod'] }, now: hours(49), covers: true },
    { name: 'out of scope', window: { endpoints: ['other:443'] }, now: hours(49), covers: false },
    {
      name: 'cancelled while running',
      window: { cancelledAt: at(hours(49)).toISOString() },
      now: hours(49.5),
      covers: false,
    },
    {
      name: 'cancelled before the start',
      window: { cancelledAt: at(hours(1)).toISOString() },
      now: hours(49),
      covers: false,
    },
  ])('$name → $covers', ({ window, now, covers }) => {
    // Act
    const covered = windowCovers(makeWindow(window), ENDPOINT, at(now));
    // Assess
    expect(covered).toBe(covers);
  });
});

describe('suppressorsFor', () => {
  it('lists overlapping windows first, the one ending last first, then silences', () => {
    // Prepare
    const early = makeWindow({ id: 'a-early', name: 'early', end: at(hours(49.5)).toISOString() });
    const late = makeWindow({ id: 'z-late', name: 'late' });
    const silence = makeSilence({ until: at(hours(60)).toISOString() });
    // Act
    const refs = suppressorsFor(ENDPOINT, [early, late], [silence], at(hours(49)));
    // Assess
    expect(refs.map((r) => `${r.kind}:${r.id}`)).toEqual([
      'maintenance:z-late',
      'maintenance:a-early',
      'silence:s1',
    ]);
  });

  it('drops a silence once it is expired by hand', () => {
    // Act
    const refs = suppressorsFor(
      ENDPOINT,
      [],
      [makeSilence({ expiredAt: at(hours(1)).toISOString() })],
      at(hours(2)),
    );
    // Assess
    expect(refs).toEqual([]);
  });
});

describe('dueWindowPhases', () => {
  const rev = windowRevision(makeWindow());
  it.each([
    { name: 'just scheduled', announced: [], now: 0, due: ['scheduled:send'] },
    { name: 'scheduled, before the lead time', announced: [`scheduled@${rev}`], now: hours(23), due: [] },
    { name: 'lead time reached', announced: [`scheduled@${rev}`], now: hours(24), due: ['lead:send'] },
    { name: 'start reached', announced: [`scheduled@${rev}`, 'lead'], now: hours(48), due: ['start:send'] },
    {
      name: 'a tick missed the lead time',
      announced: [`scheduled@${rev}`],
      now: hours(48.5),
      due: ['lead:skip', 'start:send'],
    },
    {
      name: 'end reached',
      announced: [`scheduled@${rev}`, 'lead', 'start'],
      now: hours(50),
      due: ['end:send'],
    },
    {
      name: 'a tick missed the whole window',
      announced: [`scheduled@${rev}`],
      now: hours(51),
      due: ['lead:skip', 'start:skip', 'end:send'],
    },
    {
      name: 'stored only after it ended: nothing to tell',
      announced: [],
      now: hours(51),
      due: ['lead:skip', 'start:skip', 'end:skip'],
    },
    {
      name: 'edited after its start was announced: rescheduled, start not repeated',
      announced: ['scheduled@00000000', 'lead', 'start'],
      now: hours(49),
      due: ['scheduled:send'],
    },
  ])('$name → $due', ({ announced, now, due }) => {
    // Act
    const phases = dueWindowPhases(makeWindow(), announced, at(now));
    // Assess
    expect(phases.map((p) => `${p.phase}:${p.action}`)).toEqual(due);
  });

  it('skips the lead reminder of a window scheduled inside its lead time', () => {
    // Prepare: scheduled 2 h before its start, lead time 24 h
    const window = makeWindow({ createdAt: at(hours(46)).toISOString() });
    // Act
    const phases = dueWindowPhases(window, [`scheduled@${rev}`], at(hours(46)));
    // Assess
    expect(phases.map((p) => `${p.phase}:${p.action}`)).toEqual(['lead:skip']);
  });

  it.each([
    {
      name: 'cancelled before start, schedule announced',
      announced: [`scheduled@${rev}`],
      due: ['cancelled:send'],
    },
    { name: 'cancelled before start, never announced', announced: [], due: [] },
  ])('$name → $due', ({ announced, due }) => {
    // Prepare
    const window = makeWindow({ cancelledAt: at(hours(2)).toISOString() });
    // Act
    const phases = dueWindowPhases(window, announced, at(hours(3)));
    // Assess
    expect(phases.map((p) => `${p.phase}:${p.action}`)).toEqual(due);
  });

  it('ends a window cancelled while running at its cancellation', () => {
    // Prepare
    const window = makeWindow({ cancelledAt: at(hours(49)).toISOString() });
    // Act
    const phases = dueWindowPhases(window, [`scheduled@${rev}`, 'lead', 'start'], at(hours(49)));
    // Assess
    expect(phases.map((p) => `${p.phase}:${p.action}`)).toEqual(['end:send']);
  });
});

describe('dueSilencePhases', () => {
  it.each([
    { name: 'new', announced: [], now: 0, due: ['start'] },
    { name: 'running', announced: ['start'], now: hours(5), due: [] },
    { name: 'expired on its own', announced: ['start'], now: hours(10), due: ['end'] },
    { name: 'done', announced: ['start', 'end'], now: hours(11), due: [] },
  ])('$name → $due', ({ announced, now, due }) => {
    // Act
    const phases = dueSilencePhases(makeSilence(), announced, at(now));
    // Assess
    expect(phases.map((p) => p.phase)).toEqual(due);
  });
});

describe('mayQuiet', () => {
  it.each<{
    kind: 'maintenance' | 'silence';
    codes: FindingCode[];
    criticalExpiry?: boolean;
    quiet: boolean;
  }>([
    { kind: 'maintenance', codes: ['CONNECTION_REFUSED'], quiet: true },
    { kind: 'maintenance', codes: ['HANDSHAKE_FAILED'], quiet: true },
    { kind: 'maintenance', codes: ['HOSTNAME_MISMATCH'], quiet: true },
    { kind: 'maintenance', codes: ['EXPIRES_SOON'], quiet: false },
    { kind: 'maintenance', codes: ['EXPIRED'], quiet: false },
    { kind: 'maintenance', codes: ['REVOKED'], quiet: false },
    { kind: 'maintenance', codes: ['HOSTNAME_MISMATCH', 'REVOKED'], quiet: false },
    { kind: 'maintenance', codes: ['UNTRUSTED_CHAIN'], quiet: false },
    { kind: 'silence', codes: ['UNTRUSTED_CHAIN'], quiet: true },
    { kind: 'silence', codes: ['EXPIRES_SOON'], quiet: true },
    { kind: 'silence', codes: ['EXPIRES_SOON'], criticalExpiry: true, quiet: false },
    { kind: 'silence', codes: ['REVOKED'], quiet: false },
    { kind: 'silence', codes: ['CHECK_FAILED'], quiet: false },
    { kind: 'silence', codes: [], quiet: false },
  ])(
    '$kind quiets $codes (critical expiry: $criticalExpiry) → $quiet',
    ({ kind, codes, criticalExpiry, quiet }) => {
      // Act
      const quieted = mayQuiet(kind, { codes, criticalExpiry: criticalExpiry ?? false });
      // Assess
      expect(quieted).toBe(quiet);
    },
  );

  it('derives what maintenance quiets from the finding registry: connectivity and hostname codes only', () => {
    // Assess
    for (const code of QUIETABLE_CODES.maintenance) {
      expect(['connectivity', 'hostname']).toContain(FINDINGS[code].category);
    }
    expect(QUIETABLE_CODES.maintenance).toContain('TIMEOUT');
    expect(QUIETABLE_CODES.silence).not.toContain('REVOKED');
  });
});

describe('parseZonedTime', () => {
  it.each([
    { text: '2026-12-03T02:00', zone: 'UTC', iso: '2026-12-03T02:00:00.000Z' },
    { text: '2026-12-03 02:00', zone: 'Europe/Berlin', iso: '2026-12-03T01:00:00.000Z' },
    { text: '2026-07-03T02:00', zone: 'Europe/Berlin', iso: '2026-07-03T00:00:00.000Z' },
    { text: '2026-12-03T02:00:00Z', zone: 'Europe/Berlin', iso: '2026-12-03T02:00:00.000Z' },
    { text: '2026-12-03T02:00+05:30', zone: 'UTC', iso: '2026-12-02T20:30:00.000Z' },
    { text: 'tomorrow', zone: 'UTC', iso: null },
  ])('$text in $zone → $iso', ({ text, zone, iso }) => {
    // Act
    const parsed = parseZonedTime(text, zone);
    // Assess
    expect(parsed?.toISOString() ?? null).toBe(iso);
  });

  it('names an unknown time zone', () => {
    // Assess
    expect(timeZoneProblem('Mars/Olympus')).toBe(
      "unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Berlin or UTC)",
    );
    expect(timeZoneProblem('Europe/Berlin')).toBeNull();
  });
});
