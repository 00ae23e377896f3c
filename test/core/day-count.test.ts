/**
 * The one day-count rule (`core/day-count.ts`) and every surface that shows it: the finding,
 * the table, the JSON, the Nagios text and perfdata, the alert text, the stored-state count the
 * policy uses, and the HTML report. One certificate, many clocks around its notAfter.
 */
import { describe, expect, it } from 'vitest';
import { analyzeChain } from '../../lambdas/cert/analyze-chain';
import { trustStoreFromDer } from '../../lambdas/cert/trust-store';
import { renderResultsNagios, renderTable, toJsonLine } from '../../lambdas/cli/render-results';
import { daysUntil, describeExpiry } from '../../lambdas/core/alert-text';
import { DAY_MS, describeDays, describeDaysLeft, wholeDaysLeft } from '../../lambdas/core/day-count';
import type { CheckResult } from '../../lambdas/core/model';
import { renderReport } from '../../lambdas/report/render-report';
import type { ReportRow } from '../../lambdas/report/report-data';
import { ecKey, makeCert } from '../support/cert-factory';

const NOT_AFTER = new Date(Date.UTC(2031, 2, 10, 12, 0, 0));
const HOUR_MS = 3_600_000;

/** `now` relative to NOT_AFTER: positive `leftMs` = still valid for that long. */
const CASES = [
  { name: 'exactly 7 days left', leftMs: 7 * DAY_MS, days: 7, phrase: 'in 7 days' },
  { name: '7 days minus 1 ms left', leftMs: 7 * DAY_MS - 1, days: 6, phrase: 'in 6 days' },
  { name: 'exactly 1 day left', leftMs: DAY_MS, days: 1, phrase: 'in 1 day' },
  { name: '1 day minus 1 ms left', leftMs: DAY_MS - 1, days: 0, phrase: 'in less than a day' },
  { name: '12 hours left', leftMs: 12 * HOUR_MS, days: 0, phrase: 'in less than a day' },
  { name: 'the last valid millisecond (now = notAfter)', leftMs: 0, days: 0, phrase: 'in less than a day' },
  { name: 'expired 1 ms ago', leftMs: -1, days: -1, phrase: '1 day ago' },
  { name: 'expired 0.25 days ago', leftMs: -0.25 * DAY_MS, days: -1, phrase: '1 day ago' },
  { name: 'expired exactly 1 day ago', leftMs: -DAY_MS, days: -1, phrase: '1 day ago' },
  { name: 'expired 1 day and 1 ms ago', leftMs: -DAY_MS - 1, days: -2, phrase: '2 days ago' },
  { name: 'expired 12.25 days ago', leftMs: -12.25 * DAY_MS, days: -13, phrase: '13 days ago' },
] as const;

describe('wholeDaysLeft and describeDays', () => {
  it.each(CASES)('$name: $days, "$phrase"', ({ leftMs, days, phrase }) => {
    // Prepare
    const now = NOT_AFTER.getTime() - leftMs;
    // Act
    const counted = wholeDaysLeft(NOT_AFTER.getTime(), now);
    // Assess
    expect(Object.is(counted, days)).toBe(true);
    expect(describeDays(counted)).toBe(phrase);
    expect(describeDaysLeft(counted)).toBe(`${counted < 0 ? 'expired' : 'expires'} ${phrase}`);
    expect(daysUntil(NOT_AFTER.toISOString(), new Date(now))).toBe(days);
  });

  it.each([
    ['an unknown notAfter', null],
    ['a notAfter that is not a time', 'soon'],
  ])('counts nothing for %s', (_name, notAfter) => {
    // Act / Assess
    expect(daysUntil(notAfter, new Date(NOT_AFTER))).toBeNull();
  });
});

describe('every surface counts days the same way', () => {
  const key = ecKey();
  const leaf = makeCert({
    cn: 'days.example',
    dnsNames: ['days.example'],
    key,
    notBefore: new Date(NOT_AFTER.getTime() - 200 * DAY_MS),
    notAfter: NOT_AFTER,
  });
  const trust = trustStoreFromDer([leaf.der]);

  it.each(CASES)('$name', ({ leftMs, days, phrase }) => {
    // Prepare
    const now = new Date(NOT_AFTER.getTime() - leftMs);
    const notAfter = NOT_AFTER.toISOString();
    // Act
    const analysis = analyzeChain([leaf.der], {
      host: 'days.example',
      now,
      thresholds: { warnDays: 30, criticalDays: 7 },
      trust,
    });
    const result: CheckResult = {
      target: 'days.example:443',
      host: 'days.example',
      port: 443,
      address: null,
      servername: 'days.example',
      status: days < 0 ? 'expired' : 'critical',
      daysLeft: analysis.daysLeft,
      notAfter: analysis.notAfter,
      findings: analysis.findings,
      chain: analysis.chain,
      protocol: 'TLSv1.3',
      cipher: null,
      durationMs: 1,
      checkedAt: now.toISOString(),
    };
    const table = renderTable([result], { network: false, colour: false });
    const json = JSON.parse(toJsonLine(result)) as { daysLeft: number };
    const nagios = renderResultsNagios([result], {
      network: false,
      warnDays: 30,
      criticalDays: 7,
      timeZone: 'UTC',
    });
    const alert = describeExpiry(result.daysLeft, notAfter);
    const row: ReportRow = {
      key: 'days',
      endpointId: 'days',
      endpointName: 'days',
      address: null,
      owner: null,
      tags: [],
      status: result.status,
      daysLeft: result.daysLeft,
      notAfter,
      issuer: null,
      lastCheckedAt: now.toISOString(),
      consecutiveFailures: 0,
      findings: result.findings,
      chain: [],
      chainCheckedAt: null,
      history: [],
    };
    const report = renderReport({ generatedAt: now.toISOString(), source: 'test', rows: [row], omitted: 0 });
    // Assess
    expect(analysis.daysLeft).toBe(days);
    expect(analysis.findings.map((f) => f.message)).toEqual([
      days < 0
        ? `certificate expired on ${notAfter} (${phrase})`
        : `certificate expires on ${notAfter} (${phrase})`,
    ]);
    expect(table.split('\n')[1]?.split(/\s+/)[2]).toBe(String(days));
    expect(json.daysLeft).toBe(days);
    expect(nagios).toContain(`(${phrase})`);
    expect(nagios).toContain(` | days=${days};30;7`);
    expect(alert).toBe(`${describeDaysLeft(days)} (2031-03-10)`);
    expect(daysUntil(notAfter, now)).toBe(days);
    expect(report).toContain(`<td class="num days">${days}</td>`);
    expect(report).toContain(`>${describeDaysLeft(days)}</text>`);
  });
});
