/**
 * Fetches the issuer certificate a certificate names in its authorityInfoAccess caIssuers URL,
 * the way browsers complete a chain a server sent incomplete (Chromium's AIA fetcher): plain
 * HTTP only, within the check's deadline, at most 64 KB, DER or certs-only PKCS#7. Results are
 * cached per process, failures briefly. Failures are data: a fetcher never rejects.
 */
import { type Asn1, forge } from '../cert/forge-asn1';
import { boundedFetch } from './bounded-http';

/** What one caIssuers URL gave. */
export interface CaIssuersFetch {
  /** The certificates served (DER), in the order served; empty when the fetch failed. */
  readonly certificates: readonly Uint8Array[];
  /** Why no certificate came back (e.g. "HTTP 404"); null when certificates were found. */
  readonly error: string | null;
}

/** Per-call options of a {@link CaIssuersFetcher}. */
export interface CaIssuersFetchOptions {
  /** What is left of the check's deadline, in ms: DNS, connect, redirects and the body all fit in it. */
  readonly timeoutMs: number;
}

/** Fetches the certificates at a caIssuers URL. Never rejects. */
export type CaIssuersFetcher = (url: string, options: CaIssuersFetchOptions) => Promise<CaIssuersFetch>;

/** Settings of {@link createCaIssuersFetcher}; the defaults are what the checker uses. */
export interface CaIssuersFetcherSettings {
  /** Largest response body read; beyond it the fetch stops and fails. @default 65536 (Chromium's AIA limit) */
  readonly maxBytes?: number;
  /** Redirects followed, http:// to http:// only. @default 3 */
  readonly maxRedirects?: number;
  /** Certificates taken from one PKCS#7 bundle. @default 16 */
  readonly maxCertificates?: number;
  /** URLs whose result is kept (least recently used evicted first). @default 256 */
  readonly cacheEntries?: number;
  /** Bytes of certificates kept in the cache. @default 4 MiB */
  readonly cacheBytes?: number;
  /** How long certificates fetched are reused. @default 1 hour */
  readonly successTtlMs?: number;
  /** How long a failure is remembered (timeouts are not: they depend on the caller's deadline). @default 60 s */
  readonly failureTtlMs?: number;
  /** Clock of the cache, in ms. @default Date.now */
  readonly now?: () => number;
  /**
   * Fetch from loopback addresses too (tests). Off in the checker: a certificate chooses the URL,
   * and on Lambda 127.0.0.1 hosts the runtime API; link-local (instance metadata) is never fetched.
   * @default false
   */
  readonly allowLoopback?: boolean;
}

const DEFAULTS = {
  maxBytes: 64 * 1024,
  maxRedirects: 3,
  maxCertificates: 16,
  cacheEntries: 256,
  cacheBytes: 4 * 1024 * 1024,
  successTtlMs: 3_600_000,
  failureTtlMs: 60_000,
  now: Date.now,
  allowLoopback: false,
} satisfies Required<CaIssuersFetcherSettings>;

type Settings = Required<CaIssuersFetcherSettings>;

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

/** What fetching one URL came to, and whether the outcome may be remembered. */
interface Outcome {
  readonly result: CaIssuersFetch;
  /** Timeouts and internal errors depend on the caller, not on the URL: never cached. */
  readonly cacheable: boolean;
}

function failed(error: string, cacheable = true): Outcome {
  return { result: { certificates: [], error }, cacheable };
}

// ---------------------------------------------------------------------------
// Parsing what the server sent
// ---------------------------------------------------------------------------

/** forge's typings omit the options-object overload of fromDer. */
const laxFromDer = forge.asn1.fromDer as unknown as (
  bytes: string,
  options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
) => Asn1;

function childrenOf(node: Asn1 | undefined): Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

function isUniversal(node: Asn1 | undefined, type: number): boolean {
  return node !== undefined && node.tagClass === forge.asn1.Class.UNIVERSAL && node.type === type;
}

function oidOf(node: Asn1 | undefined): string | null {
  if (!isUniversal(node, forge.asn1.Type.OID) || typeof node?.value !== 'string') return null;
  try {
    return forge.asn1.derToOid(node.value);
  } catch {
    return null;
  }
}

/** PEM blocks that hold a certificate or PKCS#7, decoded. Some servers send PEM though RFC 5280 says DER. */
function pemBlocks(text: string): Buffer[] {
  const blocks: Buffer[] = [];
  for (const m of text.matchAll(
    /-----BEGIN (CERTIFICATE|X509 CERTIFICATE|PKCS7)-----([^-]*)-----END \1-----/g,
  )) {
    blocks.push(Buffer.from(m[2] ?? '', 'base64'));
  }
  return blocks;
}

