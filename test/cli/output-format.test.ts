/**
 * The formats other tools read: the Nagios plugin line (status word, summary, `|` perfdata)
 * and RFC 4180 CSV made safe for spreadsheets; and `--tz` for displayed dates.
 */
import { describe, expect, it } from 'vitest';
import {
  displayDate,
  type NagiosRow,
  outputArgs,
  parseTimeZone,
  renderCsv,
  renderNagios,
} from '../../lambdas/cli/output-format';

const TH = { warnDays: 30, criticalDays: 7, timeZone: 'UTC' };

function row(over: Partial<NagiosRow>): NagiosRow {
  return {
    label: 'example.com:443 [192.0.2.1]',
    status: 'ok',
    daysLeft: 45,
    notAfter: '2027-01-15T12:00:00.000Z',
    findings: [],
    ...over,
  };
}

describe('renderNagios', () => {
  it.each([
    {
      name: 'one ok result',
      rows: [row({})],
      line: 'CERTWATCH OK - example.com:443 [192.0.2.1]: expires 2027-01-15 (in 45 days) | days=45;30;7',
    },
    {
      name: 'one warning with a finding',
      rows: [row({ status: 'warning', daysLeft: 12, findings: [{ code: 'EXPIRES_SOON', message: 'x' }] })],
      line: 'CERTWATCH WARNING - example.com:443 [192.0.2.1]: expires 2027-01-15 (in 12 days); EXPIRES_SOON | days=12;30;7',
    },
    {
      name: 'an expired one',
      rows: [row({ status: 'expired', daysLeft: -3 })],
      line: 'CERTWATCH CRITICAL - example.com:443 [192.0.2.1]: expired 2027-01-15 (3 days ago) | days=-3;30;7',
    },
    {
      name: 'no certificate: days unknown (U)',
      rows: [
        row({
          status: 'error',
          daysLeft: null,
          notAfter: null,
          findings: [{ code: 'CONNECTION_REFUSED', message: 'connection refused' }],
        }),
      ],
      line: 'CERTWATCH CRITICAL - example.com:443 [192.0.2.1]: connection refused | days=U;30;7',
    },
    {
      name: 'several: the fewest days, then one value per result',
      rows: [row({}), row({ label: 'b.example:443 [192.0.2.2]', status: 'critical', daysLeft: 5 })],
      line:
        'CERTWATCH CRITICAL - 2 results: 1 ok, 1 critical; worst b.example:443 [192.0.2.2]: expires 2027-01-15 (in 5 days) | ' +
        "days=5;30;7 'example.com:443 [192.0.2.1]'=45;30;7 'b.example:443 [192.0.2.2]'=5;30;7",
    },
    { name: 'nothing', rows: [], line: 'CERTWATCH UNKNOWN - nothing to report' },
  ])('$name', ({ rows, line }) => {
    // Act
    const out = renderNagios(rows, TH);
    // Assess
    expect(out).toBe(`${line}\n`);
  });

  it('keeps hostile text from breaking the line or the perfdata', () => {
    // Prepare: a message with a pipe and a newline, a label with a quote and an equals sign
    const rows = [
      row({
        label: "evil'=|x",
        status: 'error',
        daysLeft: null,
        notAfter: null,
        findings: [{ code: 'HANDSHAKE_FAILED', message: 'bad | days=999;1;1\nSECOND LINE' }],
      }),
      row({}),
    ];
    // Act
    const out = renderNagios(rows, TH);
    // Assess: one line, one `|`, and the labels quoted without quote or `=` inside
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(out.split('|')).toHaveLength(2);
    expect(out).toContain("'evil___x'=U;30;7");
  });
});

describe('renderCsv', () => {
  it.each([
    { cells: ['plain', 42, null], line: 'plain,42,' },
    { cells: ['a,b', 'say "hi"', 'two\nlines'], line: '"a,b","say ""hi""",two lines' },
    {
      cells: ['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)'],
      line: `"'=HYPERLINK(""http://x"")",'+1,'-2+3,'@SUM(A1)`,
    },
    { cells: [-3, 'CN=ok'], line: '-3,CN=ok' },
  ])('$cells → $line', ({ cells, line }) => {
    // Act
    const out = renderCsv(['h1', 'h2', 'h3', 'h4'].slice(0, cells.length), [cells]);
    // Assess: header row, CRLF line ends (RFC 4180), and text cells starting a formula prefixed by '
    const [header, body, rest] = out.split('\r\n');
    expect(header).toBe(['h1', 'h2', 'h3', 'h4'].slice(0, cells.length).join(','));
    expect(body).toBe(line);
    expect(rest).toBe('');
  });
});

describe('--tz', () => {
  it.each([
    { value: undefined, env: {}, zone: 'UTC' },
    { value: 'utc', env: {}, zone: 'UTC' },
    { value: 'Europe/Berlin', env: {}, zone: 'Europe/Berlin' },
    { value: 'local', env: { TZ: 'Asia/Tokyo' }, zone: 'Asia/Tokyo' },
  ])('$value (TZ=$env.TZ) → $zone', ({ value, env, zone }) => {
    // Act & Assess
    expect(parseTimeZone(value, env)).toBe(zone);
  });

  it('refuses a zone Intl does not know, in one line naming --tz', () => {
    // Act & Assess
    expect(() => parseTimeZone('Mars/Olympus_Mons', {})).toThrow(
      "--tz: unknown time zone 'Mars/Olympus_Mons' (expected UTC, local, or an IANA zone such as Europe/Berlin)",
    );
  });

  it.each([
    { iso: '2027-01-15T23:30:00.000Z', zone: 'UTC', date: '2027-01-15' },
    { iso: '2027-01-15T23:30:00.000Z', zone: 'Europe/Berlin', date: '2027-01-16' },
    { iso: '2027-01-15T03:00:00.000Z', zone: 'America/New_York', date: '2027-01-14' },
    { iso: null, zone: 'UTC', date: '-' },
  ])('$iso in $zone is $date', ({ iso, zone, date }) => {
    // Act & Assess
    expect(displayDate(iso, zone)).toBe(date);
  });
});

describe('outputArgs', () => {
  it.each([
    { values: {}, format: 'table' },
    { values: { json: true }, format: 'json' },
    { values: { format: 'json', json: true }, format: 'json' },
    { values: { format: 'nagios' }, format: 'nagios' },
    { values: { format: 'csv' }, format: 'csv' },
  ])('$values → $format', ({ values, format }) => {
    // Act & Assess
    expect(outputArgs(values, {}).format).toBe(format);
  });
});
