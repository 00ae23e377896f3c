import { describe, expect, it } from 'vitest';
import { buildCheckResult, buildCheckResultWithEvidence } from '../../lambdas/cert/build-check-result';
import type { ProbeOutcome } from '../../lambdas/core/model';
import { makeCert } from '../support/cert-factory';
import { truncate } from '../support/der-mutations';
import { at, makeTestPki, NOW, THRESHOLDS } from './chain-fixtures';

const pki = makeTestPki();
const opts = { target: 'www.example.com:443', now: NOW, thresholds: THRESHOLDS, trust: pki.trust };

function outcome(overrides: Partial<ProbeOutcome>): ProbeOutcome {
  return {
    host: 'www.example.com',
    port: 443,
    address: '192.0.2.10',
    servername: 'www.example.com',
    chainDer: [pki.leaf.der, pki.intermediate.der],
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    error: null,
    durationMs: 42,
    ...overrides,
  };
}

describe('buildCheckResult', () => {
  it('combines a successful probe with the analysis', () => {
    // Act
    const result = buildCheckResult(outcome({}), opts);
    // Assess
    expect(result).toMatchObject({
      target: 'www.example.com:443',
      host: 'www.example.com',
      port: 443,
      address: '192.0.2.10',
      servername: 'www.example.com',
      status: 'ok',
      daysLeft: 80,
      notAfter: at(80).toISOString(),
      findings: [],
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      durationMs: 42,
      checkedAt: NOW.toISOString(),
    });
    expect(result.chain).toHaveLength(2);
  });

  it('checks the host name of the target', () => {
    // Act
    const result = buildCheckResult(
      outcome({ host: 'shop.example.org', servername: 'shop.example.org' }),
      opts,
    );
    // Assess
    expect(result.status).toBe('critical');
    expect(result.findings.map((f) => f.code)).toEqual(['HOSTNAME_MISMATCH']);
  });

  const errors: [ProbeOutcome['error'] & object][] = [
    [{ code: 'CONNECTION_REFUSED', message: 'connect ECONNREFUSED 192.0.2.10:443' }],
    [{ code: 'TIMEOUT', message: 'no TLS handshake within 5000 ms' }],
    [{ code: 'DNS_ERROR', message: 'getaddrinfo ENOTFOUND www.example.com' }],
    [{ code: 'NOT_TLS', message: 'server answered with HTTP' }],
    [{ code: 'HANDSHAKE_FAILED', message: 'handshake failure alert' }],
  ];
  it.each(errors)('reports a probe error without certificates as status error ($code)', (error) => {
    // Act
    const result = buildCheckResult(outcome({ chainDer: [], error, protocol: null, cipher: null }), opts);
    // Assess
    expect(result.status).toBe('error');
    expect(result.findings).toEqual([{ code: error.code, severity: 'critical', message: error.message }]);
    expect(result.chain).toEqual([]);
    expect(result.daysLeft).toBeNull();
    expect(result.notAfter).toBeNull();
  });

  it('keeps both the analysis and the probe error when certificates arrived before the failure', () => {
    // Prepare
    const error = { code: 'HANDSHAKE_FAILED' as const, message: 'bad certificate' };
    // Act
    const result = buildCheckResult(
      outcome({
        chainDer: [truncate(pki.leaf.der, 500), pki.intermediate.der],
        error,
        protocol: null,
        cipher: null,
      }),
      opts,
    );
    // Assess
    expect(result.findings.map((f) => f.code)).toEqual(['MALFORMED_CERTIFICATE', 'HANDSHAKE_FAILED']);
    expect(result.status).toBe('critical');
    expect(result.chain).toHaveLength(2);
    expect(result.daysLeft).toBe(80);
  });

  it('judges a mutual-TLS server by its certificate alone (CLIENT_CERT_REQUIRED is info)', () => {
    // Prepare
    const error = { code: 'CLIENT_CERT_REQUIRED' as const, message: 'requires a client certificate' };
    // Act
    const result = buildCheckResult(outcome({ error, protocol: null, cipher: null }), opts);
    // Assess
    expect(result.status).toBe('ok');
    expect(result.findings).toEqual([
      { code: 'CLIENT_CERT_REQUIRED', severity: 'info', message: error.message },
    ]);
    expect(result.daysLeft).toBe(80);
  });

  it('still reports a mutual-TLS server whose certificate has problems', () => {
    // Prepare
    const error = { code: 'CLIENT_CERT_REQUIRED' as const, message: 'requires a client certificate' };
    // Act
    const result = buildCheckResult(
      outcome({
        host: 'shop.example.org',
        servername: 'shop.example.org',
        error,
        protocol: null,
        cipher: null,
      }),
      opts,
    );
    // Assess
    expect(result.status).toBe('critical');
    expect(result.findings.map((f) => f.code)).toEqual(['HOSTNAME_MISMATCH', 'CLIENT_CERT_REQUIRED']);
  });

  it('reports an expired certificate even when the handshake then failed', () => {
    // Prepare
    const error = { code: 'HANDSHAKE_FAILED' as const, message: 'certificate expired' };
    const expired = makeTestPki({ notBefore: at(-100), notAfter: at(-1) }).leaf;
    // Act
    const result = buildCheckResult(outcome({ chainDer: [expired.der, pki.intermediate.der], error }), opts);
    // Assess
    expect(result.status).toBe('expired');
    expect(result.findings.map((f) => f.code)).toEqual(['EXPIRED', 'HANDSHAKE_FAILED']);
  });

  it('treats a completed handshake without certificates as a failure', () => {
    // Act
    const result = buildCheckResult(outcome({ chainDer: [] }), opts);
    // Assess
    expect(result.status).toBe('error');
    expect(result.findings.map((f) => f.code)).toEqual(['HANDSHAKE_FAILED']);
  });

  describe('missing issuer and AIA evidence (the two-pass contract with the AIA fetcher)', () => {
    const leafWithAia = makeCert({
      cn: 'www.example.com',
      dnsNames: ['www.example.com'],
      issuer: pki.intermediate,
      caIssuersUrl: 'http://ca.example.com/int.der',
      notBefore: at(-10),
      notAfter: at(80),
    });

    it('first pass: an unanchored leaf is UNTRUSTED_CHAIN and says where to fetch its issuer', () => {
      // Act
      const { result, missingIssuer } = buildCheckResultWithEvidence(
        outcome({ chainDer: [leafWithAia.der] }),
        opts,
      );
      // Assess
      expect(result.findings.map((f) => f.code)).toEqual(['UNTRUSTED_CHAIN']);
      expect(missingIssuer).toEqual({
        caIssuersUrls: ['http://ca.example.com/int.der'],
        issuer: 'CN=Fixture Intermediate',
        certIndex: 0,
      });
    });

    it('second pass: with the fetched intermediate it is INCOMPLETE_CHAIN', () => {
      // Act
      const result = buildCheckResult(outcome({ chainDer: [leafWithAia.der] }), {
        ...opts,
        aiaIssuers: [pki.intermediate.der],
      });
      // Assess
      expect(result.status).toBe('critical');
      expect(result.findings.map((f) => f.code)).toEqual(['INCOMPLETE_CHAIN']);
      expect(result.findings[0]!.message).toContain(
        'Install the missing intermediate "CN=Fixture Intermediate"',
      );
    });

    it('nothing is missing from a complete chain', () => {
      // Act
      const { result, missingIssuer } = buildCheckResultWithEvidence(outcome({}), opts);
      // Assess
      expect(result.status).toBe('ok');
      expect(missingIssuer).toBeNull();
    });
  });
});
