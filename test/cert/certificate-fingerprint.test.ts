import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../lambdas/cert/certificate-fingerprint';

describe('fingerprintOf', () => {
  const cases: [string, Uint8Array, string][] = [
    ['no bytes', new Uint8Array(), 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'],
    [
      'a Uint8Array',
      Uint8Array.from([0x61, 0x62, 0x63]),
      'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD',
    ],
    [
      'a Buffer view into a larger buffer',
      Buffer.from('xabcx').subarray(1, 4),
      'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD',
    ],
  ];
  it.each(cases)('%s: upper-case hex SHA-256 of exactly those bytes', (_name, der, expected) => {
    // Act / Assess
    expect(fingerprintOf(der)).toBe(expected);
  });
});
