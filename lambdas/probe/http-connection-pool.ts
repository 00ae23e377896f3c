/**
 * Kept-alive plain-HTTP connections for the bounded fetches of one fetcher (OCSP responders, CRLs):
 * a 1,000-endpoint run asks the same few responders about a thousand leaves, and a new TCP
 * connection per answer costs more than the answer. Bounded: requests (so connections) in flight
 * per origin, idle connections kept and for how long. An idle connection never keeps the process
 * (or a Lambda invocation) alive, and `closeIdle()` ends them at once when a run is over.
 */
import { connect, type LookupFunction, type Socket } from 'node:net';

/** Limits of an {@link HttpConnectionPool}; the defaults are what the checker uses. */
export interface HttpConnectionPoolSettings {
  /**
   * Requests in flight at once to one origin (host and port); further requests wait in line. As
   * many as a default run checks at once (the config's checker concurrency is 10, bench and the
   * CLI's 32 to 128): fewer would make the responder's round trip the run's bottleneck, more would
   * open as many connections to one CA as there are checks. (All origins together are bounded by
   * the checks in flight: each asks one source at a time.)
   * @default 32
   */
  readonly maxSocketsPerOrigin?: number;
  /**
   * How long an idle connection is kept for the next request, in ms: shorter than servers' own
   * keep-alive timeouts (nginx 75 s, Node 5 s), so a server seldom closes a connection as it is reused.
   * @default 2000
   */
  readonly idleTimeoutMs?: number;
}

/** What a request waiting for a slot gives up on: its deadline. */
export interface Expiry {
  readonly expired: boolean;
  /** Calls `listener` when the deadline passes; the function returned forgets it. */
  onExpire(listener: () => void): () => void;
}

/** The request a connection carries: it gets the socket's events while it has the connection. */
export interface ConnectionUser {
  data(chunk: Buffer): void;
  failed(error: NodeJS.ErrnoException): void;
  /** The socket closed (after `failed`, if it failed). */
  closed(): void;
}

/** Where a new connection goes. */
export interface ConnectTarget {
  /** A name, or an IP literal without brackets (connected to without a lookup). */
  readonly host: string;
  readonly port: number;
  /** Resolves the name to an allowed address. */
  readonly lookup: LookupFunction;
}

/**
 * One TCP connection and the request on it, if any. Its listeners are set once: a request takes
 * the connection by becoming its `user`, so a kept-alive request adds and removes no listener.
 */
export class HttpConnection {
  user: ConnectionUser | null = null;
  /** Whether it has carried a request before (a reused connection may have been closed by the server). */
  reused = false;
  /** In its pool's idle list. */
  idle = false;

  constructor(
    readonly socket: Socket,
    readonly origin: string,
    pool: HttpConnectionPool | null,
    idleTimeoutMs: number,
  ) {
    // Unref'd from the start: an idle connection never keeps the process alive, and one in use is
    // kept alive by its request's deadline timer.
    socket.unref();
    // Counted from the last byte read or written; only an idle connection is closed by it (a
    // request in use is bounded by its own deadline).
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => {
      if (this.user === null) socket.destroy();
    });
    // Bytes nobody asked for put the connection out of step: close it.
    socket.on('data', (chunk: Buffer) => (this.user !== null ? this.user.data(chunk) : socket.destroy()));
    // A socket error while idle needs nothing more: 'close' follows and the pool forgets it.
    socket.on('error', (error) => this.user?.failed(error));
    socket.on('close', () => {
      pool?.forget(this);
      const { user } = this;
      this.user = null;
      user?.closed();
    });
  }
}

/** Opens a connection to `target` (not kept in any pool). */
export function openConnection(
  target: ConnectTarget,
  origin: string,
  pool: HttpConnectionPool | null = null,
) {
  const socket = connect({ host: target.host, port: target.port, lookup: target.lookup, noDelay: true });
  return new HttpConnection(socket, origin, pool, pool?.idleTimeoutMs ?? 0);
}

