/**
 * Fault injection for runs, with real parts: `certwatch run` child processes,
 * DynamoDB Local (killed by its PID mid-run, restarted on its data), a TLS
 * server behind a gate that holds every check until the test lets it through,
 * and a webhook receiver on loopback whose deliveries are counted per alert id.
 *
 * Per scenario it asserts what a user would see (exit code, the one line) and
 * what the channel got (every alert once, no false "incomplete" page).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../lambdas/core/model';
import { runWatchdog } from '../../lambdas/pipeline/watchdog';
import { createDocumentClient } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore } from '../../lambdas/store/dynamodb-state-store';
import { daysFromNow, makePki } from '../support/cert-factory';
import { type DynamoDbLocal, dynamoDbLocalAvailability, startDynamoDbLocal } from '../support/dynamodb-local';
import { startTlsServer, type TlsTestServer } from '../support/tls-test-servers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import {
  type CliChild,
  errorLines,
  type Gate,
  spawnCli,
  startGate,
  tally,
  waitUntil,
} from './run-fault-support';

const availability = dynamoDbLocalAvailability();
const skip = !availability.available && !process.env.CI;
if (skip && !availability.available) console.warn(`run fault suite skipped: ${availability.reason}`);

const ENDPOINTS = 3;
const CYCLES = Array.from(
  { length: Math.max(1, Number(process.env.CERTWATCH_FAULT_CYCLES ?? 1) || 1) },
  (_, i) => i + 1,
);
/** A run's first progress line names its run id. */
const runIdOf = (stderr: string) => /^certwatch run (\S+):/m.exec(stderr)?.[1] ?? '(no run id)';
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(skip)('certwatch run under faults (child processes, DynamoDB Local)', () => {
  let work: string;
  let tls: TlsTestServer;
  let receiver: WebhookReceiver;
  let shared: DynamoDbLocal;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'certwatch-run-faults-'));
    // Untrusted test CA and 20 days left: every endpoint alerts on its first run.
    const pki = makePki({ notAfter: daysFromNow(20.5) });
    tls = await startTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    receiver = await startWebhookReceiver();
    shared = await startDynamoDbLocal();
  });

  afterAll(async () => {
    await shared?.close();
    await receiver?.close();
    await tls?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Three endpoints, each behind its own gate (shut), and a config that sends to `/<hook>`. */
  async function setup(name: string) {
    const gates: Gate[] = [];
    for (let i = 0; i < ENDPOINTS; i++) gates.push(await startGate(tls.port));
    const config = join(work, `${name}.yaml`);
    writeFileSync(
      config,
      [
        'channels:',
        '  - { name: hook, type: webhook, url: env:HOOK_URL, secret: env:HOOK_SECRET }',
        'endpoints:',
        ...gates.map((g, i) => `  - { host: "127.0.0.1:${g.port}", name: site-${i + 1}, timeout: 60s }`),
        '',
      ].join('\n'),
    );
    const env = { HOOK_URL: receiver.url(`/${name}`), HOOK_SECRET: 'fault-secret' };
    const children: CliChild[] = [];
    return {
      config,
      env,
      gates,
      run: (args: readonly string[], extraEnv: Record<string, string> = {}) => {
        const child = spawnCli(['run', '--config', config, ...args], { ...env, ...extraEnv }, work);
        children.push(child);
        return child;
      },
      cli: (args: readonly string[], extraEnv: Record<string, string> = {}) => {
        const child = spawnCli(args, { ...env, ...extraEnv }, work);
        children.push(child);
        return child;
      },
      /** The run's checks are all held at the gates: it is mid-run, after dispatch. */
      allHeld: () => waitUntil(() => gates.every((g) => g.arrivals() > 0), 'every check to reach its gate'),
      openGates: () => {
        for (const g of gates) g.open();
      },
      delivered: () => tally(receiver.requests.filter((r) => r.path === `/${name}`)),
      async stop() {
        for (const c of children) c.kill('SIGKILL');
        await Promise.all(children.map((c) => c.exited.catch(() => null)));
        await Promise.all(gates.map((g) => g.close()));
      },
    };
  }

  // `npm run bench:faults` repeats every scenario (CERTWATCH_FAULT_CYCLES), each on its own tables.
  describe.each(CYCLES)('cycle %i', (cycle) => {
    const tag = cycle === 1 ? '' : `-c${cycle}`;

    it('two runs at once on one DynamoDB Local table: the second refuses with one line, every alert arrives once, no false page', async () => {
      // Prepare
      const s = await setup(`concurrent-ddb${tag}`);
      const store = ['--dynamodb-endpoint', shared.endpoint, '--table', `concurrent${tag}`];
      try {
        // Act 1: run A is mid-run (its checks held at the gates) when run B starts
        const a = s.run(store);
        await s.allHeld();
        const b = s.run(store);
        const bCode = await b.exited;
        s.openGates();
        const aCode = await a.exited;
        // Act 2: the next cycle, two runs started at the same moment with nothing held
        const c = s.run(store);
        const d = s.run(store);
        const [cCode, dCode] = await Promise.all([c.exited, d.exited]);

        // Assess 1: B did nothing and said why, in one line naming A
        const refusal = new RegExp(
          `^certwatch: another run holds the run lease of table concurrent${tag} at ${esc(shared.endpoint)}: ` +
            `run ${esc(runIdOf(a.stderr()))} on host ${esc(hostname())}, pid ${a.pid}, since \\S+; ` +
            'the lease expires at \\S+ unless renewed; not running$',
        );
        expect(bCode).toBe(3);
        expect(b.stderr().trimEnd().split('\n')).toEqual([expect.stringMatching(refusal)]);
        expect(b.stdout()).toBe('');
        // A checked everything (critical: the test CA is untrusted) and judged only itself
        expect(aCode).toBe(2);
        expect(a.stderr()).toMatch(/run complete: 3 of 3 checks; [1-9]\d* new alerts, 0 failed deliveries/);
        expect(errorLines(a.stderr())).toEqual([]);
        // Cycle 2: each run either completed or refused with the one line; nothing new to send
        for (const [code, child] of [
          [cCode, c],
          [dCode, d],
        ] as const) {
          if (code === 3)
            expect(errorLines(child.stderr())).toEqual([expect.stringMatching(/another run holds/)]);
          else {
            expect(code).toBe(2);
            expect(child.stderr()).toMatch(/run complete: 3 of 3 checks; 0 new alerts, 0 failed deliveries/);
          }
        }
        expect([cCode, dCode]).toContain(2);
        // The channel: every alert once, no page about an incomplete run
        const t = s.delivered();
        expect(t.perAlert.size).toBeGreaterThanOrEqual(ENDPOINTS);
        expect(t.duplicates).toBe(0);
        expect(t.incompletePages).toEqual([]);
      } finally {
        await s.stop();
      }
    });

    it('two runs at once on one --state-dir: the second refuses with one line naming the first', async () => {
      // Prepare
      const s = await setup(`concurrent-embedded${tag}`);
      const store = ['--state-dir', join(work, `embedded-state${tag}`)];
      try {
        // Act
        const a = s.run(store);
        await s.allHeld();
        const b = s.run(store);
        const bCode = await b.exited;
        s.openGates();
        const aCode = await a.exited;

        // Assess
        expect(bCode).toBe(3);
        const refusal = new RegExp(
          `^certwatch: another run holds embedded DynamoDB in ${esc(join(work, `embedded-state${tag}`))}: ` +
            `run ${esc(runIdOf(a.stderr()))} on host ${esc(hostname())}, pid ${a.pid}, since \\S+; not running$`,
        );
        expect(b.stderr().trimEnd().split('\n')).toEqual([expect.stringMatching(refusal)]);
        expect(b.stdout()).toBe('');
        expect(aCode).toBe(2);
        expect(a.stderr()).toMatch(/run complete: 3 of 3 checks; [1-9]\d* new alerts, 0 failed deliveries/);
        const t = s.delivered();
        expect(t.duplicates).toBe(0);
        expect(t.incompletePages).toEqual([]);
      } finally {
        await s.stop();
      }
    });

    it('DynamoDB Local killed mid-run: exit 2 and one line (run, status, notify); after a restart the next run sends each alert once', async () => {
      // Prepare: a DynamoDB Local of its own that keeps its data on disk, so a restart has it
      const s = await setup(`store-outage${tag}`);
      const dbPath = mkdtempSync(join(work, 'ddb-'));
      let ddb: DynamoDbLocal | null = await startDynamoDbLocal({ dbPath });
      const endpoint = ddb.endpoint;
      const port = Number(new URL(endpoint).port);
      const store = ['--dynamodb-endpoint', endpoint, '--table', `outage${tag}`];
      try {
        // Act 1: the store dies while every check of the run is in flight
        const a = s.run([...store, '--lease', '1s']);
        await s.allHeld();
        process.kill(ddb.pid, 'SIGKILL');
        await ddb.close();
        ddb = null;
        s.openGates();
        const aCode = await a.exited;
        const status = s.cli(['status', ...store]);
        const notify = s.cli(['notify', '--test', '--config', s.config, ...store], {
          HOOK_URL: receiver.url('/store-outage-notify'),
        });
        const [statusCode, notifyCode] = await Promise.all([status.exited, notify.exited]);

        // Assess 1: exit 2 and one line naming the store, the operation and the cause; no stack trace
        const failed = `^certwatch: state store table outage${tag} at ${esc(endpoint)} failed: \\w+\\([^)]*\\): .*ECONNREFUSED`;
        expect(aCode).toBe(2);
        expect(errorLines(a.stderr())).toEqual([
          expect.stringMatching(
            new RegExp(`${failed}.*; run stopped, the next run resumes from the stored state$`),
          ),
        ]);
        for (const child of [a, status, notify])
          expect(child.stderr()).not.toMatch(/internal error|^\s+at /m);
        expect(statusCode).toBe(2);
        expect(status.stderr().trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(failed))]);
        expect(notifyCode).toBe(2);
        expect(notify.stderr().trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(failed))]);
        expect(notify.stdout()).toMatch(/^ok {6}hook \(1 attempt\)$/m);
        expect(s.delivered().perAlert.size).toBe(0);

        // Act 2: DynamoDB Local back on the same port with the same data; the dead run's lease lapses
        ddb = await startDynamoDbLocal({ dbPath, port });
        const clients = createDocumentClient(endpoint);
        const left = await new DynamoDbStateStore({
          client: clients.documentClient,
          tableName: `outage${tag}`,
        })
          .getRunLease()
          .finally(() => clients.destroy());
        await waitUntil(
          () => Date.now() > Date.parse(left?.until ?? ''),
          'the dead run lease to lapse',
          5_000,
        );
        const next = s.run(store);
        const nextCode = await next.exited;

        // Assess 2: the next run took the lease over, completed, and sent each alert once
        expect(left?.runId).toBe(runIdOf(a.stderr()));
        expect(nextCode).toBe(2);
        expect(next.stderr()).toMatch(
          new RegExp(`took over the run lease of run ${esc(left?.runId ?? '')} `),
        );
        const summary = /run complete: 3 of 3 checks; (\d+) new alerts?, 0 failed deliveries/.exec(
          next.stderr(),
        );
        expect(summary).not.toBeNull();
        const t = s.delivered();
        expect(t.perAlert.size).toBe(Number(summary?.[1]));
        expect(t.perAlert.size).toBeGreaterThanOrEqual(ENDPOINTS);
        expect(t.duplicates).toBe(0);
        expect(t.incompletePages).toEqual([]);
      } finally {
        await s.stop();
        await ddb?.close();
      }
    });

    it('a run SIGKILLed mid-run: the watchdog judges it once, only after its deadline; the next run takes its lease over', async () => {
      // Prepare
      const s = await setup(`crashed-run${tag}`);
      const store = ['--dynamodb-endpoint', shared.endpoint, '--table', `crashed${tag}`];
      const clients = createDocumentClient(shared.endpoint);
      const direct = new DynamoDbStateStore({ client: clients.documentClient, tableName: `crashed${tag}` });
      try {
        const a = s.run([...store, '--lease', '1s']);
        await s.allHeld();
        a.kill('SIGKILL');
        expect(await a.exited).toBeNull();
        const crashed = (await direct.listRuns(1))[0];
        const deadline = Date.parse(crashed?.deadline ?? '');
        const pages: Alert[] = [];
        const watchdog = (at: number, judge: string) =>
          runWatchdog(
            { store: direct, now: () => new Date(at), page: async (p) => void pages.push(p), judge },
            { intervalMs: 6 * 3_600_000, graceMs: 15 * 60_000 },
          );

        // Act 1: the deployed watchdog, just before the dead run's deadline, then twice at once after it
        const early = await watchdog(deadline - 1, 'judge-early');
        const both = await Promise.all([watchdog(deadline, 'judge-a'), watchdog(deadline, 'judge-b')]);
        // Act 2: the next local run, once the lease has lapsed
        await waitUntil(() => Date.now() > deadline, 'the crashed run lease to lapse', 5_000);
        const b = s.run(store);
        s.openGates();
        const bCode = await b.exited;

        // Assess 1: judged once, after its deadline; one true page (the dead run checked nothing)
        expect(crashed?.runId).toBe(runIdOf(a.stderr()));
        expect(early.judged).toEqual([]);
        expect(both.flatMap((r) => r.judged.map((j) => j.runId))).toEqual([crashed?.runId]);
        expect(pages.map((p) => p.summary)).toEqual([
          `certwatch run ${crashed?.runId} incomplete: 0 of 3 checks completed, 3 endpoints not checked`,
        ]);
        // Assess 2: B took the lease over, said so, and judged only itself
        expect(bCode).toBe(2);
        expect(b.stderr()).toMatch(
          new RegExp(
            `took over the run lease of run ${esc(crashed?.runId ?? '')} on host \\S+, pid ${a.pid}, `,
          ),
        );
        expect(b.stderr()).toMatch(/run complete: 3 of 3 checks; [1-9]\d* new alerts, 0 failed deliveries/);
        const t = s.delivered();
        expect(t.duplicates).toBe(0);
        expect(t.incompletePages).toEqual([]);
      } finally {
        clients.destroy();
        await s.stop();
      }
    });
  });
});
