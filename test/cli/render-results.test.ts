import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../lambdas/core/model';
import { terminalSafe } from '../../lambdas/cli/cli-io';
import { renderTable, shortName, toJsonLine } from '../../lambdas/cli/render-results';

function makeResult(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    target: 'example.com:443',
    host: 'example.com',
    port: 443,
    address: '192.0.2.10',
    servername: 'example.com',
    status: 'warning',
    daysLeft: 20,
    notAfter: '2026-12-01T12:00:00.000Z',
    findings: [{ code: 'EXPIRES_SOON', severity: 'warning', message: 'The certificate expires in 20 days.' }],
    chain: [
      {
        subject: 'CN=example.com',
        issuer: 'CN=Example CA, O=Example Org',
        notBefore: '2026-09-01T12:00:00.000Z',
        notAfter: '2026-12-01T12:00:00.000Z',
        serialNumber: '01',
        fingerprintSha256: 'AB'.repeat(32),
        keyType: 'EC',
        keyBits: 256,
        signatureAlgorithm: 'ecdsa-with-SHA256',
        selfSigned: false,
      },
    ],
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    durationMs: 12,
    checkedAt: '2026-11-11T08:00:00.000Z',
    ...overrides,
  };
}

/** Any C0/C1 control (ESC, CSI, BEL...) except the table's own newlines, and any bidi control. */
const UNSAFE_FOR_TERMINAL =
  /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

describe('terminalSafe', () => {
  it.each([
    ['ordinary text is unchanged', 'CN=Example CA', 'CN=Example CA'],
    ['a colour sequence shows literally', 'a\u001b[31mred', 'a\\x1b[31mred'],
    ['a title-setting OSC shows literally', '\u001b]0;owned\u0007', '\\x1b]0;owned\\x07'],
    ['a C1 CSI shows literally', 'a\u009b2J', 'a\\x9b2J'],
    ['a line break cannot forge a row', 'evil\nOK  fine', 'evil OK fine'],
    ['a bidi override shows as an escape', 'invoice\u202Egnp.exe', 'invoice\\u202egnp.exe'],
  ])('%s', (_name, input, expected) => {
    // Act
    const out = terminalSafe(input);
    // Assess
    expect(out).toBe(expected);
  });

  it('cuts at a limit without splitting an escape', () => {
    expect(terminalSafe('abc\u001bdef', 7)).toBe('abc\u2026');
    expect(terminalSafe('abc\u001bdef', 8)).toBe('abc\\x1b\u2026');
  });
});

describe('renderTable', () => {
  it('renders an ordinary result unchanged', () => {
    // Act
    const table = renderTable([makeResult()], { colour: false });
    // Assess
    expect(table).toBe(
      [
        'TARGET           ADDRESS     STATUS   DAYS  EXPIRES     ISSUER      FINDINGS',
        'example.com:443  192.0.2.10  warning  20    2026-12-01  Example CA  EXPIRES_SOON',
        '',
        '  example.com:443 [192.0.2.10] EXPIRES_SOON: The certificate expires in 20 days.',
        '',
      ].join('\n'),
    );
  });

  it('shows hostile certificate and server text inertly, one row per line', () => {
    // Prepare
    const result = makeResult({
      target: 'evil.example:443',
      chain: [{ ...makeResult().chain[0]!, issuer: 'CN=Evil\u001b[2J\u001b]0;owned\u0007 CA\u202Egnp.exe' }],
      findings: [
        { code: 'HANDSHAKE_FAILED', severity: 'critical', message: 'server said: 500\r\nOK\u009b31m done' },
      ],
    });
    // Act
    const table = renderTable([result], { colour: false });
    // Assess
    expect(table).not.toMatch(UNSAFE_FOR_TERMINAL);
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toContain('Evil\\x1b[2J\\x1b]0;owned\\x07 CA\u2026 ');
    expect(table).toContain('HANDSHAKE_FAILED: server said: 500 OK\\x9b31m done');
  });

  it('clips a long issuer to 32 units with an ellipsis', () => {
    const table = renderTable(
      [makeResult({ chain: [{ ...makeResult().chain[0]!, issuer: `CN=${'x'.repeat(40)}` }] })],
      {
        colour: false,
      },
    );
    expect(table).toContain(` ${'x'.repeat(31)}\u2026 `);
  });
});

describe('toJsonLine', () => {
  it('keeps one record per line and the parsed values exact', () => {
    // Prepare
    const result = makeResult({
      findings: [{ code: 'HOSTNAME_MISMATCH', severity: 'critical', message: 'CN a\u2028b\u202Ec\u0085' }],
    });
    // Act
    const line = toJsonLine(result);
    // Assess
    expect(line).not.toMatch(/[\n\r\u0085\u2028\u2029\u202E]/);
    expect((JSON.parse(line) as { findings: { message: string }[] }).findings[0]?.message).toBe(
      'CN a\u2028b\u202Ec\u0085',
    );
  });
});

describe('shortName', () => {
  it.each([
    ['CN=Example CA, O=Example Org', 'Example CA'],
    ['O=Only Org, C=DE', 'Only Org'],
    ['CN=Beispiel\\, GmbH, C=DE', 'Beispiel\\, GmbH'],
    [null, '-'],
  ])('%s', (dn, expected) => {
    expect(shortName(dn)).toBe(expected);
  });
});
