import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retirementAlerts } from '../../lambdas/core/alert-policy';
import { windowAnnouncement } from '../../lambdas/core/announcements';
import type { MaintenanceWindow } from '../../lambdas/core/maintenance';
import { evaluateDivergence } from '../../lambdas/core/divergence';
import {
  ALERT_LIFECYCLE,
  alertEvent,
  fitIncidentKey,
  type IncidentChange,
  incidentChanges,
  incidentKey,
  incidentSeverity,
} from '../../lambdas/core/incident-lifecycle';
import type { AddressState, Alert, AlertKind, CheckResult, Finding } from '../../lambdas/core/model';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { incompleteRunAlert, staleEndpointsAlert } from '../../lambdas/pipeline/watchdog';
import {
  at,
  certResult,
  days,
  FP_A,
  FP_B,
  failedResult,
  finding,
  makeEndpoint,
  runSteps,
  type Step,
  T0,
} from './policy-fixtures';

const ADDRESS_KEY = 'certwatch:example.com:443|192.0.2.10';

/** `kind → action condition key` of each alert, one string per change: compact and exact for tables. */
function describeChanges(alerts: readonly Alert[]): string[] {
  return alerts.flatMap((a) => incidentChanges(a).map((c) => `${a.kind} → ${c.action} ${c.key}`));
}

/** The alerts of each step, flattened in order. */
function alertsOf(steps: readonly Step[], endpoint = makeEndpoint()): Alert[] {
  return runSteps(steps, endpoint).alertsPerStep.flat();
}

/** The expiry finding the certificate analysis adds inside the warning window. */
function expiresSoon(daysLeft: number): Finding {
  return finding('EXPIRES_SOON', daysLeft <= 7 ? 'critical' : 'warning', `expires in ${daysLeft} days`);
}

/** Every alert the sequences below produce, by kind, so the coverage test sees them all. */
const seen = new Map<AlertKind, Alert>();
function remember(alerts: readonly Alert[]): readonly Alert[] {
  for (const a of alerts) if (!seen.has(a.kind)) seen.set(a.kind, a);
  return alerts;
}

