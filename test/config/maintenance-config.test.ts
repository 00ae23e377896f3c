import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lambdas/config';

const BASE = `endpoints:
  - host: shop.example.com
    name: shop
`;

function errorLines(text: string): string[] {
  try {
    parseConfig(text, 'c.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig: maintenance', () => {
  it('reads windows in their time zone, with the section defaults', () => {
    // Prepare
    const text = `${BASE}maintenance:
  leadTime: 2h
  maxSilence: 7d
  windows:
    - id: lb-swap
      name: Load balancer swap
      endpoints: [shop]
      tags: [edge]
      start: 2026-12-03T02:00
      end: "2026-12-03 04:30"
      timeZone: Europe/Berlin
      message: Replacing the load balancer.
    - id: dns
      name: DNS move
      tags: [prod]
      start: 2026-12-10T01:00Z
      end: 2026-12-10T02:00Z
      leadTime: 0s
`;
    // Act
    const { maintenance } = parseConfig(text, 'c.yaml');
    // Assess
    expect(maintenance.leadTimeMs).toBe(2 * 3_600_000);
    expect(maintenance.maxSilenceMs).toBe(7 * 86_400_000);
    expect(maintenance.windows).toEqual([
      {
        id: 'lb-swap',
        name: 'Load balancer swap',
        endpoints: ['shop'],
        tags: ['edge'],
        start: '2026-12-03T01:00:00.000Z',
        end: '2026-12-03T03:30:00.000Z',
        timeZone: 'Europe/Berlin',
        message: 'Replacing the load balancer.',
        leadTimeMs: 2 * 3_600_000,
        createdAt: '1970-01-01T00:00:00.000Z',
        cancelledAt: null,
        source: 'config',
      },
      expect.objectContaining({
        id: 'dns',
        start: '2026-12-10T01:00:00.000Z',
        leadTimeMs: 0,
        timeZone: 'UTC',
      }),
    ]);
  });

  it.each([
    {
      name: 'end before start',
      window: 'start: 2026-12-03T04:00\n      end: 2026-12-03T02:00',
      line: 'c.yaml:10:12: maintenance.windows[0].end: expected a time after start',
    },
    {
      name: 'unknown time zone',
      window: 'start: 2026-12-03T02:00\n      end: 2026-12-03T04:00\n      timeZone: Mars/Olympus',
      line: 'c.yaml:11:17: maintenance.windows[0].timeZone: expected an IANA time zone like "UTC" or "Europe/Berlin", got "Mars/Olympus"',
    },
    {
      name: 'unreadable time',
      window: 'start: tomorrow\n      end: 2026-12-03T04:00',
      line: 'c.yaml:9:14: maintenance.windows[0].start: expected a time like "2026-12-03T02:00" (in the window\'s timeZone) or "2026-12-03T01:00Z", got "tomorrow"',
    },
  ])('refuses $name with one line naming the field', ({ window, line }) => {
    // Prepare
    const text = `${BASE}maintenance:\n  windows:\n    - id: w\n      name: W\n      endpoints: [shop]\n      ${window}\n`;
    // Act
    const lines = errorLines(text);
    // Assess
    expect(lines).toContain(line);
  });
});
