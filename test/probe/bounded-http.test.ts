/**
 * boundedFetch against raw `net` servers on loopback that answer exactly the bytes a test scripts:
 * hostile answers each end in one clear error (or the right body) within the deadline, never a
 * throw or a hang; kept-alive connections are reused only when the response allows it, most
 * recently used first; and the request goes out as one write.
 */
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BoundedFetch, type BoundedRequest, boundedFetch } from '../../lambdas/probe/bounded-http';
import { HttpConnectionPool } from '../../lambdas/probe/http-connection-pool';

const ROOT = resolve(__dirname, '../..');

/** What the server does with the n-th request (0-based) on its connection-th connection (0-based). */
type Answer = (socket: Socket, request: string, nthOnConnection: number, connection: number) => void;

interface RawServer {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections: number;
  /** The requests received, as text, in order. */
  readonly requests: string[];
}

const servers: { server: Server; sockets: Set<Socket> }[] = [];
const timers = new Set<NodeJS.Timeout>();

afterEach(async () => {
  for (const timer of timers) clearInterval(timer);
  timers.clear();
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  }
});

/** A server that reads each request whole (head, and the body its Content-Length declares) and hands it to `answer`. */
async function startRawServer(answer: Answer, host = '127.0.0.1'): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state = { url: '', port: 0, connections: 0, requests: [] as string[] };
  const server = createServer((socket) => {
    const connection = state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    let nth = 0;
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, headEnd))?.[1] ?? 0);
        if (pending.length < headEnd + 4 + length) return;
        const request = pending.slice(0, headEnd + 4 + length);
        pending = pending.slice(request.length);
        state.requests.push(request);
        answer(socket, request, nth++, connection);
      }
    });
  });
  servers.push({ server, sockets });
  await new Promise<void>((done) => server.listen(0, host, done));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://${host.includes(':') ? `[${host}]` : host}:${state.port}/ocsp`;
  return state;
}

/** Writes `head`, then `unit` again and again until the client goes away. */
function endless(socket: Socket, head: string, unit: string): void {
  const block = Buffer.from(unit.repeat(Math.ceil(4096 / unit.length)), 'latin1');
  socket.write(head);
  const more = () => {
    while (!socket.destroyed) if (!socket.write(block)) return void socket.once('drain', more);
  };
  more();
}

/** Writes `text` one byte every `intervalMs` (over again) until the client goes away. */
function trickle(socket: Socket, text: string, intervalMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(text[at++ % text.length]!, 'latin1');
  }, intervalMs);
  timers.add(timer);
}

