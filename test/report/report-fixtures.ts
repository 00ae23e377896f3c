/**
 * A state directory holding real check results for the report tests: TLS
 * servers on 127.0.0.1 with certificates made now (one per status, one with a
 * hostile subject), checked by `certwatch run`, plus a history of earlier
 * checks derived from those real results (backdated copies, some failed), so
 * the sparklines have something to draw.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckResult } from '../../lambdas/core/model';
import { openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { daysFromNow, makeCert, type TestCert } from '../support/cert-factory';
import { runCli } from '../support/run-cli';
import { startTlsServer, type TlsTestServer } from '../support/tls-test-servers';

/** A subject that would run script, break out of an attribute, reorder text and recolour a terminal if shown raw. */
export const HOSTILE_ORG = '</script><script>alert(1)</script>\u202Egnp.exe\u001b[31m';
export const HOSTILE_CN = '"><img src=x onerror=alert(2)>';

export interface ReportFixture {
  readonly dir: string;
  readonly stateDir: string;
  /** Endpoint display names in the config, by role. */
  readonly names: { readonly [role in FixtureRole]: string };
  close(): Promise<void>;
}

export type FixtureRole = 'healthy' | 'soon' | 'urgent' | 'expired' | 'hostile' | 'down';

const HOUR = 3_600_000;

/** Starts the servers, runs `certwatch run` once, adds backdated history, and stops the servers. */
export async function makeReportFixture(): Promise<ReportFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-report-'));
  const stateDir = join(dir, 'state');
  const servers: TlsTestServer[] = [];
  try {
    const root = makeCert({ cn: 'Report Test Root', isCa: true, notAfter: daysFromNow(3650) });
    const intermediate = makeCert({
      cn: 'Report Test Intermediate',
      isCa: true,
      issuer: root,
      notAfter: daysFromNow(1825),
    });
    const leaf = (notAfterDays: number, extra: Partial<Parameters<typeof makeCert>[0]> = {}): TestCert =>
      makeCert({
        cn: 'localhost',
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
        issuer: intermediate,
        notBefore: daysFromNow(Math.min(-10, notAfterDays - 30)),
        notAfter: daysFromNow(notAfterDays),
        ...extra,
      });
    const serve = async (cert: TestCert) => {
      const server = await startTlsServer({
        chainPem: cert.certPem + intermediate.certPem,
        keyPem: cert.key.privateKeyPem,
      });
      servers.push(server);
      return server.port;
    };
    const ports = {
      healthy: await serve(leaf(75.5)),
      soon: await serve(leaf(20.5)),
      urgent: await serve(leaf(3.5)),
      expired: await serve(leaf(-2.5)),
      hostile: await serve(
        leaf(45.5, {
          cn: HOSTILE_CN,
          subjectAttributes: [{ shortName: 'O', value: HOSTILE_ORG, valueTagClass: 12 }],
        }),
      ),
    };
    // A port nothing listens on: the connection is refused, an error row without a chain.
    const down = await serve(leaf(30));
    await servers.pop()?.close();

    const names = {
      healthy: 'shop',
      soon: 'api',
      urgent: 'billing',
      expired: 'legacy',
      hostile: 'hostile <b>name</b>',
      down: 'intranet',
    } as const;
    const rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, root.certPem);
    const endpoint = (role: FixtureRole, port: number, owner: string, tags: string[]) =>
      `  - { host: "127.0.0.1:${port}", name: ${JSON.stringify(names[role])}, owner: ${JSON.stringify(owner)}, tags: ${JSON.stringify(tags)} }`;
    const config = join(dir, 'certwatch.config.yaml');
    writeFileSync(
      config,
      [
        'defaults:',
        '  timeout: 3s',
        '  failuresBeforeAlert: 1',
        `  trust: { caFiles: [${JSON.stringify(rootFile)}], systemRoots: false }`,
        'endpoints:',
        endpoint('healthy', ports.healthy, 'team-web', ['prod', 'public']),
        endpoint('soon', ports.soon, 'team-api', ['prod']),
        endpoint('urgent', ports.urgent, 'team-web', ['prod', 'payments']),
        endpoint('expired', ports.expired, 'team-ops', ['legacy']),
        endpoint('hostile', ports.hostile, 'team-api', ['staging']),
        endpoint('down', down, 'team-ops', ['internal']),
        '',
      ].join('\n'),
    );
    const run = await runCli(['run', '--config', config, '--state-dir', stateDir]);
    if (!/^[0-3]$/.test(String(run.code)) || run.stderr.includes('Error'))
      throw new Error(`certwatch run failed (${run.code}): ${run.stderr}`);
    await addHistory(stateDir);
    return {
      dir,
      stateDir,
      names,
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/**
 * Eleven earlier checks per address, every six hours back, derived from its real newest result:
 * days left one more per day back, and every fourth check failed (refused, no chain).
 */
async function addHistory(stateDir: string): Promise<void> {
  const embedded = await openEmbeddedStateStore({ stateDir });
  try {
    for (const { state } of await embedded.store.listAllAddressStates()) {
      const [newest] = await embedded.store.listHistory(state.key, 1);
      if (!newest) continue;
      for (let k = 1; k <= 11; k++) {
        const at = Date.parse(newest.checkedAt) - k * 6 * HOUR;
        const failed = k % 4 === 0;
        const earlier: CheckResult = {
          ...newest,
          checkedAt: new Date(at).toISOString(),
          daysLeft: newest.daysLeft === null ? null : newest.daysLeft + Math.floor((k * 6) / 24),
          ...(failed
            ? {
                status: 'error',
                chain: [],
                daysLeft: null,
                notAfter: null,
                findings: [
                  { code: 'CONNECTION_REFUSED', severity: 'critical', message: 'connection refused' },
                ],
              }
            : {}),
        };
        await embedded.store.appendHistory(earlier, state.endpointId);
      }
    }
  } finally {
    await embedded.close();
  }
}
