import { describe, expect, it } from 'vitest';
import type { IncidentChange } from '../../lambdas/core/incident-lifecycle';
import type { Alert } from '../../lambdas/core/model';
import {
  OPSGENIE_LIMITS,
  type OpsgenieCreate,
  renderOpsgenieRequest,
} from '../../lambdas/notify/render-opsgenie';
import { HOSTILE, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';
import { stringsOf, unsafeStrings } from './incident-fixtures';

const KEY = 'certwatch:example.com:443|192.0.2.10:expiry';
const open: IncidentChange = { action: 'open', condition: 'expiry', key: KEY };
const close: IncidentChange = { action: 'close', condition: 'expiry', key: KEY };

function create(alert: Alert, change: IncidentChange = open): OpsgenieCreate {
  const request = renderOpsgenieRequest(alert, change);
  if (request.action !== 'create') throw new Error('expected a create request');
  return request.body;
}

describe('renderOpsgenieRequest', () => {
  it('renders a create by alias with the mapped priority, the facts as details, and tags', () => {
    // Prepare
    const alert = makeAlert();
    // Act
    const request = renderOpsgenieRequest(alert, open);
    // Assess
    expect(request).toEqual({
      action: 'create',
      path: '/v2/alerts',
      body: {
        message: 'example.com (192.0.2.10): expires in 3 days',
        alias: KEY,
        description: [
          'expires in 3 days',
          'The leaf certificate served at 192.0.2.10 expires on 2026-11-25.',
          'Next step: Renew the certificate and deploy it.',
          [
            'Endpoint: example.com (example.com:443)',
            'Address: 192.0.2.10',
            'Status: critical',
            'Days left: 3 days',
            'Expires: 2026-11-25 12:00 UTC',
            'Issuer: CN=Example CA,O=Example Org',
            'Owner: team-web',
          ].join('\n'),
          'Findings:\n- CRITICAL EXPIRES_SOON: The certificate expires in 3 days.',
          `certwatch alert ${alert.id} \u00B7 expiry threshold \u00B7 2026-11-22 08:00 UTC`,
        ].join('\n\n'),
        tags: ['certwatch', 'threshold', 'expiry', 'critical'],
        details: {
          alertId: alert.id,
          kind: 'threshold',
          endpoint: 'example.com',
          endpointId: 'example.com:443',
          status: 'critical',
          address: '192.0.2.10',
          daysLeft: '3',
          notAfter: '2026-11-25T12:00:00.000Z',
          issuer: 'CN=Example CA,O=Example Org',
          findings: 'EXPIRES_SOON (critical): The certificate expires in 3 days.',
          action: 'Renew the certificate and deploy it.',
          owner: 'team-web',
          occurredAt: '2026-11-22T08:00:00.000Z',
        },
        entity: 'example.com:443',
        source: 'certwatch',
        priority: 'P1',
        user: 'certwatch',
      },
    });
  });

  it('closes by alias, the alias encoded in the path, with the summary as the note', () => {
    // Prepare
    const change: IncidentChange = { ...close, key: 'certwatch:example.com:443|2001:db8::1:expiry' };
    // Act
    const request = renderOpsgenieRequest(
      makeAlert({ kind: 'renewed', summary: 'renewed: expires 2026-11-25 → 2027-02-23' }),
      change,
    );
    // Assess
    expect(request).toEqual({
      action: 'close',
      path: '/v2/alerts/certwatch%3Aexample.com%3A443%7C2001%3Adb8%3A%3A1%3Aexpiry/close?identifierType=alias',
      body: {
        source: 'certwatch',
        user: 'certwatch',
        note: 'example.com (192.0.2.10): renewed: expires 2026-11-25 → 2027-02-23',
      },
    });
  });

  it('creates again, with the same alias, for an update', () => {
    // Act
    const body = create(makeAlert({ kind: 'renotify' }), { ...open, action: 'update' });
    // Assess
    expect(body.alias).toBe(KEY);
    expect(body.tags).toEqual(['certwatch', 'renotify', 'expiry', 'critical']);
  });

  it.each<[Alert['severity'], Alert['status'], string]>([
    ['critical', 'critical', 'P1'],
    ['warning', 'warning', 'P3'],
    ['info', 'ok', 'P5'],
    ['warning', 'expired', 'P1'],
  ])('maps severity %s with status %s to %s', (severity, status, expected) => {
    // Act / Assess
    expect(create(makeAlert({ severity, status })).priority).toBe(expected);
  });

  it('shows hostile certificate text literally, with nothing a reader could be fooled by', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: HOSTILE.controls,
      issuer: `${HOSTILE.slackBroadcast} ${HOSTILE.controls}`,
      summary: `${HOSTILE.markdownLink} ${HOSTILE.bold}`,
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: HOSTILE.controls }],
    });
    // Act
    const body = create(alert);
    // Assess
    expect(body.message).toBe(
      'evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe (192.0.2.10): [click](https://evil.example) *bold*',
    );
    expect(body.details.issuer).toBe(
      '<!channel> evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe',
    );
    expect(unsafeStrings(body)).toEqual([]);
  });

  it('keeps every field within its limit and every string clean, whatever the alert holds (seeded property loop)', () => {
    // Prepare
    const random = seededRandom(0x0b5);
    for (let i = 0; i < 100; i++) {
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(400),
        address: text(10),
        issuer: text(600),
        owner: text(200),
        summary: text(1500),
        detail: text(3000),
        action: text(600),
        findings: Array.from({ length: 30 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'warning' as const,
          message: text(300),
        })),
      });
      // Act
      const body = create(alert);
      // Assess
      expect(body.message.length).toBeLessThanOrEqual(OPSGENIE_LIMITS.message);
      expect(body.description.length).toBeLessThanOrEqual(OPSGENIE_LIMITS.description);
      expect(body.tags.every((t) => t.length <= OPSGENIE_LIMITS.tag)).toBe(true);
      const detailChars = Object.entries(body.details).reduce((n, [k, v]) => n + k.length + v.length, 0);
      expect(detailChars).toBeLessThanOrEqual(OPSGENIE_LIMITS.details);
      expect(unsafeStrings(body)).toEqual([]);
      expect(stringsOf(body).length).toBeGreaterThan(0);
    }
  });
});
