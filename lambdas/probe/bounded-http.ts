/**
 * One bounded plain-HTTP exchange for what a certificate points at (AIA caIssuers, OCSP responders,
 * CRLs): the URL comes from the certificate, so the request is bounded in time (one deadline for
 * DNS, connect, redirects and the body) and in bytes, never goes to link-local or instance-metadata
 * addresses, and goes to loopback only when allowed (tests: on Lambda, 127.0.0.1 hosts the runtime
 * API). Failures are data: the fetch never rejects.
 */
import type { LookupAddress } from 'node:dns';
import { request } from 'node:http';
import type { LookupFunction } from 'node:net';
import { formatIp, parseIp } from '../core/ip-address';
import type { HttpConnectionPool } from './http-connection-pool';
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

/** A lookup that answers with addresses resolved beforehand. */
function connectTo(addresses: readonly LookupAddress[]): LookupFunction {
  return (_host, options, callback) => {
    if (options.all) callback(null, [...addresses]);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

/** One request to one of `addresses` (already resolved and allowed), bounded by `signal` and `maxBytes`, in a slot of the pool if any. */
async function exchangeOnce(
  url: URL,
  addresses: readonly LookupAddress[],
  signal: AbortSignal,
  options: BoundedRequest,
): Promise<Step> {
  if (options.pool === undefined) return exchange(url, addresses, signal, options);
  const release = await options.pool.acquire(url.host, signal);
  if (release === null) return failed(`timed out after ${options.timeoutMs} ms`, false);
  try {
    return await exchange(url, addresses, signal, options);
  } finally {
    release();
  }
}

function exchange(
  url: URL,
  addresses: readonly LookupAddress[],
  signal: AbortSignal,
  options: BoundedRequest,
): Promise<Step> {
  return new Promise<Step>((resolve) => {
    let settled = false;
    const settle = (step: Step) => {
      if (settled) return;
      settled = true;
      resolve(step);
    };
    const fail = (err: unknown) =>
      settle(
        signal.aborted
          ? failed(`timed out after ${options.timeoutMs} ms`, false)
          : failed(`request failed: ${(err as NodeJS.ErrnoException)?.code ?? String(err)}`),
      );
    const post = options.post;
    let answered = false;
    const req = request(url, {
      agent: options.pool?.agent ?? false,
      signal,
      method: post ? 'POST' : 'GET',
      headers: {
        accept: options.accept,
        'user-agent': 'certwatch',
        ...(post ? { 'content-type': post.contentType, 'content-length': String(post.body.byteLength) } : {}),
      },
      // The addresses were resolved (bounded by the deadline) and checked; connect to those only.
      lookup: connectTo(addresses),
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && !answered && !signal.aborted && STALE_SOCKET_CODES.has(err.code ?? '')) {
        settle({ stale: true });
        return;
      }
      fail(err);
    });
    req.on('response', (res) => {
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
        settle({ body: Buffer.concat(chunks, size), contentType: res.headers['content-type'] ?? null }),
      );
      res.on('error', fail);
      res.on('close', () =>
        signal.aborted ? fail(signal.reason) : settle(failed('the connection closed early')),
      );
    });
    req.end(post ? Buffer.from(post.body) : undefined);
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
  const controller = new AbortController();
  const { timeoutMs } = options;
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    for (let redirects = 0; ; redirects++) {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const resolved = await resolveAddresses(host, {
        timeoutMs: Math.max(0, timeoutMs - (performance.now() - started)),
      });
      if (controller.signal.aborted) return failed(`timed out after ${timeoutMs} ms`, false);
      if (!resolved.ok) return failed(resolved.error.message);
      const allowed = resolved.addresses.filter((a) => !refusedAddress(a.address, options.allowLoopback));
      if (allowed.length === 0) {
        const first = resolved.addresses[0]!.address;
        return failed(`not fetched from ${first}: ${refusedAddress(first, options.allowLoopback)}`);
      }
      let step = await exchangeOnce(url, allowed, controller.signal, options);
      if ('stale' in step) {
        // The other idle connections to that server are likely closed too: drop them, ask once more.
        options.pool?.closeIdle();
        step = await exchangeOnce(url, allowed, controller.signal, options);
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
    clearTimeout(timer);
  }
}
