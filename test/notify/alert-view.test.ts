import { describe, expect, it } from 'vitest';
import { boundAlert, CARRIED_ALERT_LIMITS, viewAlert } from '../../lambdas/notify/alert-view';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

describe('viewAlert', () => {
  it('cleans every untrusted value by the shared rule set', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: `evil\u202Egnp.exe`,
      issuer: HOSTILE.controls,
      summary: 'expires\r\nBcc: x',
      detail: 'one\u0007\r\n\r\n\r\ntwo',
      findings: [{ code: 'SELF_SIGNED', severity: 'warning', message: 'CN \u2066x\u2069' }],
    });
    // Act
    const view = viewAlert(alert);
    // Assess
    expect(view.endpoint).toBe('evil\\u202egnp.exe');
    expect(view.facts.find((f) => f.label === 'Issuer')?.value).toBe(
      'evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe',
    );
    expect(view.summary).toBe('expires Bcc: x');
    expect(view.detail).toBe('one\\x07\n\ntwo');
    expect(view.findings[0]?.message).toBe('CN \\u2066x\\u2069');
  });
});

describe('boundAlert', () => {
  it('keeps an ordinary alert exactly', () => {
    const alert = makeAlert();
    expect(boundAlert(alert)).toEqual(alert);
  });

  it('cleans carried text but keeps identifiers exact', () => {
    // Prepare
    const id = 'threshold|a  b:443|192.0.2.10|3';
    const alert = makeAlert({ id, summary: 'x\u001b[2Jy', channels: ['ops  chat'] });
    // Act
    const bound = boundAlert(alert);
    // Assess
    expect(bound.summary).toBe('x\\x1b[2Jy');
    expect(bound.id).toBe(id);
    expect(bound.channels).toEqual(['ops  chat']);
  });

  it('bounds long text', () => {
    const bound = boundAlert(makeAlert({ summary: 'x'.repeat(5000), detail: 'y'.repeat(9000) }));
    expect(bound.summary).toHaveLength(CARRIED_ALERT_LIMITS.text);
    expect(bound.detail).toHaveLength(CARRIED_ALERT_LIMITS.detail);
  });

  it('a view of the carried alert is the view of the original (seeded property loop)', () => {
    // Prepare
    const random = seededRandom(0xb0a7);
    for (let i = 0; i < 200; i++) {
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(300),
        address: text(20),
        issuer: text(300),
        owner: text(20),
        summary: text(600),
        detail: text(1500),
        action: text(600),
        findings: Array.from({ length: 3 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'warning' as const,
          message: text(600),
        })),
      });
      // Act
      const bound = boundAlert(alert);
      // Assess
      expect(viewAlert(bound)).toEqual(viewAlert(alert));
      const carried = [bound.endpoint, bound.issuer, bound.summary, bound.detail, bound.action];
      for (const value of [...carried, ...bound.findings.map((f) => f.message)]) {
        expect(hasLoneSurrogate(value ?? '')).toBe(false);
      }
    }
  });
});
