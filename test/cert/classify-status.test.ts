import { describe, expect, it } from 'vitest';
import { classifyStatus } from '../../lambdas/cert/classify-status';
import type { Finding, FindingCode, Severity, Status } from '../../lambdas/core/model';
import { THRESHOLDS } from './chain-fixtures';

function f(code: FindingCode, severity: Severity = 'critical'): Finding {
  return { code, severity, message: code };
}

describe('classifyStatus', () => {
  const cases: [string, Finding[], number | null, boolean | undefined, Status][] = [
    ['plenty of time', [], 90, undefined, 'ok'],
    ['just above warn', [], 31, undefined, 'ok'],
    ['at warn days', [f('EXPIRES_SOON', 'warning')], 30, undefined, 'warning'],
    ['between thresholds', [f('EXPIRES_SOON', 'warning')], 8, undefined, 'warning'],
    ['at critical days', [f('EXPIRES_SOON', 'critical')], 7, undefined, 'critical'],
    ['days left alone decide', [], 3, undefined, 'critical'],
    ['last day', [f('EXPIRES_SOON', 'critical')], 0, undefined, 'critical'],
    ['expired leaf', [f('EXPIRED')], -1, undefined, 'expired'],
    ['negative days left alone', [], -5, undefined, 'expired'],
    ['expired chain cert', [f('CHAIN_CERT_EXPIRED')], -2, undefined, 'expired'],
    ['expired beats trust problems', [f('UNTRUSTED_CHAIN'), f('EXPIRED')], -1, undefined, 'expired'],
    [
      'chain cert expiring soon (warning)',
      [f('CHAIN_CERT_EXPIRES_SOON', 'warning')],
      20,
      undefined,
      'warning',
    ],
    ['hostname mismatch', [f('HOSTNAME_MISMATCH')], 90, undefined, 'critical'],
    ['self-signed', [f('SELF_SIGNED')], 90, undefined, 'critical'],
    ['untrusted', [f('UNTRUSTED_CHAIN')], 90, undefined, 'critical'],
    ['incomplete', [f('INCOMPLETE_CHAIN')], 90, undefined, 'critical'],
    ['weak key', [f('WEAK_KEY')], 90, undefined, 'critical'],
    ['weak signature', [f('WEAK_SIGNATURE')], 90, undefined, 'critical'],
    ['malformed, expiry unknown', [f('MALFORMED_CERTIFICATE')], null, undefined, 'critical'],
    ['not yet valid', [f('NOT_YET_VALID')], 90, undefined, 'critical'],
    ['connection refused', [f('CONNECTION_REFUSED')], null, undefined, 'error'],
    ['timeout', [f('TIMEOUT')], null, undefined, 'error'],
    ['DNS error', [f('DNS_ERROR')], null, undefined, 'error'],
    ['not TLS', [f('NOT_TLS')], null, undefined, 'error'],
    [
      'handshake failed after a certificate arrived',
      [f('MALFORMED_CERTIFICATE'), f('HANDSHAKE_FAILED')],
      null,
      undefined,
      'critical',
    ],
    ['handshake failed, certificate flagged explicitly', [f('HANDSHAKE_FAILED')], 40, true, 'critical'],
    ['nothing known at all', [], null, undefined, 'error'],
    ['warning finding without days', [f('DIVERGENT_CERTIFICATES', 'warning')], 90, undefined, 'warning'],
  ];
  it.each(cases)('%s → %s', (_name, findings, daysLeft, hasCertificate, expected) => {
    // Act
    const status = classifyStatus(findings, daysLeft, THRESHOLDS, hasCertificate);
    // Assess
    expect(status).toBe(expected);
  });
});
