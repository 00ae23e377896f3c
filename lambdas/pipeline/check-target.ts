/**
 * The check pipeline for one target: resolve, probe every address in
 * isolation, analyse each chain. `certwatch check`, `certwatch run`, the
 * checker Lambda and the bench all go through here.
 */
import type { TrustStore } from '../cert/trust-store';
import { buildCheckResult } from '../cert/build-check-result';
import type { CheckResult, ExpiryThresholds, ProbeOutcome, Target } from '../core/model';
import { mapWithConcurrency } from '../core/concurrency';
import { probeAddress } from '../probe/probe-address';
import { probeTarget } from '../probe/probe-target';
import { isIpLiteral } from '../core/parse-target';

export interface CheckOptions {
  /** Deadline per address (DNS, connect, handshake) in ms. */
  readonly timeoutMs: number;
  readonly thresholds: ExpiryThresholds;
  /** Check only the first resolved address. */
  readonly firstAddressOnly: boolean;
  readonly trust: TrustStore;
  readonly now?: () => Date;
}

/** Check every address of one target. Never rejects: an internal failure becomes a CHECK_FAILED result. */
export async function checkTarget(target: Target, opts: CheckOptions): Promise<CheckResult[]> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  try {
    const outcomes = await probeTarget(target, {
      timeoutMs: opts.timeoutMs,
      firstAddressOnly: opts.firstAddressOnly,
    });
    return outcomes.map((outcome) => analyse(target, outcome, startedAt, opts));
  } catch (error) {
    return [internalFailure(target, null, startedAt, error)];
  }
}

/** Check one already-resolved address of a target (the checker Lambda's unit of work). */
export async function checkAddress(
  target: Target,
  address: string,
  opts: CheckOptions,
): Promise<CheckResult> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  try {
    const outcome = await probeAddress({
      host: target.host,
      port: target.port,
      address,
      servername: isIpLiteral(target.host) ? null : target.host,
      timeoutMs: opts.timeoutMs,
    });
    return analyse(target, outcome, startedAt, opts);
  } catch (error) {
    return internalFailure(target, address, startedAt, error);
  }
}

/**
 * Check many targets with bounded concurrency. Each target is isolated: a
 * target that times out occupies one slot for at most its deadline.
 */
export async function checkTargets(
  targets: readonly Target[],
  opts: CheckOptions & { readonly concurrency: number },
  onTargetDone?: (results: readonly CheckResult[], index: number) => void,
): Promise<CheckResult[][]> {
  return mapWithConcurrency(
    targets,
    opts.concurrency,
    (target) => checkTarget(target, opts),
    (error, target) => [internalFailure(target, null, new Date(), error)],
    onTargetDone,
  );
}

function analyse(target: Target, outcome: ProbeOutcome, startedAt: Date, opts: CheckOptions): CheckResult {
  try {
    return buildCheckResult(outcome, {
      target: target.id,
      now: startedAt,
      thresholds: opts.thresholds,
      trust: opts.trust,
    });
  } catch (error) {
    return internalFailure(target, outcome.address, startedAt, error, outcome.durationMs);
  }
}

function internalFailure(
  target: Target,
  address: string | null,
  startedAt: Date,
  error: unknown,
  durationMs = 0,
): CheckResult {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    target: target.id,
    host: target.host,
    port: target.port,
    address,
    servername: isIpLiteral(target.host) ? null : target.host,
    status: 'error',
    daysLeft: null,
    notAfter: null,
    findings: [
      { code: 'CHECK_FAILED', severity: 'critical', message: `certwatch failed internally: ${reason}` },
    ],
    chain: [],
    protocol: null,
    cipher: null,
    durationMs,
    checkedAt: startedAt.toISOString(),
  };
}
