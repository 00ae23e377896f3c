/**
 * The check pipeline for one target: resolve, probe every address in
 * isolation, analyse each chain (completing it from AIA as browsers do).
 * `certwatch check`, `certwatch run`, the checker Lambda and the bench all go through here.
 */
import { type CheckResultWithEvidence, buildCheckResultWithEvidence } from '../cert/build-check-result';
import type { TrustStore } from '../cert/trust-store';
import type {
  CheckResult,
  ExpiryThresholds,
  ProbeOutcome,
  ProbeSettings,
  RevocationMode,
  Target,
} from '../core/model';
import { mapWithConcurrency } from '../core/concurrency';
import { probeSettingsOf, protocolOf, servernameFor } from '../core/probe-settings';
import { type CaIssuersFetcher, fetchCaIssuers } from '../probe/fetch-ca-issuers';
import { type ClientIdentity, probeAddress } from '../probe/probe-address';
import { monotonicMs } from '../probe/monotonic-clock';
import { probeTarget } from '../probe/probe-target';
import { fetchRevocation, type RevocationFetcher } from '../probe/fetch-revocation';
import { startRevocationCheck } from './check-revocation';

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
  /**
   * Fetches a missing issuer from the caIssuers URL a certificate names (AIA), within what is
   * left of the address's deadline (`timeoutMs`); null never fetches.
   * @default fetchCaIssuers, the process-wide cached HTTP fetcher
   */
  readonly fetchCaIssuers?: CaIssuersFetcher | null;
  /**
   * Reads the private key a client certificate's `keyRef` names (`env:`, `secretsmanager:`, a
   * file): the host's secret resolver. Needed only for endpoints with a `clientCertificate`.
   * @default none: such an endpoint's check fails with CHECK_FAILED naming the missing resolver
   */
  readonly clientKey?: (keyRef: string) => Promise<string>;
  /** Whether revocation is checked (see {@link RevocationMode}). @default 'check' */
  readonly revocation?: RevocationMode;
  /**
   * Fetches OCSP answers and CRLs within what is left of the deadline; null judges the staple alone.
   * @default fetchRevocation, the process-wide cached fetcher
   */
  readonly fetchRevocation?: RevocationFetcher | null;
}

/**
 * caIssuers URLs fetched per address at most: the leaf's issuer, its issuer, and so on, each URL
 * once. Real chains need one; a hostile certificate cannot make the check chase URLs forever.
 */
export const MAX_AIA_FETCHES = 4;

const systemClock = (): Date => new Date();

/** Check every address of one target. Never rejects: an internal failure becomes a CHECK_FAILED result. */
export async function checkTarget(target: Target, opts: CheckOptions): Promise<CheckResult[]> {
  const startedAt = (opts.now ?? systemClock)();
  try {
    const identity = await clientIdentityOf(opts);
    const outcomes = await probeTarget(target, {
      ...probeSettingsOf(opts),
      firstAddressOnly: opts.firstAddressOnly,
      ...(identity === undefined ? {} : { clientIdentity: identity }),
    });
    return await Promise.all(outcomes.map((outcome) => analyse(target, outcome, startedAt, opts)));
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
    const identity = await clientIdentityOf(opts);
    const outcome = await probeAddress({
      ...probeSettingsOf(opts),
      host: target.host,
      port: target.port,
      address,
      ...(identity === undefined ? {} : { clientIdentity: identity }),
    });
    return await analyse(target, outcome, startedAt, opts);
  } catch (error) {
    return internalFailure(target, address, startedAt, error, opts);
  }
}

/** Options of {@link checkTargets}: those of one check, with the anchors chosen per target. */
export interface CheckManyOptions extends Omit<CheckOptions, 'trust'> {
  readonly concurrency: number;
  /** The anchors each target's chains are judged against (targets from a config bring their own). */
  readonly trustFor: (target: Target) => TrustStore;
  /**
   * Probe settings of one target that replace the shared ones: its protocol (a `smtp://` URL),
   * a `--connect-to` rule that matches it, its proxy (`NO_PROXY`).
   * @default none: every target is probed with the shared settings
   */
  readonly settingsFor?: (target: Target) => TargetSettings;
}

/** What may differ per target in {@link checkTargets}: how it is probed, and its revocation mode. */
export type TargetSettings = Partial<ProbeSettings> & { readonly revocation?: RevocationMode };

/**
 * Check many targets with bounded concurrency. Each target is isolated: a
 * target that times out occupies one slot for at most its deadline.
 */
