/**
 * The check pipeline for one target: resolve, probe every address in
 * isolation, analyse each chain. `certwatch check`, `certwatch run`, the
 * checker Lambda and the bench all go through here.
 */
import type { TrustStore } from '../cert/trust-store';
import { buildCheckResult } from '../cert/build-check-result';
import type { CheckResult, ExpiryThresholds, ProbeOutcome, ProbeSettings, Target } from '../core/model';
import { mapWithConcurrency } from '../core/concurrency';
import { probeSettingsOf, servernameFor } from '../core/probe-settings';
import { probeAddress } from '../probe/probe-address';
import { probeTarget } from '../probe/probe-target';

/**
 * How to check: the probe settings (from the CLI, or an endpoint's, see `probeSettingsOf`),
 * handed to the probe whole, plus what the analysis judges the chain against.
 */
export interface CheckOptions extends ProbeSettings {
  readonly thresholds: ExpiryThresholds;
  /** Check only the first resolved address. */
  readonly firstAddressOnly: boolean;
  /** Anchors the chain is verified against; the probe itself trusts nothing and verifies nothing. */
  readonly trust: TrustStore;
  /** Clock of `checkedAt` and every expiry judgement. @default the system clock */
  readonly now?: () => Date;
}

const systemClock = (): Date => new Date();

/** Check every address of one target. Never rejects: an internal failure becomes a CHECK_FAILED result. */
export async function checkTarget(target: Target, opts: CheckOptions): Promise<CheckResult[]> {
  const startedAt = (opts.now ?? systemClock)();
  try {
    const outcomes = await probeTarget(target, {
      ...probeSettingsOf(opts),
      firstAddressOnly: opts.firstAddressOnly,
    });
    return outcomes.map((outcome) => analyse(target, outcome, startedAt, opts));
  } catch (error) {
    return [internalFailure(target, null, startedAt, error, opts)];
  }
}

/** Check one already-resolved address of a target (the checker Lambda's unit of work). */
export async function checkAddress(
  target: Target,
  address: string,
  opts: CheckOptions,
): Promise<CheckResult> {
  const startedAt = (opts.now ?? systemClock)();
  try {
    const outcome = await probeAddress({
      ...probeSettingsOf(opts),
      host: target.host,
      port: target.port,
      address,
    });
    return analyse(target, outcome, startedAt, opts);
  } catch (error) {
    return internalFailure(target, address, startedAt, error, opts);
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
  const now = opts.now ?? systemClock;
  return mapWithConcurrency(
    targets,
    opts.concurrency,
    (target) => checkTarget(target, opts),
    (error, target) => [internalFailure(target, null, now(), error, opts)],
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
    return internalFailure(target, outcome.address, startedAt, error, opts, outcome.durationMs);
  }
}

function internalFailure(
  target: Target,
  address: string | null,
  startedAt: Date,
  error: unknown,
  settings: ProbeSettings,
  durationMs = 0,
): CheckResult {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    target: target.id,
    host: target.host,
    port: target.port,
    address,
    servername: servernameFor(target.host, settings),
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
