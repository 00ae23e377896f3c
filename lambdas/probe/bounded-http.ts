/**
 * One bounded plain-HTTP exchange for what a certificate points at (AIA caIssuers, OCSP responders,
 * CRLs): the URL comes from the certificate, so the request is bounded in time (one deadline for
 * DNS, connect, redirects and the body) and in bytes, never goes to link-local or instance-metadata
 * addresses, and goes to loopback only when allowed (tests: on Lambda, 127.0.0.1 hosts the runtime
 * API). Failures are data: the fetch never rejects.
 */
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { formatIp, parseIp } from '../core/ip-address';
import {
  type ConnectionUser,
  type ConnectTarget,
  type Expiry,
  type HttpConnection,
  type HttpConnectionPool,
  openConnection,
} from './http-connection-pool';
import { type ResponseOutcome, requestBytes, ResponseReader } from './http1-exchange';
import { monotonicMs } from './monotonic-clock';
import { resolveAddresses } from './resolve-addresses';

/** What one bounded fetch came to. */
export type BoundedFetch =
  | { readonly body: Buffer; readonly contentType: string | null }
  | {
      readonly error: string;
      /** Timeouts and internal errors depend on the caller, not on the URL: never cache them. */
      readonly cacheable: boolean;
    };

/** One bounded request. */
export interface BoundedRequest {
  /** What is left of the check's deadline, in ms. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Redirects followed, http:// to http:// only (a POST is never redirected). */
  readonly maxRedirects: number;
  readonly allowLoopback: boolean;
  readonly accept: string;
  /** A POST body and its content type; a GET when absent. */
  readonly post?: { readonly body: Uint8Array; readonly contentType: string };
  /**
   * Kept-alive connections to reuse (one pool per fetcher, so per `allowLoopback`: a reused socket
   * goes to an address that was allowed when it was opened). A new connection per request when absent.
   */
  readonly pool?: HttpConnectionPool;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Longest URL quoted in an error. */
const MAX_URL_QUOTE = 200;

function failed(error: string, cacheable = true): BoundedFetch {
  return { error, cacheable };
}

/** Why an address is never fetched from; null when it may be. */
export function refusedAddress(address: string, allowLoopback: boolean): string | null {
  const parsed = parseIp(address);
  if (!parsed) return null;
  const mapped = parsed.length === 16 && parsed.subarray(0, 10).every((b) => b === 0) && parsed[10] === 0xff;
  const bytes = mapped && parsed[11] === 0xff ? parsed.subarray(12) : parsed;
  if (bytes.length === 4) {
    if (bytes[0] === 127) return allowLoopback ? null : 'a loopback address';
    if (bytes[0] === 0) return 'an unspecified address';
    if (bytes[0] === 169 && bytes[1] === 254) return 'a link-local address';
    return null;
  }
  const text = formatIp(bytes);
  if (text === '::1') return allowLoopback ? null : 'a loopback address';
  if (text === '::') return 'an unspecified address';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'a link-local address';
  // The EC2 instance metadata service's IPv6 address.
  if (text === 'fd00:ec2::254') return 'an instance metadata address';
  return null;
}

/**
 * A redirect to follow, or a kept-alive connection that the server had closed before the request
 * went out (the request was not answered, so it may be sent again on a new connection).
 */
type Step = BoundedFetch | { readonly location: string } | { readonly stale: true };

/** Errors of a request whose reused connection the server had already closed. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Why a new connection was not opened (its name did not resolve, or only to refused addresses), carried through the socket's error. */
class RefusedConnection extends Error {
  override readonly name = 'RefusedConnection';
}

/**
 * The deadline of one fetch: a timer, and the request (or the wait for a slot) it stops. One
 * object per fetch, where an AbortController would add an event target and listeners per request.
 * Its timer is what keeps the process alive while the fetch is in flight (connections are unref'd).
 */
class Deadline implements Expiry {
  expired = false;
  private readonly listeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly at: number;

  constructor(readonly timeoutMs: number) {
    this.at = monotonicMs() + timeoutMs;
    this.timer = setTimeout(() => {
      this.expired = true;
      for (const listener of [...this.listeners]) listener();
      this.listeners.clear();
    }, timeoutMs);
  }

