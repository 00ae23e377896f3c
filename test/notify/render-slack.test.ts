import { describe, expect, it } from 'vitest';
import type { Alert } from '../../lambdas/core/model';
import { renderSlackMessage, type SlackBlock, type SlackText } from '../../lambdas/notify/render-slack';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

const field = (label: string, value: string): SlackText => ({
  type: 'mrkdwn',
  text: `*${label}*\n${value}`,
  verbatim: true,
});
const plain = (text: string): SlackText => ({ type: 'plain_text', text, emoji: false });

function allTexts(blocks: readonly SlackBlock[]): SlackText[] {
  return blocks.flatMap((b) => {
    if (b.type === 'header') return [b.text];
    if (b.type === 'section') return [...(b.text ? [b.text] : []), ...(b.fields ?? [])];
    if (b.type === 'context') return [...b.elements];
    return [];
  });
}

function fieldsOf(alert: Alert): string[] {
  const section = renderSlackMessage(alert).blocks.find((b) => b.type === 'section' && b.fields);
  return section?.type === 'section' ? (section.fields ?? []).map((f) => f.text) : [];
}

describe('renderSlackMessage', () => {
  it('renders the exact Block Kit message for a critical expiry alert', () => {
    // Act
    const message = renderSlackMessage(makeAlert());
    // Assess
    expect(message).toEqual({
      text: '\u{1F534} [CRITICAL] example.com: expires in 3 days',
      blocks: [
        { type: 'header', text: plain('\u{1F534} CRITICAL: example.com') },
        { type: 'section', text: plain('expires in 3 days') },
        {
          type: 'section',
          fields: [
            field('Endpoint', '`example.com (example.com:443)`'),
            field('Address', '`192.0.2.10`'),
            field('Status', '`critical`'),
            field('Days left', '`3 days`'),
            field('Expires', '`2026-11-25 12:00 UTC`'),
            field('Issuer', '`CN=Example CA,O=Example Org`'),
            field('Owner', '`team-web`'),
          ],
        },
        {
          type: 'section',
          text: plain('Findings:\n\u2022 CRITICAL EXPIRES_SOON: The certificate expires in 3 days.'),
        },
        { type: 'section', text: plain('The leaf certificate served at 192.0.2.10 expires on 2026-11-25.') },
        { type: 'section', text: plain('What to do next: Renew the certificate and deploy it.') },
        {
          type: 'context',
          elements: [
            plain(
              'certwatch alert threshold|example.com:443|192.0.2.10|3 \u00B7 expiry threshold \u00B7 2026-11-22 08:00 UTC',
            ),
          ],
        },
      ],
      unfurl_links: false,
      unfurl_media: false,
    });
  });

  it('renders a test alert with the test marker and no owner field', () => {
    // Act
    const message = renderSlackMessage(makeTestAlert(new Date('2026-01-02T03:04:05.000Z')));
    // Assess
    expect(message.text).toBe(
      '\u{1F9EA} [TEST] certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
    );
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: plain('\u{1F9EA} TEST: certwatch notification test'),
    });
    expect(message.blocks[1]).toEqual({
      type: 'section',
      text: plain('TEST \u2014 certwatch notification test, no action needed'),
    });
    expect(fieldsOf(makeTestAlert(new Date()))).toHaveLength(6);
  });

  it.each([
    ['resolved', { kind: 'resolved' as const, severity: 'info' as const }, '\u2705'],
    ['warning', { severity: 'warning' as const }, '\u{1F7E0}'],
    ['info', { kind: 'renotify' as const, severity: 'info' as const }, '\u{1F535}'],
  ])('marks %s alerts with their emoji', (_name, overrides: Partial<Alert>, emoji) => {
    expect(renderSlackMessage(makeAlert(overrides)).text.startsWith(`${emoji} `)).toBe(true);
  });
});

