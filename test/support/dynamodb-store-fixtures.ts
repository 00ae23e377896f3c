/**
 * Store fixtures: a realistic Endpoint, AddressState and CheckResult with every
 * field set, for the store contract tests and for benches. No vitest imports,
 * so scripts can use them too.
 */
import { type AddressState, addressKey, type CheckResult, type Endpoint } from '../../lambdas/core/model';

const DAY_MS = 86_400_000;
/** A fixed instant fixtures are stamped with (tests inject it as their clock). */
export const FIXTURE_T0 = Date.parse('2030-03-01T10:00:00.000Z');

export function makeEndpoint(host: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id: `${host}:443`,
    host,
    port: 443,
    name: host,
    owner: null,
    tags: [],
    channels: [],
    policy: {
      thresholdsDays: [30, 14, 7, 3, 1],
      expiry: { warnDays: 30, criticalDays: 7 },
      failuresBeforeAlert: 2,
      renotifyIntervalMs: 86_400_000,
    },
    timeoutMs: 5_000,
    ...overrides,
  };
}

export function makeState(
  endpoint: Endpoint,
  address: string | null,
  overrides: Partial<AddressState> = {},
): AddressState {
  return {
    key: addressKey(endpoint.id, address),
    endpointId: endpoint.id,
    endpointName: endpoint.name,
    host: endpoint.host,
    port: endpoint.port,
    address,
    status: 'ok',
    daysLeft: 42,
    notAfter: '2030-04-12T10:00:00.000Z',
    fingerprint: 'AB'.repeat(32),
    issuer: 'CN=Test CA',
    findings: [],
    lastCheckedAt: new Date(FIXTURE_T0).toISOString(),
    lastSuccessAt: new Date(FIXTURE_T0).toISOString(),
    consecutiveFailures: 0,
    failingSince: null,
    alerting: {
      fingerprint: null,
      thresholdsSent: [],
      lastNotifiedAt: null,
      errorAlerted: false,
      openProblems: [],
      divergenceKey: null,
    },
    lastRunId: null,
    ...overrides,
  };
}

export function makeResult(endpoint: Endpoint, address: string | null, checkedAtMs: number): CheckResult {
  return {
    target: endpoint.id,
    host: endpoint.host,
    port: endpoint.port,
    address,
    servername: endpoint.host,
    status: 'warning',
    daysLeft: 12,
    notAfter: new Date(checkedAtMs + 12.5 * DAY_MS).toISOString(),
    findings: [{ code: 'EXPIRES_SOON', severity: 'warning', message: 'expires in 12 days', certIndex: 0 }],
    chain: [
      {
        subject: 'CN=leaf.example',
        issuer: 'CN=Test CA',
        notBefore: new Date(checkedAtMs - 30 * DAY_MS).toISOString(),
        notAfter: new Date(checkedAtMs + 12.5 * DAY_MS).toISOString(),
        serialNumber: '01',
        fingerprintSha256: 'CD'.repeat(32),
        keyType: 'EC',
        keyBits: 256,
        signatureAlgorithm: 'ecdsa-with-SHA256',
        selfSigned: false,
      },
    ],
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    durationMs: 12.375,
    checkedAt: new Date(checkedAtMs).toISOString(),
  };
}
