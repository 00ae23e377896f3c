import { describe, expect, it } from 'vitest';
import type { Alert } from '../../lambdas/core/model';
import {
  renderSnsEmail,
  renderSnsPublish,
  renderSnsSms,
  renderSnsSubject,
} from '../../lambdas/notify/render-sns';
import { parseSnsAlertEnvelope } from '../../lambdas/notify/parse-sns-envelope';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:certwatch-alerts';

const EXPECTED_EMAIL = [
  '[CRITICAL] example.com: expires in 3 days',
  '',
  'Endpoint:  example.com (example.com:443)',
  'Address:   192.0.2.10',
  'Status:    critical',
  'Days left: 3 days',
  'Expires:   2026-11-25 12:00 UTC',
  'Issuer:    CN=Example CA,O=Example Org',
  'Owner:     team-web',
  '',
  'Findings:',
  '  - [critical] EXPIRES_SOON: The certificate expires in 3 days.',
  '',
  'Details:',
  'The leaf certificate served at 192.0.2.10 expires on 2026-11-25.',
  '',
  'What to do next:',
  'Renew the certificate and deploy it.',
  '',
  'Alert id: threshold|example.com:443|192.0.2.10|3',
  'Kind: expiry threshold',
  'Occurred at: 2026-11-22 08:00 UTC',
  '',
  '-- ',
  'Sent by certwatch.',
].join('\n');

/** SNS rule: ASCII, no line breaks or control characters, begins with a letter, number or punctuation, < 100. */
function expectValidSubject(subject: string | undefined): void {
  expect(subject).toBeDefined();
  expect(subject!.length).toBeGreaterThan(0);
  expect(subject!.length).toBeLessThan(100);
  expect(subject).toMatch(/^[\x21-\x7E][\x20-\x7E]*$/);
}

function messageOf(alert: Alert): Record<string, string> {
  return JSON.parse(renderSnsPublish(alert, TOPIC).Message!) as Record<string, string>;
}

describe('renderSnsPublish', () => {
  it('renders the exact Publish input for a critical expiry alert', () => {
    // Prepare
    const alert = makeAlert();
    // Act
    const input = renderSnsPublish(alert, TOPIC);
    // Assess
    expect(input).toEqual({
      TopicArn: TOPIC,
      Subject: '[CRITICAL] example.com: expires in 3 days',
      MessageStructure: 'json',
      Message: JSON.stringify({
        default: EXPECTED_EMAIL,
        email: EXPECTED_EMAIL,
        sms: 'CRIT example.com exp 3d 2026-11-25: Renew the certificate and deploy it.',
        lambda: JSON.stringify({ certwatch: 1, alert }),
      }),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        status: { DataType: 'String', StringValue: 'critical' },
        endpoint: { DataType: 'String', StringValue: 'example.com' },
        kind: { DataType: 'String', StringValue: 'threshold' },
      },
    });
  });

  it('lets the notifier Lambda recover the exact alert from the lambda message', () => {
    // Prepare
    const alert = makeAlert({ endpoint: HOSTILE.slackBroadcast, issuer: HOSTILE.markdownLink });
    // Act
    const recovered = parseSnsAlertEnvelope(messageOf(alert).lambda!);
    // Assess
    expect(recovered).toEqual(alert);
  });

  it('marks a test alert as a test everywhere a person reads it', () => {
    // Prepare
    const alert = makeTestAlert(new Date('2026-01-02T03:04:05.000Z'));
    // Act
    const input = renderSnsPublish(alert, TOPIC);
    const message = messageOf(alert);
    // Assess
    expect(input.Subject).toBe(
      '[TEST] certwatch notification test: TEST - certwatch notification test, no action needed',
    );
    expect(message.sms).toBe(
      'TEST certwatch notification test TEST - certwatch notification test, no action needed: No action needed.',
    );
    expect(message.email).toContain('TEST \u2014 certwatch notification test, no action needed');
    expect(input.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'test' });
  });

  it('stays under the 256 KB Publish limit for an absurdly large alert', () => {
    // Prepare: quotes and backslashes double under each JSON encoding; 3-byte characters weigh most.
    const big = `"\\\u4E2D`.repeat(20_000);
    const alert = makeAlert({
      summary: big,
      detail: big,
      action: big,
      issuer: big,
      endpoint: big,
      findings: Array.from({ length: 500 }, () => ({
        code: 'WEAK_KEY' as const,
        severity: 'warning' as const,
        message: big,
      })),
    });
    // Act
    const input = renderSnsPublish(alert, TOPIC);
    // Assess
    expect(Buffer.byteLength(input.Message!, 'utf8')).toBeLessThan(256 * 1024);
    expect(parseSnsAlertEnvelope(messageOf(alert).lambda!)?.findings).toHaveLength(30);
  });
});

describe('renderSnsSubject', () => {
  it.each([
    ['Slack broadcast', { endpoint: HOSTILE.slackBroadcast }, '[CRITICAL] <!channel>: expires in 3 days'],
    [
      'newline and control characters',
      { summary: 'expires\r\nBcc: victim@example.com\u0000\u001b[31m' },
      '[CRITICAL] example.com: expires Bcc: victim@example.com\\x00\\x1b[31m',
    ],
    [
      'non-ASCII folds to ASCII',
      { endpoint: 'bücher.example', summary: 'läuft ab \u2014 3 Tage' },
      '[CRITICAL] bucher.example: lauft ab - 3 Tage',
    ],
    ['emoji becomes ?', { summary: '\u{1F525} on fire' }, '[CRITICAL] example.com: ? on fire'],
  ])('%s', (_name, overrides: Partial<Alert>, expected) => {
    // Act
    const subject = renderSnsSubject(makeAlert(overrides));
    // Assess
    expect(subject).toBe(expected);
    expectValidSubject(subject);
  });

  it('truncates a 300-character CN to 99 characters with a marker', () => {
    // Act
    const subject = renderSnsSubject(makeAlert({ endpoint: HOSTILE.longCn }));
    // Assess
    expect(subject).toBe(`[CRITICAL] ${'a'.repeat(85)}...`);
    expect(subject).toHaveLength(99);
  });
});

