import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { classifyStatus } from '../../lambdas/cert/classify-status';
import { evaluateCheck, PROBLEM_CODES } from '../../lambdas/core/alert-policy';
import { findingAction, problemLabel } from '../../lambdas/core/alert-text';
import {
  type AlertClass,
  FINDINGS,
  type FindingCategory,
  findingCodesWhere,
  PROBE_ERROR_CODES,
  type ProbeErrorCode,
} from '../../lambdas/core/findings';
import {
  CONNECTION_FINDING_CODES,
  FINDING_CODES,
  type FindingCode,
  type ProbeError,
} from '../../lambdas/core/model';
import {
  at,
  certResult,
  days,
  describeAlerts,
  failedResult,
  finding,
  hours,
  makeEndpoint,
  runSteps,
  type Step,
  T0,
} from './policy-fixtures';

const KEY = 'example.com:443|192.0.2.10';

/** Codes of one alert class, in contract order. */
function codesAlerting(how: AlertClass): FindingCode[] {
  return findingCodesWhere((f) => f.alerts === how);
}

describe('finding registry: derived lists', () => {
  // Pinned literally: a reordered, renamed or reclassified code fails here, not in production.
  it('keeps the finding codes in contract order', () => {
    // Act & Assess
    expect(FINDING_CODES).toEqual([
      'EXPIRED',
      'EXPIRES_SOON',
      'NOT_YET_VALID',
      'CHAIN_CERT_EXPIRED',
      'CHAIN_CERT_EXPIRES_SOON',
      'HOSTNAME_MISMATCH',
      'SELF_SIGNED',
      'UNTRUSTED_CHAIN',
      'INCOMPLETE_CHAIN',
      'MALFORMED_CERTIFICATE',
      'WEAK_KEY',
      'WEAK_SIGNATURE',
      'CONNECTION_REFUSED',
      'TIMEOUT',
      'HANDSHAKE_FAILED',
      'DNS_ERROR',
      'NOT_TLS',
      'DIVERGENT_CERTIFICATES',
      'CHECK_FAILED',
      'CLIENT_CERT_REQUIRED',
      'NAME_CONSTRAINTS_VIOLATED',
      'INVALID_KEY_USAGE',
      'INVALID_CA_CERTIFICATE',
      'STARTTLS_FAILED',
      'REVOKED',
      'MUST_STAPLE_MISSING',
      'REVOCATION_UNKNOWN',
    ]);
  });

  it.each([
    {
      list: 'CONNECTION_FINDING_CODES',
      derived: CONNECTION_FINDING_CODES,
      expected: [
        'CONNECTION_REFUSED',
        'TIMEOUT',
        'HANDSHAKE_FAILED',
        'DNS_ERROR',
        'NOT_TLS',
        'STARTTLS_FAILED',
      ],
    },
    {
      list: 'PROBE_ERROR_CODES (ProbeError.code)',
      derived: PROBE_ERROR_CODES,
      expected: [
        'CONNECTION_REFUSED',
        'TIMEOUT',
        'HANDSHAKE_FAILED',
        'DNS_ERROR',
        'NOT_TLS',
        'CLIENT_CERT_REQUIRED',
        'STARTTLS_FAILED',
      ],
    },
    {
      list: 'PROBLEM_CODES (alert policy)',
      derived: PROBLEM_CODES,
      expected: [
        'NOT_YET_VALID',
        'HOSTNAME_MISMATCH',
        'SELF_SIGNED',
        'UNTRUSTED_CHAIN',
        'INCOMPLETE_CHAIN',
        'MALFORMED_CERTIFICATE',
        'WEAK_KEY',
        'WEAK_SIGNATURE',
        'NAME_CONSTRAINTS_VIOLATED',
        'INVALID_KEY_USAGE',
        'INVALID_CA_CERTIFICATE',
        'REVOKED',
        'MUST_STAPLE_MISSING',
        'REVOCATION_UNKNOWN',
      ],
    },
    {
      list: 'failure class (the unreachable alert names them)',
      derived: codesAlerting('failure'),
      expected: [
        'CONNECTION_REFUSED',
        'TIMEOUT',
        'HANDSHAKE_FAILED',
        'DNS_ERROR',
        'NOT_TLS',
        'CHECK_FAILED',
        'STARTTLS_FAILED',
      ],
    },
    {
      list: 'expiry class',
      derived: codesAlerting('expiry'),
      expected: ['EXPIRED', 'EXPIRES_SOON', 'CHAIN_CERT_EXPIRED', 'CHAIN_CERT_EXPIRES_SOON'],
    },
    { list: 'divergence class', derived: codesAlerting('divergence'), expected: ['DIVERGENT_CERTIFICATES'] },
    { list: 'silent class', derived: codesAlerting('none'), expected: ['CLIENT_CERT_REQUIRED'] },
    {
      list: 'expired (classifyStatus)',
      derived: findingCodesWhere((f) => f.expired),
      expected: ['EXPIRED', 'CHAIN_CERT_EXPIRED'],
    },
  ])('derives $list', ({ derived, expected }) => {
    // Act & Assess
    expect(derived).toEqual(expected);
  });

  it('derives the ProbeError.code union from the rows marked fromProbe', () => {
    // Act & Assess: checked by tsc, which runs over the tests.
    expectTypeOf<ProbeErrorCode>().toEqualTypeOf<
      | 'CONNECTION_REFUSED'
      | 'TIMEOUT'
      | 'HANDSHAKE_FAILED'
      | 'DNS_ERROR'
      | 'NOT_TLS'
      | 'CLIENT_CERT_REQUIRED'
      | 'STARTTLS_FAILED'
    >();
    expectTypeOf<ProbeError['code']>().toEqualTypeOf<ProbeErrorCode>();
  });

  it.each([
    ['expiry', ['EXPIRED', 'EXPIRES_SOON', 'NOT_YET_VALID', 'CHAIN_CERT_EXPIRED', 'CHAIN_CERT_EXPIRES_SOON']],
    ['hostname', ['HOSTNAME_MISMATCH']],
    [
      'trust',
      [
        'SELF_SIGNED',
        'UNTRUSTED_CHAIN',
        'INCOMPLETE_CHAIN',
        'NAME_CONSTRAINTS_VIOLATED',
        'INVALID_KEY_USAGE',
        'INVALID_CA_CERTIFICATE',
      ],
    ],
    ['malformed', ['MALFORMED_CERTIFICATE']],
    ['crypto', ['WEAK_KEY', 'WEAK_SIGNATURE']],
    [
      'connectivity',
      ['CONNECTION_REFUSED', 'TIMEOUT', 'HANDSHAKE_FAILED', 'DNS_ERROR', 'NOT_TLS', 'STARTTLS_FAILED'],
    ],
    ['consistency', ['DIVERGENT_CERTIFICATES']],
    ['revocation', ['REVOKED', 'MUST_STAPLE_MISSING', 'REVOCATION_UNKNOWN']],
    ['monitor', ['CHECK_FAILED']],
    ['info', ['CLIENT_CERT_REQUIRED']],
  ] satisfies [FindingCategory, FindingCode[]][])('puts %s findings in their category', (category, codes) => {
    // Act & Assess
    expect(findingCodesWhere((f) => f.category === category)).toEqual(codes);
  });
});

