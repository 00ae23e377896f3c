/**
 * Fetches revocation evidence over plain HTTP within a check's deadline: OCSP responses (POST
 * application/ocsp-request) and CRLs. CRLs are parsed once and kept per URL until their
 * nextUpdate (6 hours at most), in a process-wide cache capped in entries and bytes, so a warm Lambda or a
 * 1,000-endpoint run fetches a CA's CRL once; concurrent checks share one request. Good and
 * revoked OCSP answers are kept until their nextUpdate too. Requests reuse kept-alive connections
 * (a bounded pool per fetcher): a run asks one responder about every leaf its CA issued. Failures are
 * data: nothing rejects.
 */
import { type ParsedCrl, parseCrl, verifyCrlSignature } from '../cert/revocation/crl';
import type { RevocationVerdict } from '../cert/revocation/revocation-verdict';
import type { KeyObject } from 'node:crypto';
import { boundedFetch } from './bounded-http';
import { HttpConnectionPool, type HttpConnectionPoolSettings } from './http-connection-pool';

/** A CRL as the cache holds it: parsed, with its signature checked once per issuer key. */
export interface CachedCrl {
  readonly crl: ParsedCrl;
  /** Whether the CRL is signed by `issuerKey` (cached per key). */
  signedBy(issuerKey: KeyObject, issuerId: string): true | string;
}

/** Counters of one fetcher, for the bench and the logs. */
export interface RevocationFetchStats {
  ocspRequests: number;
  ocspCacheHits: number;
  crlRequests: number;
  crlCacheHits: number;
  /** Checks that waited on another check's request for the same CRL. */
  crlShared: number;
  /** TCP connections opened for OCSP and CRL requests (the others reused a kept-alive one). */
  readonly connectionsOpened: number;
}

/** Fetches OCSP answers and CRLs. Never rejects. */
export interface RevocationFetcher {
  /**
   * POSTs `request` to `url` and judges the answer with `judge`; a good or revoked verdict is kept
   * under (url, request) until its nextUpdate.
   */
  ocsp(
    url: string,
    request: Uint8Array,
    judge: (body: Uint8Array) => RevocationVerdict,
    options: { readonly timeoutMs: number },
  ): Promise<RevocationVerdict>;
  /** The CRL at `url`, parsed, or why not. */
  crl(url: string, options: { readonly timeoutMs: number }): Promise<CachedCrl | string>;
  /**
   * Closes the idle kept-alive connections now (the end of a run); the caches stay. Idle
   * connections never hold the process open, and close by themselves after a short idle time.
   */
  closeIdleConnections(): void;
  readonly stats: RevocationFetchStats;
}

/** Settings of {@link createRevocationFetcher}; the defaults are what the checker uses. */
export interface RevocationFetcherSettings {
  /** Largest OCSP response read. @default 65536 */
  readonly maxOcspBytes?: number;
  /** Largest CRL read. @default 4 MiB */
  readonly maxCrlBytes?: number;
  /** CRLs kept (least recently used evicted first). @default 64 */
  readonly crlCacheEntries?: number;
  /** Bytes of CRLs kept (as fetched). @default 32 MiB */
  readonly crlCacheBytes?: number;
  /** OCSP verdicts kept. @default 4096 */
  readonly ocspCacheEntries?: number;
  /**
   * Longest a CRL or OCSP answer is kept, whatever its nextUpdate says: CAs publish well before
   * nextUpdate, and a revocation should be seen within hours, not at the end of a week-long CRL.
   * @default 6 hours (the default schedule's interval)
   */
  readonly maxTtlMs?: number;
  /** How long a failed URL is not asked again (timeouts are not remembered). @default 60 s */
  readonly failureTtlMs?: number;
  /** Clock of the caches, in ms. @default Date.now */
  readonly now?: () => number;
  /** Fetch from loopback addresses too (tests); see CaIssuersFetcherSettings.allowLoopback. @default false */
  readonly allowLoopback?: boolean;
  /** Limits of the kept-alive connections to responders and CRL servers. @default HttpConnectionPool's */
  readonly connections?: HttpConnectionPoolSettings;
}

const DEFAULTS = {
  maxOcspBytes: 64 * 1024,
  maxCrlBytes: 4 * 1024 * 1024,
  crlCacheEntries: 64,
  crlCacheBytes: 32 * 1024 * 1024,
  ocspCacheEntries: 4096,
  maxTtlMs: 6 * 3_600_000,
  failureTtlMs: 60_000,
  now: Date.now,
  allowLoopback: false,
  connections: {},
} satisfies Required<RevocationFetcherSettings>;

type Settings = Required<RevocationFetcherSettings>;

interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
  readonly bytes: number;
}

