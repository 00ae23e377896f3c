/**
 * The root hints the build hands to the bundle: one per Node root, each the fingerprint and
 * subject key the trust store computes itself, so a primed store finds exactly the anchors an
 * unprimed one does; and hints made for other roots are ignored.
 */
import { rootCertificates } from 'node:tls';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { pemBlocks } from '../../lambdas/cert/certificate-file';
import { fingerprintOf, subjectKeyOf } from '../../lambdas/cert/parse-certificate';
import { rootCertificatesDigest, type SystemRootHints } from '../../lambdas/cert/trust-store';
import {
  computeRootSubjectKeys,
  isThisNodeBinary,
  type NodeBinary,
  thisNodeBinary,
} from '../../lambdas/cli/root-subject-keys';

/** A trust store module of its own (its system roots are loaded once per module instance). */
async function freshTrustStoreModule() {
  vi.resetModules();
  return import('../../lambdas/cert/trust-store');
}

/** For each root's subject key, the fingerprints of the anchors the store finds for it. */
function anchorsBySubject(store: {
  findBySubject(key: string | null): readonly { info: { fingerprintSha256: string } }[];
}) {
  const ders = rootCertificates.flatMap((pem) => pemBlocks(pem).flatMap((b) => (b.der ? [b.der] : [])));
  return ders.map((der) => {
    const key = subjectKeyOf(der);
    return [key, store.findBySubject(key).map((a) => a.info.fingerprintSha256)];
  });
}

describe('computeRootSubjectKeys', () => {
  let unprimed: ReturnType<typeof anchorsBySubject>;
  let unprimedSize: number;

  beforeEach(async () => {
    const { loadTrustStore } = await freshTrustStoreModule();
    const store = loadTrustStore();
    unprimed = anchorsBySubject(store);
    unprimedSize = store.size;
  });

  it('gives every root its fingerprint and the subject key the trust store would compute', () => {
    // Act
    const hints = computeRootSubjectKeys();
    // Assess
    expect(hints.digest).toBe(rootCertificatesDigest(rootCertificates));
    expect(hints.roots).toEqual(
      rootCertificates.map((pem) => {
        const der = pemBlocks(pem)[0]?.der as Uint8Array;
        return [fingerprintOf(der), subjectKeyOf(der)];
      }),
    );
  });

  it.each<{ name: string; hints: (real: SystemRootHints) => SystemRootHints; sameRoots?: boolean }>([
    { name: 'hints for these roots', hints: (real) => real },
    {
      // Vouched for (made by this very Node binary): taken without reading the roots for the digest.
      name: 'hints for these roots from this Node binary',
      hints: (real) => ({ ...real, digest: 'not checked' }),
      sameRoots: true,
    },
    {
      // Wrong subject keys, made for other roots: used, they would file every root under another subject.
      name: 'hints made for other roots',
      hints: (real) => ({
        digest: rootCertificatesDigest(rootCertificates.slice(1)),
        roots: real.roots.map((_, i) => real.roots[(i + 1) % real.roots.length] ?? null),
      }),
    },
    { name: 'hints for only some roots', hints: (real) => ({ ...real, roots: real.roots.slice(1) }) },
  ])(
    'primes a store that finds the same anchors as one that computed every key: $name',
    async ({ hints }) => {
      // Prepare
      const { loadTrustStore, primeSystemRoots } = await freshTrustStoreModule();
      // Act
      primeSystemRoots(hints(computeRootSubjectKeys()));
      const primed = loadTrustStore();
      // Assess
      expect(primed.size).toBe(unprimedSize);
      expect(anchorsBySubject(primed)).toEqual(unprimed);
    },
  );
});

describe('isThisNodeBinary', () => {
  const self = thisNodeBinary() as NodeBinary;

  it.each<{ name: string; made: NodeBinary | null; expected: boolean }>([
    { name: 'this binary', made: self, expected: true },
    { name: 'another size', made: { ...self, size: self.size + 1 }, expected: false },
    { name: 'another modification time', made: { ...self, mtimeMs: self.mtimeMs - 1000 }, expected: false },
    { name: 'another path', made: { ...self, path: `${self.path}-other` }, expected: false },
    { name: 'another version', made: { ...self, version: 'v0.0.0' }, expected: false },
    { name: 'none recorded', made: null, expected: false },
  ])('$name: $expected', ({ made, expected }) => {
    // Act / Assess
    expect(isThisNodeBinary(made)).toBe(expected);
  });
});
