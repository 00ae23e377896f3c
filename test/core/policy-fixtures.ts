/**
 * Builders for the alert-policy and divergence tables: endpoints, check
 * results as the certificate analysis would produce them, and a runner that
 * threads state through successive checks with an injected clock.
 */
import { evaluateCheck } from '../../lambdas/core/alert-policy';
import type {
  AddressState,
  Alert,
  CheckResult,
  Endpoint,
  Finding,
  FindingCode,
  Severity,
  Status,
  SuppressionRef,
} from '../../lambdas/core/model';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** The fixed origin of every test clock. */
export const T0 = new Date('2026-03-01T00:00:00.000Z');

export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

export function days(n: number): number {
  return n * DAY_MS;
}

export function hours(n: number): number {
  return n * HOUR_MS;
}

export const FP_A = `AAAA${'0'.repeat(60)}`;
export const FP_B = `BBBB${'1'.repeat(60)}`;
export const FP_C = `CCCC${'2'.repeat(60)}`;

export function makeEndpoint(
  overrides: Partial<Omit<Endpoint, 'policy'>> & { policy?: Partial<Endpoint['policy']> } = {},
): Endpoint {
  const { policy, ...rest } = overrides;
  return {
    id: 'example.com:443',
    host: 'example.com',
    port: 443,
    name: 'Example site',
    owner: 'web-team',
    tags: ['prod'],
    channels: ['slack-ops'],
    timeoutMs: 10_000,
    ...rest,
    policy: {
      thresholdsDays: [30, 14, 7, 3, 1],
      expiry: { warnDays: 30, criticalDays: 7 },
      failuresBeforeAlert: 2,
      renotifyIntervalMs: DAY_MS,
      ...policy,
    },
  };
}

export function finding(
  code: FindingCode,
  severity: Severity = 'critical',
  message = `${code} message`,
): Finding {
  return { code, severity, message };
}

/** The status the analysis gives a certificate with these days left and findings. */
function statusOf(daysLeft: number, findings: readonly Finding[], endpoint: Endpoint): Status {
  if (daysLeft < 0) return 'expired';
  if (daysLeft <= endpoint.policy.expiry.criticalDays || findings.some((f) => f.severity === 'critical')) {
    return 'critical';
  }
  if (daysLeft <= endpoint.policy.expiry.warnDays || findings.some((f) => f.severity === 'warning')) {
    return 'warning';
  }
  return 'ok';
}

export interface CertCheck {
  /** When the check ran. */
  readonly now: Date;
  /** Leaf expiry. */
  readonly notAfter: Date;
  readonly fingerprint?: string;
  readonly address?: string | null;
  readonly findings?: readonly Finding[];
  readonly endpoint?: Endpoint;
  /** Force a status (otherwise derived like the analysis does). */
  readonly status?: Status;
}

/** A check that obtained a certificate. */
export function certResult(check: CertCheck): CheckResult {
  const endpoint = check.endpoint ?? makeEndpoint();
  const daysLeft = Math.floor((check.notAfter.getTime() - check.now.getTime()) / DAY_MS);
  const findings = check.findings ?? [];
  return {
    target: endpoint.id,
    host: endpoint.host,
    port: endpoint.port,
    address: check.address === undefined ? '192.0.2.10' : check.address,
    servername: endpoint.host,
    status: check.status ?? statusOf(daysLeft, findings, endpoint),
    daysLeft,
    notAfter: check.notAfter.toISOString(),
    findings,
    chain: [
      {
        subject: `CN=${endpoint.host}`,
        issuer: 'CN=Test Issuing CA',
        notBefore: new Date(check.notAfter.getTime() - days(90)).toISOString(),
        notAfter: check.notAfter.toISOString(),
        serialNumber: '01',
        fingerprintSha256: check.fingerprint ?? FP_A,
        keyType: 'EC',
        keyBits: 256,
        signatureAlgorithm: 'ecdsa-with-SHA256',
        selfSigned: false,
      },
    ],
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    durationMs: 12,
    checkedAt: check.now.toISOString(),
  };
}

/** A check that obtained no certificate. */
export function failedResult(
  now: Date,
  code: FindingCode = 'CONNECTION_REFUSED',
  message = 'connect ECONNREFUSED 192.0.2.10:443',
  address: string | null = '192.0.2.10',
): CheckResult {
  return {
    target: 'example.com:443',
    host: 'example.com',
    port: 443,
    address,
    servername: 'example.com',
    status: 'error',
    daysLeft: null,
    notAfter: null,
    findings: [finding(code, 'critical', message)],
    chain: [],
    protocol: null,
    cipher: null,
    durationMs: 3,
    checkedAt: now.toISOString(),
  };
}

export interface Step {
  readonly result: CheckResult;
  /** Clock at evaluation; defaults to the result's checkedAt. */
  readonly now?: Date;
  readonly runId?: string;
  /** Maintenance windows and silences covering the endpoint at this step. */
  readonly suppressors?: readonly SuppressionRef[];
}

/** Applies each step in turn; returns the alerts of every step and the final state. */
export function runSteps(
  steps: readonly Step[],
  endpoint: Endpoint = makeEndpoint(),
  initial: AddressState | null = null,
): { alertsPerStep: Alert[][]; state: AddressState | null; states: AddressState[] } {
  let state = initial;
  const alertsPerStep: Alert[][] = [];
  const states: AddressState[] = [];
  steps.forEach((step, i) => {
    const now = step.now ?? new Date(step.result.checkedAt);
    const decision = evaluateCheck(state, step.result, {
      endpoint,
      runId: step.runId ?? `run-${i + 1}`,
      now,
      ...(step.suppressors ? { suppressors: step.suppressors } : {}),
    });
    alertsPerStep.push(decision.alerts);
    states.push(decision.next);
    state = decision.next;
  });
  return { alertsPerStep, state, states };
}

/** "kind/severity: summary" of each alert: compact and exact for tables. */
export function describeAlerts(alerts: readonly Alert[]): string[] {
  return alerts.map((a) => `${a.kind}/${a.severity}: ${a.summary}`);
}