/** Key → value, least recently used first, capped in entries and bytes, each entry with its own expiry. */
class ExpiringCache<T> {
  private readonly entries = new Map<string, Expiring<T>>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T, expiresAt: number, bytes: number): void {
    if (expiresAt <= this.now() || bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { value, expiresAt, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}

function cachedCrl(crl: ParsedCrl): CachedCrl {
  const verdicts = new Map<string, true | string>();
  return {
    crl,
    signedBy(issuerKey, issuerId) {
      let verdict = verdicts.get(issuerId);
      if (verdict === undefined) {
        verdict = verifyCrlSignature(crl, issuerKey);
        // A CRL is checked against one issuer, two at most (a re-keyed CA); bounded all the same.
        if (verdicts.size < 8) verdicts.set(issuerId, verdict);
      }
      return verdict;
    },
  };
}

/** When an answer with this window stops being reusable. */
function expiryOf(nextUpdate: Date | null, settings: Settings): number {
  const cap = settings.now() + settings.maxTtlMs;
  return nextUpdate === null
    ? Math.min(cap, settings.now() + 3_600_000)
    : Math.min(cap, nextUpdate.getTime());
}

/** A fetcher with its own caches. */
export function createRevocationFetcher(overrides: RevocationFetcherSettings = {}): RevocationFetcher {
  const settings: Settings = { ...DEFAULTS, ...overrides };
  const crls = new ExpiringCache<CachedCrl>(settings.crlCacheEntries, settings.crlCacheBytes, settings.now);
  const ocspAnswers = new ExpiringCache<RevocationVerdict>(
    settings.ocspCacheEntries,
    Number.POSITIVE_INFINITY,
    settings.now,
  );
  const failedUrls = new ExpiringCache<string>(1024, Number.POSITIVE_INFINITY, settings.now);
  const pool = new HttpConnectionPool(settings.connections);
  const inFlight = new Map<string, Promise<CachedCrl | string>>();
  const stats: RevocationFetchStats = {
    ocspRequests: 0,
    ocspCacheHits: 0,
    crlRequests: 0,
    crlCacheHits: 0,
    crlShared: 0,
    get connectionsOpened() {
      return pool.opened;
    },
  };
  const rememberFailure = (url: string, error: string) =>
    failedUrls.set(url, error, settings.now() + settings.failureTtlMs, 0);

  const fetchCrl = async (url: string, timeoutMs: number): Promise<CachedCrl | string> => {
    stats.crlRequests++;
    const fetched = await boundedFetch(url, {
      timeoutMs,
      maxBytes: settings.maxCrlBytes,
      maxRedirects: 3,
      allowLoopback: settings.allowLoopback,
      accept: 'application/pkix-crl, */*',
      pool,
    });
    if ('error' in fetched) {
      if (fetched.cacheable) rememberFailure(url, fetched.error);
      return `CRL ${url}: ${fetched.error}`;
    }
    const body = pemToDer(fetched.body, 'X509 CRL');
    const parsed = parseCrl(body);
    if (typeof parsed === 'string') {
      rememberFailure(url, parsed);
      return `CRL ${url}: ${parsed}`;
    }
    const entry = cachedCrl(parsed);
    // Entries cost far more parsed than as bytes; count each revoked serial at ~64 bytes.
    crls.set(url, entry, expiryOf(parsed.nextUpdate, settings), body.length + parsed.revoked.size * 64);
    return entry;
  };

  return {
    stats,
    closeIdleConnections: () => pool.closeIdle(),
    async ocsp(url, request, judge, { timeoutMs }) {
      const key = `${url}\n${Buffer.from(request.buffer, request.byteOffset, request.byteLength).toString('base64')}`;
      const cached = ocspAnswers.get(key);
      if (cached !== undefined) {
        stats.ocspCacheHits++;
        return cached;
      }
      const failure = failedUrls.get(url);
      if (failure !== undefined) return { status: 'unknown', reason: `OCSP ${url}: ${failure}` };
      stats.ocspRequests++;
      const fetched = await boundedFetch(url, {
        timeoutMs,
        maxBytes: settings.maxOcspBytes,
        maxRedirects: 0,
        allowLoopback: settings.allowLoopback,
        accept: 'application/ocsp-response',
        post: { body: request, contentType: 'application/ocsp-request' },
        pool,
      });
      if ('error' in fetched) {
        if (fetched.cacheable) rememberFailure(url, fetched.error);
        return { status: 'unknown', reason: `OCSP ${url}: ${fetched.error}` };
      }
      const verdict = judge(fetched.body);
      if (verdict.status !== 'unknown') {
        ocspAnswers.set(key, verdict, expiryOf(verdict.nextUpdate, settings), 0);
        return verdict;
      }
      return { status: 'unknown', reason: `OCSP ${url}: ${verdict.reason}` };
    },
    async crl(url, { timeoutMs }) {
      const cached = crls.get(url);
      if (cached !== undefined) {
        stats.crlCacheHits++;
        return cached;
      }
      const failure = failedUrls.get(url);
      if (failure !== undefined) return `CRL ${url}: ${failure}`;
      if (!(timeoutMs > 0)) return `CRL ${url}: no time left before the deadline`;
      let pending = inFlight.get(url);
      if (pending === undefined) {
        pending = fetchCrl(url, timeoutMs).finally(() => inFlight.delete(url));
        inFlight.set(url, pending);
      } else {
        stats.crlShared++;
      }
      // The first caller's deadline bounds the request; each caller still waits no longer than its own.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`CRL ${url}: timed out after ${timeoutMs} ms`), timeoutMs);
      });
      try {
        return await Promise.race([pending, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Some CAs serve PEM though RFC 5280 says DER. */
function pemToDer(body: Buffer, label: string): Buffer {
  const head = body.toString('latin1', 0, Math.min(body.length, 64)).trimStart();
  if (!head.startsWith('-----BEGIN')) return body;
  const match = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(
    body.toString('latin1'),
  );
  return match ? Buffer.from(match[1] ?? '', 'base64') : body;
}

/** The process-wide fetcher the checker and the CLI use: one cache per process, kept across warm invocations. */
export const fetchRevocation: RevocationFetcher = createRevocationFetcher();
