/**
 * `npm run bench:http`: the CPU one OCSP-sized exchange through `boundedFetch` costs the client.
 * Each measured batch is N POSTs of an 80-byte body, answered with 1.5 KB by a loopback server in a
 * child process (its CPU is not counted), `--in-flight` at once over kept-alive connections of one
 * pool, as the revocation fetcher sends them. A batch runs in a fresh client process (after a
 * warm-up batch of its own), so each reports `process.cpuUsage` of the client alone.
 *
 * With `--before DIR` (the lambdas/probe folder of another checkout, e.g. an export of main) each
 * round runs both, in turn and in alternating order, so both see the same machine; the verdict is
 * the median of each and the ratio of the medians.
 *
 * Usage: npm run bench:http -- [--requests 5000] [--rounds 7] [--in-flight 32] [--before DIR]
 * Talks only to 127.0.0.1; the server child is stopped at the end.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(__dirname, '..');
const CURRENT = join(ROOT, 'lambdas', 'probe');
const REQUEST_BYTES = 80;
const RESPONSE_BYTES = 1536;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '7' },
    'in-flight': { type: 'string', default: '32' },
    before: { type: 'string' },
    // Internal: one client batch against --url with the implementation in --implementation.
    client: { type: 'boolean', default: false },
    url: { type: 'string' },
    implementation: { type: 'string' },
  },
});

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(
      `bench:http: --${name}: expected a whole number from ${min} to ${max}, got '${text}'\n`,
    );
    process.exit(2);
  }
  return n;
}

const REQUESTS = wholeNumber('requests', values.requests, 100, 1_000_000);
const ROUNDS = wholeNumber('rounds', values.rounds, 1, 101);
const IN_FLIGHT = wholeNumber('in-flight', values['in-flight'], 1, 1024);

/** One client batch's cost. */
interface Batch {
  readonly cpuUsPerRequest: number;
  readonly wallMs: number;
  readonly connections: number;
}

/** The server child: answers every request with RESPONSE_BYTES, keeping connections alive. */
const SERVER = `
  const body = Buffer.alloc(${RESPONSE_BYTES}, 0x30);
  const server = require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(body));
  });
  server.keepAliveTimeout = 10000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
  process.on('disconnect', () => process.exit(0));`;

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (chunk: Buffer) =>
      resolve({ child, url: `http://127.0.0.1:${chunk.toString().trim()}/ocsp` }),
    );
  });
}

/** Runs `count` POSTs, IN_FLIGHT at a time, through the implementation's boundedFetch and one pool. */
async function clientBatch(url: string, dir: string): Promise<Batch> {
  const { boundedFetch } = require(
    join(dir, 'bounded-http.ts'),
  ) as typeof import('../lambdas/probe/bounded-http');
  const { HttpConnectionPool } = require(
    join(dir, 'http-connection-pool.ts'),
  ) as typeof import('../lambdas/probe/http-connection-pool');
  const pool = new HttpConnectionPool();
  const body = Buffer.alloc(REQUEST_BYTES, 0x61);
  const options = {
    timeoutMs: 5000,
    maxBytes: 64 * 1024,
    maxRedirects: 0,
    allowLoopback: true,
    accept: 'application/ocsp-response',
    post: { body, contentType: 'application/ocsp-request' },
    pool,
  };
  const run = async (count: number) => {
    let next = 0;
    const worker = async () => {
      while (next++ < count) {
        const fetched = await boundedFetch(url, options);
        if ('error' in fetched) throw new Error(fetched.error);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  };
  await run(Math.min(REQUESTS, 2000));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run(REQUESTS);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  const connections = pool.opened;
  pool.closeIdle();
  return { cpuUsPerRequest: (used.user + used.system) / REQUESTS, wallMs, connections };
}

function runClient(url: string, dir: string): Batch {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      __filename,
      '--client',
      '--url',
      url,
      '--implementation',
      dir,
      '--requests',
      String(REQUESTS),
      '--in-flight',
      String(IN_FLIGHT),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Batch;
}

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  if (values.client) {
    const batch = await clientBatch(values.url!, values.implementation!);
    process.stdout.write(`${JSON.stringify(batch)}\n`);
    return;
  }
  const sides: [string, string][] = [['this checkout', CURRENT]];
  if (values.before !== undefined) sides.push(['before', resolve(values.before)]);
  const { child, url } = await startServer();
  const batches = new Map<string, Batch[]>(sides.map(([name]) => [name, []]));
  try {
    process.stdout.write(
      `${REQUESTS} POSTs (${REQUEST_BYTES} B out, ${RESPONSE_BYTES} B back), ${IN_FLIGHT} in flight, ` +
        `${ROUNDS} rounds, load ${loadavg()[0]!.toFixed(2)}\n`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const [name, dir] of order) {
        const batch = runClient(url, dir);
        batches.get(name)!.push(batch);
        process.stdout.write(
          `  round ${round + 1} ${name}: ${batch.cpuUsPerRequest.toFixed(1)} µs CPU/request, ` +
            `${batch.wallMs.toFixed(0)} ms wall, ${batch.connections} connections\n`,
        );
      }
    }
  } finally {
    child.kill();
  }
  const medians = sides.map(([name]) => {
    const list = batches.get(name)!;
    const cpu = median(list.map((b) => b.cpuUsPerRequest));
    const wall = median(list.map((b) => b.wallMs));
    process.stdout.write(`${name}: median ${cpu.toFixed(1)} µs CPU/request, ${wall.toFixed(0)} ms wall\n`);
    return { cpu, wall };
  });
  if (medians.length === 2) {
    const [now, before] = medians as [{ cpu: number; wall: number }, { cpu: number; wall: number }];
    process.stdout.write(
      `ratio (this / before): CPU ${(now.cpu / before.cpu).toFixed(2)}, wall ${(now.wall / before.wall).toFixed(2)}\n`,
    );
  }
}

main().catch((error) => {
  process.stderr.write(`bench:http: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