/** The certificates of one DER element: a certificate, or PKCS#7 SignedData (BER tolerated). */
function certificatesOfDer(der: Buffer): Uint8Array[] | string {
  let root: Asn1;
  try {
    root = laxFromDer(der.toString('latin1'), {
      strict: false,
      parseAllBytes: false,
      decodeBitStrings: false,
    });
  } catch (err) {
    return `it is neither a DER certificate nor PKCS#7 (${err instanceof Error ? err.message : String(err)})`;
  }
  const [first, content] = childrenOf(root);
  if (!isUniversal(root, forge.asn1.Type.SEQUENCE) || first === undefined) {
    return 'it is neither a DER certificate nor PKCS#7';
  }
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, ... }: the bytes as sent, for the analysis to judge.
  if (isUniversal(first, forge.asn1.Type.SEQUENCE)) return [new Uint8Array(der)];
  const contentType = oidOf(first);
  if (contentType !== OID_SIGNED_DATA) {
    return `it is PKCS#7 of type ${contentType ?? 'unknown'}, not signedData`;
  }
  // ContentInfo [0] EXPLICIT SignedData; SignedData's certificates are its [0] IMPLICIT SET OF.
  const signedData = childrenOf(content)[0];
  const bag = childrenOf(signedData).find(
    (node) => node.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && node.type === 0 && node.constructed,
  );
  return childrenOf(bag)
    .filter((node) => isUniversal(node, forge.asn1.Type.SEQUENCE))
    .map((node) => new Uint8Array(Buffer.from(forge.asn1.toDer(node).getBytes(), 'latin1')));
}

/**
 * The certificates in a caIssuers response body: one DER certificate, a certs-only PKCS#7
 * (`.p7c`, DER or BER), or either in PEM. Pure; never throws.
 */
export function certificatesFromIssuerResponse(
  body: Uint8Array,
  maxCertificates = DEFAULTS.maxCertificates,
): CaIssuersFetch {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length === 0) return { certificates: [], error: 'the response is empty' };
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 64)).trimStart();
  const ders = head.startsWith('-----BEGIN') ? pemBlocks(bytes.toString('latin1')) : [bytes];
  if (ders.length === 0) return { certificates: [], error: 'the response is PEM without a certificate' };
  const certificates: Uint8Array[] = [];
  for (const der of ders) {
    const found = certificatesOfDer(der);
    if (typeof found === 'string') return { certificates: [], error: `the response is not usable: ${found}` };
    certificates.push(...found);
  }
  if (certificates.length === 0) return { certificates: [], error: 'the response holds no certificate' };
  return { certificates: certificates.slice(0, maxCertificates), error: null };
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

/** Fetches `rawUrl`, following redirects, all within `timeoutMs` (see bounded-http.ts). */
async function fetchUncached(rawUrl: string, timeoutMs: number, settings: Settings): Promise<Outcome> {
  const fetched = await boundedFetch(rawUrl, {
    timeoutMs,
    maxBytes: settings.maxBytes,
    maxRedirects: settings.maxRedirects,
    allowLoopback: settings.allowLoopback,
    accept: 'application/pkix-cert, application/pkcs7-mime, */*',
  });
  if ('error' in fetched) return failed(fetched.error, fetched.cacheable);
  return { result: certificatesFromIssuerResponse(fetched.body, settings.maxCertificates), cacheable: true };
}

// ---------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------

interface CacheEntry {
  readonly result: CaIssuersFetch;
  readonly expiresAt: number;
  readonly bytes: number;
}

/** URL → result, least recently used first (a Map keeps insertion order), capped in entries and bytes. */
class ResultCache {
  private readonly entries = new Map<string, CacheEntry>();
  private bytes = 0;

  constructor(private readonly settings: Settings) {}

  get(url: string): CaIssuersFetch | null {
    const entry = this.entries.get(url);
    if (!entry) return null;
    this.entries.delete(url);
    if (entry.expiresAt <= this.settings.now()) {
      this.bytes -= entry.bytes;
      return null;
    }
    this.entries.set(url, entry);
    return entry.result;
  }

  set(url: string, result: CaIssuersFetch): void {
    const ttl = result.error === null ? this.settings.successTtlMs : this.settings.failureTtlMs;
    const bytes = url.length + result.certificates.reduce((n, c) => n + c.byteLength, 0);
    if (ttl <= 0 || bytes > this.settings.cacheBytes) return;
    const old = this.entries.get(url);
    if (old) {
      this.entries.delete(url);
      this.bytes -= old.bytes;
    }
    this.entries.set(url, { result, expiresAt: this.settings.now() + ttl, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.settings.cacheEntries && this.bytes <= this.settings.cacheBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}

/**
 * A fetcher with its own cache. Concurrent calls for one URL share one request (the first
 * caller's deadline bounds it; each caller still waits no longer than its own).
 */
export function createCaIssuersFetcher(overrides: CaIssuersFetcherSettings = {}): CaIssuersFetcher {
  const settings: Settings = { ...DEFAULTS, ...overrides };
  const cache = new ResultCache(settings);
  const inFlight = new Map<string, Promise<Outcome>>();

  const start = (url: string, timeoutMs: number): Promise<Outcome> => {
    const pending = fetchUncached(url, timeoutMs, settings)
      .catch((err: unknown) => failed(`certwatch failed internally: ${String(err)}`, false))
      .then((outcome) => {
        if (outcome.cacheable) cache.set(url, outcome.result);
        inFlight.delete(url);
        return outcome;
      });
    inFlight.set(url, pending);
    return pending;
  };

  return async (url, { timeoutMs }) => {
    const cached = cache.get(url);
    if (cached) return cached;
    if (!(timeoutMs > 0)) return { certificates: [], error: 'no time left before the deadline' };
    const pending = inFlight.get(url) ?? start(url, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<CaIssuersFetch>((resolve) => {
      timer = setTimeout(
        () => resolve({ certificates: [], error: `timed out after ${timeoutMs} ms` }),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([pending.then((outcome) => outcome.result), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The process-wide fetcher the checker and the CLI use: one cache per process. */
export const fetchCaIssuers: CaIssuersFetcher = createCaIssuersFetcher();