describe('finding registry: texts', () => {
  const subject = { host: 'shop.example', port: 8443, notAfter: '2026-12-01T12:00:00.000Z' };

  // The labels and actions alert-text.ts held before the registry, word for word.
  it.each([
    [
      'EXPIRED',
      'expired',
      'Renew the certificate for shop.example now (it expired on 2026-12-01) and deploy it to every address',
    ],
    [
      'EXPIRES_SOON',
      'expires soon',
      'Renew the certificate for shop.example before 2026-12-01 and deploy it to every address',
    ],
    [
      'NOT_YET_VALID',
      'certificate not yet valid',
      "Check the server clock and the certificate's start date, or deploy a currently valid certificate",
    ],
    [
      'CHAIN_CERT_EXPIRED',
      'chain cert expired',
      'Renew the certificate for shop.example now (it expired on 2026-12-01) and deploy it to every address',
    ],
    [
      'CHAIN_CERT_EXPIRES_SOON',
      'chain cert expires soon',
      'Renew the certificate for shop.example before 2026-12-01 and deploy it to every address',
    ],
    [
      'HOSTNAME_MISMATCH',
      'hostname mismatch',
      'Serve a certificate whose subject alternative names include shop.example',
    ],
    [
      'SELF_SIGNED',
      'self-signed certificate',
      'Replace the self-signed certificate with one issued by a trusted CA',
    ],
    [
      'UNTRUSTED_CHAIN',
      'untrusted chain',
      'Serve a certificate chain that leads to a trusted root CA; for a private CA, trust its root (trust.caFiles in the config, or check --ca-file)',
    ],
    [
      'INCOMPLETE_CHAIN',
      'incomplete chain',
      'Install the missing intermediate certificate named in the finding on the server',
    ],
    [
      'MALFORMED_CERTIFICATE',
      'malformed certificate',
      'Reissue the certificate: the server sends one that cannot be parsed',
    ],
    ['WEAK_KEY', 'weak key', 'Reissue the certificate with at least a 2048-bit RSA or a 256-bit EC key'],
    [
      'WEAK_SIGNATURE',
      'weak signature algorithm',
      'Reissue the certificate with a SHA-256 (or stronger) signature',
    ],
    [
      'CONNECTION_REFUSED',
      'connection refused',
      'Check that the server is up and port 8443 is reachable from the monitor',
    ],
    ['TIMEOUT', 'timeout', 'Check that the server is up and port 8443 is reachable from the monitor'],
    [
      'HANDSHAKE_FAILED',
      'handshake failed',
      'Check the TLS configuration of shop.example:8443 (protocols, ciphers, SNI)',
    ],
    ['DNS_ERROR', 'dns error', 'Check that shop.example resolves in DNS from the monitor'],
    ['NOT_TLS', 'not tls', 'Check that port 8443 on shop.example serves TLS'],
    [
      'DIVERGENT_CERTIFICATES',
      'divergent certificates',
      'Find the node that serves the older certificate and deploy the current certificate for shop.example to it',
    ],
    ['CHECK_FAILED', 'check failed', 'certwatch itself failed: check the checker logs and report the bug'],
    ['CLIENT_CERT_REQUIRED', 'client cert required', 'No action needed'],
    [
      'NAME_CONSTRAINTS_VIOLATED',
      'name constraints violated',
      "Reissue the certificate for shop.example with only names its CA's name constraints permit, or from a CA that may issue for them",
    ],
    [
      'INVALID_KEY_USAGE',
      'invalid key usage',
      'Reissue the certificate for shop.example with extendedKeyUsage serverAuth and keyUsage digitalSignature, from a CA allowed to issue TLS server certificates',
    ],
    [
      'INVALID_CA_CERTIFICATE',
      'invalid CA certificate',
      'Serve the chain your CA publishes: every issuer must be a v3 CA certificate (basicConstraints cA, keyCertSign) within its pathLenConstraint',
    ],
    [
      'STARTTLS_FAILED',
      'starttls failed',
      'Check that shop.example:8443 speaks the configured protocol and offers TLS (STARTTLS enabled, a certificate installed), or configure the protocol it does speak',
    ],
    [
      'REVOKED',
      'certificate revoked',
      'Replace the revoked certificate for shop.example with a newly issued one now, on every address',
    ],
    [
      'MUST_STAPLE_MISSING',
      'OCSP staple missing',
      'Enable OCSP stapling on the server for shop.example (the certificate demands it), or reissue it without the must-staple extension',
    ],
    [
      'REVOCATION_UNKNOWN',
      'revocation status unknown',
      "Check that the monitor can reach the CA's OCSP responder and CRL (plain HTTP), or staple OCSP on the server",
    ],
  ] satisfies [FindingCode, string, string][])('%s reads "%s"', (code, label, action) => {
    // Act & Assess
    expect(problemLabel(code)).toBe(label);
    expect(findingAction(code, subject)).toBe(action);
  });
});

