import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import {
  type Alert,
  type CheckResult,
  type DeliveryResult,
  type Endpoint,
  addressKey,
} from '../../lambdas/core/model';
import type { CheckMessage } from '../../lambdas/pipeline/check-message';
import { type AlertSink, processCheck } from '../../lambdas/pipeline/process-check';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-22T12:00:00Z');

function endpoint(id: string): Endpoint {
  const [host = '', port = '443'] = id.split(':');
  return {
    id,
    host,
    port: Number(port),
    name: id,
    owner: null,
    tags: [],
    channels: [],
    timeoutMs: 1000,
    policy: {
      thresholdsDays: [30, 14, 7, 3, 1],
      expiry: { warnDays: 30, criticalDays: 7 },
      failuresBeforeAlert: 2,
      renotifyIntervalMs: DAY,
    },
  };
}

function result(id: string, overrides: Partial<CheckResult> = {}): CheckResult {
  const notAfter = new Date(NOW + 3 * DAY + 3_600_000).toISOString();
  return {
    target: id,
    host: id.split(':')[0] ?? '',
    port: 443,
    address: '192.0.2.10',
    servername: id.split(':')[0] ?? '',
    status: 'critical',
    daysLeft: 3,
    notAfter,
    findings: [{ code: 'EXPIRES_SOON', severity: 'critical', message: 'expires in 3 days' }],
    chain: [
      {
        subject: 'CN=x',
        issuer: 'CN=Test CA',
        notBefore: new Date(NOW - 80 * DAY).toISOString(),
        notAfter,
        serialNumber: '01',
        fingerprintSha256: 'AA'.repeat(32),
        keyType: 'EC',
        keyBits: 256,
        signatureAlgorithm: 'ecdsa-with-SHA256',
        selfSigned: false,
      },
    ],
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    durationMs: 5,
    checkedAt: new Date(NOW).toISOString(),
    ...overrides,
  };
}

/** A sink that records deliveries and can be told to fail. */
function recordingSink(): AlertSink & { sent: Alert[]; failNext: number } {
  const sink = {
    sent: [] as Alert[],
    failNext: 0,
    async deliver(alert: Alert): Promise<DeliveryResult[]> {
      if (sink.failNext > 0) {
        sink.failNext--;
        return [{ channel: 'hook', alertId: alert.id, ok: false, attempts: 4, error: 'HTTP 503' }];
      }
      sink.sent.push(alert);
      return [{ channel: 'hook', alertId: alert.id, ok: true, attempts: 1, error: null }];
    },
  };
  return sink;
}

describe('processCheck', () => {
  let embedded: EmbeddedStateStore;
  const trust = loadTrustStore({ includeSystemRoots: false, extraCaPem: undefined });
  let n = 0;
  let id: string;

  beforeAll(async () => {
    embedded = await openEmbeddedStateStore({});
  });
  afterAll(async () => {
    await embedded.close();
  });
  beforeEach(async () => {
    id = `shop${++n}.example:443`;
    await embedded.store.syncInventory([endpoint(id)]);
  });

  const message = (runId: string): CheckMessage => ({
    v: 1,
    runId,
    endpointId: id,
    address: '192.0.2.10',
    dispatchedAt: new Date(NOW).toISOString(),
  });

  it('sends nothing again when the same check is delivered twice', async () => {
    // Prepare
    const sink = recordingSink();
    const deps = {
      store: embedded.store,
      sink,
      trust,
      now: () => new Date(NOW),
      check: async () => result(id),
    };
    await embedded.store.createRun({ runId: 'r1', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const first = await processCheck(deps, message('r1'));
    const second = await processCheck(deps, message('r1'));
    // Assess
    expect(first.status).toBe('checked');
    expect(second.status).toBe('duplicate');
    expect(sink.sent).toHaveLength(1);
    expect((await embedded.store.getRun('r1'))?.completed).toBe(1);
  });

  it('lets exactly one of two concurrent deliveries of the same check alert', async () => {
    // Prepare
    const sink = recordingSink();
    const deps = {
      store: embedded.store,
      sink,
      trust,
      now: () => new Date(NOW),
      check: async () => result(id),
    };
    await embedded.store.createRun({ runId: 'r2', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const outcomes = await Promise.all([
      processCheck(deps, message('r2')),
      processCheck(deps, message('r2')),
    ]);
    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual(['checked', 'duplicate']);
    expect(sink.sent).toHaveLength(1);
    expect((await embedded.store.getRun('r2'))?.completed).toBe(1);
  });

  it('loses no update when checks of two runs race on one address', async () => {
    // Prepare: two failures in a row must count as two
    const sink = recordingSink();
    const failing = result(id, {
      status: 'error',
      daysLeft: null,
      notAfter: null,
      chain: [],
      findings: [{ code: 'CONNECTION_REFUSED', severity: 'critical', message: 'connection refused' }],
    });
    let checks = 0;
    const deps = {
      store: embedded.store,
      sink,
      trust,
      now: () => new Date(NOW),
      check: async () => ({ ...failing, checkedAt: new Date(NOW + ++checks * 1000).toISOString() }),
    };
    for (const runId of ['r3a', 'r3b']) {
      await embedded.store.createRun({ runId, startedAt: new Date(NOW).toISOString(), expected: 1 });
    }
    // Act
    await Promise.all([processCheck(deps, message('r3a')), processCheck(deps, message('r3b'))]);
    // Assess
    const stored = await embedded.store.getAddressState(addressKey(id, '192.0.2.10'));
    expect(stored?.state.consecutiveFailures).toBe(2);
    expect(sink.sent.map((a) => a.kind)).toEqual(['error']);
    expect(await embedded.store.listHistory(addressKey(id, '192.0.2.10'), 10)).toHaveLength(2);
  });

  it('keeps an undelivered alert in the outbox and sends it on redelivery after the lease', async () => {
    // Prepare
    const sink = recordingSink();
    sink.failNext = 1;
    let t = NOW;
    const deps = {
      store: embedded.store,
      sink,
      trust,
      now: () => new Date(t),
      check: async () => result(id),
      outboxLeaseMs: 60_000,
    };
    await embedded.store.createRun({ runId: 'r4', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const first = await processCheck(deps, message('r4'));
    const tooSoon = await processCheck(deps, message('r4'));
    t += 61_000;
    const retried = await processCheck(deps, message('r4'));
    const again = await processCheck(deps, message('r4'));
    // Assess
    expect(first.deliveries.map((d) => d.ok)).toEqual([false]);
    expect(tooSoon.deliveries).toEqual([]);
    expect(retried.deliveries.map((d) => d.ok)).toEqual([true]);
    expect(again.deliveries).toEqual([]);
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]?.id).toBe(first.alerts[0]?.id);
    const stored = await embedded.store.getAddressState(addressKey(id, '192.0.2.10'));
    expect(stored?.state.outbox ?? null).toBeNull();
  });

  it('counts a check of an endpoint removed after dispatch without failing', async () => {
    // Prepare
    const sink = recordingSink();
    const deps = {
      store: embedded.store,
      sink,
      trust,
      now: () => new Date(NOW),
      check: async () => result(id),
    };
    await embedded.store.createRun({ runId: 'r5', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const outcome = await processCheck(deps, { ...message('r5'), endpointId: 'gone.example:443' });
    // Assess
    expect(outcome.status).toBe('unknown-endpoint');
    expect((await embedded.store.getRun('r5'))?.completed).toBe(1);
    expect(sink.sent).toEqual([]);
  });
});
