import { describe, expect, it } from 'vitest';
import type { Alert } from '../../lambdas/core/model';
import {
  MATTERMOST_COLORS,
  type MattermostMessage,
  renderMattermostMessage,
} from '../../lambdas/notify/render-mattermost';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

/** Every text Mattermost renders as Markdown and reads mentions from. */
function markdownTexts(message: MattermostMessage): string[] {
  const [attachment] = message.attachments;
  return [message.text, attachment.text, ...attachment.fields.map((f) => f.value)];
}

describe('renderMattermostMessage', () => {
  it('renders the exact webhook body for a critical expiry alert', () => {
    // Act
    const message = renderMattermostMessage(makeAlert());
    // Assess
    expect(message).toEqual({
      username: 'certwatch',
      text: '\u{1F534} **CRITICAL** example.com: expires in 3 days',
      attachments: [
        {
          fallback: '\u{1F534} [CRITICAL] example.com: expires in 3 days',
          color: '#d13438',
          text:
            'expires in 3 days\n\nThe leaf certificate served at 192.0.2.10 expires on 2026-11-25.\n\n' +
            '**What to do next:** Renew the certificate and deploy it.',
          fields: [
            { title: 'Endpoint', value: 'example.com \\(example.com:443\\)', short: true },
            { title: 'Address', value: '192.0.2.10', short: true },
            { title: 'Status', value: 'critical', short: true },
            { title: 'Days left', value: '3 days', short: true },
            { title: 'Expires', value: '2026-11-25 12:00 UTC', short: true },
            { title: 'Issuer', value: 'CN=Example CA,O=Example Org', short: true },
            { title: 'Owner', value: 'team-web', short: true },
            {
              title: 'Findings',
              value: '\u2022 CRITICAL EXPIRES\\_SOON: The certificate expires in 3 days.',
              short: false,
            },
          ],
          footer:
            'certwatch alert threshold|example.com:443|192.0.2.10|3 \u00B7 expiry threshold \u00B7 2026-11-22 08:00 UTC',
        },
      ],
    });
  });

  it('renders a test alert with the test marker and colour', () => {
    // Act
    const message = renderMattermostMessage(makeTestAlert(new Date('2026-01-02T03:04:05.000Z')));
    // Assess
    expect(message.text).toBe(
      '\u{1F9EA} **TEST** certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
    );
    expect(message.attachments[0].color).toBe(MATTERMOST_COLORS.test);
  });

  it.each<[string, Partial<Alert>, string, string]>([
    ['resolved', { kind: 'resolved', severity: 'info' }, '\u2705', MATTERMOST_COLORS.resolved],
    ['warning', { severity: 'warning' }, '\u{1F7E0}', MATTERMOST_COLORS.warning],
    ['info', { kind: 'renotify', severity: 'info' }, '\u{1F535}', MATTERMOST_COLORS.info],
  ])('marks %s alerts with their emoji and colour', (_name, overrides, emoji, color) => {
    const message = renderMattermostMessage(makeAlert(overrides));
    expect(message.text.startsWith(`${emoji} `)).toBe(true);
    expect(message.attachments[0].color).toBe(color);
  });
});

describe('renderMattermostMessage with hostile certificate text', () => {
  it('leaves no mention, Slack form, link or Markdown in what Mattermost formats', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: '@channel',
      summary: `${HOSTILE.slackBroadcast} <!here> ${HOSTILE.slackMention} ${HOSTILE.markdownLink}`,
      issuer: 'CN=admin@example.com, O=www.evil.example ~town-square',
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: 'name @all `x` not in cert' }],
      detail: '# heading\n| a | b |\n- item',
      action: HOSTILE.controls,
    });
    // Act
    const message = renderMattermostMessage(alert);
    const [attachment] = message.attachments;
    // Assess
    expect(message.text).toBe(
      '\u{1F534} **CRITICAL** \uFF20channel: \\<\\!channel\\> \\<\\!here\\> \\<\uFF20U123\\> \\[click\\]\\(https\\://evil.example\\)',
    );
    expect(attachment.text).toBe(
      '\\<\\!channel\\> \\<\\!here\\> \\<\uFF20U123\\> \\[click\\]\\(https\\://evil.example\\)\n\n' +
        '\\# heading\n\\| a \\| b \\|\n\\- item\n\n' +
        '**What to do next:** evil Bcc: victim\uFF20example.com\\\\x00\\\\x07\\\\x1b\\[31m\\\\u202egnp.exe',
    );
    expect(attachment.fields[5]?.value).toBe(
      'CN=admin\uFF20example.com, O=www\\.evil.example \\~town-square',
    );
    expect(attachment.fields[7]?.value).toBe(
      '\u2022 CRITICAL HOSTNAME\\_MISMATCH: name \uFF20all \\`x\\` not in cert',
    );
    for (const t of markdownTexts(message)) {
      expect(t).not.toContain('@');
      expect(t).not.toMatch(/<[!@]/);
    }
    // Fallback and footer are plain text in Mattermost: cleaned, not escaped.
    expect(attachment.fallback).toBe(
      `\u{1F534} [CRITICAL] @channel: <!channel> <!here> <@U123> ${HOSTILE.markdownLink}`,
    );
  });
});

describe('Mattermost output holds for any input (seeded property loop)', () => {
  it('300 random hostile alerts stay bounded, mention-free and well-formed', () => {
    const random = seededRandom(0x3a77);
    for (let i = 0; i < 300; i++) {
      // Prepare
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: `@${text(300)}`,
        summary: text(500),
        issuer: text(500),
        detail: text(900),
        action: text(300),
        findings: Array.from({ length: 30 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'warning' as const,
          message: `@all ${text(300)}`,
        })),
      });
      // Act
      const message = renderMattermostMessage(alert);
      // Assess: far below the 16,383-character post limit, nothing that notifies or links.
      expect(JSON.stringify(message).length).toBeLessThan(16_000);
      for (const t of markdownTexts(message)) {
        expect(t).not.toContain('@');
        expect(t).not.toMatch(/<[!@]/);
        expect(t.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])(\[|<|:\/\/)/);
        expect(hasLoneSurrogate(t)).toBe(false);
      }
    }
  });
});
