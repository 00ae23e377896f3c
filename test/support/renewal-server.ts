/**
 * A loopback TLS server for scenarios over many runs on a faked clock: its
 * certificate (issued at test time) expires 40.5 days after `realNow`, and a
 * renewed one (130.5 days) can be switched in. The server can be stopped and
 * started again on the same port to model an outage.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import type { Endpoint } from '../../lambdas/core/model';
import { makeCert, makePki, type TestCert, type TestPki } from './cert-factory';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export interface RenewalServer {
  /** The real time the certificates were made relative to; the faked clock starts here. */
  readonly realNow: number;
  readonly pki: TestPki;
  readonly port: number;
  /** The server as an endpoint named `shop`: default thresholds, 2 failures before an alert, 24 h reminders. */
  readonly endpoint: Endpoint;
  /** Serve the renewed certificate from now on. */
  renew(): void;
  /** Stop listening (an outage); `start` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server if it is listening. */
  close(): Promise<void>;
}

export async function startRenewalServer(): Promise<RenewalServer> {
  const realNow = Date.now();
  const pki = makePki({ notAfter: new Date(realNow + 40.5 * DAY) });
  const renewed = makeCert({
    cn: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: pki.intermediate,
    notAfter: new Date(realNow + 130.5 * DAY),
  });
  const chainOf = (leaf: TestCert) => ({
    cert: leaf.certPem + pki.intermediate.certPem,
    key: leaf.key.privateKeyPem,
  });
  const server: Server = createServer(chainOf(pki.leaf));
  const listen = (p: number) =>
    new Promise<void>((resolve) => server.listen(p, '127.0.0.1', () => resolve()));
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    realNow,
    pki,
    port,
    endpoint: {
      id: `127.0.0.1:${port}`,
      host: '127.0.0.1',
      port,
      name: 'shop',
      owner: 'web-team',
      tags: [],
      channels: [],
      timeoutMs: 2000,
      policy: {
        thresholdsDays: [30, 14, 7, 3, 1],
        expiry: { warnDays: 30, criticalDays: 7 },
        failuresBeforeAlert: 2,
        renotifyIntervalMs: 24 * HOUR,
      },
    },
    renew: () => server.setSecureContext(chainOf(renewed)),
    stop,
    start: () => listen(port),
    close: async () => {
      if (server.listening) await stop();
    },
  };
}
