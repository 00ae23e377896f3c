/**
 * Nothing the network sends may crash a check: mutate valid chains thousands
 * of times (seeded, so every run sees the same inputs) and require analysis to
 * return a complete, honest result every time.
 */
import { describe, expect, it } from 'vitest';
import { analyzeChain } from '../../lambdas/cert/analyze-chain';
import { parseCertificate } from '../../lambdas/cert/parse-certificate';
import { ecKey, ed25519Key, makeCert, type TestCert } from '../support/cert-factory';
import { type MutationKind, mulberry32, mutate } from '../support/der-mutations';
import { at, makeTestPki, NOW, THRESHOLDS } from './chain-fixtures';

const ITERATIONS = 3000;

const pki = makeTestPki();
const ecCa = makeCert({
  cn: 'EC CA',
  isCa: true,
  key: ecKey('P-384'),
  issuer: pki.root,
  notBefore: at(-10),
  notAfter: at(900),
});
const edCa = makeCert({
  cn: 'Ed CA',
  isCa: true,
  key: ed25519Key(),
  issuer: pki.root,
  notBefore: at(-10),
  notAfter: at(900),
});
const leafOpts = { cn: 'localhost', dnsNames: ['localhost'], notBefore: at(-10), notAfter: at(80) };
const chains: Record<string, readonly TestCert[]> = {
  rsa: [pki.leaf, pki.intermediate],
  ec: [makeCert({ ...leafOpts, key: ecKey('P-256'), issuer: ecCa }), ecCa],
  ed25519: [makeCert({ ...leafOpts, key: ed25519Key(true), issuer: edCa }), edCa],
};
const trust = pki.trust;

describe('analyzeChain under fuzzing', () => {
  it.each(Object.keys(chains))(
    'finds nothing wrong with the unmutated %s chain (so the property below can fail)',
    (name) => {
      // Act
      const result = analyzeChain(
        chains[name]!.map((c) => c.der),
        { host: name === 'rsa' ? 'www.example.com' : 'localhost', now: NOW, thresholds: THRESHOLDS, trust },
      );
      // Assess
      expect(result.findings).toEqual([]);
    },
  );

  it(`never throws and always explains a broken chain (${ITERATIONS} seeded mutations)`, () => {
    // Prepare
    const rng = mulberry32(0xc3a7);
    const names = Object.keys(chains);
    const kinds = new Map<MutationKind, number>();
    let unexplained = 0;

    for (let i = 0; i < ITERATIONS; i++) {
      const name = names[i % names.length]!;
      const chain = chains[name]!.map((c) => c.der as Uint8Array);
      const target = Math.floor(rng() * chain.length);
      const { der, kind } = mutate(chain[target]!, rng);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const input = chain.map((d, j) => (j === target ? der : d));
      const host = name === 'rsa' ? 'www.example.com' : 'localhost';

      // Act
      const result = analyzeChain(input, { host, now: NOW, thresholds: THRESHOLDS, trust });

      // Assess (explicit checks keep 3000 iterations fast; expect() only on failure)
      if (result.chain.length !== input.length)
        expect.fail(`iteration ${i}: chain length ${result.chain.length}`);
      const mutated = parseCertificate(der);
      if (mutated.malformed.length > 0) {
        const flagged = result.findings.some(
          (f) => f.code === 'MALFORMED_CERTIFICATE' && f.certIndex === target,
        );
        if (!flagged) expect.fail(`iteration ${i} (${kind}): malformed certificate ${target} not reported`);
      } else if (result.findings.length === 0) {
        // Fully well-formed and still valid: only acceptable if nothing observable changed.
        unexplained++;
      }
      for (const f of result.findings) {
        if (f.message.length === 0 || f.severity === undefined) expect.fail(`iteration ${i}: empty finding`);
      }
    }

    // Assess: every mutation kind was exercised, and a changed certificate essentially never passes silently.
    expect([...kinds.keys()].sort()).toEqual([
      'bitFlip',
      'delete',
      'duplicate',
      'insert',
      'length',
      'trailing',
      'truncate',
    ]);
    expect(unexplained).toBe(0);
  });
});
