import { describe, expect, it } from 'vitest';
import { retirementAlerts } from '../../lambdas/core/alert-policy';
import { alertId, bareSubject, buildAlert } from '../../lambdas/core/build-alert';
import type { Alert, AlertKind } from '../../lambdas/core/model';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { incompleteRunAlert, staleEndpointsAlert } from '../../lambdas/pipeline/watchdog';
import {
  at,
  certResult,
  days,
  failedResult,
  hours,
  makeEndpoint,
  runSteps,
  type Step,
  T0,
} from './policy-fixtures';

describe('alertId', () => {
  it.each<[string | null, AlertKind, string, string]>([
    ['example.com:443|192.0.2.10', 'threshold', 'FP:7', 'example.com:443|192.0.2.10:threshold:FP:7'],
    ['example.com:443', 'divergent', 'AAAA+BBBB:run-1', 'example.com:443:divergent:AAAA+BBBB:run-1'],
    [null, 'monitor', 'run:r1:incomplete', 'monitor:run:r1:incomplete'],
    [null, 'test', '2026-03-01T00:00:00.000Z', 'test:2026-03-01T00:00:00.000Z'],
  ])('scope %s, kind %s, event %s → %s', (scope, kind, event, id) => {
    // Act & Assess
    expect(alertId(scope, kind, event)).toBe(id);
  });
});

describe('buildAlert', () => {
  it('fills every field from the facts', () => {
    // Prepare
    const endpoint = makeEndpoint();
    const findings = [{ code: 'WEAK_KEY' as const, severity: 'critical' as const, message: 'weak' }];

    // Act
    const alert = buildAlert({
      kind: 'problem',
      severity: 'critical',
      scope: 'example.com:443|192.0.2.10',
      event: 'WEAK_KEY:run-1',
      audience: endpoint,
      subject: {
        address: '192.0.2.10',
        status: 'critical',
        daysLeft: 40,
        notAfter: '2026-04-10T00:00:00.000Z',
        issuer: 'CN=CA',
        findings,
      },
      text: { summary: 'S', detail: 'D', action: 'A' },
      now: T0,
    });

    // Assess
    expect(alert).toEqual({
      id: 'example.com:443|192.0.2.10:problem:WEAK_KEY:run-1',
      kind: 'problem',
      severity: 'critical',
      endpoint: 'Example site',
      endpointId: 'example.com:443',
      address: '192.0.2.10',
      status: 'critical',
      daysLeft: 40,
      notAfter: '2026-04-10T00:00:00.000Z',
      issuer: 'CN=CA',
      findings,
      summary: 'S',
      detail: 'D',
      action: 'A',
      occurredAt: T0.toISOString(),
      owner: 'web-team',
      channels: ['slack-ops'],
    } satisfies Alert);
  });

  it('reports nothing observed with a bare subject', () => {
    // Act & Assess
    expect(bareSubject('error')).toEqual({
      address: null,
      status: 'error',
      daysLeft: null,
      notAfter: null,
      issuer: null,
      findings: [],
    });
  });
});