describe('incidentChanges: real policy sequences', () => {
  it('opens expiry at the first threshold, adds later thresholds and reminders to it, and closes it on renewal', () => {
    // Prepare: a certificate that expires 2026-04-10T12:00Z, renewed on day 36
    const notAfter = at(days(40.5));
    const check = (day: number): Step => ({
      result: certResult({ now: at(days(day)), notAfter, findings: [expiresSoon(Math.floor(40.5 - day))] }),
    });
    const renewed: Step = {
      result: certResult({ now: at(days(36)), notAfter: at(days(400)), fingerprint: FP_B }),
    };
    // Act
    const alerts = remember(alertsOf([check(11), check(27), check(34), check(35), renewed]));
    // Assess
    expect(describeChanges(alerts)).toEqual([
      `threshold → open ${ADDRESS_KEY}:expiry`,
      `threshold → open ${ADDRESS_KEY}:expiry`,
      `threshold → open ${ADDRESS_KEY}:expiry`,
      `renotify → update ${ADDRESS_KEY}:expiry`,
      `renewed → close ${ADDRESS_KEY}:expiry`,
    ]);
  });

  it('keeps the problems of an address in one incident: a reminder and a new code update it, the last code cleared closes it', () => {
    // Prepare: an untrusted chain, a day later still there, then a hostname mismatch joins and both clear in turn
    const notAfter = at(days(200));
    const check = (day: number, findings: Finding[]): Step => ({
      result: certResult({ now: at(days(day)), notAfter, findings }),
    });
    const untrusted = finding('UNTRUSTED_CHAIN');
    const mismatch = finding('HOSTNAME_MISMATCH');
    // Act
    const alerts = remember(
      alertsOf([
        check(0, [untrusted]),
        check(1, [untrusted]),
        check(1.5, [untrusted, mismatch]),
        check(1.6, [mismatch]),
        check(1.7, []),
      ]),
    );
    // Assess
    expect(describeChanges(alerts)).toEqual([
      `problem → open ${ADDRESS_KEY}:problems`,
      `renotify → update ${ADDRESS_KEY}:problems`,
      `problem → open ${ADDRESS_KEY}:problems`,
      `resolved → update ${ADDRESS_KEY}:problems`,
      `resolved → close ${ADDRESS_KEY}:problems`,
    ]);
  });

  it('opens unreachable when the failure streak alerts, updates it with the reminder, and closes it when the address answers', () => {
    // Prepare
    const notAfter = at(days(200));
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter }) },
      { result: failedResult(at(days(0.1))) },
      { result: failedResult(at(days(0.2))) },
      { result: failedResult(at(days(1.2))) },
      { result: certResult({ now: at(days(1.3)), notAfter }) },
    ];
    // Act
    const alerts = remember(alertsOf(steps));
    // Assess
    expect(describeChanges(alerts)).toEqual([
      `error → open ${ADDRESS_KEY}:unreachable`,
      `renotify → update ${ADDRESS_KEY}:unreachable`,
      `resolved → close ${ADDRESS_KEY}:unreachable`,
    ]);
  });

  it('sends a reminder about an expiring certificate with open problems to both incidents', () => {
    // Prepare: critical by expiry (5 days left) and by an untrusted chain, reminded a day later
    const notAfter = at(days(5.5));
    const findings = [expiresSoon(5), finding('UNTRUSTED_CHAIN')];
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter, findings }) },
      {
        result: certResult({ now: at(days(1)), notAfter, findings: [expiresSoon(4), ...findings.slice(1)] }),
      },
    ];
    // Act
    const alerts = alertsOf(steps);
    // Assess
    expect(describeChanges(alerts)).toEqual([
      `problem → open ${ADDRESS_KEY}:problems`,
      `threshold → open ${ADDRESS_KEY}:expiry`,
      `renotify → update ${ADDRESS_KEY}:expiry`,
      `renotify → update ${ADDRESS_KEY}:problems`,
    ]);
  });

  it('closes the DNS-failure incident when the host resolves again and its state is retired', () => {
    // Prepare: two failed lookups alert (no address: the key says dns)
    const endpoint = makeEndpoint();
    const lookup = (day: number): Step => ({
      result: failedResult(at(days(day)), 'DNS_ERROR', 'getaddrinfo ENOTFOUND example.com', null),
    });
    const { alertsPerStep, state } = runSteps([lookup(0), lookup(0.1)], endpoint);
    // Act
    const closing = retirementAlerts(state as AddressState, { endpoint, now: at(days(0.2)) });
    // Assess
    expect(describeChanges([...alertsPerStep.flat(), ...closing])).toEqual([
      'error → open certwatch:example.com:443|dns:unreachable',
      'resolved → close certwatch:example.com:443|dns:unreachable',
    ]);
  });

  it('closes every condition an address that left DNS may have open', () => {
    // Prepare: an address with an open problem, then no longer in DNS
    const endpoint = makeEndpoint();
    const { alertsPerStep, state } = runSteps(
      [{ result: certResult({ now: T0, notAfter: at(days(200)), findings: [finding('SELF_SIGNED')] }) }],
      endpoint,
    );
    // Act
    const closing = retirementAlerts(state as AddressState, { endpoint, now: at(days(4)) });
    // Assess
    expect(describeChanges([...alertsPerStep.flat(), ...closing])).toEqual([
      `problem → open ${ADDRESS_KEY}:problems`,
      `resolved → close ${ADDRESS_KEY}:unreachable`,
      `resolved → close ${ADDRESS_KEY}:problems`,
      `resolved → close ${ADDRESS_KEY}:expiry`,
    ]);
  });

  it('opens divergence per endpoint and closes it when the addresses converge', () => {
    // Prepare: two addresses serve different certificates in run 1, the same one in run 2
    const endpoint = makeEndpoint();
    const stateOf = (result: CheckResult, runId: string, divergenceKey: string | null) => {
      const next = runSteps([{ result, runId }], endpoint).state as AddressState;
      return { ...next, lastRunId: runId, alerting: { ...next.alerting, divergenceKey } };
    };
    const notAfter = at(days(90));
    const served = (address: string, fingerprint: string, runId: string, key: string | null) =>
      stateOf(certResult({ now: T0, notAfter, fingerprint, address }), runId, key);
    // Act
    const opened = evaluateDivergence(
      endpoint,
      [served('192.0.2.1', FP_A, 'run-1', null), served('192.0.2.2', FP_B, 'run-1', null)],
      { runId: 'run-1', now: T0 },
    );
    const closed = evaluateDivergence(
      endpoint,
      [served('192.0.2.1', FP_A, 'run-2', opened.key), served('192.0.2.2', FP_A, 'run-2', opened.key)],
      { runId: 'run-2', now: T0 },
    );
    const alerts = remember([opened.alert, closed.alert].filter((a): a is Alert => a !== null));
    // Assess
    expect(describeChanges(alerts)).toEqual([
      'divergent → open certwatch:example.com:443:divergence',
      'resolved → close certwatch:example.com:443:divergence',
    ]);
  });

  it('keeps one incident per kind of monitor page, whatever the run or the hour', () => {
    // Prepare
    const judgement = (runId: string) => ({
      runId,
      startedAt: T0.toISOString(),
      expected: 3,
      completed: 2,
      complete: false,
      unchecked: [{ id: 'example.com:443', name: 'Example site' }],
    });
    const stale = [{ id: 'example.com:443', name: 'Example site', lastSuccessAt: null }];
    // Act
    const alerts = remember([
      incompleteRunAlert(judgement('run-1'), T0),
      incompleteRunAlert(judgement('run-2'), at(days(1))),
      staleEndpointsAlert(stale, T0, days(1)),
      staleEndpointsAlert(stale, at(days(2)), days(1)),
    ]);
    // Assess
    expect(describeChanges(alerts)).toEqual([
      'monitor → open certwatch:monitor:run',
      'monitor → open certwatch:monitor:run',
      'monitor → open certwatch:monitor:stale',
      'monitor → open certwatch:monitor:stale',
    ]);
  });

  it('opens and at once closes the notification test, so a test leaves nothing open', () => {
    // Act
    const alerts = remember([makeTestAlert(T0), makeTestAlert(at(days(1)))]);
    // Assess
    expect(describeChanges(alerts)).toEqual([
      'test → open certwatch:test',
      'test → close certwatch:test',
      'test → open certwatch:test',
      'test → close certwatch:test',
    ]);
  });

  it('opens and at once closes each maintenance or silence announcement, so notices leave nothing open', () => {
    // Prepare
    const window: MaintenanceWindow = {
      id: 'w1',
      name: 'db upgrade',
      endpoints: ['example.com:443'],
      tags: [],
      start: at(days(1)).toISOString(),
      end: at(days(1.1)).toISOString(),
      timeZone: 'UTC',
      message: '',
      leadTimeMs: 0,
      createdAt: T0.toISOString(),
      cancelledAt: null,
      source: 'cli',
    };
    const audience = { channels: [], endpoints: ['Example site'] };
    // Act
    const alerts = remember([windowAnnouncement(window, 'start', 'start', audience, at(days(1)))]);
    // Assess
    expect(describeChanges(alerts)).toEqual([
      'announcement → open certwatch:maintenance:w1:announcement',
      'announcement → close certwatch:maintenance:w1:announcement',
    ]);
  });

  it('has seen every alert kind in the sequences above, each with at least one change', () => {
    // Assess: a new kind needs a sequence here, not only a row in the table
    expect([...seen.keys()].sort()).toEqual(Object.keys(ALERT_LIFECYCLE).sort());
    for (const alert of seen.values()) expect(incidentChanges(alert).length).toBeGreaterThan(0);
  });
});

