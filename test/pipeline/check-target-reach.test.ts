import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStore, type TrustStore } from '../../lambdas/cert/trust-store';
import { parseConfig, resolveEndpoints } from '../../lambdas/config';
import type { Endpoint } from '../../lambdas/core/model';
import { parseProbeTarget, parseTarget } from '../../lambdas/core/parse-target';
import type { CheckMessage, CheckQueue } from '../../lambdas/pipeline/check-message';
import {
  type CheckOptions,
  checkAddress,
  checkTarget,
  checkTargets,
} from '../../lambdas/pipeline/check-target';
import { dispatchRun } from '../../lambdas/pipeline/dispatch-run';
import { runCycle } from '../../lambdas/pipeline/run-cycle';
import { openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import type { StateStore } from '../../lambdas/store/state-store';
import { makeCert, makePki, type TestPki } from '../support/cert-factory';
import { protocolScript, startMutualTlsServer, startScriptServer } from '../support/starttls-servers';

let pki: TestPki;
let trust: TrustStore;
const running: { close(): Promise<void> }[] = [];

beforeAll(() => {
  pki = makePki();
  trust = loadTrustStore({ extraCaPem: pki.root.certPem, includeSystemRoots: false });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

function options(overrides: Partial<CheckOptions> = {}): CheckOptions {
  return {
    timeoutMs: 10_000,
    thresholds: { warnDays: 30, criticalDays: 7 },
    firstAddressOnly: false,
    trust,
    fetchCaIssuers: null,
    ...overrides,
  };
}

async function smtpServer() {
  const server = await startScriptServer(
    { chainPem: pki.leaf.certPem + pki.intermediate.certPem, keyPem: pki.leaf.key.privateKeyPem },
    protocolScript('smtp'),
  );
  running.push(server);
  return server;
}

describe('checkTarget over a STARTTLS protocol', () => {
  it('judges the certificate reached by STARTTLS and reports the scheme', async () => {
    // Prepare
    const server = await smtpServer();

    // Act
    const [result] = await checkTarget(
      parseTarget(`127.0.0.1:${server.port}`),
      options({ protocol: 'smtp', servername: 'localhost' }),
    );

    // Assess
    expect(result).toMatchObject({ status: 'ok', scheme: 'smtp', findings: [] });
  });

  it('reports scheme "tls" for a plain target, and STARTTLS_FAILED as status error', async () => {
    // Prepare: an SMTP server probed as implicit TLS, then an implicit-TLS probe of it as smtp refused.
    const server = await startScriptServer(
      { chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem },
      async (c) => c.write('554 no service\r\n'),
    );
    running.push(server);

    // Act
    const result = await checkAddress(
      parseTarget(`localhost:${server.port}`),
      '127.0.0.1',
      options({ protocol: 'smtp' }),
    );
    const [plain] = await checkTarget(parseTarget(`127.0.0.1:${server.port}`), options());

    // Assess
    expect(result).toMatchObject({ status: 'error', scheme: 'smtp' });
    expect(result.findings).toEqual([
      {
        code: 'STARTTLS_FAILED',
        severity: 'critical',
        message: `smtp server localhost:${server.port} refused the session: "554 no service"`,
      },
    ]);
    expect(plain).toMatchObject({ scheme: 'tls', status: 'error' });
  });

  it('checkTargets applies each target its own settings: a smtp:// URL among plain targets', async () => {
    // Prepare
    const server = await smtpServer();
    const inputs = [`smtp://127.0.0.1:${server.port}`];
    const parsed = inputs.map((input) => parseProbeTarget(input));
    const protocols = new Map(parsed.map((p) => [p.target.id, p.protocol]));

    // Act
    const [results] = await checkTargets(
      parsed.map((p) => p.target),
      {
        ...options(),
        servername: 'localhost',
        concurrency: 2,
        trustFor: () => trust,
        settingsFor: (target) => ({ protocol: protocols.get(target.id) ?? 'tls' }),
      },
    );

    // Assess
    expect(results).toMatchObject([{ status: 'ok', scheme: 'smtp' }]);
  });
});

describe('checkTarget with a client certificate', () => {
  const certified = () => {
    const cert = makeCert({ cn: 'certwatch probe', issuer: pki.intermediate, extKeyUsage: ['clientAuth'] });
    return { certPem: cert.certPem + pki.intermediate.certPem, keyPem: cert.key.privateKeyPem };
  };

  it('reads the key through the host resolver and completes mutual TLS', async () => {
    // Prepare
    const server = await startMutualTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
      clientCaPem: pki.root.certPem,
    });
    running.push(server);
    const { certPem, keyPem } = certified();
    const asked: string[] = [];

    // Act
    const [result] = await checkTarget(
      parseTarget(`localhost:${server.port}`),
      options({
        clientCertificate: { certPem, keyRef: 'secretsmanager:certwatch/client#pem' },
        clientKey: async (ref) => {
          asked.push(ref);
          return keyPem;
        },
      }),
    );

    // Assess
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['secretsmanager:certwatch/client#pem']));
    expect(result).toMatchObject({ status: 'ok', findings: [] });
  });

  it.each([
    [undefined, 'no resolver for the client key env:CLIENT_KEY was given to the check'],
    [
      async () => {
        throw new Error('environment variable CLIENT_KEY is not set');
      },
      'cannot read the client key env:CLIENT_KEY: environment variable CLIENT_KEY is not set',
    ],
  ])('a key it cannot read is CHECK_FAILED naming the reference (%#)', async (clientKey, reason) => {
    // Act
    const [result] = await checkTarget(
      parseTarget('localhost:9'),
      options({
        clientCertificate: { certPem: pki.leaf.certPem, keyRef: 'env:CLIENT_KEY' },
        ...(clientKey === undefined ? {} : { clientKey }),
      }),
    );

    // Assess
    expect(result?.findings).toEqual([
      {
        code: 'CHECK_FAILED',
        severity: 'critical',
        message: `certwatch failed internally: Error: ${reason}`,
      },
    ]);
  });
});

