/**
 * The HTML report in headless Chromium (Debian's `chromium`), driven by
 * playwright-core: the page `certwatch report --html` writes from a store of
 * real check results, served from 127.0.0.1 the way S3 serves the deployed
 * one (same key, same content type), loads nothing else, logs no error, shows the rows in the
 * order and colours of the data, filters work, and the hostile subject stays
 * text. A screenshot is taken into a temp dir (and into
 * $CERTWATCH_SCREENSHOT_DIR when that is set).
 *
 * Without Chromium the suite is skipped with a warning, except in CI, where it fails.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressState, Status } from '../../lambdas/core/model';
import { displaySafe } from '../../lambdas/core/untrusted-text';
import { byReportUrgency } from '../../lambdas/report/report-data';
import { STATUS_COLOURS } from '../../lambdas/report/render-report';
import { REPORT_CONTENT_TYPE, REPORT_OBJECT_KEY } from '../../lambdas/report/report-object';
import { openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { type HttpFileServer, startHttpFileServer } from '../support/http-file-server';
import { runCli } from '../support/run-cli';
import { HOSTILE_CN, HOSTILE_ORG, makeReportFixture, type ReportFixture } from './report-fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && !process.env.CI) {
  console.warn(
    `\n*** report browser test SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH) ***\n`,
  );
}

/** `#1a7f37` → `rgb(26, 127, 55)`, as getComputedStyle reports colours. */
function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

