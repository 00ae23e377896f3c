/**
 * The page a failed canary sends: a `monitor` alert about certwatch itself (incident
 * `monitor:canary`), to every ops channel, like the watchdog's pages.
 */
import { type AlertAudience, bareSubject, buildAlert } from '../core/build-alert';
import type { Alert } from '../core/model';
import type { DetectorBroken } from '../store/state-store';
import type { CanaryReport } from './run-canary';

const CERTWATCH: AlertAudience = { name: 'certwatch', id: 'certwatch', owner: null, channels: [] };

/** The page for a canary with failures; `runId` names the run it belongs to (one page per run). */
export function canaryFailureAlert(report: CanaryReport, runId: string, now: Date): Alert {
  const [first = 'the detector is broken', ...rest] = report.failures;
  return buildAlert({
    kind: 'monitor',
    severity: 'critical',
    scope: null,
    event: `canary:${runId}`,
    audience: CERTWATCH,
    subject: bareSubject('error'),
    text: {
      summary: rest.length === 0 ? first : `${first} (and ${rest.length} more)`,
      detail:
        `The canary serves known-bad certificates on loopback and checks them like any endpoint. ` +
        `Wrong verdicts: ${report.failures.join('; ')}. Until this is fixed, an "ok" from certwatch proves nothing.`,
      action:
        'Run certwatch selftest to reproduce; look at the last change to certwatch, its dependencies (Node.js, OpenSSL) or its trust store.',
    },
    now,
  });
}

/**
 * What a failed canary records on its run (`StateStore.markDetectorBroken`): the first wrong
 * verdict, and the page's line; null when the canary passed.
 */
export function detectorBrokenMark(report: CanaryReport, at: Date): DetectorBroken | null {
  const [first, ...rest] = report.failures;
  if (first === undefined) return null;
  const wrong = report.verdicts.find((v) => !v.ok);
  return {
    at: at.toISOString(),
    fixture: wrong?.fixture ?? null,
    judged: wrong?.judged ?? null,
    expected: wrong?.expectedVerdict ?? null,
    reason: rest.length === 0 ? first : `${first} (and ${rest.length} more)`,
  };
}
