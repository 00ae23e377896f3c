import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadTrustStore, TrustStores, UnknownTrustProfileError } from '../../lambdas/cert/trust-store';
import {
  type Alert,
  type CheckResult,
  type DeliveryResult,
  type Endpoint,
  addressKey,
} from '../../lambdas/core/model';
import type { CheckMessage } from '../../lambdas/pipeline/check-message';
import { CompletionBatch } from '../../lambdas/pipeline/completion-batch';
import { type AlertSink, type ProcessCheckDeps, processCheck } from '../../lambdas/pipeline/process-check';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import type { StateStore } from '../../lambdas/store/state-store';

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
    channelsFor: () => ['hook'],
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

  /** Deps over the shared store with a recording sink, on a clock the test may move. */
  function makeDeps(
    check: NonNullable<ProcessCheckDeps['check']>,
    clock = { t: NOW },
    extra: Partial<ProcessCheckDeps> = {},
  ) {
    const sink = recordingSink();
    const deps = {
      store: embedded.store,
      sink,
      trustFor: () => trust,
      now: () => new Date(clock.t),
      check,
      ...extra,
    };
    return { sink, deps };
  }

  it('judges each endpoint against its own trust profile, as stored in the inventory', async () => {
    // Prepare: the stored endpoint names a profile; the message carries only the endpoint id
    const withTrust = `private${n}.example:443`;
    await embedded.store.syncInventory([{ ...endpoint(withTrust), trust: 'feedc0de00000001' }]);
    const asked: (string | undefined)[] = [];
    const { deps } = makeDeps(
      async () => result(withTrust),
      { t: NOW },
      {
        trustFor: (e) => {
          asked.push(e.trust);
          return trust;
        },
      },
    );
    await embedded.store.createRun({ runId: 'rt', startedAt: new Date(NOW).toISOString(), expected: 1 });
    const dnsFailure: CheckMessage = {
      v: 1,
      runId: 'rt',
      endpointId: withTrust,
      address: null,
      dnsError: 'no such host',
      dispatchedAt: new Date(NOW).toISOString(),
    };
    // Act
    await processCheck(deps, dnsFailure);
    // Assess
    expect(asked).toEqual(['feedc0de00000001']);
  });

  it('fails the message, to be retried, when the endpoint names a trust profile this process lacks', async () => {
    // Prepare
    const stores = new TrustStores([]);
    await embedded.store.syncInventory([{ ...endpoint(id), trust: 'feedc0de00000002' }]);
    const { deps } = makeDeps(async () => result(id), { t: NOW }, { trustFor: (e) => stores.forEndpoint(e) });
    await embedded.store.createRun({ runId: 'ru', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const act = processCheck(deps, { ...message('ru'), address: null, dnsError: 'no such host' });
    // Assess: nothing judged against the wrong anchors, nothing stored
    await expect(act).rejects.toThrow(UnknownTrustProfileError);
    expect(await embedded.store.getAddressState(`${id}|dns`)).toBeNull();
  });

  it('sends nothing again when the same check is delivered twice', async () => {
    // Prepare
    const { sink, deps } = makeDeps(async () => result(id));
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
    const { sink, deps } = makeDeps(async () => result(id));
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

  it('reads the state eventually consistently first, and a stale read costs a retry, not a second alert', async () => {
    // Prepare: a first delivery saved; the second delivery's first read is served from before that save
    const { sink, deps } = makeDeps(async () => result(id));
    await embedded.store.createRun({ runId: 'r-stale', startedAt: new Date(NOW).toISOString(), expected: 1 });
    const first = await processCheck(deps, message('r-stale'));
    const reads: string[] = [];
    const staleStore = new Proxy(embedded.store, {
      get(target, prop) {
        if (prop === 'getAddressState') {
          return async (key: string, opts?: { eventual?: boolean }) => {
            reads.push(opts?.eventual ? 'eventual' : 'strong');
            return opts?.eventual ? null : target.getAddressState(key, opts);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // Act
    const second = await processCheck({ ...deps, store: staleStore }, message('r-stale'));
    // Assess: the conditional save lost, the strong re-read found the duplicate
    expect(first.status).toBe('checked');
    expect(second.status).toBe('duplicate');
    expect(reads).toEqual(['eventual', 'strong']);
    expect(sink.sent).toHaveLength(1);
    expect((await embedded.store.getRun('r-stale'))?.completed).toBe(1);
  });

  it('loses no update when checks of two runs race on one address', async () => {
    // Prepare: two failures in a row must count as two
    const failing = result(id, {
      status: 'error',
      daysLeft: null,
      notAfter: null,
      chain: [],
      findings: [{ code: 'CONNECTION_REFUSED', severity: 'critical', message: 'connection refused' }],
    });
    let checks = 0;
    const { sink, deps } = makeDeps(async () => ({
      ...failing,
      checkedAt: new Date(NOW + ++checks * 1000).toISOString(),
    }));
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
    const clock = { t: NOW };
    const { sink, deps } = makeDeps(async () => result(id), clock, { outboxLeaseMs: 60_000 });
    sink.failNext = 1;
    await embedded.store.createRun({ runId: 'r4', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const first = await processCheck(deps, message('r4'));
    const tooSoon = await processCheck(deps, message('r4'));
    clock.t += 61_000;
    const retried = await processCheck(deps, message('r4'));
    const again = await processCheck(deps, message('r4'));
    // Assess
    expect(first.deliveries.map((d) => d.ok)).toEqual([false]);
    expect(tooSoon.deliveries).toEqual([]);
    expect(tooSoon.pending).toBe(1);
    expect(retried.deliveries.map((d) => d.ok)).toEqual([true]);
    expect(again.deliveries).toEqual([]);
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]?.id).toBe(first.alerts[0]?.id);
    const stored = await embedded.store.getAddressState(addressKey(id, '192.0.2.10'));
    expect(stored?.state.outbox ?? null).toBeNull();
  });

  describe('delivery records', () => {
    /** A sink with two channels: `fail` names a channel that refuses, `slow` holds every send until released. */
    function twoChannelSink() {
      const sent: string[] = [];
      const sink = {
        sent,
        fail: new Set<string>(),
        unknown: new Set<string>(),
        gate: null as Promise<void> | null,
        channelsFor: (_alert: Alert, only: readonly string[] | null) =>
          ['hook', 'chat'].filter((c) => only === null || only.includes(c)),
        async deliver(alert: Alert, channels: readonly string[] | null): Promise<DeliveryResult[]> {
          await sink.gate;
          return (channels ?? ['hook', 'chat']).map((channel) => {
            if (sink.unknown.has(channel)) {
              sent.push(`${alert.id} ${channel}`);
              return {
                channel,
                alertId: alert.id,
                ok: false,
                attempts: 2,
                error: 'timed out',
                unknownAttempts: 2,
                maybeDelivered: true,
              };
            }
            if (sink.fail.has(channel)) {
              return { channel, alertId: alert.id, ok: false, attempts: 4, error: 'HTTP 500' };
            }
            sent.push(`${alert.id} ${channel}`);
            return { channel, alertId: alert.id, ok: true, attempts: 1, error: null };
          });
        },
      };
      return sink;
    }

    it('retries only the channel that failed, never the one that accepted', async () => {
      // Prepare
      const clock = { t: NOW };
      const sink = twoChannelSink();
      sink.fail.add('chat');
      const deps = {
        store: embedded.store,
        sink,
        trustFor: () => trust,
        now: () => new Date(clock.t),
        check: async () => result(id),
      };
      await embedded.store.createRun({ runId: 'd1', startedAt: new Date(NOW).toISOString(), expected: 1 });
      // Act
      const first = await processCheck(deps, message('d1'));
      sink.fail.clear();
      clock.t += 121_000;
      const retried = await processCheck(deps, message('d1'));
      // Assess
      const alertId = first.alerts[0]?.id ?? '';
      expect(first.deliveries.map((d) => [d.channel, d.ok])).toEqual([
        ['hook', true],
        ['chat', false],
      ]);
      expect(first.owed).toEqual([alertId]);
      expect(retried.deliveries.map((d) => [d.channel, d.ok])).toEqual([['chat', true]]);
      expect(sink.sent).toEqual([`${alertId} hook`, `${alertId} chat`]);
      expect(
        (await embedded.store.listDeliveries(alertId)).map((d) => [d.record.channel, d.record.status]),
      ).toEqual([
        ['chat', 'delivered'],
        ['hook', 'delivered'],
      ]);
      expect(
        (await embedded.store.getAddressState(addressKey(id, '192.0.2.10')))?.state.outbox ?? null,
      ).toBeNull();
    });

    it('leaves a delivery claimed by a vanished sender alone for its lease, then takes it over once', async () => {
      // Prepare: the first run decided the alert, claimed the delivery to 'hook' and died mid-send.
      const clock = { t: NOW };
      const sink = twoChannelSink();
      const deps = {
        store: embedded.store,
        sink,
        trustFor: () => trust,
        now: () => new Date(clock.t),
        check: async () => result(id),
      };
      await embedded.store.createRun({ runId: 'd2', startedAt: new Date(NOW).toISOString(), expected: 1 });
      // The dead sender's sink never returns: it claimed, and is gone.
      const deadSink = { ...sink, deliver: () => new Promise<DeliveryResult[]>(() => undefined) };
      void processCheck({ ...deps, sink: deadSink, holder: 'dead' }, message('d2'));
      const key = addressKey(id, '192.0.2.10');
      let alertId = '';
      for (let i = 0; i < 200 && alertId === ''; i++) {
        const entry = (await embedded.store.getAddressState(key))?.state.outbox?.entries[0];
        const claims = entry ? await embedded.store.listDeliveries(entry.alert.id) : [];
        if (claims.length === 2) alertId = entry?.alert.id ?? '';
        else await new Promise((r) => setTimeout(r, 10));
      }
      // Act: a redelivery inside the lease, then one after it
      const inLease = await processCheck(deps, message('d2'));
      clock.t += 120_000;
      const after = await processCheck(deps, message('d2'));
      const again = await processCheck(deps, message('d2'));
      // Assess
      expect(alertId).not.toBe('');
      expect(inLease.deliveries).toEqual([]);
      expect(inLease.pending).toBe(2);
      expect(after.deliveries.map((d) => [d.channel, d.ok])).toEqual([
        ['hook', true],
        ['chat', true],
      ]);
      expect(again.deliveries).toEqual([]);
      expect(sink.sent).toEqual([`${alertId} hook`, `${alertId} chat`]);
      expect((await embedded.store.getDelivery(alertId, 'hook'))?.record).toMatchObject({
        status: 'delivered',
        sends: 2,
        unknownOutcomes: 1,
      });
    });

    it('never sends a maybe-delivered alert again, and says so', async () => {
      // Prepare
      const clock = { t: NOW };
      const sink = twoChannelSink();
      sink.unknown.add('hook');
      const deps = {
        store: embedded.store,
        sink,
        trustFor: () => trust,
        now: () => new Date(clock.t),
        check: async () => result(id),
      };
      await embedded.store.createRun({ runId: 'd3', startedAt: new Date(NOW).toISOString(), expected: 1 });
      // Act
      const first = await processCheck(deps, message('d3'));
      sink.unknown.clear();
      clock.t += 10 * 120_000;
      const later = await processCheck(deps, message('d3'));
      // Assess
      expect(first.deliveries[0]).toMatchObject({
        channel: 'hook',
        ok: false,
        maybeDelivered: true,
        error: 'timed out (maybe delivered; not sent again)',
      });
      expect(first.owed).toEqual([]);
      expect(later.deliveries).toEqual([]);
      expect(sink.sent.filter((s) => s.endsWith(' hook'))).toHaveLength(1);
      expect(
        (await embedded.store.getAddressState(addressKey(id, '192.0.2.10')))?.state.outbox ?? null,
      ).toBeNull();
    });

    it('sends each alert once when a second run copies an outbox the first run is still sending', async () => {
      // Prepare: run e1 decides an error alert and is slow to send it; run e2 decides nothing new
      // but its state write carries e1's outbox.
      const refused = result(id, {
        status: 'error',
        daysLeft: null,
        notAfter: null,
        chain: [],
        findings: [{ code: 'CONNECTION_REFUSED', severity: 'critical', message: 'connection refused' }],
      });
      const clock = { t: NOW };
      const sink = twoChannelSink();
      let release!: () => void;
      sink.gate = new Promise((r) => {
        release = r;
      });
      let checks = 0;
      const deps = {
        store: embedded.store,
        sink,
        trustFor: () => trust,
        now: () => new Date(clock.t),
        check: async () => ({ ...refused, checkedAt: new Date(NOW + ++checks * 1000).toISOString() }),
      };
      for (const runId of ['e0', 'e1', 'e2']) {
        await embedded.store.createRun({ runId, startedAt: new Date(NOW).toISOString(), expected: 1 });
      }
      await processCheck({ ...deps, sink: { ...sink, deliver: async () => [] } }, message('e0'));
      // Act
      const first = processCheck(deps, message('e1'));
      const key = addressKey(id, '192.0.2.10');
      // Until e1 has written its state and claimed both deliveries (it then waits on the gate).
      const claimedByE1 = async () => {
        const stored = await embedded.store.getAddressState(key);
        const entry = stored?.state.lastRunId === 'e1' ? stored.state.outbox?.entries[0] : undefined;
        return entry !== undefined && (await embedded.store.listDeliveries(entry.alert.id)).length === 2;
      };
      for (let i = 0; i < 500 && !(await claimedByE1()); i++) await new Promise((r) => setTimeout(r, 10));
      // e2 finishes while e1 still holds both deliveries: it must not need the sink at all.
      const second = await processCheck(deps, message('e2'));
      release();
      const firstOutcome = await first;
      // Assess
      expect(firstOutcome.alerts.map((a) => a.kind)).toEqual(['error']);
      expect(second.status).toBe('checked');
      expect(second.alerts).toEqual([]);
      expect(second.deliveries).toEqual([]);
      expect(second.pending).toBe(2);
      const alertId = firstOutcome.alerts[0]?.id ?? '';
      expect(sink.sent.sort()).toEqual([`${alertId} chat`, `${alertId} hook`]);
      expect((await embedded.store.getAddressState(key))?.state.outbox ?? null).toBeNull();
    });
  });

  it('quiets divergent certificates under a silence, and alerts them once the silence is over', async () => {
    // Prepare: two addresses serving different certificates; the first run is silenced
    const fingerprintOf: Record<string, string> = {
      '192.0.2.10': 'AA'.repeat(32),
      '192.0.2.11': 'BB'.repeat(32),
    };
    const { sink, deps } = makeDeps(async (_e, address) => {
      const base = result(id, { address });
      const leaf = {
        ...(base.chain[0] as CheckResult['chain'][number]),
        fingerprintSha256: fingerprintOf[address] ?? '',
      };
      return { ...base, chain: [leaf] };
    });
    const silence = {
      kind: 'silence' as const,
      id: 's1',
      name: 'known split',
      until: new Date(NOW + DAY).toISOString(),
    };
    for (const runId of ['silenced-1', 'after-1']) {
      await embedded.store.createRun({ runId, startedAt: new Date(NOW).toISOString(), expected: 2 });
    }
    // Act
    const silenced = [];
    for (const address of ['192.0.2.10', '192.0.2.11']) {
      silenced.push(await processCheck(deps, { ...message('silenced-1'), address, suppressors: [silence] }));
    }
    const quietKinds = sink.sent.map((a) => a.kind);
    const after = [];
    for (const address of ['192.0.2.10', '192.0.2.11'])
      after.push(await processCheck(deps, { ...message('after-1'), address }));
    // Assess
    expect(quietKinds).not.toContain('divergent');
    expect(silenced.flatMap((o) => o.quieted ?? []).map((q) => `${q.kind}/${q.by.id}`)).toContain(
      'divergent/s1',
    );
    expect(after.flatMap((o) => o.alerts).map((a) => a.kind)).toContain('divergent');
  });

  it('counts a check of an endpoint removed after dispatch without failing', async () => {
    // Prepare
    const { sink, deps } = makeDeps(async () => result(id));
    await embedded.store.createRun({ runId: 'r5', startedAt: new Date(NOW).toISOString(), expected: 1 });
    // Act
    const outcome = await processCheck(deps, { ...message('r5'), endpointId: 'gone.example:443' });
    // Assess
    expect(outcome.status).toBe('unknown-endpoint');
    expect((await embedded.store.getRun('r5'))?.completed).toBe(1);
    expect(sink.sent).toEqual([]);
  });

  describe('retiring states the host no longer resolves to', () => {
    const ok = (address: string, at: number): CheckResult =>
      result(id, {
        address,
        status: 'ok',
        daysLeft: 80,
        findings: [],
        checkedAt: new Date(at).toISOString(),
      });
    const dnsMessage = (runId: string): CheckMessage => ({
      ...message(runId),
      address: null,
      dnsError: 'DNS lookup failed: no such host (ENOTFOUND)',
    });
    const at = (runId: string, address: string | null): CheckMessage => ({ ...message(runId), address });

    async function runs(...ids: string[]): Promise<void> {
      for (const runId of ids) {
        await embedded.store.createRun({ runId, startedAt: new Date(NOW).toISOString(), expected: 1 });
      }
    }

    /** Deps on a clock the test moves; every address is healthy unless `check` says otherwise. */
    function depsAt(clock: { t: number }, extra: Partial<ProcessCheckDeps> = {}) {
      return makeDeps(async (_: Endpoint, address: string) => ok(address, clock.t), clock, extra);
    }

    /** Addresses with a stored state, null (the DNS-failure state) last. */
    const storedAddresses = async () =>
      (await embedded.store.listAddressStates(id))
        .map((s) => s.state.address)
        .sort((x, y) => (x === null ? 1 : y === null ? -1 : x.localeCompare(y)));

    it('closes an alerted DNS outage when the host resolves again, and deletes its state', async () => {
      // Prepare: two failed lookups alert; then the host resolves.
      const clock = { t: NOW };
      const { sink, deps } = depsAt(clock);
      await runs('r6a', 'r6b', 'r6c');
      await processCheck(deps, dnsMessage('r6a'));
      clock.t += 6 * 3_600_000;
      await processCheck(deps, dnsMessage('r6b'));

      // Act
      clock.t += 6 * 3_600_000;
      const outcome = await processCheck(deps, at('r6c', '192.0.2.10'));

      // Assess
      expect(sink.sent.map((a) => [a.kind, a.address, a.summary])).toEqual([
        ['error', null, expect.stringContaining('unreachable for 2 consecutive checks')],
        ['resolved', null, 'resolves again after 2 failed DNS lookups'],
      ]);
      expect(outcome.alerts.map((a) => a.kind)).toEqual(['resolved']);
      const keys = (await embedded.store.listAddressStates(id)).map((s) => s.state.key);
      expect(keys).toEqual([addressKey(id, '192.0.2.10')]);
    });

    it('deletes the state of a short DNS blip without a word', async () => {
      // Prepare
      const { sink, deps } = depsAt({ t: NOW });
      await runs('r7a', 'r7b');
      await processCheck(deps, dnsMessage('r7a'));

      // Act
      await processCheck(deps, at('r7b', '192.0.2.10'));

      // Assess
      expect(sink.sent).toEqual([]);
      expect(await storedAddresses()).toEqual(['192.0.2.10']);
    });

    it('keeps the DNS-failure state when an older run delivers an address check late', async () => {
      // Prepare: run r8b failed DNS; a check of the older run r8a arrives after it.
      const { deps } = depsAt({ t: NOW });
      await runs('r8a', 'r8b');
      await processCheck(deps, dnsMessage('r8b'));

      // Act
      await processCheck(deps, at('r8a', '192.0.2.10'));

      // Assess
      expect(await storedAddresses()).toEqual(['192.0.2.10', null]);
    });

    it('retires an address three days after it left DNS, closing its open alerts', async () => {
      // Prepare: .11 fails twice (alerted), then only .10 resolves.
      const clock = { t: NOW };
      const refused = (address: string): CheckResult =>
        result(id, {
          address,
          status: 'error',
          daysLeft: null,
          notAfter: null,
          chain: [],
          findings: [{ code: 'CONNECTION_REFUSED', severity: 'critical', message: 'connection refused' }],
          checkedAt: new Date(clock.t).toISOString(),
        });
      const { sink, deps } = depsAt(clock, {
        check: async (_: Endpoint, address: string) =>
          address.endsWith('.11') ? refused(address) : ok(address, clock.t),
      });
      await runs('r9a', 'r9b', 'r9c', 'r9d');
      for (const runId of ['r9a', 'r9b']) {
        await processCheck(deps, at(runId, '192.0.2.10'));
        await processCheck(deps, at(runId, '192.0.2.11'));
        clock.t += 6 * 3_600_000;
      }

      // Act: the next day .11 is still kept; three days after its last check it is retired.
      clock.t += DAY - 12 * 3_600_000;
      await processCheck(deps, at('r9c', '192.0.2.10'));
      const keptAfterOneDay = (await embedded.store.listAddressStates(id)).length;
      clock.t =
        Date.parse(
          (await embedded.store.getAddressState(addressKey(id, '192.0.2.11')))!.state.lastCheckedAt,
        ) +
        3 * DAY;
      const outcome = await processCheck(deps, at('r9d', '192.0.2.10'));

      // Assess
      expect(keptAfterOneDay).toBe(2);
      expect(outcome.alerts.map((a) => [a.kind, a.address, a.summary])).toEqual([
        ['resolved', '192.0.2.11', '192.0.2.11 left DNS: no longer checked'],
      ]);
      expect(sink.sent.filter((a) => a.address === '192.0.2.11').map((a) => a.kind)).toEqual([
        'error',
        'resolved',
      ]);
      expect(await storedAddresses()).toEqual(['192.0.2.10']);
    });

    it('retires a state once when two checkers of the host race', async () => {
      // Prepare
      const clock = { t: NOW };
      const { sink, deps } = depsAt(clock);
      await runs('r10a', 'r10b', 'r10c');
      await processCheck(deps, dnsMessage('r10a'));
      await processCheck(deps, dnsMessage('r10b'));
      clock.t += 3_600_000;

      // Act
      await Promise.all([
        processCheck(deps, at('r10c', '192.0.2.10')),
        processCheck(deps, at('r10c', '192.0.2.11')),
      ]);

      // Assess
      expect(sink.sent.map((a) => a.kind)).toEqual(['error', 'resolved']);
      expect(await storedAddresses()).toEqual(['192.0.2.10', '192.0.2.11']);
    });

    it('finishes a retirement whose closing alert could not be delivered yet', async () => {
      // Prepare
      const clock = { t: NOW };
      const { sink, deps } = depsAt(clock, { outboxLeaseMs: 60_000 });
      await runs('r11a', 'r11b', 'r11c', 'r11d');
      await processCheck(deps, dnsMessage('r11a'));
      await processCheck(deps, dnsMessage('r11b'));
      sink.failNext = 1;

      // Act
      clock.t += 3_600_000;
      const failed = await processCheck(deps, at('r11c', '192.0.2.10'));
      const pending = (await embedded.store.listAddressStates(id)).length;
      clock.t += 6 * 3_600_000;
      const retried = await processCheck(deps, at('r11d', '192.0.2.10'));

      // Assess
      expect(failed.deliveries.map((d) => d.ok)).toEqual([false]);
      expect(pending).toBe(2);
      expect(retried.deliveries.map((d) => d.ok)).toEqual([true]);
      expect(sink.sent.map((a) => a.kind)).toEqual(['error', 'resolved']);
      expect(await storedAddresses()).toEqual(['192.0.2.10']);
    });
  });

  describe('writes on the steady path', () => {
    const WRITES = new Set([
      'saveAddressState',
      'appendHistory',
      'recordCheckCompleted',
      'deleteAddressState',
    ]);
    /** The store, with every write method call recorded by name. */
    function counting(store: StateStore): { store: StateStore; writes: string[] } {
      const writes: string[] = [];
      const proxy = new Proxy(store, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (WRITES.has(String(prop))) writes.push(String(prop));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      return { store: proxy, writes };
    }
    const okResult = (at: number, overrides: Partial<CheckResult> = {}): CheckResult => {
      const notAfter = new Date(NOW + 60 * DAY).toISOString();
      const base = result(id, { checkedAt: new Date(at).toISOString() });
      return {
        ...base,
        status: 'ok',
        daysLeft: Math.floor((NOW + 60 * DAY - at) / DAY),
        notAfter,
        findings: [],
        chain: base.chain.map((c) => ({ ...c, notAfter })),
        ...overrides,
      };
    };
    async function checkAt(runId: string, at: number, res: CheckResult) {
      const counted = counting(embedded.store);
      const { deps } = makeDeps(async () => res, { t: at }, { store: counted.store });
      await embedded.store.createRun({ runId, startedAt: new Date(at).toISOString(), expected: 1 });
      const outcome = await processCheck(deps, {
        ...message(runId),
        dispatchedAt: new Date(at).toISOString(),
      });
      return { outcome, writes: counted.writes };
    }

    it.each([
      { name: 'nothing changed but the check time', hours: 6, change: {}, history: 1 },
      { name: 'the status changed', hours: 6, change: { status: 'warning' as const }, history: 2 },
      {
        name: 'a finding appeared',
        hours: 6,
        change: { findings: [{ code: 'WEAK_KEY' as const, severity: 'warning' as const, message: 'weak' }] },
        history: 2,
      },
      {
        name: 'the certificate was replaced',
        hours: 6,
        change: { notAfter: new Date(NOW + 90 * DAY).toISOString() },
        history: 2,
      },
      { name: 'a week passed without a change', hours: 7 * 24, change: {}, history: 2 },
    ])('appends history only when $name calls for it', async ({ hours, change, history }) => {
      // Prepare: a first check (always recorded)
      await checkAt(`20261122T120000000Z-${n}a`, NOW, okResult(NOW));
      const later = NOW + hours * 3_600_000;

      // Act
      const second = await checkAt(`20261122T120000000Z-${n}b`, later, okResult(later, change));

      // Assess
      expect(second.outcome.status).toBe('checked');
      expect(await embedded.store.listHistory(addressKey(id, '192.0.2.10'), 10)).toHaveLength(history);
      if (history === 1) expect(second.writes).toEqual(['saveAddressState', 'recordCheckCompleted']);
    });

    it('counts a check delivered twice once, on the shard of its address', async () => {
      // Prepare
      const key = addressKey(id, '192.0.2.10');
      const { deps } = makeDeps(async () => okResult(NOW));
      await embedded.store.createRun({
        runId: 'rs1',
        startedAt: new Date(NOW).toISOString(),
        expected: 1,
        addressKeys: [key],
      });

      // Act: SQS redelivers the message
      await processCheck(deps, message('rs1'));
      await processCheck(deps, message('rs1'));
      const progress = await embedded.store.getRunProgress('rs1');

      // Assess
      expect(progress?.shards.filter((s) => s.completed > 0)).toEqual([
        { shard: embedded.store.shardOfKey(key), expected: 1, completed: 1 },
      ]);
      expect(progress).toMatchObject({ failed: 0, soonestDaysLeft: 60 });
      expect((await embedded.store.getRun('rs1'))?.completed).toBe(1);
    });
  });
});

describe('CompletionBatch', () => {
  let embedded: EmbeddedStateStore;
  beforeAll(async () => {
    embedded = await openEmbeddedStateStore({});
  });
  afterAll(async () => {
    await embedded.close();
  });

  it('writes the completions of a batch once per run, and nothing when empty', async () => {
    // Prepare
    const keys = Array.from({ length: 10 }, (_, i) => `batch${i}.example:443|192.0.2.1`);
    await embedded.store.createRun({
      runId: 'cb1',
      startedAt: new Date(NOW).toISOString(),
      expected: 8,
      addressKeys: keys.slice(0, 8),
    });
    await embedded.store.createRun({
      runId: 'cb2',
      startedAt: new Date(NOW).toISOString(),
      expected: 2,
      addressKeys: keys.slice(8),
    });
    const calls: Array<[string, number]> = [];
    const store = new Proxy(embedded.store, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== 'recordCheckCompletions' || typeof value !== 'function') return value;
        return (runId: string, list: readonly unknown[]) => {
          calls.push([runId, list.length]);
          return (value as (...a: unknown[]) => unknown).call(target, runId, list);
        };
      },
    });
    const batch = new CompletionBatch(store);

    // Act
    await Promise.all(
      keys.map((key, i) => batch.add(i < 8 ? 'cb1' : 'cb2', { key, daysLeft: 20, failed: false })),
    );
    const queued = batch.size;
    await batch.flush();
    await batch.flush();

    // Assess
    expect(queued).toBe(10);
    expect(calls).toEqual([
      ['cb1', 8],
      ['cb2', 2],
    ]);
    expect((await embedded.store.getRun('cb1'))?.completed).toBe(8);
    expect((await embedded.store.getRun('cb2'))?.completed).toBe(2);
  });
});
