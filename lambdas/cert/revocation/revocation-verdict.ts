/**
 * What a revocation source says about one certificate, and the freshness rule every source is held to.
 */

/** One source's answer about one certificate. */
export type RevocationVerdict =
  | {
      readonly status: 'good';
      readonly thisUpdate: Date;
      readonly nextUpdate: Date | null;
    }
  | {
      readonly status: 'revoked';
      /** When the CA says it revoked the certificate; null when unreadable. */
      readonly revokedAt: Date | null;
      /** The CRLReason name (e.g. "keyCompromise"); null when none was given. */
      readonly reason: string | null;
      readonly thisUpdate: Date;
      readonly nextUpdate: Date | null;
    }
  | {
      readonly status: 'unknown';
      /** Why the source could not be relied upon, e.g. "the OCSP response is stale (nextUpdate ...)". */
      readonly reason: string;
    };

/** Clock difference tolerated between the CA and certwatch. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Oldest a response without nextUpdate may be: RFC 5280 CRLs must have one, OCSP may omit it. */
export const MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 7 * 86_400_000;

/** Why the window [thisUpdate, nextUpdate] does not hold `now`; null when it does. */
export function judgeWindow(
  what: string,
  thisUpdate: Date,
  nextUpdate: Date | null,
  now: Date,
): string | null {
  const t = now.getTime();
  if (thisUpdate.getTime() > t + CLOCK_SKEW_MS) {
    return `${what} is not yet valid (thisUpdate ${thisUpdate.toISOString()})`;
  }
  if (nextUpdate !== null && nextUpdate.getTime() < t - CLOCK_SKEW_MS) {
    return `${what} is stale (nextUpdate ${nextUpdate.toISOString()} has passed)`;
  }
  if (nextUpdate === null && thisUpdate.getTime() < t - MAX_AGE_WITHOUT_NEXT_UPDATE_MS) {
    return `${what} is stale (thisUpdate ${thisUpdate.toISOString()}, no nextUpdate)`;
  }
  return null;
}
