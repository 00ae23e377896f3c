/** A deliberately broken detector for the canary's tests. */
import type { CanaryCheck } from '../../lambdas/canary/run-canary';
import { classifyStatus } from '../../lambdas/cert/classify-status';
import { checkTarget } from '../../lambdas/pipeline/check-target';

/** A detector whose analysis ignores notAfter: no expiry findings, no days left, status from the rest. */
export const ignoresNotAfter: CanaryCheck = async (target, opts) =>
  (await checkTarget(target, opts)).map((r) => {
    const findings = r.findings.filter((f) => f.code !== 'EXPIRED' && f.code !== 'EXPIRES_SOON');
    return {
      ...r,
      findings,
      daysLeft: null,
      status: classifyStatus(findings, null, opts.thresholds, r.chain.length > 0),
    };
  });