describe('renderSnsSms', () => {
  it.each([
    ['threshold', {}, 'CRIT example.com exp 3d 2026-11-25: Renew the certificate and deploy it.'],
    [
      'expired',
      { daysLeft: -2, status: 'expired' as const, kind: 'renotify' as const },
      'CRIT example.com EXPIRED 2026-11-25: Renew the certificate and deploy it.',
    ],
    [
      'error kind uses the summary',
      {
        kind: 'error' as const,
        severity: 'warning' as const,
        summary: 'unreachable for 2 checks',
        action: 'Check the server.',
      },
      'WARN example.com unreachable for 2 checks: Check the server.',
    ],
    ['no action', { action: '' }, 'CRIT example.com exp 3d 2026-11-25'],
  ])('%s', (_name, overrides: Partial<Alert>, expected) => {
    expect(renderSnsSms(makeAlert(overrides))).toBe(expected);
  });

  it('cuts long text at 140 ASCII characters', () => {
    // Act
    const sms = renderSnsSms(makeAlert({ endpoint: HOSTILE.longCn, action: 'x'.repeat(300) }));
    // Assess: the endpoint is capped at 60 so the message still says what happened.
    const head = `CRIT ${'a'.repeat(59)}... exp 3d 2026-11-25: `;
    expect(sms).toBe(`${(head + 'x'.repeat(300)).slice(0, 137)}...`);
    expect(sms).toHaveLength(140);
  });
});

describe('renderSnsEmail', () => {
  it('lists at most 20 findings and says how many were left out', () => {
    // Prepare
    const findings = Array.from({ length: 23 }, (_, i) => ({
      code: 'WEAK_SIGNATURE' as const,
      severity: 'warning' as const,
      message: `finding ${i}`,
    }));
    // Act
    const email = renderSnsEmail(makeAlert({ findings }));
    // Assess
    expect(email).toContain('  - [warning] WEAK_SIGNATURE: finding 19\n  - ... and 3 more\n');
    expect(email).not.toContain('finding 20');
  });

  it('keeps detail line breaks but shows control characters as escapes', () => {
    const email = renderSnsEmail(makeAlert({ detail: 'line one\r\nline two\u0007\n\n\n\nline three' }));
    expect(email).toContain('Details:\nline one\nline two\\x07\n\nline three\n');
    expect(email).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/);
  });
});

describe('parseSnsAlertEnvelope', () => {
  const alert = makeAlert();

  it.each([
    ['not JSON', 'hello'],
    ['JSON null', 'null'],
    ['wrong version', JSON.stringify({ certwatch: 2, alert })],
    ['missing alert', JSON.stringify({ certwatch: 1 })],
    ['unknown kind', JSON.stringify({ certwatch: 1, alert: { ...alert, kind: 'party' } })],
    [
      'unknown finding code',
      JSON.stringify({
        certwatch: 1,
        alert: { ...alert, findings: [{ code: 'NOPE', severity: 'info', message: '' }] },
      }),
    ],
    ['empty id', JSON.stringify({ certwatch: 1, alert: { ...alert, id: '' } })],
    ['daysLeft not an integer', JSON.stringify({ certwatch: 1, alert: { ...alert, daysLeft: 1.5 } })],
  ])('rejects %s', (_name, message) => {
    expect(parseSnsAlertEnvelope(message)).toBeNull();
  });

  it('ignores unknown extra fields from a newer publisher', () => {
    const message = JSON.stringify({ certwatch: 1, extra: true, alert: { ...alert, futureField: 'x' } });
    expect(parseSnsAlertEnvelope(message)).toEqual(alert);
  });
});

describe('SNS limits hold for any input (seeded property loop)', () => {
  it('Subject, SMS, attributes and envelope stay valid for 500 random hostile alerts', () => {
    // Prepare
    const random = seededRandom(0xce27);
    for (let i = 0; i < 500; i++) {
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(80),
        summary: text(60),
        action: text(60),
        issuer: text(30),
        detail: text(40),
        findings: [{ code: 'UNTRUSTED_CHAIN', severity: 'critical', message: text(30) }],
      });
      // Act
      const input = renderSnsPublish(alert, TOPIC);
      const message = JSON.parse(input.Message!) as Record<string, string>;
      // Assess
      expectValidSubject(input.Subject);
      expect(message.sms!.length).toBeLessThanOrEqual(140);
      expect(message.sms).toMatch(/^[\x20-\x7E]*$/);
      expect(hasLoneSurrogate(input.Message!)).toBe(false);
      for (const attr of Object.values(input.MessageAttributes ?? {})) {
        expect(attr.StringValue!.length).toBeGreaterThan(0);
        expect(hasLoneSurrogate(attr.StringValue!)).toBe(false);
      }
      expect(parseSnsAlertEnvelope(message.lambda!)?.id).toBe(alert.id);
    }
  });
});
