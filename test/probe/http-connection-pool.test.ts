/**
 * Kept-alive connections of bounded fetches, against a loopback HTTP server that counts the TCP
 * connections it accepts: reused across requests, capped per origin, a connection the server
 * dropped is replaced once, an oversize body is never reused, and nothing is left open after
 * closeIdle() or the idle timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type BoundedRequest, boundedFetch } from '../../lambdas/probe/bounded-http';
import { HttpConnectionPool } from '../../lambdas/probe/http-connection-pool';

/** How the test server answers the n-th request (0-based) on a connection. */
type Script = (req: IncomingMessage, res: ServerResponse, nthOnConnection: number) => void;

interface CountingServer {
  readonly url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Connections the server still holds open. */
  readonly open: Set<Socket>;
  /** Resolves when every connection accepted so far has closed. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function startCountingServer(script: Script): Promise<CountingServer> {
  const open = new Set<Socket>();
  const closedWaiters: (() => void)[] = [];
  const perSocket = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    const nth = perSocket.get(req.socket) ?? 0;
    perSocket.set(req.socket, nth + 1);
    req.resume();
    req.on('end', () => script(req, res, nth));
  });
  servers.push(server);
  const state: CountingServer = {
    url: '',
    connections: 0,
    open,
    allClosed: () =>
      open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => closedWaiters.push(resolve)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    state.connections++;
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      if (open.size === 0) for (const wake of closedWaiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, { url: `http://127.0.0.1:${port}/r` });
}

/** Connections the pool holds, in use or idle. */
function openSockets(pool: HttpConnectionPool): number {
  return pool.live;
}

/** The pool's count of open connections once it settles: a destroyed socket's 'close' comes a loop turn later. */
async function openAfterSettling(pool: HttpConnectionPool): Promise<number> {
  for (let turn = 0; turn < 100 && openSockets(pool) > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return openSockets(pool);
}

const ok: Script = (_req, res) => res.end('answer');

function request(pool: HttpConnectionPool, overrides: Partial<BoundedRequest> = {}): BoundedRequest {
  return {
    timeoutMs: 5000,
    maxBytes: 1024,
    maxRedirects: 0,
    allowLoopback: true,
    accept: '*/*',
    post: { body: Buffer.from('question'), contentType: 'application/ocsp-request' },
    pool,
    ...overrides,
  };
}

const bodyOf = (fetched: Awaited<ReturnType<typeof boundedFetch>>) =>
  'body' in fetched ? fetched.body.toString() : fetched.error;

describe('HttpConnectionPool', () => {
  it('sends requests one after another over one connection, and closeIdle() closes it', async () => {
    // Prepare
    const server = await startCountingServer(ok);
    const pool = new HttpConnectionPool();

    // Act
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) bodies.push(bodyOf(await boundedFetch(server.url, request(pool))));
    const connectionsAfterRequests = server.connections;
    const openBeforeClose = openSockets(pool);
    pool.closeIdle();
    await server.allClosed();

    // Assess
    expect(bodies).toEqual(Array(5).fill('answer'));
    expect(connectionsAfterRequests).toBe(1);
    expect(openBeforeClose).toBe(1);
    expect(await openAfterSettling(pool)).toBe(0);
    expect(server.open.size).toBe(0);
  });

  it.each([
    { perOrigin: 1, concurrent: 6 },
    { perOrigin: 2, concurrent: 6 },
    { perOrigin: 4, concurrent: 12 },
  ])(
    'opens at most $perOrigin connections to one origin for $concurrent requests at once',
    async ({ perOrigin, concurrent }) => {
      // Prepare
      const server = await startCountingServer(ok);
      const pool = new HttpConnectionPool({ maxSocketsPerOrigin: perOrigin });

      // Act
      const fetched = await Promise.all(
        Array.from({ length: concurrent }, () => boundedFetch(server.url, request(pool))),
      );
      pool.closeIdle();
      await server.allClosed();

      // Assess
      expect(fetched.map(bodyOf)).toEqual(Array(concurrent).fill('answer'));
      expect(server.connections).toBeLessThanOrEqual(perOrigin);
      expect(server.connections).toBeGreaterThanOrEqual(1);
    },
  );

  it('sends the request again on a new connection when the server dropped the kept-alive one', async () => {
    // Prepare: the second request on any connection finds it closed, as when a server's idle
    // timeout fires just as the client reuses the socket.
    const server = await startCountingServer((req, res, nth) => {
      if (nth === 0) res.end('answer');
      else req.socket.destroy();
    });
    const pool = new HttpConnectionPool();
    const first = await boundedFetch(server.url, request(pool));

    // Act
    const second = await boundedFetch(server.url, request(pool));
    pool.closeIdle();
    await server.allClosed();

    // Assess
    expect(bodyOf(first)).toBe('answer');
    expect(bodyOf(second)).toBe('answer');
    expect(server.connections).toBe(2);
  });

  it('replaces a dropped connection once per request, never more', async () => {
    // Prepare: only the very first request is answered; every other one finds its connection dropped.
    let answered = 0;
    const server = await startCountingServer((req, res) => {
      if (answered++ === 0) res.end('answer');
      else req.socket.destroy();
    });
    const pool = new HttpConnectionPool({ maxSocketsPerOrigin: 1 });
    const first = await boundedFetch(server.url, request(pool));

    // Act
    const second = await boundedFetch(server.url, request(pool));
    pool.closeIdle();
    await server.allClosed();

    // Assess: the reused connection, then one new connection, then the failure.
    expect(bodyOf(first)).toBe('answer');
    expect(bodyOf(second)).toBe('request failed: ECONNRESET');
    expect(server.connections).toBe(2);
  });

  it('does not reuse a connection whose body was cut off at maxBytes', async () => {
    // Prepare
    const server = await startCountingServer((_req, res) => res.end('x'.repeat(2048)));
    const pool = new HttpConnectionPool();

    // Act
    const first = await boundedFetch(server.url, request(pool));
    const second = await boundedFetch(server.url, request(pool));
    await server.allClosed();

    // Assess
    expect(bodyOf(first)).toBe('the response is larger than 1024 bytes');
    expect(bodyOf(second)).toBe('the response is larger than 1024 bytes');
    expect(server.connections).toBe(2);
    expect(await openAfterSettling(pool)).toBe(0);
  });

  it('closes an idle connection by itself after idleTimeoutMs', async () => {
    // Prepare
    const server = await startCountingServer(ok);
    const pool = new HttpConnectionPool({ idleTimeoutMs: 50 });

    // Act
    const fetched = await boundedFetch(server.url, request(pool));
    await server.allClosed();

    // Assess
    expect(bodyOf(fetched)).toBe('answer');
    expect(await openAfterSettling(pool)).toBe(0);
  });

  it('lets a request waiting for a connection time out at its own deadline', async () => {
    // Prepare: the only connection is held by a request the server never answers.
    let asked = 0;
    const server = await startCountingServer((_req, res) => {
      if (asked++ > 0) res.end('answer');
    });
    const pool = new HttpConnectionPool({ maxSocketsPerOrigin: 1 });
    const hanging = boundedFetch(server.url, request(pool, { timeoutMs: 400 }));

    // Act
    const queued = await boundedFetch(server.url, request(pool, { timeoutMs: 100 }));
    await hanging;
    pool.closeIdle();
    await server.allClosed();

    // Assess
    expect(bodyOf(queued)).toBe('timed out after 100 ms');
    expect(await openAfterSettling(pool)).toBe(0);
  });

  it('hands a freed slot to the next waiter when one before it left at its deadline', async () => {
    // Prepare: the first request is held until the test lets it go; one slot per origin.
    let letGo: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    let asked = 0;
    const server = await startCountingServer((_req, res) => {
      if (asked++ === 0) void held.then(() => res.end('first'));
      else res.end('answer');
    });
    const pool = new HttpConnectionPool({ maxSocketsPerOrigin: 1 });
    const first = boundedFetch(server.url, request(pool));
    const leaving = boundedFetch(server.url, request(pool, { timeoutMs: 100 }));
    const staying = boundedFetch(server.url, request(pool, { timeoutMs: 5000 }));

    // Act
    const left = await leaving;
    letGo();
    const results = [bodyOf(await first), bodyOf(left), bodyOf(await staying)];
    pool.closeIdle();
    await server.allClosed();

    // Assess
    expect(results).toEqual(['first', 'timed out after 100 ms', 'answer']);
  });
});