const ok = (body = 'answer', extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;

function request(overrides: Partial<BoundedRequest> = {}): BoundedRequest {
  return {
    timeoutMs: 5000,
    maxBytes: 1024,
    maxRedirects: 0,
    allowLoopback: true,
    accept: 'application/ocsp-response',
    post: { body: Buffer.from('question'), contentType: 'application/ocsp-request' },
    ...overrides,
  };
}

const outcome = (fetched: BoundedFetch) =>
  'body' in fetched ? fetched.body.toString('latin1') : fetched.error;

/** Polls `value` until it is `expected` (or 2 s pass), then returns it. */
async function settled<T>(value: () => T, expected: T): Promise<T> {
  for (let turn = 0; turn < 200 && value() !== expected; turn++) await new Promise((r) => setTimeout(r, 10));
  return value();
}

describe('boundedFetch against hostile servers', () => {
  const cases: [string, Answer, string][] = [
    [
      'endless headers',
      (s) => endless(s, 'HTTP/1.1 200 OK\r\n', 'X-More: yes\r\n'),
      'malformed response: more than 100 header lines',
    ],
    [
      'a header line without end',
      (s) => endless(s, 'HTTP/1.1 200 OK\r\nX-Long: ', 'a'),
      'malformed response: headers longer than 16384 bytes',
    ],
    [
      'a status line without end',
      (s) => endless(s, 'HTTP/1.1 200 ', 'OK'),
      'malformed response: headers longer than 16384 bytes',
    ],
    [
      'a huge chunk size',
      (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nabc'),
      'the response is larger than 1024 bytes',
    ],
    [
      'a chunk size of 100 hex digits',
      (s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1'.repeat(100)}\r\n`),
      'malformed response: a chunk size of more than 8 hex digits',
    ],
    [
      'endless chunks',
      (s) => endless(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '4\r\nabcd\r\n'),
      'the response is larger than 1024 bytes',
    ],
    [
      'two differing Content-Lengths',
      (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 7\r\n\r\nanswer!'),
      'malformed response: differing Content-Length values',
    ],
    [
      'Content-Length with Transfer-Encoding',
      (s) =>
        s.write(
          'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nanswer\r\n0\r\n\r\n',
        ),
      'malformed response: both Content-Length and Transfer-Encoding',
    ],
    [
      'a bare LF',
      (s) => s.write('HTTP/1.1 200 OK\nContent-Length: 6\n\nanswer'),
      'malformed response: a line ends in LF without CR',
    ],
    [
      'NUL bytes',
      (s) => s.write('HTTP/1.1 200 OK\r\nX-A: \0\0\r\nContent-Length: 6\r\n\r\nanswer'),
      'malformed response: a NUL byte',
    ],
    [
      'a close in the middle of the body',
      (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\nans'),
      'the connection closed early',
    ],
    ['a close before the status line', (s) => s.end(), 'request failed: ECONNRESET'],
    ['a reset before the status line', (s) => s.resetAndDestroy(), 'request failed: ECONNRESET'],
    [
      'a flood of 1xx responses',
      (s) => endless(s, '', 'HTTP/1.1 100 Continue\r\n\r\n'),
      'malformed response: more than 5 interim (1xx) responses',
    ],
    ['a 404', (s) => s.write('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found'), 'HTTP 404'],
  ];
  it.each(cases)('ends %s in one clear error', async (_name, answer, error) => {
    // Prepare
    const server = await startRawServer(answer);
    // Act
    const fetched = await boundedFetch(server.url, request());
    // Assess: the error, not the deadline.
    expect(fetched).toEqual({ error, cacheable: true });
  });

  it('gives up on a trickle of one byte at a time at the deadline', async () => {
    // Prepare
    const server = await startRawServer((s) => trickle(s, ok('x'.repeat(900)), 5));
    // Act
    const fetched = await boundedFetch(server.url, request({ timeoutMs: 300 }));
    // Assess
    expect(fetched).toEqual({ error: 'timed out after 300 ms', cacheable: false });
  });

  it('reads a whole response that trickles in one byte at a time', async () => {
    // Prepare
    const server = await startRawServer((s) => trickle(s, ok('tiny'), 1));
    // Act
    const fetched = await boundedFetch(server.url, request());
    // Assess
    expect(outcome(fetched)).toBe('tiny');
  });

  it('reads a chunked body and reports its Content-Type', async () => {
    // Prepare
    const server = await startRawServer((s) =>
      s.write(
        'HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nans\r\n3\r\nwer\r\n0\r\n\r\n',
      ),
    );
    // Act
    const fetched = await boundedFetch(server.url, request());
    // Assess
    expect(fetched).toEqual({ body: Buffer.from('answer'), contentType: 'application/pkix-crl' });
  });

  it('reads a body that ends with the connection', async () => {
    // Prepare
    const server = await startRawServer((s) => s.end('HTTP/1.0 200 OK\r\n\r\nanswer'));
    // Act
    const fetched = await boundedFetch(server.url, request());
    // Assess
    expect(fetched).toEqual({ body: Buffer.from('answer'), contentType: null });
  });
});

describe('boundedFetch requests', () => {
  it('sends the request as one write: the head, then the body', async () => {
    // Prepare: count the writes of the client's sockets to the server.
    const server = await startRawServer((s) => s.write(ok()));
    const writes: string[] = [];
    type Method = (this: Socket, ...args: unknown[]) => unknown;
    const proto = Socket.prototype as unknown as Record<string, Method>;
    const originals = { write: proto.write!, _writev: proto._writev! };
    for (const [name, original] of Object.entries(originals)) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        if (this.connecting || this.remotePort === server.port) writes.push(name);
        return original.apply(this, args);
      };
    }

    // Act
    let fetched: BoundedFetch;
    try {
      fetched = await boundedFetch(server.url, request());
    } finally {
      Object.assign(proto, originals);
    }

    // Assess
    expect(outcome(fetched)).toBe('answer');
    expect(writes).toEqual(['write']);
    expect(server.requests).toEqual([
      `POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAccept: application/ocsp-response\r\n` +
        'User-Agent: certwatch\r\nConnection: close\r\nContent-Type: application/ocsp-request\r\n' +
        'Content-Length: 8\r\n\r\nquestion',
    ]);
  });

  it('fetches from an IPv6 literal, in brackets in the URL and the Host header', async (ctx) => {
    // Prepare
    let server: RawServer;
    try {
      server = await startRawServer((s) => s.write(ok()), '::1');
    } catch {
      ctx.skip();
      return;
    }
    // Act
    const fetched = await boundedFetch(server.url, request({ post: undefined }));
    // Assess
    expect(outcome(fetched)).toBe('answer');
    expect(server.requests[0]).toMatch(
      new RegExp(`^GET /ocsp HTTP/1.1\r\nHost: \\[::1\\]:${server.port}\r\n`),
    );
  });

  it("judges the same URL by each request's own allowLoopback", async () => {
    // Prepare
    const server = await startRawServer((s) => s.write(ok()));
    // Act
    const verdicts: string[] = [];
    for (const allowLoopback of [true, false, true]) {
      verdicts.push(outcome(await boundedFetch(server.url, request({ allowLoopback }))));
    }
    // Assess
    expect(verdicts).toEqual(['answer', 'not fetched from 127.0.0.1: a loopback address', 'answer']);
    expect(server.requests.length).toBe(2);
  });

  it('does not follow a redirect of a POST', async () => {
    // Prepare
    const server = await startRawServer((s) =>
      s.write('HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n'),
    );
    // Act
    const fetched = await boundedFetch(server.url, request({ maxRedirects: 3 }));
    // Assess
    expect(outcome(fetched)).toBe('HTTP 302');
    expect(server.requests.length).toBe(1);
  });
});

describe('boundedFetch connection reuse', () => {
  /** Two requests one after the other through one pool: how many connections the server saw. */
  async function connectionsForTwo(answer: Answer): Promise<{ bodies: string[]; connections: number }> {
    const server = await startRawServer(answer);
    const pool = new HttpConnectionPool();
    const bodies: string[] = [];
    for (let i = 0; i < 2; i++) bodies.push(outcome(await boundedFetch(server.url, request({ pool }))));
    pool.closeIdle();
    return { bodies, connections: server.connections };
  }

  const cases: [string, Answer, number][] = [
    ['an HTTP/1.1 response', (s) => s.write(ok()), 1],
    [
      'a chunked response',
      (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nanswer\r\n0\r\n\r\n'),
      1,
    ],
    [
      'an HTTP/1.0 response with keep-alive',
      (s) => s.write(ok().replace('1.1', '1.0').replace('\r\n', '\r\nConnection: keep-alive\r\n')),
      1,
    ],
    ['an HTTP/1.0 response', (s) => s.write(ok().replace('1.1', '1.0')), 2],
    ['a Connection: close response', (s) => s.write(ok('answer', 'Connection: close\r\n')), 2],
    ['a body that ended with the connection', (s) => s.end('HTTP/1.1 200 OK\r\n\r\nanswer'), 2],
    ['a body longer than its Content-Length', (s) => s.write(`${ok()}MORE BYTES`), 2],
    [
      'an error status',
      (s, _r, _n, connection) =>
        s.write(connection === 0 ? 'HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n' : ok()),
      2,
    ],
  ];
  const named = cases.map(([name, answer, connections]) => ({ name, answer, connections }));
  it.each(named)(
    'after $name: $connections connection(s) for two requests',
    async ({ answer, connections }) => {
      // Act
      const seen = await connectionsForTwo(answer);
      // Assess
      expect(seen.connections).toBe(connections);
      expect(seen.bodies[1]).toBe('answer');
    },
  );

  it('does not reuse a connection whose request timed out', async () => {
    // Prepare: the first request on the first connection is never answered.
    const server = await startRawServer((s, _r, _n, connection) => {
      if (connection > 0) s.write(ok());
    });
    const pool = new HttpConnectionPool();
    // Act
    const first = await boundedFetch(server.url, request({ pool, timeoutMs: 100 }));
    const second = await boundedFetch(server.url, request({ pool }));
    pool.closeIdle();
    // Assess
    expect([outcome(first), outcome(second)]).toEqual(['timed out after 100 ms', 'answer']);
    expect(server.connections).toBe(2);
  });

  it('closes an idle connection that receives bytes nobody asked for', async () => {
    // Prepare: more bytes come 20 ms after the answer, while the connection is idle.
    const server = await startRawServer((s) => {
      s.write(ok());
      setTimeout(() => s.destroyed || s.write('HTTP/1.1 200 OK\r\n'), 20);
    });
    const pool = new HttpConnectionPool();
    // Act
    const first = await boundedFetch(server.url, request({ pool }));
    const live = await settled(() => pool.live, 0);
    // Assess
    expect(outcome(first)).toBe('answer');
    expect(live).toBe(0);
  });

  it('forgets an idle connection the server closed, and opens a new one without a retry', async () => {
    // Prepare: the server closes each connection 20 ms after its answer.
    const server = await startRawServer((s) => {
      s.write(ok());
      setTimeout(() => s.end(), 20);
    });
    const pool = new HttpConnectionPool();
    const first = await boundedFetch(server.url, request({ pool }));
    const liveAfterClose = await settled(() => pool.live, 0);
    // Act
    const second = await boundedFetch(server.url, request({ pool }));
    pool.closeIdle();
    // Assess
    expect([outcome(first), outcome(second)]).toEqual(['answer', 'answer']);
    expect(liveAfterClose).toBe(0);
    expect(pool.opened).toBe(2);
    expect(server.requests.length).toBe(2);
  });

  it('reuses the most recently returned connection first', async () => {
    // Prepare: the first connection answers its first request 50 ms late, so it is returned last;
    // each answer names its connection.
    const server = await startRawServer((s, _r, nth, connection) => {
      const answer = () => s.write(ok(`connection ${connection}`));
      if (connection === 0 && nth === 0) setTimeout(answer, 50);
      else answer();
    });
    const pool = new HttpConnectionPool();
    const both = await Promise.all([0, 1].map(() => boundedFetch(server.url, request({ pool }))));
    // Act
    const next = await boundedFetch(server.url, request({ pool }));
    pool.closeIdle();
    // Assess
    expect(both.map(outcome).sort()).toEqual(['connection 0', 'connection 1']);
    expect(outcome(next)).toBe('connection 0');
  });

  it('never keeps the process alive with an idle connection', async () => {
    // Prepare: a child fetches through a pool whose idle connections would live a minute, and
    // never closes them.
    const server = await startRawServer((s) => s.write(ok()));
    const script = `
      const { boundedFetch } = require('./lambdas/probe/bounded-http.ts');
      const { HttpConnectionPool } = require('./lambdas/probe/http-connection-pool.ts');
      const pool = new HttpConnectionPool({ idleTimeoutMs: 60000 });
      boundedFetch('${server.url}', { timeoutMs: 5000, maxBytes: 1024, maxRedirects: 0, allowLoopback: true,
        accept: '*/*', pool }).then((f) => console.log(f.body ? f.body.toString() : f.error, pool.live));`;
    // Act
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    // Assess: it exited on its own, long before the idle timeout, with the connection still kept.
    expect(code).toBe(0);
    expect(output.trim()).toBe('answer 1');
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
