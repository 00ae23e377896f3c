/**
 * Turns findings and days-left into the one status an address is reported
 * with: expired > error > critical > warning > ok.
 */
import { findingCodesWhere } from '../core/findings';
import {
  CONNECTION_FINDING_CODES,
  type ExpiryThresholds,
  type Finding,
  type FindingCode,
  type Status,
} from '../core/model';

/** Codes the registry marks `expired`: the certificate concerned is past its notAfter. */
const EXPIRED_CODES: ReadonlySet<FindingCode> = new Set(findingCodesWhere((f) => f.expired));
const CONNECTION_CODES: ReadonlySet<FindingCode> = new Set(CONNECTION_FINDING_CODES);

/**
 * Status of one checked address.
 *
 * @param hasCertificate whether a certificate was obtained; by default inferred
 *   as "daysLeft is known or some finding is about a certificate".
 */
export function classifyStatus(
  findings: readonly Finding[],
  daysLeft: number | null,
  thresholds: ExpiryThresholds,
  hasCertificate: boolean = daysLeft !== null || findings.some((f) => !CONNECTION_CODES.has(f.code)),
): Status {
  if ((daysLeft !== null && daysLeft < 0) || findings.some((f) => EXPIRED_CODES.has(f.code)))
    return 'expired';
  if (!hasCertificate && findings.some((f) => CONNECTION_CODES.has(f.code))) return 'error';
  if (!hasCertificate && findings.length === 0 && daysLeft === null) return 'error';
  if (findings.some((f) => f.severity === 'critical')) return 'critical';
  if (daysLeft !== null && daysLeft <= thresholds.criticalDays) return 'critical';
  if (daysLeft !== null && daysLeft <= thresholds.warnDays) return 'warning';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}
