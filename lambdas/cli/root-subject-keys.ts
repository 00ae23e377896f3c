/**
 * What the trust store needs of Node's bundled roots (each one's fingerprint and subject key),
 * computed when the CLI is built rather than in every process: decoding, fingerprinting and
 * indexing ~150 roots by normalised subject is a tenth of a one-host `certwatch check`.
 * scripts/build-cli.mjs runs {@link computeRootSubjectKeys} and hands the result to the bundle
 * (esbuild `define`); run from the sources, there are none and the trust store computes every
 * key itself. The hints name the exact roots they were made from (a digest, and the Node binary
 * that made them), so a Node with other roots ignores them.
 */
import { statSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { pemBlocks } from '../cert/certificate-file';
import { fingerprintOf, subjectKeyOf } from '../cert/parse-certificate';
import { primeSystemRoots, rootCertificatesDigest, type SystemRootHints } from '../cert/trust-store';

/** The Node binary hints were made with: the same file has the same roots compiled in. */
export interface NodeBinary {
  readonly path: string;
  readonly version: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** {@link SystemRootHints} and the Node binary that made them. */
export interface BuiltRootHints extends SystemRootHints {
  readonly node: NodeBinary | null;
}

/** Replaced by the build with what {@link computeRootSubjectKeys} gave; undefined in the sources. */
declare const CERTWATCH_ROOT_SUBJECT_KEYS: BuiltRootHints | undefined;

/** This process's Node binary; null when it cannot be read. */
export function thisNodeBinary(): NodeBinary | null {
  try {
    const stat = statSync(process.execPath);
    return { path: process.execPath, version: process.version, size: stat.size, mtimeMs: stat.mtimeMs };
  } catch {
    return null;
  }
}

/** Whether `made` is this process's Node binary (same path, version, size and modification time). */
export function isThisNodeBinary(made: NodeBinary | null): boolean {
  const now = made && thisNodeBinary();
  return (
    !!made &&
    !!now &&
    now.path === made.path &&
    now.version === made.version &&
    now.size === made.size &&
    now.mtimeMs === made.mtimeMs
  );
}

/** The hints for the roots of this Node, as the trust store computes them (null: a root it must decode itself). */
export function computeRootSubjectKeys(): BuiltRootHints {
  return {
    node: thisNodeBinary(),
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

/**
 * Hands the build's root hints to the trust store (once; nothing when run from the sources). Run
 * by the Node that built it, the trust store takes them as they are; any other Node's trust store
 * checks them against its own roots first.
 */
export function primeRootSubjectKeys(): void {
  if (primed) return;
  primed = true;
  if (typeof CERTWATCH_ROOT_SUBJECT_KEYS === 'undefined') return;
  primeSystemRoots(CERTWATCH_ROOT_SUBJECT_KEYS, {
    sameRoots: isThisNodeBinary(CERTWATCH_ROOT_SUBJECT_KEYS.node),
  });
}
