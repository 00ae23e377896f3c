/**
 * What the trust store needs of Node's bundled roots (each one's fingerprint and subject key),
 * computed when the CLI is built rather than in every process: decoding, fingerprinting and
 * indexing ~150 roots by normalised subject is a tenth of a one-host `certwatch check`.
 * scripts/build-cli.mjs runs {@link computeRootSubjectKeys} and hands the result to the bundle
 * (esbuild `define`); run from the sources, there are none and the trust store computes every
 * key itself. The hints name the exact roots they were made from, so a Node with other roots
 * ignores them.
 */
import { rootCertificates } from 'node:tls';
import { pemBlocks } from '../cert/certificate-file';
import { fingerprintOf, subjectKeyOf } from '../cert/parse-certificate';
import { primeSystemRoots, rootCertificatesDigest, type SystemRootHints } from '../cert/trust-store';

/** Replaced by the build with what {@link computeRootSubjectKeys} gave; undefined in the sources. */
declare const CERTWATCH_ROOT_SUBJECT_KEYS: SystemRootHints | undefined;

/** The hints for the roots of this Node, as the trust store computes them (null: a root it must decode itself). */
export function computeRootSubjectKeys(): SystemRootHints {
  return {
    digest: rootCertificatesDigest(rootCertificates),
    roots: rootCertificates.map((pem) => {
      const blocks = pemBlocks(pem);
      const der = blocks.length === 1 ? blocks[0]?.der : null;
      const key = der ? subjectKeyOf(der) : null;
      return der && key !== null ? ([fingerprintOf(der), key] as const) : null;
    }),
  };
}

let primed = false;

/** Hands the build's root hints to the trust store (once; nothing when run from the sources). */
export function primeRootSubjectKeys(): void {
  if (primed) return;
  primed = true;
  if (typeof CERTWATCH_ROOT_SUBJECT_KEYS !== 'undefined') primeSystemRoots(CERTWATCH_ROOT_SUBJECT_KEYS);
}
