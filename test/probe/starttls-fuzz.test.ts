import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_ERROR_CODES } from '../../lambdas/core/findings';
import type { ProbeOutcome } from '../../lambdas/core/model';
import { probeAddress } from '../../lambdas/probe/probe-address';
import { makePki, type TestPki } from '../support/cert-factory';
import {
  CLIENT_SPEAKS_FIRST,
  type Conversation,
  FIRST_SERVER_MESSAGE,
  type LoopbackServer,
  STARTTLS_PROTOCOLS,
  type StartTlsProtocol,
  startScriptServer,
} from '../support/starttls-servers';

const ITERATIONS = 30;
const CONCURRENCY = 10;
const TIMEOUT_MS = 300;
const SEED = 0x5a17;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The i-th answer: the protocol's real first message, damaged, then a close, silence or more noise. */
function mutated(random: () => number, message: Buffer): { bytes: Buffer; then: 'close' | 'hang' | 'noise' } {
  const int = (n: number) => Math.floor(random() * n);
  const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const strategies: (() => Buffer)[] = [
    () => {
      const copy = Buffer.from(message);
      for (let flips = 1 + int(6); flips > 0; flips--) {
        const at = int(copy.length);
        copy[at] = copy[at]! ^ (1 + int(255));
      }
      return copy;
    },
    () => message.subarray(0, int(message.length)),
    () => {
      const at = int(message.length + 1);
      return Buffer.concat([message.subarray(0, at), noise(1 + int(64)), message.subarray(at)]);
    },
    () => noise(int(512)),
    () => Buffer.concat([message, message, noise(int(32))]),
  ];
  const then = (['close', 'hang', 'noise'] as const)[int(3)]!;
  return { bytes: strategies[int(strategies.length)]!(), then };
}

let pki: TestPki;
const servers: LoopbackServer[] = [];

beforeAll(() => {
  pki = makePki();
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fuzzServer(protocol: StartTlsProtocol, random: () => number): Promise<LoopbackServer> {
  const script = async (c: Conversation) => {
    const { bytes, then } = mutated(random, FIRST_SERVER_MESSAGE[protocol]);
    // A client-first protocol gets its answer once it has sent something.
    if (CLIENT_SPEAKS_FIRST[protocol]) await c.bytes(1);
    c.write(bytes);
    if (then === 'close') c.socket.end();
    if (then === 'noise') c.write(Buffer.from(Array.from({ length: 256 }, () => Math.floor(random() * 256))));
  };
  const server = await startScriptServer(
    { chainPem: pki.leaf.certPem, keyPem: pki.leaf.key.privateKeyPem },
    script,
  );
  servers.push(server);
  return server;
}

describe('protocol readers under mutated server bytes', () => {
  it.each(STARTTLS_PROTOCOLS)(
    '%s: every answer ends in a classified failure with a clean, bounded message',
    async (protocol) => {
      // Prepare
      const server = await fuzzServer(protocol, prng(SEED + protocol.length));
      const outcomes: ProbeOutcome[] = [];

      // Act
      for (let i = 0; i < ITERATIONS; i += CONCURRENCY) {
        const batch = Array.from({ length: Math.min(CONCURRENCY, ITERATIONS - i) }, () =>
          probeAddress({
            host: 'localhost',
            port: server.port,
            address: server.host,
            protocol,
            timeoutMs: TIMEOUT_MS,
          }),
        );
        outcomes.push(...(await Promise.all(batch)));
      }

      // Assess
      expect(outcomes).toHaveLength(ITERATIONS);
      for (const outcome of outcomes) {
        expect(outcome.error).not.toBeNull();
        expect(PROBE_ERROR_CODES).toContain(outcome.error!.code);
        expect(outcome.error!.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        expect(outcome.error!.message.length).toBeLessThan(600);
      }
    },
  );
});
