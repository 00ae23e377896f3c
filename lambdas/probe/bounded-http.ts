/**
 * One bounded plain-HTTP exchange for what a certificate points at (AIA caIssuers, OCSP responders,
 * CRLs): the URL comes from the certificate, so the request is bounded in time (one deadline for
 * DNS, connect, redirects and the body) and in bytes, never goes to link-local or instance-metadata
 * addresses, and goes to loopback only when allowed (tests: on Lambda, 127.0.0.1 hosts the runtime
 * API). Failures are data: the fetch never rejects.
 */
import type { LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { formatIp, parseIp } from '../core/ip-address';
import type { Expiry, HttpConnectionPool } from './http-connection-pool';
import { loadHttp } from './lazy-http';
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
 */
class Deadline implements Expiry {
  expired = false;
  private readonly listeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly at: number;

  constructor(readonly timeoutMs: number) {
    this.at = performance.now() + timeoutMs;
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
    return Math.max(0, this.at - performance.now());
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

/** One fetch's fixed parts, shared by its requests (redirects, a retry on a stale connection). */
interface Exchange {
  readonly deadline: Deadline;
  readonly lookup: LookupFunction;
  readonly options: BoundedRequest;
}

/** One request to `url`, bounded by the deadline and `maxBytes`, in a slot of the pool if any. */
async function exchangeOnce(url: URL, exchange: Exchange): Promise<Step> {
  const { pool } = exchange.options;
  if (pool === undefined) return send(url, exchange, undefined);
  const agent = await pool.ready();
  const release = await pool.acquire(url.host, exchange.deadline);
  if (release === null) return failed(`timed out after ${exchange.options.timeoutMs} ms`, false);
  try {
    return await send(url, exchange, agent);
  } finally {
    release();
  }
}

/**
 * The request's headers as name/value pairs in a flat list: Node then writes them as given rather
 * than validating and storing each one (so the Host header is here too, as `url.host`: the name,
 * IPv6 in brackets, and the port unless 80).
 */
function headersFor(url: URL, options: BoundedRequest): string[] {
  const headers = ['host', url.host, 'accept', options.accept, 'user-agent', 'certwatch'];
  const { post } = options;
  if (post) headers.push('content-type', post.contentType, 'content-length', String(post.body.byteLength));
  return headers;
}

async function send(
  url: URL,
  exchange: Exchange,
  agent: import('node:http').Agent | undefined,
): Promise<Step> {
  const http = await loadHttp();
  const { deadline, options } = exchange;
  return new Promise<Step>((resolve) => {
    let settled = false;
    let forgetDeadline = () => {};
    const settle = (step: Step) => {
      if (settled) return;
      settled = true;
      forgetDeadline();
      resolve(step);
    };
    const timedOut = () => failed(`timed out after ${options.timeoutMs} ms`, false);
    const fail = (err: unknown) => {
      if (deadline.expired) settle(timedOut());
      else if (err instanceof RefusedConnection) settle(failed(err.message));
      else settle(failed(`request failed: ${(err as NodeJS.ErrnoException)?.code ?? String(err)}`));
    };
    const post = options.post;
    let answered = false;
    const hostname = url.hostname;
    // A request Node refuses to build throws here, out of the promise: boundedFetch reports it.
    const req = http.request({
      protocol: 'http:',
      hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
      port: url.port === '' ? 80 : Number(url.port),
      path: `${url.pathname}${url.search}`,
      agent: agent ?? false,
      method: post ? 'POST' : 'GET',
      headers: headersFor(url, options),
      lookup: exchange.lookup,
    });
    forgetDeadline = deadline.onExpire(() => {
      req.destroy();
      settle(timedOut());
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && !answered && !deadline.expired && STALE_SOCKET_CODES.has(err.code ?? '')) {
        settle({ stale: true });
        return;
      }
      fail(err);
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      const status = res.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status) && !post) {
        const location = res.headers.location;
        res.destroy();
        settle(location ? { location } : failed(`HTTP ${status} without a Location`));
        return;
      }
      if (status !== 200) {
        res.destroy();
        settle(failed(`HTTP ${status}`));
        return;
      }
      const tooLarge = () => failed(`the response is larger than ${options.maxBytes} bytes`);
      if (Number(res.headers['content-length']) > options.maxBytes) {
        res.destroy();
        settle(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          res.destroy();
          settle(tooLarge());
        } else {
          chunks.push(chunk);
        }
      });
      res.on('end', () =>
        settle({
          body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
          contentType: res.headers['content-type'] ?? null,
        }),
      );
      res.on('error', fail);
      res.on('close', () =>
        deadline.expired ? settle(timedOut()) : settle(failed('the connection closed early')),
      );
    });
    req.end(post?.body);
  });
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
  let url = fetchableUrl(rawUrl);
  if (typeof url === 'string') return failed(url);
  if (!(options.timeoutMs > 0)) return failed('no time left before the deadline', false);
  const deadline = new Deadline(options.timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      // An IP literal is connected to directly, without a lookup: check it here.
      const refused = refusedAddress(host, options.allowLoopback);
      if (refused !== null) return failed(`not fetched from ${host}: ${refused}`);
      const lookup = allowedLookup(host, deadline, options.allowLoopback);
      const exchange = { deadline, options, lookup };
      let step = await exchangeOnce(url, exchange);
      if ('stale' in step) {
        // The other idle connections to that server are likely closed too: drop them, ask once more.
        options.pool?.closeIdle();
        step = await exchangeOnce(url, exchange);
        if ('stale' in step) return failed('request failed: the connection was reset');
      }
      if (!('location' in step)) return step;
      if (redirects >= options.maxRedirects) return failed(`more than ${options.maxRedirects} redirects`);
      const next = fetchableUrl(step.location, url);
      if (typeof next === 'string') return failed(`redirected: ${next}`);
      url = next;
    }
  } catch (error) {
    return failed(`certwatch failed internally: ${String(error)}`, false);
  } finally {
    deadline.clear();
  }
}
