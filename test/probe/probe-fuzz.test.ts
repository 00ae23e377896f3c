import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINDING_CODES, type ProbeOutcome } from '../../lambdas/core/model';
import { probeAddress } from '../../lambdas/probe/probe-address';
import { makePki, type TestPki } from '../support/cert-factory';
import {
  type ClientHello,
  recordHeader,
  startScriptedServer,
  type TestServer,
  tls12ServerFlight,
  tls13ServerFlight,
} from '../support/tls-test-servers';

const ITERATIONS = 200;
const CONCURRENCY = 10;
const TIMEOUT_MS = 300;
const SEED = 0xc3e7;

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

type Mutation = (hello: ClientHello) => Buffer;

/** The i-th answer to a ClientHello: a real server flight, damaged in one of several ways. */
function mutation(random: () => number, pki: TestPki): Mutation {
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const chain = [pki.leaf.der, pki.intermediate.der];
  const base = (hello: ClientHello) =>
    random() < 0.5 ? tls12ServerFlight(hello, chain) : tls13ServerFlight(hello, chain);
  const strategies: Mutation[] = [
    (hello) => {
      const flight = base(hello);
      for (let flips = 1 + int(8); flips > 0; flips--) {
        const at = int(flight.length);
        flight[at] = flight[at]! ^ (1 + int(255));
      }
      return flight;
    },
    (hello) => {
      const flight = base(hello);
      return flight.subarray(0, int(flight.length));
    },
    (hello) => {
      const flight = base(hello);
      const at = int(flight.length);
      return Buffer.concat([flight.subarray(0, at), bytes(1 + int(64)), flight.subarray(at)]);
    },
    () => {
      const records = Array.from({ length: 1 + int(6) }, () => {
        const payload = bytes(int(300));
        return Buffer.concat([recordHeader(20 + int(4), payload.length), payload]);
      });
      return Buffer.concat(records);
    },
    (hello) => {
      // A length field somewhere in the first records set to an extreme.
      const flight = base(hello);
      const at = int(Math.min(flight.length - 3, 200));
      flight.writeUIntBE([0, 0xffffff, 1 + int(0xffffff)][int(3)]!, at, 3);
      return flight;
    },
    () => bytes(1 + int(2000)),
  ];
  return strategies[int(strategies.length)]!;
}

function assertWellFormed(outcome: ProbeOutcome): void {
  expect(typeof outcome.durationMs).toBe('number');
  expect(Array.isArray(outcome.chainDer)).toBe(true);
  for (const der of outcome.chainDer) expect(der).toBeInstanceOf(Uint8Array);
  if (outcome.error === null) {
    expect(typeof outcome.protocol).toBe('string');
  } else {
    expect(FINDING_CODES).toContain(outcome.error.code);
    expect(outcome.error.message.length).toBeGreaterThan(0);
    expect(outcome.protocol).toBeNull();
  }
}

describe('probeAddress under fuzzed server flights', () => {
  let closing: TestServer;
  let hanging: TestServer;
  const unexpected: unknown[] = [];
  const onUnexpected = (error: unknown) => unexpected.push(error);

  beforeAll(async () => {
    const pki = makePki();
    const random = prng(SEED);
    const mutations = Array.from({ length: ITERATIONS }, () => mutation(random, pki));
    // Each connection gets the next mutation; the set of cases is fixed by the seed.
    let next = 0;
    const respond = (hello: ClientHello) => mutations[next++ % ITERATIONS]!(hello);
    closing = await startScriptedServer({ respond, afterwards: 'close' });
    hanging = await startScriptedServer({ respond, afterwards: 'hang' });
    process.on('unhandledRejection', onUnexpected);
    process.on('uncaughtException', onUnexpected);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnexpected);
    process.off('uncaughtException', onUnexpected);
    await Promise.all([closing?.close(), hanging?.close()]);
  });

  it(`always resolves with a well-formed outcome (${ITERATIONS} cases, seed ${SEED})`, async () => {
    // Prepare
    const outcomes: ProbeOutcome[] = [];

    // Act
    for (let i = 0; i < ITERATIONS; i += CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, ITERATIONS - i) }, (_, j) => {
        // Every fifth case leaves the connection open, so the deadline path is fuzzed too.
        const server = (i + j) % 5 === 0 ? hanging : closing;
        return probeAddress({
          host: 'localhost',
          port: server.port,
          address: server.host,
          servername: 'localhost',
          timeoutMs: TIMEOUT_MS,
        });
      });
      outcomes.push(...(await Promise.all(batch)));
    }
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(outcomes).toHaveLength(ITERATIONS);
    for (const outcome of outcomes) assertWellFormed(outcome);
    expect(unexpected).toEqual([]);
    // The mutations are not all fatal in the same way: the probe must have seen several kinds of failure.
    expect(new Set(outcomes.map((o) => o.error?.code)).size).toBeGreaterThanOrEqual(3);
  });
});