describe('renderSlackMessage with hostile certificate text', () => {
  it.each([
    ['<!channel> broadcast', HOSTILE.slackBroadcast, '`&lt;!channel&gt;`'],
    ['<@U123> mention', HOSTILE.slackMention, '`&lt;@U123&gt;`'],
    ['<url|label> link', HOSTILE.slackLink, '`&lt;https://evil.example|click&gt;`'],
    ['*bold* stays literal inside a code span', HOSTILE.bold, '`*bold*`'],
    ['_~ formatting stays literal', '_it_ ~st~', '`_it_ ~st~`'],
    ['backticks cannot close the span', 'a`*b*`c', "`a'*b*'c`"],
    ['ampersand', 'AT&T', '`AT&amp;T`'],
    ['control characters show as escapes, newlines as spaces', 'CA\r\n*x*\u0000', '`CA *x*\\x00`'],
    ['a bidi override shows as an escape', 'invoice\u202Egnp.exe', '`invoice\\u202egnp.exe`'],
    ['empty value', '', '`unknown`'],
  ])('issuer %s', (_name, issuer, expectedValue) => {
    // Act
    const fields = fieldsOf(makeAlert({ issuer }));
    // Assess
    expect(fields[5]).toBe(`*Issuer*\n${expectedValue}`);
  });

  it('escapes Slack control characters in the header, fallback text and plain-text sections', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: HOSTILE.slackBroadcast,
      summary: `${HOSTILE.slackLink} & ${HOSTILE.slackMention}`,
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: 'name <!here> not in cert' }],
      detail: 'line <!everyone>\nnext',
      action: 'do <b>this</b>',
    });
    // Act
    const message = renderSlackMessage(alert);
    // Assess
    expect(message.text).toBe(
      '\u{1F534} [CRITICAL] &lt;!channel&gt;: &lt;https://evil.example|click&gt; &amp; &lt;@U123&gt;',
    );
    expect(message.blocks.slice(0, 2)).toEqual([
      { type: 'header', text: plain('\u{1F534} CRITICAL: &lt;!channel&gt;') },
      { type: 'section', text: plain('&lt;https://evil.example|click&gt; &amp; &lt;@U123&gt;') },
    ]);
    expect(message.blocks.slice(3, 6)).toEqual([
      {
        type: 'section',
        text: plain('Findings:\n\u2022 CRITICAL HOSTNAME_MISMATCH: name &lt;!here&gt; not in cert'),
      },
      { type: 'section', text: plain('line &lt;!everyone&gt;\nnext') },
      { type: 'section', text: plain('What to do next: do &lt;b&gt;this&lt;/b&gt;') },
    ]);
  });

  it('fits a 300-character CN in the 150-character header without splitting an escape', () => {
    // Prepare: a CN of "<" characters quadruples under escaping.
    const endpoint = '<'.repeat(300);
    // Act
    const header = renderSlackMessage(makeAlert({ endpoint })).blocks[0];
    // Assess
    const text = header?.type === 'header' ? header.text.text : '';
    expect(text.length).toBeLessThanOrEqual(150);
    expect(text).toMatch(/^\u{1F534} CRITICAL: (&lt;)+\u2026$/u);
  });

  it('drops an emoji that straddles the header limit instead of splitting its surrogate pair', () => {
    // Prepare: prefix "🔴 CRITICAL: " is 13 code units; 135 "a" then an emoji puts the pair across 150.
    const endpoint = `${'a'.repeat(135)}\u{1F600}\u{1F600}`;
    // Act
    const header = renderSlackMessage(makeAlert({ endpoint })).blocks[0];
    // Assess
    const text = header?.type === 'header' ? header.text.text : '';
    expect(text).toBe(`\u{1F534} CRITICAL: ${'a'.repeat(135)}\u2026`);
    expect(hasLoneSurrogate(text)).toBe(false);
  });
});

describe('Slack limits hold for any input (seeded property loop)', () => {
  it('300 random hostile alerts never exceed Block Kit limits or leak a raw "<"', () => {
    const random = seededRandom(0x51ac);
    for (let i = 0; i < 300; i++) {
      // Prepare
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(200),
        summary: text(400),
        issuer: text(400),
        detail: text(600),
        action: text(100),
        owner: text(50),
        findings: Array.from({ length: 5 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'warning' as const,
          message: text(200),
        })),
      });
      // Act
      const message = renderSlackMessage(alert);
      // Assess
      const header = message.blocks[0];
      expect(header?.type === 'header' && header.text.text.length <= 150).toBe(true);
      for (const t of allTexts(message.blocks)) {
        expect(t.text.length).toBeLessThanOrEqual(3000);
        expect(t.text).not.toMatch(/[<>]/);
        expect(t.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(hasLoneSurrogate(t.text)).toBe(false);
      }
      for (const f of fieldsOf(alert)) expect(f.length).toBeLessThanOrEqual(2000);
      expect(message.text).not.toMatch(/[<>]/);
    }
  });
});
