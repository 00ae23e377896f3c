/**
 * Shared fixtures for the certificate analysis tests: a fixed clock and a
 * small PKI with distinct keys (makePki shares one key across its levels,
 * which would hide path-building mistakes).
 */
import type { ExpiryThresholds } from '../../lambdas/core/model';
import { type TrustStore, trustStoreFromDer } from '../../lambdas/cert/trust-store';
import {
  type CertOptions,
  daysFromNow,
  ecKey,
  makeCert,
  rsaKey,
  type TestCert,
  type TestKey,
} from '../support/cert-factory';

/** The injected clock every analysis test uses. Certificates are dated relative to it. */
export const NOW = new Date(Date.UTC(2030, 5, 15, 12, 0, 0));
export const THRESHOLDS: ExpiryThresholds = { warnDays: 30, criticalDays: 7 };

export function at(days: number): Date {
  return daysFromNow(days, NOW);
}

let rsaPool: TestKey[] | null = null;
/** Distinct RSA-2048 keys, generated once per test file. */
export function distinctRsaKeys(): TestKey[] {
  rsaPool ??= [rsaKey(2048, true), rsaKey(2048, true), rsaKey(2048, true)];
  return rsaPool;
}

export interface Pki {
  readonly root: TestCert;
  readonly intermediate: TestCert;
  readonly leaf: TestCert;
  readonly trust: TrustStore;
}

/** Root → intermediate → leaf for `www.example.com`, valid around NOW, each with its own key. */
export function makeTestPki(leaf: Partial<CertOptions> = {}, intermediate: Partial<CertOptions> = {}): Pki {
  const [rootKey, intKey, leafKey] = distinctRsaKeys() as [TestKey, TestKey, TestKey];
  const root = makeCert({
    cn: 'Fixture Root',
    subjectAttributes: [{ shortName: 'O', value: 'certwatch tests' }],
    isCa: true,
    key: rootKey,
    notBefore: at(-3000),
    notAfter: at(3000),
  });
  const int = makeCert({
    cn: 'Fixture Intermediate',
    isCa: true,
    key: intKey,
    issuer: root,
    notBefore: at(-400),
    notAfter: at(1000),
    ...intermediate,
  });
  const leafCert = makeCert({
    cn: 'www.example.com',
    dnsNames: ['www.example.com', 'example.com'],
    key: leafKey,
    issuer: int,
    notBefore: at(-10),
    notAfter: at(80),
    ...leaf,
  });
  return { root, intermediate: int, leaf: leafCert, trust: trustStoreFromDer([root.der]) };
}

/** A fresh EC key: cheap, so tests needing many distinct keys use these. */
export function freshEcKey(): TestKey {
  return ecKey('P-256', true);
}