describe.skipIf(!available && !process.env.CI)('report page in headless Chromium', () => {
  let fixture: ReportFixture;
  let context: BrowserContext;
  let page: Page;
  let states: AddressState[];
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const failedRequests: string[] = [];
  const dialogs: string[] = [];
  let reportFile: string;
  let server: HttpFileServer;
  let pageUrl: string;
  /** The leaf subject of each address's newest stored check, as stored. */
  const leafSubjects = new Map<string, string>();

  /** Runs `script` in the page (page code is a string: the project compiles without the DOM library). */
  const inPage = (script: string): Promise<unknown> => page.evaluate(script);

  beforeAll(async () => {
    if (!available)
      throw new Error(`Chromium is required in CI and missing at ${CHROMIUM}: apt-get install -y chromium`);
    fixture = await makeReportFixture();
    reportFile = join(fixture.dir, 'report.html');
    const written = await runCli(['report', '--html', reportFile, '--state-dir', fixture.stateDir]);
    if (written.code !== 0) throw new Error(`certwatch report failed: ${written.stderr}`);
    const embedded = await openEmbeddedStateStore({ stateDir: fixture.stateDir });
    states = (await embedded.store.listAllAddressStates()).map((s) => s.state).sort(byReportUrgency);
    for (const s of states) {
      const [newest] = await embedded.store.listHistory(s.key, 1);
      if (newest?.chain[0]) leafSubjects.set(s.key, newest.chain[0].subject);
    }
    await embedded.close();
    server = await startHttpFileServer({
      [`/${REPORT_OBJECT_KEY}`]: {
        headers: { 'content-type': REPORT_CONTENT_TYPE },
        body: readFileSync(reportFile),
      },
    });
    pageUrl = server.url(`/${REPORT_OBJECT_KEY}`);

    context = await chromium.launchPersistentContext(join(fixture.dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failedRequests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pageUrl, { waitUntil: 'load' });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await fixture?.close();
  });

  it('loads nothing but itself and logs no error (CSP violations included)', async () => {
    // Act: open every details element, so all the content is rendered
    await inPage("for (const d of document.querySelectorAll('details')) d.open = true");
    // Assess
    expect(requests).toEqual([pageUrl]);
    expect(server.requests.map((r) => r.path)).toEqual([`/${REPORT_OBJECT_KEY}`]);
    expect(failedRequests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(await page.title()).toBe('certwatch report');
  });

  it('shows one row per stored address, fewest days left first, with the days of the data', async () => {
    // Act
    const rows = await page.$$eval('tbody.endpoint', (bodies) =>
      bodies.map((b) => ({
        key: b.getAttribute('data-key'),
        status: b.getAttribute('data-status'),
        days: b.querySelector('td.days')?.textContent,
      })),
    );
    // Assess
    expect(states).toHaveLength(6);
    expect(rows).toEqual(
      states.map((s) => ({
        key: s.key,
        status: s.status,
        days: s.daysLeft === null ? '—' : String(s.daysLeft),
      })),
    );
    expect(new Set(states.map((s) => s.status))).toEqual(
      new Set(['ok', 'warning', 'critical', 'expired', 'error']),
    );
  });

  it('colours each status cell with its status colour', async () => {
    // Act
    const cells = await inPage(
      `[...document.querySelectorAll('tbody.endpoint .pill')].map((p) => ({
        status: p.getAttribute('data-status'),
        background: getComputedStyle(p).backgroundColor,
        color: getComputedStyle(p).color,
      }))`,
    );
    // Assess
    expect(cells).toEqual(
      states.map((s) => ({
        status: s.status,
        background: rgb(STATUS_COLOURS[s.status].background),
        color: rgb(STATUS_COLOURS[s.status].text),
      })),
    );
  });

  it('draws a timeline bar for every expiry within 90 days and a sparkline with the failures per row', async () => {
    // Act
    const lanes = await page.$$eval('#timeline-svg g.lane', (gs) =>
      gs.map((g) => g.getAttribute('data-key')),
    );
    const failures = await page.$$eval('tbody.endpoint svg.spark', (svgs) =>
      svgs.map((s) => Number(s.getAttribute('data-failures'))),
    );
    // Assess: the healthy certificate (75 days) is inside the window; the refused endpoint has no expiry
    expect(lanes).toEqual(states.filter((s) => s.notAfter !== null).map((s) => s.key));
    // Every fourth of the 11 backdated checks failed (2), plus all 12 of the refused endpoint.
    expect(failures).toEqual(states.map((s) => (s.status === 'error' ? 12 : 2)));
  });

  it.each([
    ['status', '#filter-status', 'expired', (s: AddressState) => s.status === ('expired' satisfies Status)],
    [
      'owner',
      '#filter-owner',
      'team-web',
      (s: AddressState) => s.endpointName === 'shop' || s.endpointName === 'billing',
    ],
    ['tag', '#filter-tag', 'prod', (s: AddressState) => ['shop', 'api', 'billing'].includes(s.endpointName)],
  ])('filters by %s', async (_name, selector, label, expected) => {
    // Act
    await page.selectOption(selector, { label });
    const visible = await page.$$eval('tbody.endpoint', (bodies) =>
      bodies
        .filter((b) => !b.hidden && b.getBoundingClientRect().height > 0)
        .map((b) => b.getAttribute('data-key')),
    );
    const shown = await page.textContent('#shown-count');
    await page.selectOption(selector, { value: '' });
    // Assess
    const keys = states.filter(expected).map((s) => s.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(states.length);
    expect(visible).toEqual(keys);
    expect(shown).toBe(String(keys.length));
    expect(await page.$$eval('tbody.endpoint:not([hidden])', (b) => b.length)).toBe(states.length);
  });

  it('shows the hostile subject as text: no dialog, no injected element, the characters literally', async () => {
    // Prepare
    const hostile = states.find((s) => s.endpointName === fixture.names.hostile);
    expect(hostile).toBeDefined();
    const body = page.locator(`tbody.endpoint[data-key="${hostile?.key}"]`);
    // Act
    await body.locator('details').evaluate((d) => d.setAttribute('open', ''));
    const subject = await body.locator('dl.cert dd').first().textContent();
    const counts = await inPage(`({
      scripts: document.scripts.length,
      images: document.images.length,
      bold: document.querySelectorAll('b').length,
      onerror: document.querySelectorAll('[onerror]').length,
    })`);
    // Assess
    expect(dialogs).toEqual([]);
    expect(counts).toEqual({ scripts: 1, images: 0, bold: 0, onerror: 0 });
    // The stored DN (RFC 4514 escapes), its controls shown as escapes, every markup character as typed.
    const stored = leafSubjects.get(hostile?.key ?? '') ?? '';
    expect(stored).toContain('alert(1)');
    expect(subject).toBe(displaySafe(stored));
    expect(subject).toContain('onerror=alert(2)');
    expect(subject).toContain('alert(1)\\</script\\>\\u202egnp.exe\\x1b[31m');
    expect(subject).not.toContain(HOSTILE_ORG);
    expect(subject).not.toContain(HOSTILE_CN);
    expect(await body.locator('.name').textContent()).toBe('hostile <b>name</b>');
  });

  it('takes a screenshot', async () => {
    // Act
    const file = join(fixture.dir, 'report.png');
    const hostileKey = states.find((s) => s.endpointName === fixture.names.hostile)?.key ?? '';
    await inPage(`for (const b of document.querySelectorAll('tbody.endpoint')) {
      const details = b.querySelector('details');
      if (details) details.open = b.getAttribute('data-key') === ${JSON.stringify(hostileKey)};
    }`);
    await page.screenshot({ path: file, fullPage: true });
    const dir = process.env.CERTWATCH_SCREENSHOT_DIR;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(file, join(dir, 'report-screenshot.png'));
    }
    // Assess: a PNG of some substance
    expect(statSync(file).size).toBeGreaterThan(20_000);
  });
});
