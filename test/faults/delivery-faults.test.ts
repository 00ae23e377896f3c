/**
 * Delivery under faults, with real parts: DynamoDB Local, the real pipeline and
 * notifiers, a webhook receiver on loopback that misbehaves on purpose
 * (`fault-receiver.ts`), the checker handler with a mocked SNS client, and a
 * real `certwatch run` child process killed by its own PID mid-outbox.
 *
 * Every scenario counts, per channel and alert, the requests that arrived and
 * the ones the receiver accepted, and asserts:
 * - zero lost: every decided alert is accepted on every channel, or reported
 *   "maybe delivered" (its request arrived and was never answered);
 * - zero duplicates where the outcome was known;
 * - at most one extra copy per unknown-outcome send.
 *
 * Timings are scaled down (attempts of 300 ms, receivers 120–400 ms late) and
 * the clock that judges leases and retry times is injected, so nothing depends
 * on the machine's speed; `test/notify/delivery-defaults.test.ts` proves the
 * production timings on a virtual clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore } from '../../lambdas/cert/trust-store';
import { localSink } from '../../lambdas/cli/local-runtime';
import { addressKey, type CheckResult, type DeliveryResult, type Endpoint } from '../../lambdas/core/model';
import type { PostJsonOptions } from '../../lambdas/notify/http-delivery';
import { createNotifier } from '../../lambdas/notify/notifiers';
import { parseSnsAlertEnvelope } from '../../lambdas/notify/parse-sns-envelope';
import type { CheckMessage } from '../../lambdas/pipeline/check-message';
import {
  type ProcessCheckDeps,
  type ProcessCheckOutcome,
  processCheck,
} from '../../lambdas/pipeline/process-check';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../../lambdas/store/dynamodb-state-store';
import { daysFromNow, makePki } from '../support/cert-factory';
import { type DynamoDbLocal, dynamoDbLocalAvailability, startDynamoDbLocal } from '../support/dynamodb-local';
import { makeEndpoint, makeResult } from '../support/dynamodb-store-fixtures';
import { type DeliveryCount, type FaultReceiver, startFaultReceiver } from '../support/fault-receiver';
import { startTlsServer } from '../support/tls-test-servers';

// As the store suite: in CI a missing java or jar fails; on a developer machine the file is skipped, loudly.
const availability = dynamoDbLocalAvailability();
const skip = !availability.available && !process.env.CI;
if (!availability.available && skip) console.warn(`delivery fault suite skipped: ${availability.reason}`);

const ROOT = join(__dirname, '..', '..');
/** Each scenario runs this many times (`npm run bench:faults` sets more; the normal suite runs one). */
const CYCLES = Array.from(
  { length: Math.max(1, Number(process.env.CERTWATCH_FAULT_CYCLES ?? 1) || 1) },
  (_, i) => i + 1,
);
const T0 = Date.parse('2030-03-01T10:00:00.000Z');
const LEASE_MS = 120_000;
/** `certwatch run --lease` for the child runs: a killed run's lease lapses this long after its last renewal. */
const RUN_LEASE_MS = 1_000;
const CHANNELS = ['hook', 'chat'] as const;
/** Scaled-down HTTP timings: a 300 ms attempt stands for the 15 s one. */
const FAST_HTTP: Partial<PostJsonOptions> = {
  timeoutMs: 300,
  baseDelayMs: 20,
  maxDelayMs: 2_000,
  budgetMs: 5_000,
};

/** One row of the summary printed after the suite (the numbers the closing note reports). */
interface ScenarioReport {
  readonly scenario: string;
  readonly deliveries: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly unknownOutcomes: number;
  readonly userSaw: string;
}
const reports: ScenarioReport[] = [];

/**
 * The numbers per (channel, alert): lost = no copy can have arrived (nothing accepted, nothing left
 * unanswered); duplicates = accepted copies beyond the first where no attempt had an unknown outcome;
 * over allowance = more copies (accepted or left unanswered, i.e. every request not refused) than
 * one plus the unknown outcomes.
 */