describe('dispatchRun for proxied and pinned endpoints', () => {
  it('sends one check by name for a proxied endpoint (the proxy resolves it) and none to DNS', async () => {
    // Prepare
    const asked: string[] = [];
    const sent: CheckMessage[] = [];
    const endpoint = (host: string, extra: Partial<Endpoint> = {}): Endpoint => ({
      id: `${host}:443`,
      host,
      port: 443,
      name: host,
      owner: null,
      tags: [],
      channels: [],
      policy: {
        thresholdsDays: [30],
        expiry: { warnDays: 30, criticalDays: 7 },
        failuresBeforeAlert: 2,
        renotifyIntervalMs: 86_400_000,
      },
      timeoutMs: 1_000,
      ...extra,
    });
    const deps = {
      store: {
        syncInventory: async () => ({ added: 0, removed: 0, updated: 0 }),
        createRun: async () => undefined,
        recordDispatchShard: async () => undefined,
        shardCount: 16,
        shardOfKey: () => 0,
      } as unknown as StateStore,
      queue: {
        sendAll: async (messages: readonly CheckMessage[]) => void sent.push(...messages),
      } as CheckQueue,
      now: () => new Date('2026-12-02T12:00:00Z'),
      resolve: async (host: string) => {
        asked.push(host);
        return { addresses: ['192.0.2.1'] };
      },
    };

    // Act
    await dispatchRun(deps, [
      endpoint('intranet.corp.internal', { proxy: 'http://proxy.corp:3128' }),
      endpoint('pinned.example', { address: '10.0.0.5' }),
      endpoint('public.example'),
    ]);

    // Assess
    expect(sent.map((m) => [m.endpointId, m.address])).toEqual([
      ['intranet.corp.internal:443', 'intranet.corp.internal'],
      ['pinned.example:443', '10.0.0.5'],
      ['public.example:443', '192.0.2.1'],
    ]);
    expect(asked).toEqual(['public.example']);
  });
});

describe('runCycle over STARTTLS endpoints from a config', () => {
  it('checks smtp:// and imap:// endpoints end to end, state and history included', async () => {
    // Prepare
    const smtp = await smtpServer();
    const imap = await startScriptServer(
      { chainPem: pki.leaf.certPem + pki.intermediate.certPem, keyPem: pki.leaf.key.privateKeyPem },
      protocolScript('imap'),
    );
    running.push(imap);
    const config = parseConfig(
      `endpoints:\n  - { host: "smtp://127.0.0.1:${smtp.port}", sni: localhost }\n  - { host: 127.0.0.1, port: ${imap.port}, protocol: imap, sni: localhost }\n`,
      'c.yaml',
    );
    const store = await openEmbeddedStateStore();
    running.push({ close: () => store.close() });

    // Act
    const run = await runCycle(
      {
        store: store.store,
        sink: { channelsFor: () => [], deliver: async () => [] },
        trustFor: () => trust,
        now: () => new Date(),
      },
      resolveEndpoints(config),
      { concurrency: 2, intervalMs: 3_600_000 },
    );

    // Assess
    expect(run.results.map((r) => [r.target, r.scheme, r.status])).toEqual([
      [`127.0.0.1:${smtp.port}`, 'smtp', 'ok'],
      [`127.0.0.1:${imap.port}`, 'imap', 'ok'],
    ]);
  });
});
