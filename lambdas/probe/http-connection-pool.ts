/**
 * Kept-alive plain-HTTP connections for the bounded fetches of one fetcher (OCSP responders, CRLs):
 * a 1,000-endpoint run asks the same few responders about a thousand leaves, and a new TCP
 * connection per answer costs more than the answer. Bounded: requests (so connections) in flight
 * per origin and in all, idle connections kept and for how long. An idle connection never keeps
 * the process (or a Lambda invocation) alive, and `closeIdle()` ends them at once when a run is over.
 */
import { Agent } from 'node:http';
import type { Socket } from 'node:net';

/** Limits of an {@link HttpConnectionPool}; the defaults are what the checker uses. */
export interface HttpConnectionPoolSettings {
  /**
   * Requests in flight at once to one origin (host and port); further requests wait in line. As
   * many as a default run checks at once (the config's checker concurrency is 10, bench and the
   * CLI's 32 to 128): fewer would make the responder's round trip the run's bottleneck, more would
   * open as many connections to one CA as there are checks.
   * @default 32
   */
  readonly maxSocketsPerOrigin?: number;
  /** Requests in flight at once, all origins together. @default 128 */
  readonly maxSockets?: number;
  /**
   * How long an idle connection is kept for the next request, in ms: shorter than servers' own
   * keep-alive timeouts (nginx 75 s, Node 5 s), so a server seldom closes a connection as it is reused.
   * @default 2000
   */
  readonly idleTimeoutMs?: number;
}

const DEFAULTS = {
  maxSocketsPerOrigin: 32,
  maxSockets: 128,
  idleTimeoutMs: 2000,
} satisfies Required<HttpConnectionPoolSettings>;

interface Waiter {
  readonly origin: string;
  readonly grant: (release: () => void) => void;
}

/** A keep-alive agent, the slots that bound what is in flight through it, and a way to close what it keeps. */
export class HttpConnectionPool {
  readonly agent: Agent;
  private readonly settings: Required<HttpConnectionPoolSettings>;
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  private readonly waiters: Waiter[] = [];
  /** Connections opened so far (the rest of the requests reused one). */
  opened = 0;

  constructor(overrides: HttpConnectionPoolSettings = {}) {
    this.settings = { ...DEFAULTS, ...overrides };
    // The agent itself queues nothing (no maxSockets): a request queued in an agent and then
    // aborted still gets a connection opened for it later, which nothing bounds. The slots below
    // bound the requests instead, and a request waiting for one leaves at its own deadline.
    // Idle sockets are unref'd by the agent and destroyed after `timeout`.
    this.agent = new Agent({
      keepAlive: true,
      maxFreeSockets: this.settings.maxSocketsPerOrigin,
      timeout: this.settings.idleTimeoutMs,
      scheduling: 'lifo',
    });
    const open = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = (...args: Parameters<Agent['createConnection']>) => {
      this.opened++;
      return open(...args);
    };
  }

  /**
   * A slot for one request to `origin` (call the release function when its response is read or
   * it failed), or null when `signal` aborts while waiting.
   */
  acquire(origin: string, signal: AbortSignal): Promise<(() => void) | null> {
    if (signal.aborted) return Promise.resolve(null);
    if (this.fits(origin)) return Promise.resolve(this.take(origin));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        origin,
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(null);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Closes every idle connection now; connections in use close or return when their request ends. */
  closeIdle(): void {
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of [...((sockets ?? []) as Socket[])]) socket.destroy();
    }
  }

  /** Connections open now, in use or idle (tests and logs). */
  get openSockets(): number {
    let n = 0;
    for (const group of [this.agent.sockets, this.agent.freeSockets]) {
      for (const sockets of Object.values(group)) n += sockets?.length ?? 0;
    }
    return n;
  }

  private fits(origin: string): boolean {
    return (
      this.total < this.settings.maxSockets &&
      (this.inFlight.get(origin) ?? 0) < this.settings.maxSocketsPerOrigin
    );
  }

  private take(origin: string): () => void {
    this.total++;
    this.inFlight.set(origin, (this.inFlight.get(origin) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.inFlight.get(origin) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(origin);
      else this.inFlight.set(origin, left);
      const next = this.waiters.findIndex((w) => this.fits(w.origin));
      if (next >= 0) {
        const [waiter] = this.waiters.splice(next, 1);
        waiter!.grant(this.take(waiter!.origin));
      }
    };
  }
}