export async function checkTargets(
  targets: readonly Target[],
  opts: CheckManyOptions,
  onTargetDone?: (results: readonly CheckResult[], index: number) => void,
): Promise<CheckResult[][]> {
  const now = opts.now ?? systemClock;
  try {
    return await mapWithConcurrency(
      targets,
      opts.concurrency,
      (target) =>
        checkTarget(target, { ...opts, ...opts.settingsFor?.(target), trust: opts.trustFor(target) }),
      (error, target) => [internalFailure(target, null, now(), error, opts)],
      onTargetDone,
    );
  } finally {
    // The run is over: its kept-alive connections to OCSP responders and CRL servers go now.
    (opts.fetchRevocation === undefined ? fetchRevocation : opts.fetchRevocation)?.closeIdleConnections();
  }
}

async function analyse(
  target: Target,
  outcome: ProbeOutcome,
  startedAt: Date,
  opts: CheckOptions,
): Promise<CheckResult> {
  try {
    const judge = (aiaIssuers: readonly Uint8Array[]) =>
      buildCheckResultWithEvidence(outcome, {
        target: target.id,
        now: startedAt,
        thresholds: opts.thresholds,
        trust: opts.trust,
        ...(aiaIssuers.length > 0 ? { aiaIssuers } : {}),
      });
    const fetcher = opts.fetchCaIssuers === undefined ? fetchCaIssuers : opts.fetchCaIssuers;
    // The address's deadline covers the probe, the AIA fetch and the revocation step alike. The
    // revocation step starts first: its requests travel while the chain is judged.
    const addRevocation = revocationStep(outcome, startedAt, opts, opts.timeoutMs - outcome.durationMs);
    const first = judge([]);
    const scheme = protocolOf(opts);
    const started = monotonicMs();
    const elapsed = () => outcome.durationMs + Math.round(monotonicMs() - started);
    const judged =
      fetcher === null || !first.missingIssuer?.caIssuersUrls.length
        ? first.result
        : await completeFromAia(first, judge, fetcher, opts.timeoutMs - outcome.durationMs);
    const result = await addRevocation(judged);
    return elapsed() === outcome.durationMs
      ? { ...result, scheme }
      : { ...result, scheme, durationMs: elapsed() };
  } catch (error) {
    return internalFailure(target, outcome.address, startedAt, error, opts, outcome.durationMs);
  }
}

/** The revocation step (check-revocation.ts) with the check's options, started now. */
function revocationStep(
  outcome: ProbeOutcome,
  startedAt: Date,
  opts: CheckOptions,
  budgetMs: number,
): (result: CheckResult) => Promise<CheckResult> {
  return startRevocationCheck(outcome, {
    ...(opts.revocation ? { mode: opts.revocation } : {}),
    trust: opts.trust,
    thresholds: opts.thresholds,
    now: startedAt,
    budgetMs,
    fetcher: opts.fetchRevocation === undefined ? fetchRevocation : opts.fetchRevocation,
  });
}

/**
 * While the analysis says an issuer is missing and names where it is published, fetch it and
 * judge again with everything fetched so far, as browsers complete a chain: the analysis then
 * tells an omitted intermediate (the fetched issuer chains to a trusted root) from an unknown
 * root. A URL that fails is data: the next one named is tried, and the verdict stands without it.
 */
export async function completeFromAia(
  first: CheckResultWithEvidence,
  judge: (aiaIssuers: readonly Uint8Array[]) => CheckResultWithEvidence,
  fetcher: CaIssuersFetcher,
  budgetMs: number,
): Promise<CheckResult> {
  const deadline = monotonicMs() + budgetMs;
  const fetched: Uint8Array[] = [];
  const tried = new Set<string>();
  let verdict = first;
  while (tried.size < MAX_AIA_FETCHES) {
    const url = verdict.missingIssuer?.caIssuersUrls.find((u) => !tried.has(u));
    const timeoutMs = Math.floor(deadline - monotonicMs());
    if (url === undefined || timeoutMs <= 0) break;
    tried.add(url);
    const { certificates } = await fetcher(url, { timeoutMs });
    if (certificates.length === 0) continue;
    fetched.push(...certificates);
    verdict = judge(fetched);
  }
  return verdict.result;
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
    scheme: protocolOf(settings),
    durationMs,
    checkedAt: startedAt.toISOString(),
  };
}

/** The client certificate and its key, read through the host's resolver; undefined when none is configured. */
async function clientIdentityOf(opts: CheckOptions): Promise<ClientIdentity | undefined> {
  const configured = opts.clientCertificate;
  if (configured === undefined) return undefined;
  if (opts.clientKey === undefined) {
    throw new Error(`no resolver for the client key ${configured.keyRef} was given to the check`);
  }
  let keyPem: string;
  try {
    keyPem = await opts.clientKey(configured.keyRef);
  } catch (error) {
    throw new Error(
      `cannot read the client key ${configured.keyRef}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { certPem: configured.certPem, keyPem };
}