// Ids are idempotency keys: pinned as they were before the builder existed.
describe('alert producers keep their ids and fields', () => {
  const now = new Date('2026-03-01T05:06:07.000Z');
  const certwatch = {
    endpoint: 'certwatch',
    endpointId: 'certwatch',
    address: null,
    status: 'error',
    daysLeft: null,
    notAfter: null,
    issuer: null,
    findings: [],
    occurredAt: now.toISOString(),
    owner: null,
    channels: [],
  };

  it('incompleteRunAlert', () => {
    // Act
    const alert = incompleteRunAlert(
      {
        runId: 'r1',
        startedAt: T0.toISOString(),
        expected: 3,
        completed: 1,
        complete: false,
        unchecked: [{ id: 'a', name: 'a' }],
      },
      now,
    );

    // Assess
    expect(alert).toEqual({
      ...certwatch,
      id: 'monitor:run:r1:incomplete',
      kind: 'monitor',
      severity: 'critical',
      summary: 'certwatch run r1 incomplete: 1 of 3 checks completed, 1 endpoint not checked',
      detail: 'Not checked in this run: a.',
      action:
        'Look at the checker errors and the check queue DLQ; certificates of the endpoints above are not being watched until this is fixed.',
    });
  });

  it('staleEndpointsAlert', () => {
    // Act
    const alert = staleEndpointsAlert([{ id: 'a', name: 'A', lastSuccessAt: null }], now, hours(12));

    // Assess
    expect(alert).toEqual({
      ...certwatch,
      id: 'monitor:stale:2026-03-01T05:1',
      kind: 'monitor',
      severity: 'critical',
      summary: '1 endpoint without a successful certificate check for over 12 h',
      detail: 'Stale: A (a).',
      action:
        'Check whether these endpoints are reachable from the monitor and whether the checker is running.',
    });
  });

  it('makeTestAlert', () => {
    // Act
    const alert = makeTestAlert(now, ['x']);

    // Assess
    expect(alert).toEqual({
      id: 'test:2026-03-01T05:06:07.000Z',
      kind: 'test',
      severity: 'info',
      endpoint: 'certwatch notification test',
      endpointId: 'certwatch-test',
      address: null,
      status: 'ok',
      daysLeft: null,
      notAfter: null,
      issuer: null,
      findings: [],
      summary: 'TEST \u2014 certwatch notification test, no action needed',
      detail:
        'This is a test notification sent by `certwatch notify --test` to check that this channel delivers certwatch alerts. No certificate is affected.',
      action: 'No action needed.',
      occurredAt: now.toISOString(),
      owner: null,
      channels: ['x'],
    });
  });

  it.each<{
    name: string;
    steps: Step[];
    expected: Pick<
      Alert,
      'id' | 'address' | 'daysLeft' | 'notAfter' | 'issuer' | 'summary' | 'detail' | 'action'
    >;
  }>([
    {
      name: 'an address that left DNS',
      steps: [
        { result: certResult({ now: T0, notAfter: at(days(80)) }) },
        { result: failedResult(at(hours(6))) },
        { result: failedResult(at(hours(12))) },
      ],
      expected: {
        id: 'example.com:443|192.0.2.10:resolved:retired:2026-03-01T12:00:00.000Z',
        address: '192.0.2.10',
        daysLeft: 76,
        notAfter: '2026-05-20T00:00:00.000Z',
        issuer: 'CN=Test Issuing CA',
        summary: '192.0.2.10 left DNS: no longer checked',
        detail:
          'example.com has not resolved to 192.0.2.10 since 2026-03-01T12:00:00.000Z, so certwatch stopped checking it and closes its open alerts. Its last certificate expires in 76 days (2026-05-20).',
        action:
          'No action needed, unless 192.0.2.10 still serves example.com to clients that resolve it differently',
      },
    },
    {
      name: 'a DNS-failure state',
      steps: [
        { result: failedResult(T0, 'DNS_ERROR', 'no', null) },
        { result: failedResult(at(hours(6)), 'DNS_ERROR', 'no', null) },
      ],
      expected: {
        id: 'example.com:443|dns:resolved:retired:2026-03-01T06:00:00.000Z',
        address: null,
        daysLeft: null,
        notAfter: null,
        issuer: null,
        summary: 'resolves again after 2 failed DNS lookups',
        detail:
          'example.com resolves in DNS again; every lookup had failed since 2026-03-01T00:00:00.000Z. Its addresses are checked again.',
        action: 'No action needed',
      },
    },
  ])('retirementAlerts: $name', ({ steps, expected }) => {
    // Prepare
    const endpoint = makeEndpoint();
    const state = runSteps(steps, endpoint).state;
    if (state === null) throw new Error('no state');

    // Act
    const alerts = retirementAlerts(state, { endpoint, now: at(days(4)) });

    // Assess
    expect(alerts).toEqual([
      {
        kind: 'resolved',
        severity: 'info',
        endpoint: 'Example site',
        endpointId: 'example.com:443',
        status: 'error',
        findings: [],
        occurredAt: at(days(4)).toISOString(),
        owner: 'web-team',
        channels: ['slack-ops'],
        ...expected,
      },
    ]);
  });
});