describe('incidentChanges: edges', () => {
  const base = certResult({ now: T0, notAfter: at(days(5.5)), findings: [expiresSoon(5)] });
  const [threshold] = runSteps([{ result: base }]).alertsPerStep.flat();

  it.each<[string, Partial<Alert>, string]>([
    ['an IPv6 address', { address: '2001:db8::1' }, 'certwatch:example.com:443|2001:db8::1:expiry'],
    [
      'an IPv6 endpoint',
      { endpointId: '[2001:db8::1]:443', address: '2001:db8::1' },
      'certwatch:[2001:db8::1]:443|2001:db8::1:expiry',
    ],
    ['no address (DNS failed)', { address: null }, 'certwatch:example.com:443|dns:expiry'],
  ])('keys %s', (_, overrides, key) => {
    // Act
    const changes = incidentChanges({ ...(threshold as Alert), ...overrides });
    // Assess
    expect(changes).toEqual([{ action: 'open', condition: 'expiry', key }]);
  });

  it.each<[string, Partial<Alert>, string]>([
    [
      'an address-scoped id',
      { id: 'example.com:443|192.0.2.10:resolved:error:2026-03-01T00:00:00.000Z' },
      'error:2026-03-01T00:00:00.000Z',
    ],
    ['an endpoint-scoped id', { id: 'example.com:443:resolved:divergent:run-2' }, 'divergent:run-2'],
    [
      'a host named like a kind',
      { endpointId: 'resolved:443', id: 'resolved:443|192.0.2.10:resolved:error:t' },
      'error:t',
    ],
    [
      'an IPv6 address',
      { address: '2001:db8::1', id: 'example.com:443|2001:db8::1:resolved:retired:t' },
      'retired:t',
    ],
  ])('reads the event of %s', (_, overrides, event) => {
    // Act
    const read = alertEvent({ ...(threshold as Alert), kind: 'resolved', ...overrides });
    // Assess
    expect(read).toBe(event);
  });

  it('closes every address condition for a resolved event it does not know, so nothing stays open', () => {
    // Prepare
    const alert: Alert = {
      ...(threshold as Alert),
      kind: 'resolved',
      id: `example.com:443|192.0.2.10:resolved:someday:x`,
    };
    // Act
    const changes = incidentChanges(alert);
    // Assess
    expect(changes.map((c: IncidentChange) => `${c.action} ${c.condition}`)).toEqual([
      'close unreachable',
      'close problems',
      'close expiry',
    ]);
  });

  it('opens a monitor incident for a kind this build does not know (a newer sender)', () => {
    // Act
    const changes = incidentChanges({ ...(threshold as Alert), kind: 'carrier-pigeon' as AlertKind });
    // Assess
    expect(changes).toEqual([
      { action: 'open', condition: 'monitor:carrier-pigeon', key: 'certwatch:monitor:carrier-pigeon' },
    ]);
  });

  it.each<[Alert['status'], Alert['severity'], Alert['severity']]>([
    ['expired', 'warning', 'critical'],
    ['expired', 'info', 'critical'],
    ['critical', 'critical', 'critical'],
    ['warning', 'warning', 'warning'],
    ['ok', 'info', 'info'],
  ])('raises a %s address alerted as %s with severity %s', (status, severity, expected) => {
    // Act / Assess
    expect(incidentSeverity({ status, severity })).toBe(expected);
  });

  it('keys divergence per endpoint and certwatch pages without a subject', () => {
    // Act / Assess
    expect(incidentKey({ endpointId: 'example.com:443', address: null }, 'divergence')).toBe(
      'certwatch:example.com:443:divergence',
    );
    expect(incidentKey({ endpointId: 'certwatch', address: null }, 'monitor:run')).toBe(
      'certwatch:monitor:run',
    );
  });
});