  onExpire(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What is left of it, in ms. */
  left(): number {
    return Math.max(0, this.at - monotonicMs());
  }

  clear(): void {
    clearTimeout(this.timer);
    this.listeners.clear();
  }
}

/**
 * The lookup of a new connection: the name resolved within what is left of the deadline and every
 * refused address dropped, so a connection opens only to an allowed address. Only new connections
 * look up: a request on a kept-alive connection neither resolves nor waits for DNS (that
 * connection's address was allowed when it was opened). IP literals never get here (net connects
 * to them directly): {@link boundedFetch} checks them before any request.
 */
function allowedLookup(host: string, deadline: Deadline, allowLoopback: boolean): LookupFunction {
  return (_name, options, callback) => {
    const refuse = (why: string) => callback(new RefusedConnection(why), '', 4);
    resolveAddresses(host, { timeoutMs: deadline.left() }).then((resolved) => {
      if (!resolved.ok) return refuse(resolved.error.message);
      const allowed = resolved.addresses.filter((a) => !refusedAddress(a.address, allowLoopback));
      const first = resolved.addresses[0]!.address;
      if (allowed.length === 0) refuse(`not fetched from ${first}: ${refusedAddress(first, allowLoopback)}`);
      else if (options.all) callback(null, allowed as LookupAddress[]);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    }, refuse);
  };
}

/** A fetchable URL taken apart for a request. */
interface Target {
  readonly url: URL;
  /** What is connected to or resolved: the name, or the IP literal without brackets. */
  readonly host: string;
  readonly port: number;
  /** Path and query. */
  readonly path: string;
  /** Name and port (`url.host`): the Host header, and the pool's key. */
  readonly origin: string;
}

function targetOf(url: URL): Target {
  const { hostname } = url;
  return {
    url,
    host: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
    port: url.port === '' ? 80 : Number(url.port),
    path: `${url.pathname}${url.search}`,
    origin: url.host,
  };
}

/** Entries of each memo below; a full memo forgets its oldest entry. */
const MEMO_ENTRIES = 256;

/** A string-keyed memo of at most {@link MEMO_ENTRIES}; what it holds is never mutated. */
function memoised<T>(compute: (key: string) => T): (key: string) => T {
  const memo = new Map<string, T>();
  return (key) => {
    let value = memo.get(key);
    if (value === undefined && !memo.has(key)) {
      value = compute(key);
      if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
      memo.set(key, value);
    }
    return value as T;
  };
}

/**
 * A URL string checked and taken apart once: every OCSP answer of a CA goes to one responder URL,
 * and parsing it is a good part of a kept-alive request's cost.
 */
const targetFor = memoised((text): Target | string => {
  const url = fetchableUrl(text);
  return typeof url === 'string' ? url : targetOf(url);
});

/** {@link refusedAddress} of a host, with `+` or `-` (allowLoopback) before it. */
const refusedHost = memoised((key) => refusedAddress(key.slice(1), key[0] === '+'));

/** One fetch's fixed parts, shared by its requests (redirects, a retry on a stale connection). */
interface Exchange {
  readonly deadline: Deadline;
  readonly options: BoundedRequest;
}

/** One request to `target`, bounded by the deadline and `maxBytes`, in a slot of the pool if any. */
async function exchangeOnce(target: Target, exchange: Exchange): Promise<Step> {
  const { pool } = exchange.options;
  if (pool === undefined) return send(target, exchange, undefined);
  const release = await pool.acquire(target.origin, exchange.deadline);
  if (release === null) return timedOut(exchange.options);
  try {
    return await send(target, exchange, pool);
  } finally {
    release();
  }
}

const timedOut = (options: BoundedRequest) => failed(`timed out after ${options.timeoutMs} ms`, false);

/** Only a 200's body is read: any other status is reported (or redirected) without it. */
const wantsBody = (status: number) => status === 200;

/** Sends the request on a kept-alive connection to `target`, or on a new one. */
function send(target: Target, exchange: Exchange, pool: HttpConnectionPool | undefined): Promise<Step> {
  const { deadline, options } = exchange;
  // A request that cannot be written throws here, before any connection: boundedFetch reports it.
  const bytes = requestBytes({
    path: target.path,
    host: target.origin,
    accept: options.accept,
    post: options.post,
    close: pool === undefined,
  });
  let connection = pool?.take(target.origin);
  if (connection === undefined) {
    const where: ConnectTarget = {
      host: target.host,
      port: target.port,
      lookup: allowedLookup(target.host, deadline, options.allowLoopback),
    };
    connection = pool === undefined ? openConnection(where, target.origin) : pool.open(where, target.origin);
  }
  const taken = connection;
  return new Promise<Step>((resolve) => {
    new PendingResponse(taken, exchange, pool, resolve);
    taken.socket.write(bytes);
  });
}

/** What a response read to its end comes to, and whether its connection may be reused. */
function stepOf(outcome: ResponseOutcome, posted: boolean): [Step, boolean] {
  if ('error' in outcome) return [failed(outcome.error), false];
  const { head, body, reusable } = outcome;
  const { status, location } = head;
  if (REDIRECT_STATUSES.has(status) && !posted) {
    return [location ? { location } : failed(`HTTP ${status} without a Location`), false];
  }
  if (status !== 200 || body === null) return [failed(`HTTP ${status}`), false];
  return [{ body, contentType: head.contentType }, reusable];
}

/** The response to one request, read from its connection until it settles (once). */
class PendingResponse implements ConnectionUser {
  private readonly reader: ResponseReader;
  private settled = false;
  private readonly forgetDeadline: () => void;

