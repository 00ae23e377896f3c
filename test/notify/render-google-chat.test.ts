import { describe, expect, it } from 'vitest';
import type { Alert } from '../../lambdas/core/model';
import {
  GOOGLE_CHAT_COLORS,
  type GoogleChatMessage,
  type GoogleChatWidget,
  renderGoogleChatMessage,
} from '../../lambdas/notify/render-google-chat';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

const paragraph = (text: string): GoogleChatWidget => ({ textParagraph: { text } });
const fact = (topLabel: string, text: string): GoogleChatWidget => ({
  decoratedText: { topLabel, text, wrapText: true },
});

/** Every text Chat renders as HTML, without certwatch's own tags. */
function cardTexts(message: GoogleChatMessage): string[] {
  return message.cardsV2[0].card.sections.flatMap((s) =>
    s.widgets.map((w) =>
      ('textParagraph' in w ? w.textParagraph.text : w.decoratedText.text).replace(
        /<\/?b>|<br>|<font color="#[0-9a-f]{6}">|<\/font>/g,
        '',
      ),
    ),
  );
}

describe('renderGoogleChatMessage', () => {
  it('renders the exact cards v2 message for a critical expiry alert', () => {
    // Act
    const message = renderGoogleChatMessage(makeAlert());
    // Assess
    expect(message).toEqual({
      text: '[CRITICAL] example.com: expires in 3 days',
      cardsV2: [
        {
          cardId: 'certwatch-alert',
          card: {
            header: { title: 'certwatch: CRITICAL', subtitle: 'expiry threshold' },
            sections: [
              {
                widgets: [
                  paragraph('<font color="#d13438"><b>CRITICAL</b></font> example.com: expires in 3 days'),
                ],
              },
              {
                widgets: [
                  fact('Endpoint', 'example.com (example.com:443)'),
                  fact('Address', '192.0.2.10'),
                  fact('Status', 'critical'),
                  fact('Days left', '3 days'),
                  fact('Expires', '2026-11-25 12:00 UTC'),
                  fact('Issuer', 'CN=Example CA,O=Example Org'),
                  fact('Owner', 'team-web'),
                ],
              },
              {
                header: 'Findings',
                widgets: [paragraph('\u2022 CRITICAL EXPIRES_SOON: The certificate expires in 3 days.')],
              },
              {
                widgets: [
                  paragraph('The leaf certificate served at 192.0.2.10 expires on 2026-11-25.'),
                  paragraph('<b>What to do next:</b> Renew the certificate and deploy it.'),
                  paragraph(
                    '<font color="#5f6368">certwatch alert threshold|example.com:443|192.0.2.10|3 \u00B7 expiry threshold \u00B7 2026-11-22 08:00 UTC</font>',
                  ),
                ],
              },
            ],
          },
        },
      ],
    });
  });

  it('renders a test alert with the test marker and colour, and no findings section', () => {
    // Act
    const message = renderGoogleChatMessage(makeTestAlert(new Date('2026-01-02T03:04:05.000Z')));
    // Assess
    expect(message.text).toBe(
      '[TEST] certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
    );
    expect(message.cardsV2[0].card.header).toEqual({
      title: 'certwatch: TEST',
      subtitle: 'notification test',
    });
    expect(message.cardsV2[0].card.sections.map((s) => s.header ?? null)).toEqual([null, null, null]);
    expect(cardTexts(message)[0]).toBe(
      'TEST certwatch notification test: TEST \u2014 certwatch notification test, no action needed',
    );
    expect(JSON.stringify(message)).toContain(GOOGLE_CHAT_COLORS.test);
  });

  it.each<[string, Partial<Alert>, string]>([
    ['resolved', { kind: 'resolved', severity: 'info' }, GOOGLE_CHAT_COLORS.resolved],
    ['warning', { severity: 'warning' }, GOOGLE_CHAT_COLORS.warning],
    ['info', { kind: 'renotify', severity: 'info' }, GOOGLE_CHAT_COLORS.info],
  ])('colours the severity of %s alerts', (_name, overrides, color) => {
    const first = renderGoogleChatMessage(makeAlert(overrides)).cardsV2[0].card.sections[0]?.widgets[0];
    expect(first && 'textParagraph' in first && first.textParagraph.text).toMatch(`<font color="${color}">`);
  });

  it('keeps the detail’s line breaks as <br>, added after escaping', () => {
    const message = renderGoogleChatMessage(makeAlert({ detail: 'first <br>\nsecond' }));
    expect(cardTexts(message)).toContain('first &lt;br&gt;second');
    expect(JSON.stringify(message)).toContain('first &lt;br&gt;<br>second');
  });
});

describe('renderGoogleChatMessage with hostile certificate text', () => {
  it('entity-escapes the card HTML and keeps mentions and links out of the text fallback', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: '<users/all>',
      summary: `<a href="https://evil.example">click</a> & ${HOSTILE.slackLink}`,
      issuer: '<font color="#ff0000">Trusted CA</font>',
      action: HOSTILE.controls,
    });
    // Act
    const message = renderGoogleChatMessage(alert);
    // Assess
    expect(message.text).toBe(
      '[CRITICAL] \u2039users/all\u203A: \u2039a href="https://evil.example"\u203Aclick\u2039/a\u203A & \u2039https://evil.example|click\u203A',
    );
    const texts = cardTexts(message);
    expect(texts[0]).toBe(
      'CRITICAL &lt;users/all&gt;: &lt;a href="https://evil.example"&gt;click&lt;/a&gt; &amp; &lt;https://evil.example|click&gt;',
    );
    expect(texts).toContain('&lt;font color="#ff0000"&gt;Trusted CA&lt;/font&gt;');
    expect(texts).toContain('What to do next: evil Bcc: victim@example.com\\x00\\x07\\x1b[31m\\u202egnp.exe');
    // The header holds certwatch's words only.
    expect(message.cardsV2[0].card.header).toEqual({
      title: 'certwatch: CRITICAL',
      subtitle: 'expiry threshold',
    });
  });
});

describe('Google Chat limits hold for any input (seeded property loop)', () => {
  it('300 random hostile alerts stay small, escaped and well-formed', () => {
    const random = seededRandom(0x6c4a);
    for (let i = 0; i < 300; i++) {
      // Prepare
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(300),
        summary: text(500),
        issuer: text(500),
        detail: text(900),
        action: text(300),
        findings: Array.from({ length: 30 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'warning' as const,
          message: text(300),
        })),
      });
      // Act
      const message = renderGoogleChatMessage(alert);
      // Assess: Chat takes at most 32,000 bytes per message.
      expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(32_000);
      expect(message.text).not.toMatch(/[<>]/);
      for (const t of cardTexts(message)) {
        expect(t).not.toMatch(/[<>]/);
        expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(hasLoneSurrogate(t)).toBe(false);
      }
    }
  });
});
