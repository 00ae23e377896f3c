import { describe, expect, it } from 'vitest';
import type { Alert } from '../../lambdas/core/model';
import {
  DISCORD_COLORS,
  DISCORD_EMBED_LIMITS,
  type DiscordEmbed,
  renderDiscordMessage,
} from '../../lambdas/notify/render-discord';
import { makeTestAlert } from '../../lambdas/notify/test-alert';
import { HOSTILE, hasLoneSurrogate, makeAlert, randomHostileString, seededRandom } from './alert-fixtures';

function embedOf(alert: Alert): DiscordEmbed {
  return renderDiscordMessage(alert).embeds[0];
}

/** Every text of the embed that Discord counts towards its 6000-character total. */
function countedTexts(embed: DiscordEmbed): string[] {
  return [
    embed.title,
    embed.description,
    embed.footer.text,
    ...embed.fields.flatMap((f) => [f.name, f.value]),
  ];
}

describe('renderDiscordMessage', () => {
  it('renders the exact webhook body for a critical expiry alert', () => {
    // Act
    const message = renderDiscordMessage(makeAlert());
    // Assess
    expect(message).toEqual({
      username: 'certwatch',
      embeds: [
        {
          title: 'CRITICAL: example.com',
          description:
            'expires in 3 days\n\nThe leaf certificate served at 192.0.2.10 expires on 2026-11-25.\n\n' +
            '**What to do next:** Renew the certificate and deploy it.',
          color: 0xd13438,
          fields: [
            { name: 'Endpoint', value: 'example.com \\(example.com:443\\)', inline: true },
            { name: 'Address', value: '192.0.2.10', inline: true },
            { name: 'Status', value: 'critical', inline: true },
            { name: 'Days left', value: '3 days', inline: true },
            { name: 'Expires', value: '2026-11-25 12:00 UTC', inline: true },
            { name: 'Issuer', value: 'CN=Example CA,O=Example Org', inline: true },
            { name: 'Owner', value: 'team-web', inline: true },
            {
              name: 'Findings',
              value: '\u2022 CRITICAL EXPIRES\\_SOON: The certificate expires in 3 days.',
              inline: false,
            },
          ],
          footer: {
            text: 'certwatch alert threshold|example.com:443|192.0.2.10|3 \u00B7 expiry threshold \u00B7 2026-11-22 08:00 UTC',
          },
          timestamp: '2026-11-22T08:00:00.000Z',
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it('renders a test alert in the test colour, without findings or owner', () => {
    // Act
    const embed = embedOf(makeTestAlert(new Date('2026-01-02T03:04:05.000Z')));
    // Assess
    expect(embed.title).toBe('TEST: certwatch notification test');
    expect(embed.color).toBe(DISCORD_COLORS.test);
    expect(embed.fields.map((f) => f.name)).toEqual([
      'Endpoint',
      'Address',
      'Status',
      'Days left',
      'Expires',
      'Issuer',
    ]);
    expect(embed.timestamp).toBe('2026-01-02T03:04:05.000Z');
  });

  it.each<[string, Partial<Alert>, number]>([
    ['resolved', { kind: 'resolved', severity: 'info' }, DISCORD_COLORS.resolved],
    ['renewed', { kind: 'renewed', severity: 'info' }, DISCORD_COLORS.resolved],
    ['warning', { severity: 'warning' }, DISCORD_COLORS.warning],
    ['info', { kind: 'renotify', severity: 'info' }, DISCORD_COLORS.info],
  ])('colours %s alerts', (_name, overrides, color) => {
    expect(embedOf(makeAlert(overrides)).color).toBe(color);
  });

  it('leaves the timestamp out when the alert time is unreadable', () => {
    expect(embedOf(makeAlert({ occurredAt: 'not a time' }))).not.toHaveProperty('timestamp');
  });
});

describe('renderDiscordMessage with hostile certificate text', () => {
  it('escapes Markdown, mentions and links everywhere Discord formats, and forbids every mention', () => {
    // Prepare
    const alert = makeAlert({
      endpoint: '@everyone',
      summary: `${HOSTILE.markdownLink} <@123> <t:0:R>`,
      issuer: `${HOSTILE.bold} ||spoiler|| <#1>`,
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: 'name @here `x` not in cert' }],
      detail: '# heading\n> quote\n- item',
      action: HOSTILE.controls,
    });
    // Act
    const message = renderDiscordMessage(alert);
    const embed = message.embeds[0];
    // Assess
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(embed.title).toBe('CRITICAL: \\@everyone');
    expect(embed.description).toBe(
      '\\[click\\]\\(https\\://evil.example\\) \\<\\@123\\> \\<t:0:R\\>\n\n' +
        '\\# heading\n\\> quote\n\\- item\n\n' +
        // A visible escape's backslash is escaped too, so Discord shows `\x00`.
        '**What to do next:** evil Bcc: victim\\@example.com\\\\x00\\\\x07\\\\x1b\\[31m\\\\u202egnp.exe',
    );
    expect(embed.fields[5]).toEqual({
      name: 'Issuer',
      value: '\\*bold\\* \\|\\|spoiler\\|\\| \\<\\#1\\>',
      inline: true,
    });
    expect(embed.fields[7]?.value).toBe(
      '\u2022 CRITICAL HOSTNAME\\_MISMATCH: name \\@here \\`x\\` not in cert',
    );
    // The footer is plain text in Discord: cleaned, not escaped.
    expect(embed.footer.text).not.toContain('\\@');
  });
});

describe('Discord limits hold for any input (seeded property loop)', () => {
  it('300 random hostile alerts stay within every embed limit, escaped and well-formed', () => {
    const random = seededRandom(0xd15c);
    for (let i = 0; i < 300; i++) {
      // Prepare: long hostile text in every field, more findings than are shown
      const text = (max: number) => randomHostileString(random, max);
      const alert = makeAlert({
        endpoint: text(300),
        summary: text(500),
        issuer: text(500),
        address: text(200),
        detail: text(900),
        action: text(300),
        owner: text(200),
        findings: Array.from({ length: 30 }, () => ({
          code: 'WEAK_KEY' as const,
          severity: 'warning' as const,
          message: text(300),
        })),
      });
      // Act
      const embed = embedOf(alert);
      // Assess
      expect(embed.title.length).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.title);
      expect(embed.description.length).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.description);
      expect(embed.fields.length).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.fields);
      for (const f of embed.fields) {
        expect(f.name.length).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.fieldName);
        expect(f.value.length).toBeGreaterThan(0);
        expect(f.value.length).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.fieldValue);
      }
      expect(embed.footer.text.length).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.footer);
      const texts = countedTexts(embed);
      expect(texts.reduce((n, t) => n + t.length, 0)).toBeLessThanOrEqual(DISCORD_EMBED_LIMITS.total);
      for (const t of texts) expect(hasLoneSurrogate(t)).toBe(false);
      // No unescaped mention, link or markup survives in what Discord formats.
      for (const t of [embed.title, ...embed.fields.map((f) => f.value)]) {
        expect(t.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])[<@[\]|`*_~]/);
      }
    }
  });
});
