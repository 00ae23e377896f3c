import { describe, expect, it } from 'vitest';
import {
  type AdaptiveCard,
  renderTeamsMessage,
  type TeamsTextBlock,
} from '../../lambdas/notify/render-teams';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

function cardOf(message: ReturnType<typeof renderTeamsMessage>): AdaptiveCard {
  return message.attachments[0].content;
}

describe('renderTeamsMessage', () => {
  it('renders the exact Workflows message with an Adaptive Card for a critical expiry alert', () => {
    // Act
    const message = renderTeamsMessage(makeAlert());
    // Assess
    expect(message).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              {
                type: 'TextBlock',
                text: 'CRITICAL: example.com',
                wrap: true,
                size: 'Large',
                weight: 'Bolder',
                color: 'Attention',
              },
              { type: 'TextBlock', text: 'expires in 3 days', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Endpoint', value: 'example.com \\(example.com:443\\)' },
                  { title: 'Address', value: '192.0.2.10' },
                  { title: 'Status', value: 'critical' },
                  { title: 'Days left', value: '3 days' },
                  { title: 'Expires', value: '2026-11-25 12:00 UTC' },
                  { title: 'Issuer', value: 'CN=Example CA,O=Example Org' },
                  { title: 'Owner', value: 'team-web' },
                ],
              },
              { type: 'TextBlock', text: '**Findings**', wrap: true, spacing: 'Medium' },
              {
                type: 'TextBlock',
                text: '**CRITICAL** EXPIRES\\_SOON: The certificate expires in 3 days.',
                wrap: true,
              },
              {
                type: 'TextBlock',
                text: 'The leaf certificate served at 192.0.2.10 expires on 2026-11-25.',
                wrap: true,
                spacing: 'Medium',
              },
              {
                type: 'TextBlock',
                text: '**What to do next:** Renew the certificate and deploy it.',
                wrap: true,
                spacing: 'Medium',
              },
              {
                type: 'TextBlock',
                text: 'certwatch alert threshold|example.com:443|192.0.2.10|3 \u00B7 expiry threshold \u00B7 2026-11-22 08:00 UTC',
                wrap: true,
                size: 'Small',
                isSubtle: true,
              },
            ],
          },
        },
      ],
    });
  });

  it('colours a test alert as Accent and says TEST in the title', () => {
    // Act
    const card = cardOf(renderTeamsMessage(makeTestAlert(new Date('2026-01-02T03:04:05.000Z'))));
    // Assess
    expect(card.body[0]).toEqual({
      type: 'TextBlock',
      text: 'TEST: certwatch notification test',
      wrap: true,
      size: 'Large',
      weight: 'Bolder',
      color: 'Accent',
    });
    expect((card.body[1] as TeamsTextBlock).text).toBe(
      'TEST \u2014 certwatch notification test, no action needed',
    );
  });

  it('stays under the Teams message size limit for a worst-case alert', () => {
    // Prepare: 3-byte characters and backslash-escaped characters are the most expensive per unit.
    const heavy = '\u4E2D['.repeat(5000);
    const alert = makeAlert({
      endpoint: heavy,
      summary: heavy,
      issuer: heavy,
      owner: heavy,
      address: heavy,
      detail: heavy,
      action: heavy,
      findings: Array.from({ length: 40 }, () => ({
        code: 'WEAK_KEY' as const,
        severity: 'warning' as const,
        message: heavy,
      })),
    });
    // Act
    const message = renderTeamsMessage(alert);
    // Assess
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(28 * 1024);
    expect(cardOf(message).body).toContainEqual({
      type: 'TextBlock',
      text: '\u2026 and 30 more',
      wrap: true,
      isSubtle: true,
    });
  });

  it('keeps the author line breaks of the detail as separate paragraphs', () => {
    const card = cardOf(renderTeamsMessage(makeAlert({ detail: 'one\ntwo' })));
    expect(card.body).toContainEqual({
      type: 'TextBlock',
      text: 'one\n\ntwo',
      wrap: true,
      spacing: 'Medium',
    });
  });
});

describe('renderTeamsMessage with hostile certificate text', () => {
  it('escapes every untrusted value in title, summary, facts, findings and action', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: HOSTILE.markdownLink,
      summary: `${HOSTILE.bold} ${HOSTILE.slackBroadcast}`,
      issuer: `${HOSTILE.controls} [x](https://evil.example)`,
      findings: [{ code: 'SELF_SIGNED', severity: 'warning', message: 'subject # [a](b)' }],
      action: '_do_ it',
    });
    // Act
    const body = cardOf(renderTeamsMessage(alert)).body;
    // Assess
    expect((body[0] as TeamsTextBlock).text).toBe('CRITICAL: \\[click\\]\\(https://evil.example\\)');
    expect((body[1] as TeamsTextBlock).text).toBe('\\*bold\\* \\<!channel\\>');
    expect(body[2]).toMatchObject({
      facts: expect.arrayContaining([
        {
          title: 'Issuer',
          // Controls and the bidi override show as escapes, whose backslashes Markdown escapes in turn.
          value:
            'evil Bcc: victim@example.com\\\\x00\\\\x07\\\\x1b\\[31m\\\\u202egnp.exe \\[x\\]\\(https://evil.example\\)',
        },
      ]),
    });
    expect((body[4] as TeamsTextBlock).text).toBe('**WARNING** SELF\\_SIGNED: subject \\# \\[a\\]\\(b\\)');
    expect(body).toContainEqual({
      type: 'TextBlock',
      text: '**What to do next:** \\_do\\_ it',
      wrap: true,
      spacing: 'Medium',
    });
  });

  it('truncates a 300-character CN without splitting an escape or a surrogate pair', () => {
    // Prepare
    const endpoint = `${'['.repeat(150)}${'\u{1F600}'.repeat(150)}`;
    // Act
    const title = (cardOf(renderTeamsMessage(makeAlert({ endpoint }))).body[0] as TeamsTextBlock).text;
    // Assess: the view caps the endpoint at 200 units; the title then fits 300 after escaping.
    expect(title.length).toBeLessThanOrEqual(300);
    expect(title).toMatch(/^CRITICAL: (\\\[)+\u2026$/u);
    expect(hasLoneSurrogate(title)).toBe(false);
  });
});

describe('Teams output stays bounded and inert for any input (seeded property loop)', () => {
  it('300 random hostile alerts: no unescaped link syntax, no lone surrogates, small payload', () => {
    const random = seededRandom(0x7ea5);
    for (let i = 0; i < 300; i++) {
      // Prepare
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(200),
        summary: text(300),
        issuer: text(300),
        detail: text(400),
        findings: Array.from({ length: 5 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'info' as const,
          message: text(100),
        })),
      });
      // Act
      const message = renderTeamsMessage(alert);
      const json = JSON.stringify(message);
      // Assess
      expect(Buffer.byteLength(json)).toBeLessThan(28 * 1024);
      const card = cardOf(message);
      const values = card.body.flatMap((b) =>
        b.type === 'FactSet' ? b.facts.map((f) => f.value) : [b.text],
      );
      // Our own bold labels are the only Markdown allowed through.
      for (const v of values.map((x) => x.replace(/^\*\*[A-Za-z ]+:?\*\* ?/, ''))) {
        // Every "[" or "(" or "<" is preceded by an odd run of backslashes, i.e. escaped.
        expect(v.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])[[(<*_`]/);
        expect(hasLoneSurrogate(v)).toBe(false);
      }
    }
  });
});