function tally(counts: readonly DeliveryCount[], unknownOutcomes: ReadonlyMap<string, number>) {
  let deliveries = 0;
  let duplicates = 0;
  let lost = 0;
  let overAllowance = 0;
  for (const c of counts) {
    const unknown = unknownOutcomes.get(`${c.channel} ${c.alertId}`) ?? 0;
    deliveries += c.accepted;
    const copies = c.received - c.refused;
    if (copies === 0) lost++;
    if (unknown === 0 && c.accepted > 1) duplicates++;
    if (copies > 1 + unknown) overAllowance++;
  }
  return { deliveries, duplicates, lost, overAllowance };
}

/** One line per scenario, summed over its cycles. */
function summarize(rows: readonly ScenarioReport[]): string {
  const by = new Map<string, ScenarioReport & { cycles: number }>();
  for (const r of rows) {
    const sum = by.get(r.scenario);
    by.set(
      r.scenario,
      sum
        ? {
            ...sum,
            cycles: sum.cycles + 1,
            deliveries: sum.deliveries + r.deliveries,
            duplicates: sum.duplicates + r.duplicates,
            lost: sum.lost + r.lost,
            unknownOutcomes: sum.unknownOutcomes + r.unknownOutcomes,
          }
        : { ...r, cycles: 1 },
    );
  }
  const lines = [...by.values()].map((r) => `  ${JSON.stringify(r)}`);
  return ['delivery fault scenarios (summed over cycles):', ...lines].join('\n');
}

/** Unknown outcomes per `${channel} ${alertId}`, from the delivery records (the store's own account). */
async function unknownOutcomesOf(store: DynamoDbStateStore, counts: readonly DeliveryCount[]) {
  const out = new Map<string, number>();
  for (const c of counts) {
    const record = await store.getDelivery(c.alertId, c.channel);
    out.set(`${c.channel} ${c.alertId}`, record?.record.unknownOutcomes ?? 0);
  }
  return out;
}

/** A critical result with two alerting facts (an untrusted chain and 5 days left): two alerts per first check. */
function criticalResult(endpoint: Endpoint, address: string, atMs: number): CheckResult {
  return {
    ...makeResult(endpoint, address, atMs),
    status: 'critical',
    daysLeft: 5,
    findings: [
      { code: 'EXPIRES_SOON', severity: 'critical', message: 'expires in 5 days', certIndex: 0 },
      { code: 'UNTRUSTED_CHAIN', severity: 'critical', message: 'untrusted chain' },
    ],
  };
}

