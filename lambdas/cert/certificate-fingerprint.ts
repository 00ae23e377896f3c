/**
 * Owns the certificate's identity: the SHA-256 fingerprint of the exact bytes
 * sent (ChainCertificate.fingerprintSha256, the parse cache's key, a trust
 * anchor's identity).
 */
import { createHash } from 'node:crypto';

/** Upper-case hex SHA-256 of the exact bytes, the certificate's identity everywhere in certwatch. */
export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}