/** Kept-alive connections per origin, and the slots that bound what is in flight to each. */
export class HttpConnectionPool {
  /** Connections opened so far (the other requests reused one). */
  opened = 0;
  readonly idleTimeoutMs: number;
  private closed = 0;
  private readonly perOrigin: number;
  /** Per origin: requests in flight, and those waiting for a slot. */
  private readonly origins = new Map<string, { busy: number; waiting: (() => void)[] }>();
  /** Per origin: idle connections, the most recently used last. */
  private readonly idle = new Map<string, HttpConnection[]>();

  constructor({ maxSocketsPerOrigin = 32, idleTimeoutMs = 2000 }: HttpConnectionPoolSettings = {}) {
    this.perOrigin = maxSocketsPerOrigin;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** Connections open now, in use or idle. */
  get live(): number {
    return this.opened - this.closed;
  }

  /**
   * A slot for one request to `origin` (call the release function once its response is read or
   * it failed), or null when `expiry` passes while waiting. The slots bound the connections too:
   * each request in flight holds one, and only idle ones are kept.
   */
  async acquire(origin: string, expiry: Expiry): Promise<(() => void) | null> {
    for (;;) {
      if (expiry.expired) return null;
      let state = this.origins.get(origin);
      if (state === undefined) {
        state = { busy: 0, waiting: [] };
        this.origins.set(origin, state);
      }
      if (state.busy < this.perOrigin) {
        const taken = state;
        taken.busy++;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          taken.busy--;
          taken.waiting.shift()?.();
          if (taken.busy === 0 && taken.waiting.length === 0) this.origins.delete(origin);
        };
      }
      const { waiting } = state;
      await new Promise<void>((resolve) => {
        const forget = expiry.onExpire(() => {
          waiting.splice(waiting.indexOf(wake), 1);
          resolve();
        });
        const wake = () => {
          forget();
          resolve();
        };
        waiting.push(wake);
      });
    }
  }

  /** The most recently used idle connection to `origin` (its server is likeliest to keep it), if any. */
  take(origin: string): HttpConnection | undefined {
    const connections = this.idle.get(origin);
    if (connections === undefined) return undefined;
    let connection: HttpConnection | undefined;
    // One destroyed but not yet forgotten (its 'close' comes a loop turn later) is passed over.
    do {
      connection = connections.pop();
      if (connection !== undefined) connection.idle = false;
    } while (connection?.socket.destroyed);
    if (connections.length === 0) this.idle.delete(origin);
    if (connection !== undefined) connection.reused = true;
    return connection;
  }

  /** A new connection to `target`, counted in `opened`. */
  open(target: ConnectTarget, origin: string): HttpConnection {
    this.opened++;
    return openConnection(target, origin, this);
  }

  /** Keeps a connection whose response allowed it for the next request; closes it when it cannot be kept. */
  putBack(connection: HttpConnection): void {
    connection.user = null;
    const { socket, origin } = connection;
    let connections = this.idle.get(origin);
    if (socket.destroyed || (connections?.length ?? 0) >= this.perOrigin) {
      socket.destroy();
      return;
    }
    if (connections === undefined) {
      connections = [];
      this.idle.set(origin, connections);
    }
    connection.idle = true;
    connections.push(connection);
  }

  /** Forgets a connection that closed. */
  forget(connection: HttpConnection): void {
    this.closed++;
    if (!connection.idle) return;
    connection.idle = false;
    const connections = this.idle.get(connection.origin);
    if (connections === undefined) return;
    connections.splice(connections.indexOf(connection), 1);
    if (connections.length === 0) this.idle.delete(connection.origin);
  }

  /** Closes every idle connection now; connections in use close or return when their request ends. */
  closeIdle(): void {
    for (const connections of this.idle.values()) {
      for (const connection of connections) {
        connection.idle = false;
        connection.socket.destroy();
      }
    }
    this.idle.clear();
  }
}