async function waitFor(
  what: string,
  done: () => boolean | Promise<boolean>,
  limitMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skip)('delivery under faults (DynamoDB Local, loopback receiver)', () => {
  let dynamo: DynamoDbLocal;
  let clients: DynamoDbClients;
  const trust = loadTrustStore({ includeSystemRoots: false, extraCaPem: undefined });
  const receivers: FaultReceiver[] = [];

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    clients = createDocumentClient(dynamo.endpoint);
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    clients?.destroy();
    await dynamo?.close();
    if (reports.length > 0) console.log(summarize(reports));
  });

  async function receiver(): Promise<FaultReceiver> {
    const rx = await startFaultReceiver();
    receivers.push(rx);
    return rx;
  }

  async function freshTable(): Promise<{ table: string; store: DynamoDbStateStore }> {
    const table = `faults-${randomUUID()}`;
    await ensureTable(clients.client, table);
    return { table, store: new DynamoDbStateStore({ client: clients.documentClient, tableName: table }) };
  }

  /**
   * One address of one endpoint, checked by the real pipeline on DynamoDB Local, delivering to two
   * webhook channels at the fault receiver. `run()` is the next run's check of it; the clock judges
   * leases and retry times.
   */
  async function world(http: Partial<PostJsonOptions> = FAST_HTTP) {
    const rx = await receiver();
    const { store } = await freshTable();
    const endpoint = makeEndpoint(`shop-${randomUUID().slice(0, 8)}.example`);
    await store.syncInventory([endpoint]);
    const notifiers = CHANNELS.map((name) =>
      createNotifier(
        {
          type: 'webhook',
          name,
          minSeverity: 'info',
          url: rx.url(name),
          secret: 'k',
          signatureHeader: 'X-Sig',
        },
        { http },
      ),
    );
    const clock = { t: T0 };
    const deps: ProcessCheckDeps = {
      store,
      sink: localSink(notifiers),
      trustFor: () => trust,
      now: () => new Date(clock.t),
      check: async (e, address) => criticalResult(e, address, clock.t),
      outboxLeaseMs: LEASE_MS,
    };
    let runs = 0;
    const message = (runId: string): CheckMessage => ({
      v: 1,
      runId,
      endpointId: endpoint.id,
      address: '192.0.2.10',
      dispatchedAt: new Date(clock.t).toISOString(),
    });
    const newRun = async () => {
      const runId = `run-${++runs}`;
      await store.createRun({ runId, startedAt: new Date(clock.t).toISOString(), expected: 1 });
      return runId;
    };
    const run = async (): Promise<ProcessCheckOutcome> => processCheck(deps, message(await newRun()));
    const key = addressKey(endpoint.id, '192.0.2.10');
    const owed = async () => (await store.getAddressState(key))?.state.outbox?.entries.length ?? 0;
    return { rx, store, endpoint, clock, deps, message, newRun, run, owed };
  }

  /** Asserts the three properties and records the scenario's numbers. */
  async function assess(
    scenario: string,
    w: { rx: FaultReceiver; store: DynamoDbStateStore },
    expected: { alerts: number; userSaw: string },
  ) {
    const counts = w.rx.counts();
    const unknown = await unknownOutcomesOf(w.store, counts);
    const t = tally(counts, unknown);
    // Every decided alert reached every channel at least as a request.
    expect(counts).toHaveLength(expected.alerts * CHANNELS.length);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.overAllowance).toBe(0);
    reports.push({
      scenario,
      deliveries: t.deliveries,
      duplicates: t.duplicates,
      lost: t.lost,
      unknownOutcomes: [...unknown.values()].reduce((a, b) => a + b, 0),
      userSaw: expected.userSaw,
    });
    return { counts, unknown };
  }

  const describeResults = (deliveries: readonly DeliveryResult[]) =>
    deliveries.map((d) => (d.ok ? `${d.channel} ok` : `${d.channel} FAILED: ${d.error}`)).join('; ');

  describe.each(CYCLES)('cycle %i', () => {
    it.each([
      ['6 s', 120],
      ['8 s', 160],
    ])(
      'a receiver answering late (%s of a 15 s attempt, scaled) gets each alert exactly once',
      async (name, lateMs) => {
        // Prepare
        const w = await world();
        w.rx.script(() => ({ kind: 'late', ms: lateMs }));
        // Act: the run, then the next one
        const first = await w.run();
        w.clock.t += LEASE_MS + 1;
        const next = await w.run();
        // Assess
        expect(first.deliveries.map((d) => d.ok)).toEqual([true, true, true, true]);
        expect(next.deliveries).toEqual([]);
        const { counts } = await assess(`late receiver (${name})`, w, {
          alerts: 2,
          userSaw: describeResults(first.deliveries),
        });
        expect(counts.every((c) => c.received === 1 && c.accepted === 1)).toBe(true);
        expect(await w.owed()).toBe(0);
      },
    );

    it('a receiver slower than any attempt gets at most one extra copy, marked maybe delivered, and nothing in the next run', async () => {
      // Prepare: 400 ms late against 300 ms attempts (the 6 s receiver against the old 5 s attempts)
      const w = await world();
      w.rx.script(() => ({ kind: 'late', ms: 400 }));
      // Act
      const first = await w.run();
      w.clock.t += LEASE_MS + 1;
      const next = await w.run();
      // Assess: 2 copies each (the attempt and its one retry), not the 4 + 1 this used to send
      expect(first.deliveries.every((d) => !d.ok && d.maybeDelivered === true)).toBe(true);
      expect(first.deliveries[0]?.error).toMatch(
        /may have been delivered.*\(maybe delivered; not sent again\)$/,
      );
      expect(first.owed).toEqual([]);
      expect(next.deliveries).toEqual([]);
      const { counts, unknown } = await assess('receiver slower than the attempt timeout', w, {
        alerts: 2,
        userSaw: describeResults(first.deliveries.slice(0, 1)),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([2, 2]));
      expect([...unknown.values()]).toEqual([2, 2, 2, 2]);
      expect(await w.owed()).toBe(0);
    });

    it('a receiver that hangs gets the request and one retry, and the alert is reported maybe delivered', async () => {
      // Prepare
      const w = await world();
      w.rx.script(() => ({ kind: 'hang' }));
      // Act
      const first = await w.run();
      w.rx.script(() => ({ kind: 'ok' }));
      w.clock.t += LEASE_MS + 1;
      const next = await w.run();
      // Assess
      expect(first.deliveries.every((d) => d.maybeDelivered === true)).toBe(true);
      expect(next.deliveries).toEqual([]);
      const { counts } = await assess('receiver hangs', w, {
        alerts: 2,
        userSaw: describeResults(first.deliveries.slice(0, 1)),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([2, 0]));
    });

    it('a 500 then ok is retried and accepted exactly once', async () => {
      // Prepare
      const w = await world();
      w.rx.script((r) => (r.attempt === 1 ? { kind: 'status', status: 500 } : { kind: 'ok' }));
      // Act
      const first = await w.run();
      // Assess
      expect(first.deliveries.map((d) => [d.ok, d.attempts])).toEqual(Array(4).fill([true, 2]));
      const { counts } = await assess('500 then ok', w, {
        alerts: 2,
        userSaw: describeResults(first.deliveries),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([2, 1]));
    });

    it('a 500 on every attempt leaves the alerts owed, and the next run after the hold delivers them once', async () => {
      // Prepare
      const w = await world();
      w.rx.script(() => ({ kind: 'status', status: 500 }));
      // Act
      const first = await w.run();
      w.rx.script(() => ({ kind: 'ok' }));
      w.clock.t += 60_000;
      const tooSoon = await w.run();
      w.clock.t += LEASE_MS;
      const later = await w.run();
      // Assess
      expect(first.deliveries.every((d) => !d.ok && d.maybeDelivered === undefined)).toBe(true);
      expect(first.owed).toHaveLength(2);
      expect(tooSoon.deliveries).toEqual([]);
      expect(later.deliveries.map((d) => d.ok)).toEqual([true, true, true, true]);
      const { counts } = await assess('500 on every attempt, then ok in a later run', w, {
        alerts: 2,
        userSaw: describeResults(first.deliveries.slice(0, 1)),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([5, 1]));
      expect(await w.owed()).toBe(0);
    });

    it('a 429 with a short Retry-After is waited out and accepted once', async () => {
      // Prepare
      const w = await world();
      w.rx.script((r) =>
        r.attempt === 1 ? { kind: 'status', status: 429, retryAfter: '1' } : { kind: 'ok' },
      );
      // Act (each channel waits the second it was asked for; the exact wait is pinned in http-delivery.test.ts)
      const first = await w.run();
      // Assess
      expect(first.deliveries.map((d) => [d.ok, d.attempts])).toEqual(Array(4).fill([true, 2]));
      const { counts } = await assess('429 + Retry-After: 1', w, {
        alerts: 2,
        userSaw: describeResults(first.deliveries),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([2, 1]));
    });

    it('a 429 asking for an hour leaves the alerts pending until then, and delivers them once after', async () => {
      // Prepare
      const w = await world();
      w.rx.script((r) =>
        r.attempt === 1 ? { kind: 'status', status: 429, retryAfter: '3600' } : { kind: 'ok' },
      );
      // Act
      const first = await w.run();
      w.clock.t += 30 * 60_000;
      const halfway = await w.run();
      w.clock.t += 31 * 60_000;
      const after = await w.run();
      // Assess
      expect(first.deliveries.map((d) => [d.ok, d.attempts, d.retryAfterMs])).toEqual(
        Array(4).fill([false, 1, 3_600_000]),
      );
      expect(first.deliveries[0]?.error).toContain('asked to retry after 3600 s: left pending');
      expect(halfway.deliveries).toEqual([]);
      expect(after.deliveries.map((d) => d.ok)).toEqual([true, true, true, true]);
      const { counts } = await assess('429 + Retry-After: 3600', w, {
        alerts: 2,
        userSaw: describeResults(first.deliveries.slice(0, 1)),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([2, 1]));
    });

    it('two concurrent deliveries of the same check make one state update and one delivery per alert and channel', async () => {
      // Prepare: a slow receiver, so the second delivery runs while the first is still sending
      const w = await world();
      w.rx.script(() => ({ kind: 'late', ms: 100 }));
      const msg = w.message(await w.newRun());
      // Act
      const outcomes = await Promise.all([processCheck(w.deps, msg), processCheck(w.deps, msg)]);
      // Assess
      expect(outcomes.map((o) => o.status).sort()).toEqual(['checked', 'duplicate']);
      expect((await w.store.getRun(msg.runId))?.completed).toBe(1);
      expect(await w.store.listHistory(addressKey(w.endpoint.id, '192.0.2.10'), 10)).toHaveLength(1);
      const { counts } = await assess('same check delivered twice at once', w, {
        alerts: 2,
        userSaw: describeResults(outcomes.flatMap((o) => o.deliveries)),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([1, 1]));
    });

    it('two runs checking the same address at once send each alert once', async () => {
      // Prepare
      const w = await world();
      w.rx.script(() => ({ kind: 'late', ms: 100 }));
      const [a, b] = [w.message(await w.newRun()), w.message(await w.newRun())];
      // Act
      const outcomes = await Promise.all([processCheck(w.deps, a), processCheck(w.deps, b)]);
      const later = await w.run();
      // Assess
      expect(outcomes.map((o) => o.status)).toEqual(['checked', 'checked']);
      expect(later.deliveries).toEqual([]);
      const { counts } = await assess('two runs at once on one address', w, {
        alerts: 2,
        userSaw: describeResults(outcomes.flatMap((o) => o.deliveries)),
      });
      expect(counts.map((c) => [c.received, c.accepted])).toEqual(Array(4).fill([1, 1]));
      expect(await w.owed()).toBe(0);
    });

    it('a run SIGKILLed right after the receiver accepted its first alert: the rerun sends nothing already accepted', async () => {
      // Prepare: three endpoints on loopback, two alerts each (untrusted chain, 5 days left), one webhook channel.
      const rx = await receiver();
      const { table, store } = await freshTable();
      const dir = mkdtempSync(join(tmpdir(), 'certwatch-faults-'));
      const servers: Array<{ port: number; close(): Promise<void> }> = [];
      const children: ChildProcess[] = [];
      try {
        const pki = makePki({ notAfter: daysFromNow(5.5) });
        for (let i = 0; i < 3; i++) {
          servers.push(
            await startTlsServer({
              chainPem: pki.leaf.certPem + pki.intermediate.certPem,
              keyPem: pki.leaf.key.privateKeyPem,
            }),
          );
        }
        const config = join(dir, 'certwatch.config.yaml');
        writeFileSync(
          config,
          [
            'channels:',
            '  - { name: hook, type: webhook, url: env:HOOK_URL, secret: env:HOOK_SECRET }',
            'endpoints:',
            ...servers.map((s, i) => `  - { host: "127.0.0.1:${s.port}", name: shop${i} }`),
            '',
          ].join('\n'),
        );
        const run = (): {
          child: ChildProcess;
          done: Promise<{ code: number | null; signal: string | null; stderr: string }>;
        } => {
          const child = spawn(
            process.execPath,
            [
              join(ROOT, 'bin', 'certwatch.js'),
              'run',
              '--config',
              config,
              '--dynamodb-endpoint',
              dynamo.endpoint,
              '--table',
              table,
              '--concurrency',
              '1',
              '--no-color',
              // A short run lease, so the rerun may take over the killed run's lease soon after the kill.
              '--lease',
              `${RUN_LEASE_MS}ms`,
            ],
            {
              cwd: dir,
              env: {
                PATH: process.env.PATH ?? '',
                HOOK_URL: rx.url('hook'),
                HOOK_SECRET: 'k',
                NO_COLOR: '1',
              },
              stdio: ['ignore', 'ignore', 'pipe'],
            },
          );
          children.push(child);
          let stderr = '';
          child.stderr?.on('data', (chunk: Buffer) => {
            stderr += chunk.toString('utf8');
          });
          const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
            (resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
          );
          return { child, done };
        };
        // The first request is accepted; the second means the first one's record is written (a sender
        // marks an alert before it sends the next): the receiver holds it, and the run is killed there.
        rx.script((r) => (r.total === 1 ? { kind: 'ok' } : { kind: 'hang' }));
        let crashed!: () => void;
        const secondArrived = new Promise<void>((resolve) => {
          crashed = resolve;
        });
        rx.onRequest((r) => {
          if (r.total === 2) crashed();
        });

        // Act 1: run, and SIGKILL it by its own PID mid-outbox
        const first = run();
        await Promise.race([
          secondArrived,
          first.done.then((r) => {
            throw new Error(`the run ended before its second delivery: ${r.code} ${r.stderr}`);
          }),
        ]);
        process.kill(first.child.pid ?? 0, 'SIGKILL');
        const killed = await first.done;
        const acceptedBeforeCrash = rx
          .counts()
          .filter((c) => c.accepted > 0)
          .map((c) => c.alertId);
        const inFlight = rx.requests[1]?.headers['idempotency-key'] as string;

        // Act 2: rerun (the receiver is healthy again) once the killed run's lease has lapsed
        rx.script(() => ({ kind: 'ok' }));
        await new Promise((resolve) => setTimeout(resolve, RUN_LEASE_MS + 200));
        const second = run();
        const rerun = await second.done;

        // Act 3: a later delivery, after the dead run's lease: the send it left in flight is taken over
        const later = { t: Date.now() + LEASE_MS + 1_000 };
        const notifier = createNotifier(
          {
            type: 'webhook',
            name: 'hook',
            minSeverity: 'info',
            url: rx.url('hook'),
            secret: 'k',
            signatureHeader: 'X-Sig',
          },
          { http: FAST_HTTP },
        );
        const deps: ProcessCheckDeps = {
          store,
          sink: localSink([notifier]),
          trustFor: () => trust,
          now: () => new Date(later.t),
        };
        const retried: DeliveryResult[] = [];
        for (const { state } of await store.listAllAddressStates()) {
          if (!state.outbox || !state.lastRunId) continue;
          const msg: CheckMessage = {
            v: 1,
            runId: state.lastRunId,
            endpointId: state.endpointId,
            address: state.address,
            dispatchedAt: new Date(later.t).toISOString(),
          };
          retried.push(...(await processCheck(deps, msg)).deliveries);
        }

        // Assess
        expect(killed.signal).toBe('SIGKILL');
        expect(acceptedBeforeCrash).toHaveLength(1);
        expect(rerun.code).toBe(2); // the certificates are critical (untrusted, 5 days left)
        expect(rerun.stderr).toMatch(/run complete: 3 of 3 checks; 4 new alerts, 0 failed deliveries/);
        expect(retried.map((d) => [d.alertId, d.ok])).toEqual([[inFlight, true]]);
        // The certificate alerts; the rerun's watchdog may also page about the killed run (a monitor
        // alert, judged by the run's own rules, not by delivery records), which is not counted here.
        const monitor = rx.counts().filter((c) => c.alertId.startsWith('monitor:'));
        const counts = rx.counts().filter((c) => !c.alertId.startsWith('monitor:'));
        const unknown = await unknownOutcomesOf(store, counts);
        const t = tally(counts, unknown);
        expect(counts).toHaveLength(6);
        expect(rx.count('hook', acceptedBeforeCrash[0] ?? '')).toMatchObject({ received: 1, accepted: 1 });
        expect(rx.count('hook', inFlight)).toMatchObject({ received: 2, accepted: 1 });
        expect(unknown.get(`hook ${inFlight}`)).toBe(1);
        expect(
          counts.filter((c) => c.alertId !== inFlight).every((c) => c.received === 1 && c.accepted === 1),
        ).toBe(true);
        expect(t).toEqual({ deliveries: 6, duplicates: 0, lost: 0, overAllowance: 0 });
        for (const { state } of await store.listAllAddressStates()) expect(state.outbox ?? null).toBeNull();
        reports.push({
          scenario: 'SIGKILL mid-outbox, rerun, later delivery after the lease',
          deliveries: t.deliveries,
          duplicates: t.duplicates,
          lost: t.lost,
          unknownOutcomes: [...unknown.values()].reduce((a, b) => a + b, 0),
          userSaw:
            `rerun exit ${rerun.code}: ${rerun.stderr.split('\n').find((l) => l.startsWith('run ')) ?? ''}` +
            `; monitor pages: ${monitor.map((c) => c.alertId).join(', ') || 'none'}`,
        });
      } finally {
        for (const child of children) {
          if (child.exitCode === null && child.signalCode === null && child.pid)
            process.kill(child.pid, 'SIGKILL');
        }
        await Promise.all(servers.map((s) => s.close()));
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  });

  describe('the checker handler given the same SQS batch twice, concurrently', () => {
    const snsMock = mockClient(SNSClient);
    const saved = { ...process.env };
    let handler: (event: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
    let table: { table: string; store: DynamoDbStateStore };
    let tls: { port: number; close(): Promise<void> };

    beforeAll(async () => {
      table = await freshTable();
      const pki = makePki({ notAfter: daysFromNow(5.5) });
      tls = await startTlsServer({
        chainPem: pki.leaf.certPem + pki.intermediate.certPem,
        keyPem: pki.leaf.key.privateKeyPem,
      });
      Object.assign(process.env, {
        TABLE_NAME: table.table,
        ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:certwatch-alerts',
        PER_ENDPOINT_METRICS: 'false',
        LOG_LEVEL: 'ERROR',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'certwatch',
        AWS_SECRET_ACCESS_KEY: 'certwatch-local',
      });
      ({ handler } = await import('../../lambdas/handlers/checker'));
    });
    afterAll(async () => {
      process.env = saved;
      snsMock.restore();
      await tls?.close();
    });

    it.each(
      CYCLES.flatMap((cycle) => [
        [cycle, 'at the same instant', false] as const,
        [cycle, 'the second while the first is publishing', true] as const,
      ]),
    )('cycle %i, %s: one state update and one PublishCommand per alert', async (cycle, name, staggered) => {
      // Prepare: each publish takes 150 ms, so both invocations overlap the sends
      snsMock.reset();
      snsMock.on(PublishCommand).callsFake(async () => {
        await new Promise((r) => setTimeout(r, 150));
        return { MessageId: randomUUID() };
      });
      const endpoint = makeEndpoint('127.0.0.1', {
        id: `127.0.0.1:${tls.port}#${cycle}${staggered ? 'b' : 'a'}`,
        port: tls.port,
        name: `shop ${name}`,
      });
      // The id only names the endpoint; host and port are what the probe dials.
      await table.store.syncInventory([...(await table.store.listEndpoints()), endpoint]);
      const runId = `run-${randomUUID()}`;
      await table.store.createRun({ runId, startedAt: new Date().toISOString(), expected: 1 });
      const body = JSON.stringify({
        v: 1,
        runId,
        endpointId: endpoint.id,
        address: '127.0.0.1',
        dispatchedAt: new Date().toISOString(),
      } satisfies CheckMessage);
      const event = {
        Records: [
          {
            messageId: randomUUID(),
            receiptHandle: 'rh',
            body,
            attributes: { ApproximateReceiveCount: '1' },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:certwatch-checks',
            awsRegion: 'eu-west-1',
          },
        ],
      } as unknown as SQSEvent;
      const key = addressKey(endpoint.id, '127.0.0.1');
      // Act
      const first = handler(event);
      if (staggered) {
        await waitFor(
          'the first invocation to publish',
          () => snsMock.commandCalls(PublishCommand).length > 0,
        );
      }
      const results = await Promise.all([first, handler(event)]);
      // Assess
      expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      const published = snsMock
        .commandCalls(PublishCommand)
        .map(
          (call) => parseSnsAlertEnvelope(JSON.parse(call.args[0].input.Message ?? '{}').lambda)?.id ?? '?',
        );
      const perAlert = new Map<string, number>();
      for (const id of published) perAlert.set(id, (perAlert.get(id) ?? 0) + 1);
      expect(perAlert.size).toBeGreaterThanOrEqual(2);
      expect([...perAlert.values()].every((n) => n === 1)).toBe(true);
      expect((await table.store.getRun(runId))?.completed).toBe(1);
      expect(await table.store.listHistory(key, 10)).toHaveLength(1);
      expect((await table.store.getAddressState(key))?.state.outbox ?? null).toBeNull();
      reports.push({
        scenario: `checker handler, same SQS batch twice (${name})`,
        deliveries: published.length,
        duplicates: [...perAlert.values()].filter((n) => n > 1).length,
        lost: 0,
        unknownOutcomes: 0,
        userSaw: `batchItemFailures ${JSON.stringify(results.map((r) => r.batchItemFailures.length))}`,
      });
    });
  });
});
