/**
 * The canary: known-bad certificates (and one good one) served in-process on loopback and
 * checked through the same probe and analysis as every endpoint. A detector that judges any
 * of them wrongly is broken, and the run that used it says so and pages.
 *
 * One function for both hosts: `certwatch run` and `certwatch selftest` call {@link runCanary},
 * and so can the deployed dispatcher or watchdog (it needs nothing but loopback).
 */
import { trustStoreFromDer } from '../cert/trust-store';
import type { CheckResult, FindingCode, Status, Target } from '../core/model';
import { type CheckOptions, checkTarget } from '../pipeline/check-target';
import { CANARY_DOMAIN, type CanaryPki, canaryPki } from './canary-certificates';
import { type CanaryServers, startCanaryServers } from './canary-servers';

/** How one target is checked: `checkTarget`, or a stand-in in tests (a deliberately broken detector). */
export type CanaryCheck = (target: Target, opts: CheckOptions) => Promise<CheckResult[]>;

/** The fixtures, by name. */
export type CanaryFixtureName =
  | 'expired'
  | 'hostname-mismatch'
  | 'self-signed'
  | 'malformed'
  | 'no-answer'
  | 'good';

/** What one fixture serves and the verdict a working detector reaches. */
interface CanaryFixture {
  /** Which server answers. */
  readonly server: 'tls' | 'malformed' | 'silent';
  /** The status a working detector gives. */
  readonly status: Status;
  /** A finding it must raise (null: it must raise none). */
  readonly finding: FindingCode | null;
}

/** Every fixture, in the order they are reported. */
export const CANARY_FIXTURES = {
  expired: { server: 'tls', status: 'expired', finding: 'EXPIRED' },
  'hostname-mismatch': { server: 'tls', status: 'critical', finding: 'HOSTNAME_MISMATCH' },
  'self-signed': { server: 'tls', status: 'critical', finding: 'SELF_SIGNED' },
  malformed: { server: 'malformed', status: 'critical', finding: 'MALFORMED_CERTIFICATE' },
  'no-answer': { server: 'silent', status: 'error', finding: 'TIMEOUT' },
  good: { server: 'tls', status: 'ok', finding: null },
} as const satisfies Record<CanaryFixtureName, CanaryFixture>;

export const CANARY_FIXTURE_NAMES = Object.keys(CANARY_FIXTURES) as CanaryFixtureName[];

/**
 * The deadline of the server that never answers: short, so the canary adds little to a run,
 * and long enough that the others (which finish in milliseconds) never race it.
 */
export const CANARY_SILENT_TIMEOUT_MS = 300;
/** The deadline of the fixtures that answer: generous, so a busy machine never fails the canary. */
export const CANARY_TIMEOUT_MS = 5_000;

/** The verdict on one fixture. */
export interface CanaryVerdict {
  readonly fixture: CanaryFixtureName;
  readonly expected: { readonly status: Status; readonly finding: FindingCode | null };
  /** The status the detector gave. */
  readonly status: Status;
  readonly findings: readonly FindingCode[];
  /** What the detector said of it, as the failure line says it: `ok (no findings)`. */
  readonly judged: string;
  /** What a working detector says of it: `expired (EXPIRED)`. */
  readonly expectedVerdict: string;
  /** Whether the detector judged it as expected. */
  readonly ok: boolean;
  /** "the detector is broken: …" when not ok; null when ok. */
  readonly failure: string | null;
}

/** The canary's outcome. Never thrown: a canary that could not run is a failure too. */
export interface CanaryReport {
  readonly verdicts: readonly CanaryVerdict[];
  /** One line per wrong verdict (or per reason the canary could not run). */
  readonly failures: readonly string[];
  readonly durationMs: number;
}

/** Dependencies of {@link runCanary}; every one has the production default. */
export interface CanaryDeps {
  /** @default checkTarget */
  readonly check?: CanaryCheck;
  /** @default the system clock */
  readonly now?: () => Date;
  /** @default performance.now */
  readonly elapsed?: () => number;
}

