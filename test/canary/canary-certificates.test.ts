/**
 * The canary's in-memory certificates: every one is DER that OpenSSL accepts, whatever random
 * serial it drew. A serial whose first byte is 0x00 followed by a byte below 0x80 is illegal
 * padding and OpenSSL refuses it ("asn1 encoding routines::illegal padding"), which once made
 * about one canary in twenty fail to start.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeCanaryPki } from '../../lambdas/canary/canary-certificates';

/** Enough sets that a 1-in-128 chance per certificate shows up almost surely (5 × 60 = 300 draws). */
const SETS = 60;

describe('makeCanaryPki', () => {
  it(`makes certificates OpenSSL parses, with minimal positive serials, in ${SETS} fresh sets`, () => {
    // Prepare
    const now = Date.now();
    const problems: string[] = [];
    // Act
    for (let i = 0; i < SETS; i++) {
      const pki = makeCanaryPki(now);
      for (const [name, cert] of Object.entries({
        root: pki.root,
        good: pki.good,
        expired: pki.expired,
        otherName: pki.otherName,
        selfSigned: pki.selfSigned,
      })) {
        try {
          const serial = new X509Certificate(cert.der).serialNumber;
          if (!/^(?!00)[0-7][0-9A-F]{15}$/.test(serial)) problems.push(`${name}: serial ${serial}`);
        } catch (error) {
          problems.push(`${name}: ${(error as Error).message}`);
        }
      }
    }
    // Assess
    expect(problems).toEqual([]);
  });
});
