/**
 * Kept-alive plain-HTTP connections for the bounded fetches of one fetcher (OCSP responders, CRLs):
 * a 1,000-endpoint run asks the same few responders about a thousand leaves, and a new TCP
 * connection per answer costs more than the answer. Bounded: requests (so connections) in flight
 * per origin and in all, idle connections kept and for how long. An idle connection never keeps
 * the process (or a Lambda invocation) alive, and `closeIdle()` ends them at once when a run is over.
 * The agent is made on the first request, when `node:http` is loaded (lazy-http.ts).
 */
import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { loadHttp } from './lazy-http';

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

/** A keep-alive agent, the slots that bound what is in flight through it, and a way to close what it keeps. */
export class HttpConnectionPool {
  /** Connections opened so far (the other requests reused one). */
  opened = 0;
  private readonly perOrigin: number;
  private readonly idleTimeoutMs: number;
  private made: Agent | undefined;
  /** Per origin: requests in flight, and those waiting for a slot. */
  private readonly origins = new Map<string, { busy: number; waiting: (() => void)[] }>();

  constructor({ maxSocketsPerOrigin = 32, idleTimeoutMs = 2000 }: HttpConnectionPoolSettings = {}) {
    this.perOrigin = maxSocketsPerOrigin;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** The keep-alive agent; undefined until the first request. */
  get agent(): Agent | undefined {
    return this.made;
  }

  /** The agent, made (and `node:http` loaded) on the first call. */
  async ready(): Promise<Agent> {
    if (this.made !== undefined) return this.made;
    const { Agent } = await loadHttp();
    if (this.made !== undefined) return this.made;
    // The agent itself queues nothing (no maxSockets): a request queued in an agent and then
    // aborted still gets a connection opened for it later, which nothing bounds. The slots below
    // bound the requests instead, and a request waiting for one leaves at its own deadline.
    // Idle sockets are unref'd by the agent and destroyed after `timeout`.
    const agent = new Agent({
      keepAlive: true,
      maxFreeSockets: this.perOrigin,
      timeout: this.idleTimeoutMs,
      scheduling: 'lifo',
    });
    const open = agent.createConnection.bind(agent);
    agent.createConnection = (...args: Parameters<Agent['createConnection']>) => {
      this.opened++;
      return open(...args);
    };
    this.made = agent;
    return agent;
  }

  /**
   * A slot for one request to `origin` (call the release function once its response is read or
   * it failed), or null when `expiry` passes while waiting.
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

  /** Closes every idle connection now; connections in use close or return when their request ends. */
  closeIdle(): void {
    if (this.made === undefined) return;
    for (const sockets of Object.values(this.made.freeSockets)) {
      for (const socket of [...((sockets ?? []) as Socket[])]) socket.destroy();
    }
  }
}