  constructor(
    private readonly connection: HttpConnection,
    private readonly exchange: Exchange,
    private readonly pool: HttpConnectionPool | undefined,
    private readonly resolve: (step: Step) => void,
  ) {
    this.reader = new ResponseReader(exchange.options.maxBytes, wantsBody);
    this.forgetDeadline = exchange.deadline.onExpire(() => this.settle(timedOut(exchange.options)));
    connection.user = this;
  }

  data(chunk: Buffer): void {
    try {
      const outcome = this.reader.read(chunk);
      if (outcome !== undefined) this.answered(outcome);
    } catch (error) {
      // A fault of the reader itself: thrown from here it would escape the socket's event, not just this fetch.
      this.settle(failed(`certwatch failed internally: ${String(error)}`, false));
    }
  }

  private answered(outcome: ResponseOutcome): void {
    this.settle(...stepOf(outcome, this.exchange.options.post !== undefined));
  }

  failed(error: NodeJS.ErrnoException): void {
    if (this.exchange.deadline.expired) this.settle(timedOut(this.exchange.options));
    else if (this.unanswered() && STALE_SOCKET_CODES.has(error.code ?? '')) this.settle({ stale: true });
    else if (error instanceof RefusedConnection) this.settle(failed(error.message));
    else if (this.reader.received > 0) this.settle(failed('the connection closed early'));
    else this.settle(failed(`request failed: ${error.code ?? String(error)}`));
  }

  closed(): void {
    if (this.exchange.deadline.expired) this.settle(timedOut(this.exchange.options));
    else if (this.unanswered()) this.settle({ stale: true });
    // Closed without a byte of answer: what Node's client calls a hang-up, ECONNRESET.
    else if (this.reader.received === 0) this.settle(failed('request failed: ECONNRESET'));
    else this.answered(this.reader.end());
  }

  /** A kept-alive connection the server closed before it answered. */
  private unanswered(): boolean {
    return this.connection.reused && this.reader.received === 0;
  }

  private settle(step: Step, reusable = false): void {
    if (this.settled) return;
    this.settled = true;
    this.forgetDeadline();
    if (reusable && this.pool !== undefined) {
      this.pool.putBack(this.connection);
    } else {
      this.connection.user = null;
      this.connection.socket.destroy();
    }
    this.resolve(step);
  }
}

export function quoteUrl(url: string): string {
  return url.length > MAX_URL_QUOTE ? `${url.slice(0, MAX_URL_QUOTE)}…` : url;
}

/** A URL that may be fetched, or why not. */
export function fetchableUrl(text: string, base?: URL): URL | string {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return `${quoteUrl(text)} is not a URL`;
  }
  // Browsers fetch AIA, OCSP and CRLs over plain HTTP only: what is fetched is signed, so TLS adds
  // nothing, and fetching it over TLS would need the very chain being judged.
  if (url.protocol !== 'http:') return `only http:// URLs are fetched, not ${url.protocol}`;
  return url;
}

/** Fetches `rawUrl`, following redirects, all within `options.timeoutMs`. Never rejects. */
export async function boundedFetch(rawUrl: string, options: BoundedRequest): Promise<BoundedFetch> {
  let target = targetFor(rawUrl);
  if (typeof target === 'string') return failed(target);
  if (!(options.timeoutMs > 0)) return failed('no time left before the deadline', false);
  const deadline = new Deadline(options.timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      // An IP literal is connected to directly, without a lookup: check it here.
      const refused = refusedHost(`${options.allowLoopback ? '+' : '-'}${target.host}`);
      if (refused !== null) return failed(`not fetched from ${target.host}: ${refused}`);
      const exchange = { deadline, options };
      let step = await exchangeOnce(target, exchange);
      if ('stale' in step) {
        // The other idle connections to that server are likely closed too: drop them, ask once more.
        options.pool?.closeIdle();
        step = await exchangeOnce(target, exchange);
        if ('stale' in step) return failed('request failed: the connection was reset');
      }
      if (!('location' in step)) return step;
      if (redirects >= options.maxRedirects) return failed(`more than ${options.maxRedirects} redirects`);
      const next = fetchableUrl(step.location, target.url);
      if (typeof next === 'string') return failed(`redirected: ${next}`);
      target = targetOf(next);
    }
  } catch (error) {
    return failed(`certwatch failed internally: ${String(error)}`, false);
  } finally {
    deadline.clear();
  }
}