describe('finding registry: docs/findings.md', () => {
  /** The codes of the "Finding codes" table in docs/findings.md, in row order. */
  function readmeFindingRows(): string[] {
    const readme = readFileSync(resolve(__dirname, '../../docs/findings.md'), 'utf8');
    const start = readme.indexOf('## Finding codes');
    const end = readme.indexOf('\n## ', start);
    return readme
      .slice(start, end)
      .split('\n')
      .map((line) => /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\S.*?)\s*\|$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => match[1] as string);
  }

  it('documents every code, once, in contract order', () => {
    // Act
    const rows = readmeFindingRows();

    // Assess
    expect(rows).toEqual(FINDING_CODES);
  });
});

describe('finding registry × evaluateCheck', () => {
  const healthy = at(days(90.5));
  const endpoint = makeEndpoint();

  it.each(codesAlerting('problem'))('%s alerts as a problem, once, and resolves when it clears', (code) => {
    // Prepare
    const facts = FINDINGS[code];
    const raised = [finding(code, facts.defaultSeverity, `${code} seen`)];
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter: healthy }) },
      { result: certResult({ now: at(hours(6)), notAfter: healthy, findings: raised }) },
      { result: certResult({ now: at(hours(12)), notAfter: healthy, findings: raised }) },
      { result: certResult({ now: at(hours(18)), notAfter: healthy }) },
    ];

    // Act
    const { alertsPerStep } = runSteps(steps, endpoint);

    // Assess
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      [`problem/${facts.defaultSeverity}: certificate problem: ${facts.label}`],
      [],
      [`resolved/info: resolved: ${facts.label}`],
    ]);
    expect(alertsPerStep[1]?.[0]).toMatchObject({
      id: `${KEY}:problem:${code}:run-2`,
      findings: raised,
      action: findingAction(code, { ...endpoint, notAfter: healthy.toISOString() }),
    });
    expect(alertsPerStep[3]?.[0]?.id).toBe(`${KEY}:resolved:${code}:run-4`);
  });

  it.each(codesAlerting('failure'))('%s counts toward the failure streak, and the alert names it', (code) => {
    // Prepare
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter: healthy }) },
      { result: failedResult(at(hours(6)), code, `${code} seen`) },
      { result: failedResult(at(hours(12)), code, `${code} seen`) },
      { result: certResult({ now: at(hours(18)), notAfter: healthy }) },
    ];

    // Act
    const { alertsPerStep, states } = runSteps(steps, endpoint);

    // Assess
    const since = at(hours(6)).toISOString();
    expect(states.map((s) => s.consecutiveFailures)).toEqual([0, 1, 2, 0]);
    expect(alertsPerStep.map(describeAlerts)).toEqual([
      [],
      [],
      [`error/critical: unreachable for 2 consecutive checks since ${since}: ${code} seen`],
      ['resolved/info: reachable again after 2 failed checks'],
    ]);
    expect(alertsPerStep[2]?.[0]).toMatchObject({
      id: `${KEY}:error:${since}`,
      action: findingAction(code, { ...endpoint, notAfter: healthy.toISOString() }),
    });
  });

  it.each(FINDING_CODES.map((code) => ({ code, problem: FINDINGS[code].alerts === 'problem' })))(
    '$code on a certificate raises a problem alert only if it is problem-class ($problem)',
    ({ code, problem }) => {
      // Prepare
      const findings = [finding(code, 'critical')];
      const result = certResult({ now: T0, notAfter: healthy, findings });

      // Act
      const { alerts } = evaluateCheck(null, result, { endpoint, runId: 'run-1', now: T0 });

      // Assess
      expect(alerts.filter((a) => a.kind === 'problem')).toHaveLength(problem ? 1 : 0);
    },
  );

  it.each(codesAlerting('none'))('%s at its default severity sends nothing', (code) => {
    // Prepare
    const findings = [finding(code, FINDINGS[code].defaultSeverity)];
    const status = classifyStatus(findings, 90, endpoint.policy.expiry, true);
    const steps: Step[] = [
      { result: certResult({ now: T0, notAfter: healthy }) },
      { result: certResult({ now: at(hours(6)), notAfter: healthy, findings, status }) },
    ];

    // Act
    const { alertsPerStep } = runSteps(steps, endpoint);

    // Assess
    expect(alertsPerStep).toEqual([[], []]);
  });

  it.each(codesAlerting('expiry'))('%s is alerted by the expiry thresholds, not as a problem', (code) => {
    // Prepare: the finding comes with the days left it reports (the earliest expiry that matters).
    const expired = FINDINGS[code].expired;
    const notAfter = expired ? at(days(-1.5)) : at(days(5.5));
    const result = certResult({ now: T0, notAfter, findings: [finding(code, 'critical')] });

    // Act
    const { alerts } = evaluateCheck(null, result, { endpoint, runId: 'run-1', now: T0 });

    // Assess
    expect(describeAlerts(alerts)).toEqual([
      expired
        ? 'threshold/critical: expired 2 days ago (2026-02-27)'
        : 'threshold/critical: expires in 5 days (2026-03-06)',
    ]);
  });
});
