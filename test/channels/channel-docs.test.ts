/**
 * docs/channels.md's "Channel types" table against the channel registry: every
 * registered type has its row (a new type without one fails here), and the
 * ticket channels' rows name the requests their notifiers send.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_TYPES } from '../../lambdas/channels/registry';

/** The rows of the table: the types named in the first cell → the other cells. */
function channelRows(): Map<string, string[]> {
  const doc = readFileSync(resolve(__dirname, '../../docs/channels.md'), 'utf8');
  const section = doc.split('## Channel types')[1]?.split('\n### ')[0] ?? '';
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [first = '', ...cells] = line.slice(1, -1).split(' | ');
    for (const m of first.matchAll(/`([a-z]+)`/g)) rows.set(m[1] as string, cells);
  }
  return rows;
}

describe('docs/channels.md: channel types', () => {
  it('has a row for every registered channel type, and only for those', () => {
    // Act
    const rows = channelRows();
    // Assess
    expect([...rows.keys()].sort()).toEqual(Object.keys(CHANNEL_TYPES).sort());
    for (const [type, cells] of rows)
      expect(
        cells.every((c) => c.trim() !== ''),
        type,
      ).toBe(true);
  });

  it.each([
    [
      'github',
      [
        'POST /repos/{owner}/{repo}/issues',
        'POST /repos/{owner}/{repo}/issues/{number}/comments',
        'PATCH /repos/{owner}/{repo}/issues/{number}',
      ],
    ],
    [
      'jira',
      [
        'POST /rest/api/3/issue',
        'POST /rest/api/3/issue/{key}/comment',
        'POST /rest/api/3/issue/{key}/transitions',
      ],
    ],
  ])('names the requests of the %s channel: opens, updates, closes', (type, requests) => {
    // Act
    const [opens = '', updates = '', closes = ''] = channelRows().get(type) ?? [];
    // Assess
    expect(opens).toContain(requests[0]);
    expect(updates).toContain(requests[1]);
    expect(closes).toContain(requests[2]?.replace('POST ', ''));
  });
});
