import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChainCertificate } from '../../lambdas/core/model';
import {
  REPORT_CSP,
  renderReport,
  renderSparkline,
  renderTimeline,
  STATUS_COLOURS,
  TIMELINE_MAX_LANES,
} from '../../lambdas/report/render-report';
import type { ReportData, ReportHistoryPoint, ReportRow } from '../../lambdas/report/report-data';

const NOW = '2030-03-01T10:00:00.000Z';
const DAY = 86_400_000;
const at = (days: number) => new Date(Date.parse(NOW) + days * DAY).toISOString();

const CERT: ChainCertificate = {
  subject: 'CN=shop.example',
  issuer: 'CN=Test CA',
  notBefore: at(-30),
  notAfter: at(12.5),
  serialNumber: '01',
  fingerprintSha256: 'CD'.repeat(32),
  keyType: 'EC',
  keyBits: 256,
  signatureAlgorithm: 'ecdsa-with-SHA256',
  selfSigned: false,
};

function row(overrides: Partial<ReportRow> = {}): ReportRow {
  return {
    key: 'shop.example:443|192.0.2.1',
    endpointId: 'shop.example:443',
    endpointName: 'shop',
    address: '192.0.2.1',
    owner: 'team-web',
    tags: ['prod'],
    status: 'warning',
    daysLeft: 12,
    notAfter: at(12.5),
    issuer: 'CN=Test CA',
    lastCheckedAt: NOW,
    consecutiveFailures: 0,
    findings: [{ code: 'EXPIRES_SOON', severity: 'warning', message: 'expires in 12 days' }],
    chain: [CERT],
    chainCheckedAt: NOW,
    history: [],
    ...overrides,
  };
}

function data(rows: readonly ReportRow[]): ReportData {
  return { generatedAt: NOW, source: 'embedded DynamoDB in .certwatch', rows, omitted: 0 };
}

