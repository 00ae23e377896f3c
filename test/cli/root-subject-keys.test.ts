/**
 * The root subject keys the build hands to the bundle: one per Node root, each the key the
 * trust store computes itself, so a primed store finds exactly the anchors an unprimed one does.
 */
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { pemBlocks } from '../../lambdas/cert/certificate-file';
import { fingerprintOf, subjectKeyOf } from '../../lambdas/cert/parse-certificate';
import { primeSubjectKeys, TrustStore } from '../../lambdas/cert/trust-store';
import { computeRootSubjectKeys } from '../../lambdas/cli/root-subject-keys';

describe('computeRootSubjectKeys', () => {
  it('gives every root its fingerprint and the subject key the trust store would compute', () => {
    // Prepare
    const ders = rootCertificates.flatMap((pem) => pemBlocks(pem).flatMap((b) => (b.der ? [b.der] : [])));
    // Act
    const pairs = computeRootSubjectKeys();
    // Assess
    expect(pairs).toHaveLength(ders.length);
    expect(pairs).toEqual(ders.map((der) => [fingerprintOf(der), subjectKeyOf(der)]));
  });

  it('primes a store that finds the same anchors as one that computed every key', () => {
    // Prepare
    const ders = rootCertificates.flatMap((pem) => pemBlocks(pem).flatMap((b) => (b.der ? [b.der] : [])));
    const pairs = computeRootSubjectKeys();
    const computed = new TrustStore(ders);
    // Act
    primeSubjectKeys(pairs);
    const primed = new TrustStore(ders);
    // Assess
    expect(primed.size).toBe(computed.size);
    for (const [, key] of pairs) {
      expect(primed.findBySubject(key).map((a) => a.info.fingerprintSha256)).toEqual(
        computed.findBySubject(key).map((a) => a.info.fingerprintSha256),
      );
    }
  });
});
