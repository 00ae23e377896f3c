/**
 * The subject keys of Node's bundled roots, computed when the CLI is built rather than in
 * every process: indexing ~150 roots by normalised subject is a third of a one-host
 * `certwatch check`. scripts/build-cli.mjs runs {@link computeRootSubjectKeys} and hands the
 * result to the bundle (esbuild `define`); run from the sources, there are none and the trust
 * store computes every key itself. Hints are keyed by fingerprint, so a Node with other roots
 * simply finds fewer of them.
 */
import { rootCertificates } from 'node:tls';
import { pemBlocks } from '../cert/certificate-file';
import { fingerprintOf, subjectKeyOf } from '../cert/parse-certificate';
import { primeSubjectKeys } from '../cert/trust-store';

/** Replaced by the build with the pairs {@link computeRootSubjectKeys} gave; undefined in the sources. */
declare const CERTWATCH_ROOT_SUBJECT_KEYS: readonly (readonly [string, string])[] | undefined;

/** [fingerprint, subject key] of every root this Node bundles (as the trust store computes them). */
export function computeRootSubjectKeys(): [string, string][] {
  const pairs: [string, string][] = [];
  for (const pem of rootCertificates) {
    for (const block of pemBlocks(pem)) {
      if (!block.der) continue;
      const key = subjectKeyOf(block.der);
      if (key !== null) pairs.push([fingerprintOf(block.der), key]);
    }
  }
  return pairs;
}

let primed = false;

/** Hands the build's root subject keys to the trust store (once; nothing when run from the sources). */
export function primeRootSubjectKeys(): void {
  if (primed) return;
  primed = true;
  if (typeof CERTWATCH_ROOT_SUBJECT_KEYS !== 'undefined') primeSubjectKeys(CERTWATCH_ROOT_SUBJECT_KEYS);
}
