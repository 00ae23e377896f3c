import { describe, expect, it } from 'vitest';
import {
  daysUntil,
  describeExpiry,
  formatDate,
  oneLine,
  problemLabel,
  renewedText,
  shortFingerprint,
  unreachableText,
} from '../../lambdas/core/alert-text';
import { FP_A, FP_B } from './policy-fixtures';

const NOT_AFTER = '2026-12-01T12:00:00.000Z';

describe('describeExpiry', () => {
  it.each([
    { daysLeft: 30, expected: 'expires in 30 days (2026-12-01)' },
    { daysLeft: 7, expected: 'expires in 7 days (2026-12-01)' },
    { daysLeft: 1, expected: 'expires in 1 day (2026-12-01)' },
    { daysLeft: 0, expected: 'expires in less than a day (2026-12-01)' },
    { daysLeft: -1, expected: 'expired 1 day ago (2026-12-01)' },
    { daysLeft: -2, expected: 'expired 2 days ago (2026-12-01)' },
    { daysLeft: -4, expected: 'expired 4 days ago (2026-12-01)' },
  ])('$daysLeft days left → $expected', ({ daysLeft, expected }) => {
    // Act
    const text = describeExpiry(daysLeft, NOT_AFTER);

    // Assess
    expect(text).toBe(expected);
  });

  it.each([
    { daysLeft: null, notAfter: null, expected: 'expiry unknown' },
    { daysLeft: null, notAfter: NOT_AFTER, expected: 'expires 2026-12-01' },
    { daysLeft: 3, notAfter: 'garbage', expected: 'expires in 3 days (an unknown date)' },
  ])('copes with missing data: $expected', ({ daysLeft, notAfter, expected }) => {
    // Act
    const text = describeExpiry(daysLeft, notAfter);

    // Assess
    expect(text).toBe(expected);
  });
});

describe('daysUntil', () => {
  it.each([
    { now: '2026-11-24T12:00:00.000Z', expected: 7 },
    { now: '2026-11-24T12:00:00.001Z', expected: 6 },
    { now: '2026-12-01T11:59:59.999Z', expected: 0 },
    { now: '2026-12-01T12:00:00.001Z', expected: -1 },
  ])('floors whole days like CheckResult.daysLeft: $now → $expected', ({ now, expected }) => {
    // Act
    const days = daysUntil(NOT_AFTER, new Date(now));

    // Assess
    expect(days).toBe(expected);
  });

  it('is null without a date', () => {
    // Act & Assess
    expect(daysUntil(null, new Date())).toBeNull();
    expect(daysUntil('not a date', new Date())).toBeNull();
  });
});

describe('alert text helpers', () => {
  it.each([
    { input: 'CN=evil\nBCC: everyone\r\n\u2028x', expected: 'CN=evil BCC: everyone x' },
    { input: '  spaced\t\tout  ', expected: 'spaced out' },
  ])('oneLine($input)', ({ input, expected }) => {
    // Act & Assess
    expect(oneLine(input)).toBe(expected);
  });

  it.each([
    { iso: NOT_AFTER, expected: '2026-12-01' },
    { iso: null, expected: 'an unknown date' },
    { iso: 'yesterday', expected: 'an unknown date' },
  ])('formatDate($iso)', ({ iso, expected }) => {
    // Act & Assess
    expect(formatDate(iso)).toBe(expected);
  });

  it.each([
    { code: 'INCOMPLETE_CHAIN' as const, expected: 'incomplete chain' },
    { code: 'HOSTNAME_MISMATCH' as const, expected: 'hostname mismatch' },
    { code: 'CHAIN_CERT_EXPIRED' as const, expected: 'chain cert expired' },
  ])('problemLabel($code)', ({ code, expected }) => {
    // Act & Assess
    expect(problemLabel(code)).toBe(expected);
  });

  it('shortens fingerprints to 16 hex digits', () => {
    // Act & Assess
    expect(shortFingerprint(FP_A)).toBe('AAAA000000000000');
    expect(shortFingerprint(null)).toBe('none');
  });
});

describe('text builders', () => {
  const facts = {
    host: 'example.com',
    port: 443,
    address: '192.0.2.10',
    daysLeft: 89,
    notAfter: '2027-03-01T00:00:00.000Z',
    issuer: 'CN=R3',
    fingerprint: FP_B,
  };

  it('renewedText names both certificates and both dates', () => {
    // Act
    const text = renewedText(facts, { fingerprint: FP_A, notAfter: NOT_AFTER });

    // Assess
    expect(text).toEqual({
      summary: 'renewed: expires 2026-12-01 → 2027-03-01',
      detail:
        'example.com at 192.0.2.10 now serves certificate BBBB111111111111 (issued by CN=R3), expires in 89 days (2027-03-01); it replaced AAAA000000000000, which expired or expires 2026-12-01.',
      action: 'No action needed',
    });
  });

  it('unreachableText keeps an untrusted error message on one line in the summary', () => {
    // Act
    const text = unreachableText(facts, 2, '2026-03-01T00:00:00.000Z', {
      code: 'HANDSHAKE_FAILED',
      message: 'alert 40\ninjected line',
    });

    // Assess
    expect(text.summary).toBe(
      'unreachable for 2 consecutive checks since 2026-03-01T00:00:00.000Z: alert 40 injected line',
    );
    expect(text.action).toBe('Check the TLS configuration of example.com:443 (protocols, ciphers, SNI)');
    expect(text.detail).toContain('The last certificate seen there expires in 89 days (2027-03-01).');
  });
});