/** The one line a wrong verdict pages with. */
export function detectorBroken(fixture: string, judged: string, expected: string): string {
  return `the detector is broken: ${fixture} was judged ${judged}, expected ${expected}`;
}

function describeVerdict(
  status: string,
  finding: FindingCode | null,
  findings: readonly FindingCode[],
): string {
  if (finding === null) return findings.length === 0 ? status : `${status} (${findings.join(', ')})`;
  return findings.includes(finding)
    ? `${status} (${finding})`
    : `${status} (${findings.join(', ') || 'no findings'})`;
}

/** Judges one fixture's results against its expectation. */
export function judgeFixture(fixture: CanaryFixtureName, results: readonly CheckResult[]): CanaryVerdict {
  const expected = CANARY_FIXTURES[fixture];
  const result = results[0];
  const status: Status = result?.status ?? 'error';
  const findings = [...new Set(result?.findings.map((f) => f.code) ?? [])];
  const ok =
    results.length === 1 &&
    status === expected.status &&
    (expected.finding === null ? findings.length === 0 : findings.includes(expected.finding));
  const judged = describeVerdict(status, expected.finding, findings);
  const expectedVerdict =
    expected.finding === null
      ? `${expected.status} (no findings)`
      : `${expected.status} (${expected.finding})`;
  return {
    fixture,
    expected: { status: expected.status, finding: expected.finding },
    status,
    findings,
    judged,
    expectedVerdict,
    ok,
    failure: ok ? null : detectorBroken(fixture, judged, expectedVerdict),
  };
}

function servedChains(pki: CanaryPki) {
  return {
    [`expired.${CANARY_DOMAIN}`]: [pki.expired, pki.root],
    [`hostname-mismatch.${CANARY_DOMAIN}`]: [pki.otherName, pki.root],
    [`self-signed.${CANARY_DOMAIN}`]: [pki.selfSigned],
    [`good.${CANARY_DOMAIN}`]: [pki.good, pki.root],
  };
}

function portOf(servers: CanaryServers, fixture: CanaryFixture): number {
  if (fixture.server === 'malformed') return servers.malformedPort;
  return fixture.server === 'silent' ? servers.silentPort : servers.tlsPort;
}

/**
 * Runs every fixture at once through `check` (the real `checkTarget` by default) against a canary-only
 * trust store, and judges each. Resolves once every server and connection is closed; never rejects.
 */
export async function runCanary(deps: CanaryDeps = {}): Promise<CanaryReport> {
  const check = deps.check ?? checkTarget;
  const now = deps.now ?? (() => new Date());
  const elapsed = deps.elapsed ?? (() => performance.now());
  const started = elapsed();
  let servers: CanaryServers | null = null;
  try {
    const pki = canaryPki(now().getTime());
    servers = await startCanaryServers(pki, servedChains(pki));
    const trust = trustStoreFromDer([pki.root.der]);
    const live = servers;
    const verdicts = await Promise.all(
      CANARY_FIXTURE_NAMES.map(async (name) => {
        const fixture: CanaryFixture = CANARY_FIXTURES[name];
        const host = `${name}.${CANARY_DOMAIN}`;
        const port = portOf(live, fixture);
        const results = await check(
          { host, port, id: `${host}:${port}` },
          {
            timeoutMs: fixture.server === 'silent' ? CANARY_SILENT_TIMEOUT_MS : CANARY_TIMEOUT_MS,
            address: '127.0.0.1',
            thresholds: { warnDays: 30, criticalDays: 7 },
            firstAddressOnly: true,
            trust,
            now,
            fetchCaIssuers: null,
            fetchRevocation: null,
            revocation: 'off',
          },
        );
        return judgeFixture(name, results);
      }),
    );
    return {
      verdicts,
      failures: verdicts.flatMap((v) => (v.failure === null ? [] : [v.failure])),
      durationMs: Math.round(elapsed() - started),
    };
  } catch (error) {
    return {
      verdicts: [],
      failures: [
        `the detector is broken: the canary could not run: ${error instanceof Error ? error.message : String(error)}`,
      ],
      durationMs: Math.round(elapsed() - started),
    };
  } finally {
    await servers?.close();
  }
}