/** Script, image, handler or frame an injection would produce; the page's own single script excepted. */
function injected(page: string): string[] {
  const found: string[] = [];
  if (page.split(/<script/i).length !== 2) found.push('a second <script');
  // Text never holds a raw `<`, so every `<` here opens a real tag; attribute values are double-quoted.
  for (const re of [/<img/i, /<iframe/i, /javascript:/i, /<b>/i, /<a\s/i]) {
    if (re.test(page)) found.push(String(re));
  }
  for (const [tag] of page.matchAll(/<[a-z][^>]*>/gi)) {
    if (/\son\w+=|\sstyle=|\ssrc=|\shref=/i.test(tag.replace(/"[^"]*"/g, '""'))) found.push(tag);
  }
  for (const ch of ['\u202E', '\u2066', '\u001b', '\u200B']) if (page.includes(ch)) found.push(escape(ch));
  return found;
}

const HOSTILE =
  '</script><script>alert(1)</script>"><img src=x onerror=alert(2)>\'<b>x</b>\u202Egnp.exe\u001b[31m\u200B';

describe('renderReport escaping', () => {
  it.each<[string, (h: string) => Partial<ReportRow> | { source: string }]>([
    ['endpoint name', (h) => ({ endpointName: h })],
    ['endpoint id and key', (h) => ({ endpointId: h, key: h })],
    ['address', (h) => ({ address: h })],
    ['owner', (h) => ({ owner: h })],
    ['tag', (h) => ({ tags: [h, 'prod'] })],
    ['issuer', (h) => ({ issuer: h })],
    ['finding message', (h) => ({ findings: [{ code: 'EXPIRES_SOON', severity: 'warning', message: h }] })],
    ['chain subject and issuer', (h) => ({ chain: [{ ...CERT, subject: h, issuer: h }] })],
    [
      'chain serial, key type and signature',
      (h) => ({ chain: [{ ...CERT, serialNumber: h, keyType: h, signatureAlgorithm: h }] }),
    ],
    [
      'unparseable times',
      (h) => ({ notAfter: h, lastCheckedAt: h, chain: [{ ...CERT, notBefore: h, notAfter: h }] }),
    ],
    ['source', (h) => ({ source: h })],
  ])('keeps a hostile %s inert', (_name, place) => {
    // Prepare
    const patch = place(HOSTILE);
    const input = 'source' in patch ? { ...data([row()]), source: patch.source } : data([row(patch)]);
    // Act
    const page = renderReport(input);
    // Assess
    expect(injected(page)).toEqual([]);
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });

  it('writes the filters with indexes, never with the owner or tag text', () => {
    // Prepare
    const rows = [
      row({ owner: HOSTILE, tags: [HOSTILE] }),
      row({ key: 'b', owner: 'team-a', tags: ['a', 'b'] }),
    ];
    // Act
    const page = renderReport(data(rows));
    // Assess: owners and tags sorted, referred to as o0.., t0..
    expect(page).toContain('<option value="o0">&lt;/script');
    expect(page).toContain('<option value="o1">team-a</option>');
    expect(page).toContain('data-owner="o1" data-tags="t1 t2"');
    expect(page).toContain('data-owner="o0" data-tags="t0"');
  });
});

describe('renderReport page', () => {
  const page = renderReport(
    data([row(), row({ key: 'x', status: 'expired', daysLeft: -3, notAfter: at(-2.5) })]),
  );

  it('allows only its own script and style sheet, by hash', () => {
    // Prepare
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64');
    // Assess
    expect(REPORT_CSP).toBe(
      `default-src 'none'; script-src 'sha256-${hash(script)}'; style-src 'sha256-${hash(style)}'; base-uri 'none'; form-action 'none'`,
    );
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
  });

  it('refers to nothing outside itself', () => {
    expect(page).not.toMatch(/https?:|\/\/[a-z]|\ssrc=|\shref=|url\(|@import|@font-face/i);
  });

  it.each(Object.entries(STATUS_COLOURS))('colours %s from the one colour table', (status, colour) => {
    expect(page).toContain(`.status-${status}{background:${colour.background};color:${colour.text}}`);
  });

  it('says so when nothing is stored', () => {
    const empty = renderReport(data([]));
    expect(empty).toContain('No stored state.');
    expect(empty).toContain('No certificate expires in the next 90 days.');
  });
});

describe('renderTimeline', () => {
  it.each([
    ['an expiry inside the window', [row()], ['shop.example:443|192.0.2.1']],
    ['an expired certificate, at the left edge', [row({ key: 'e', notAfter: at(-2), daysLeft: -2 })], ['e']],
    ['an expiry beyond 90 days', [row({ notAfter: at(91) })], []],
    ['an unknown expiry', [row({ notAfter: null, daysLeft: null })], []],
    [
      'several, soonest first',
      [row({ key: 'late', notAfter: at(60) }), row({ key: 'soon', notAfter: at(3) })],
      ['soon', 'late'],
    ],
  ])('draws %s', (_name, rows, lanes) => {
    // Act
    const svg = renderTimeline(rows, NOW);
    // Assess
    expect([...svg.matchAll(/<g class="lane" data-key="([^"]*)"/g)].map((m) => m[1])).toEqual(lanes);
  });

  it(`draws at most ${TIMELINE_MAX_LANES} lanes and counts the rest`, () => {
    // Prepare
    const rows = Array.from({ length: TIMELINE_MAX_LANES + 5 }, (_, i) =>
      row({ key: `k${i}`, notAfter: at(1 + i) }),
    );
    // Act
    const svg = renderTimeline(rows, NOW);
    // Assess
    expect(svg.match(/<g class="lane"/g)).toHaveLength(TIMELINE_MAX_LANES);
    expect(svg).toContain('and 5 more within 90 days');
  });

  it('starts an expired bar at today and ends a bar at its expiry, to scale', () => {
    // Act
    const svg = renderTimeline(
      [row({ key: 'half', notAfter: at(45) }), row({ key: 'gone', notAfter: at(-5) })],
      NOW,
    );
    // Assess: 640 px for 90 days, so 45 days is 320 px; an expired bar is the 2 px minimum
    expect(svg).toMatch(/data-key="half">.*?<rect class="fill-ok|data-key="half">.*?width="320.0"/);
    expect(svg).toMatch(/data-key="gone">.*?width="2.0"/);
  });
});

describe('renderSparkline', () => {
  const point = (hoursAgo: number, daysLeft: number | null, failed = false): ReportHistoryPoint => ({
    checkedAt: new Date(Date.parse(NOW) - hoursAgo * 3_600_000).toISOString(),
    daysLeft,
    status: failed ? 'error' : 'ok',
    failed,
  });

  it.each([
    ['no history', [], { failures: null, line: false, title: null }],
    [
      'one check',
      [point(0, 12)],
      { failures: 0, line: false, title: '1 check, 0 failed, days left 12 → 12' },
    ],
    [
      'checks with failures',
      [point(18, 14), point(12, null, true), point(6, 13), point(0, 12)],
      { failures: 1, line: true, title: '4 checks, 1 failed, days left 14 → 12' },
    ],
    [
      'only failures',
      [point(6, null, true), point(0, null, true)],
      { failures: 2, line: false, title: '2 checks, 2 failed' },
    ],
  ])('draws %s', (_name, history, expected) => {
    // Act
    const svg = renderSparkline(history);
    // Assess
    expect({
      failures:
        /data-failures="(\d+)"/.exec(svg)?.[1] === undefined
          ? null
          : Number(/data-failures="(\d+)"/.exec(svg)?.[1]),
      line: svg.includes('<polyline'),
      title: /<title>([^<]*)<\/title>/.exec(svg)?.[1] ?? null,
    }).toEqual(expected);
    expect(svg.match(/<rect class="fail"/g)?.length ?? 0).toBe(expected.failures ?? 0);
  });
});

describe('renderReport: maintenance and silences', () => {
  it.each([
    { kind: 'maintenance' as const, name: 'LB swap', shown: 'in maintenance LB swap until' },
    {
      kind: 'silence' as const,
      name: 'chain fix <b>OPS-12</b>',
      shown: 'silenced: chain fix &lt;b&gt;OPS-12&lt;/b&gt; until',
    },
  ])('shows a $kind covering the address, its name escaped', ({ kind, name, shown }) => {
    // Prepare
    const covered = row({ suppressedBy: { kind, id: 'x', name, until: at(1) } });
    // Act
    const page = renderReport(data([covered, row({ key: 'other' })]));
    // Assess
    expect(page).toContain(shown);
    expect(page.split('class="sub suppressed"')).toHaveLength(2);
    expect(injected(page)).toEqual([]);
  });
});
