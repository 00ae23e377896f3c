import { describe, expect, it } from 'vitest';
import type { IncidentChange } from '../../lambdas/core/incident-lifecycle';
import type { Alert } from '../../lambdas/core/model';
import {
  PAGERDUTY_LIMITS,
  type PagerDutyTrigger,
  renderPagerDutyEvent,
} from '../../lambdas/notify/render-pagerduty';
import { HOSTILE, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';
import { unsafeStrings } from './incident-fixtures';

const KEY = 'certwatch:example.com:443|192.0.2.10:expiry';
const open: IncidentChange = { action: 'open', condition: 'expiry', key: KEY };
const close: IncidentChange = { action: 'close', condition: 'expiry', key: KEY };

function trigger(alert: Alert, change: IncidentChange = open): PagerDutyTrigger {
  return renderPagerDutyEvent(alert, change, 'R0UT1NG') as PagerDutyTrigger;
}

describe('renderPagerDutyEvent', () => {
  it('renders a trigger with the incident key, the mapped severity and the alert facts', () => {
    // Prepare
    const alert = makeAlert();
    // Act
    const event = renderPagerDutyEvent(alert, open, 'R0UT1NG');
    // Assess
    expect(event).toEqual({
      routing_key: 'R0UT1NG',
      event_action: 'trigger',
      dedup_key: KEY,
      payload: {
        summary: 'example.com (192.0.2.10): expires in 3 days',
        source: 'example.com:443',
        severity: 'critical',
        timestamp: '2026-11-22T08:00:00.000Z',
        component: '192.0.2.10',
        group: 'team-web',
        class: 'expiry',
        custom_details: {
          alertId: alert.id,
          kind: 'threshold',
          endpoint: 'example.com',
          endpointId: 'example.com:443',
          address: '192.0.2.10',
          status: 'critical',
          daysLeft: 3,
          notAfter: '2026-11-25T12:00:00.000Z',
          issuer: 'CN=Example CA,O=Example Org',
          findings: [
            { code: 'EXPIRES_SOON', severity: 'critical', message: 'The certificate expires in 3 days.' },
          ],
          detail: 'The leaf certificate served at 192.0.2.10 expires on 2026-11-25.',
          action: 'Renew the certificate and deploy it.',
          owner: 'team-web',
          occurredAt: '2026-11-22T08:00:00.000Z',
        },
      },
      client: 'certwatch',
    });
  });

  it('renders a resolve as the key alone, as PagerDuty documents it', () => {
    // Act
    const event = renderPagerDutyEvent(makeAlert({ kind: 'renewed', severity: 'info' }), close, 'R0UT1NG');
    // Assess
    expect(event).toEqual({ routing_key: 'R0UT1NG', event_action: 'resolve', dedup_key: KEY });
  });

  it('triggers again, under the same key, for an update', () => {
    // Act
    const event = trigger(makeAlert({ kind: 'renotify' }), { ...open, action: 'update' });
    // Assess
    expect([event.event_action, event.dedup_key]).toEqual(['trigger', KEY]);
  });

  it.each<[Alert['severity'], Alert['status'], string]>([
    ['critical', 'critical', 'critical'],
    ['warning', 'warning', 'warning'],
    ['info', 'ok', 'info'],
    ['warning', 'expired', 'critical'],
    ['info', 'expired', 'critical'],
  ])('maps severity %s with status %s to %s', (severity, status, expected) => {
    // Act / Assess
    expect(trigger(makeAlert({ severity, status })).payload.severity).toBe(expected);
  });

  it('leaves out component and group when there is no address or owner', () => {
    // Act
    const { payload } = trigger(makeAlert({ address: null, owner: null }));
    // Assess
    expect(payload).not.toHaveProperty('component');
    expect(payload).not.toHaveProperty('group');
    expect(payload.summary).toBe('example.com: expires in 3 days');
  });

  it('fits a key longer than 255 characters', () => {
    // Prepare
    const key = `certwatch:${'a'.repeat(300)}.example:443|192.0.2.10:expiry`;
    // Act
    const event = renderPagerDutyEvent(makeAlert(), { ...open, key }, 'R0UT1NG');
    // Assess
    expect(event.dedup_key).toHaveLength(PAGERDUTY_LIMITS.dedupKey);
  });

  it('shows hostile certificate text literally and on one line, with nothing a reader could be fooled by', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: HOSTILE.controls,
      issuer: `${HOSTILE.slackBroadcast} ${HOSTILE.controls}`,
      summary: `${HOSTILE.markdownLink} ${HOSTILE.controls}`,
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: HOSTILE.controls }],
    });
    // Act
    const event = trigger(alert);
    // Assess
    expect(event.payload.summary).toBe(
      'evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe (192.0.2.10): [click](https://evil.example) evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe',
    );
    expect(event.payload.custom_details.issuer).toContain('<!channel>');
    expect(unsafeStrings(JSON.parse(JSON.stringify(event)))).toEqual([]);
  });

  it('keeps every field within its limit and every string clean, whatever the alert holds (seeded property loop)', () => {
    // Prepare
    const random = seededRandom(0x9d);
    for (let i = 0; i < 200; i++) {
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(400),
        address: text(10),
        issuer: text(300),
        owner: text(20),
        summary: text(1500),
        detail: text(1500),
        action: text(300),
        findings: [{ code: 'WEAK_KEY', severity: 'warning', message: text(300) }],
      });
      // Act
      const event = trigger(alert);
      // Assess
      expect(event.payload.summary.length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.summary);
      expect(unsafeStrings(JSON.parse(JSON.stringify(event)))).toEqual([]);
    }
  });
});