describe('fitIncidentKey', () => {
  it.each([
    ['a short key', 'certwatch:example.com:443|192.0.2.10:expiry', 255],
    ['a key of exactly the limit', 'k'.repeat(255), 255],
  ])('keeps %s as it is', (_, key, max) => {
    // Act / Assess
    expect(fitIncidentKey(key, max)).toBe(key);
  });

  it('fits a long key to the limit, keeping its head, and tells two long keys with the same head apart', () => {
    // Prepare: a 253-character host name and an IPv6 address
    const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example`;
    const one = `certwatch:${host}:443|2001:db8::1:unreachable`;
    const two = `certwatch:${host}:443|2001:db8::2:unreachable`;
    // Act
    const [fitOne, fitTwo] = [fitIncidentKey(one, 255), fitIncidentKey(two, 255)];
    // Assess
    expect(fitOne).toHaveLength(255);
    expect(fitOne.startsWith(one.slice(0, 200))).toBe(true);
    expect(fitOne).toMatch(/~[0-9a-f]{16}$/);
    expect(fitTwo).not.toBe(fitOne);
    expect(fitIncidentKey(one, 255)).toBe(fitOne);
  });
});

describe('ALERT_LIFECYCLE: docs/channels.md', () => {
  /** The rows of the "Alert kinds and incidents" table: kind → [effect, incident]. */
  function docRows(): Map<string, [string, string]> {
    const doc = readFileSync(resolve(__dirname, '../../docs/channels.md'), 'utf8');
    const section = doc.split('## Alert kinds and incidents')[1]?.split('\n## ')[0] ?? '';
    const rows = new Map<string, [string, string]>();
    for (const m of section.matchAll(/^\| `([a-z]+)` \| (.+?) \| (.+?) \|$/gm)) {
      rows.set(m[1] as string, [m[2] as string, m[3] as string]);
    }
    return rows;
  }

  it('has one row per alert kind, in the table order, saying what the table says', () => {
    // Act
    const rows = docRows();
    // Assess
    expect([...rows.keys()]).toEqual(Object.keys(ALERT_LIFECYCLE));
    for (const [kind, lifecycle] of Object.entries(ALERT_LIFECYCLE)) {
      expect(rows.get(kind), kind).toEqual([lifecycle.effect, lifecycle.incident]);
    }
  });
});
