/**
 * HTTP delivery for chat and webhook channels: POST a JSON body with a
 * per-attempt timeout, retrying only what can succeed on retry, and never
 * more than one extra copy for an answer that did not come.
 *
 * - Retried: refused connections, 429 and 5xx — exponential backoff with
 *   jitter, or exactly the server's `Retry-After` (seconds or HTTP date).
 * - Unknown outcomes: an attempt that timed out or was cut off after the
 *   request may have left (a reset, a closed socket) may have been delivered.
 *   It is retried once, with the same body and headers (so the same
 *   Idempotency-Key); a second unknown outcome ends the delivery ("maybe
 *   delivered"). The caller can lower that allowance (`maxUnknownOutcomes`),
 *   for a delivery whose earlier send already had one.
 * - Time: each attempt has `timeoutMs`, each wait at most `maxDelayMs`, and the
 *   whole delivery `budgetMs`. A `Retry-After` longer than the wait allowed,
 *   or one that would end past the budget, is not shortened: the delivery
 *   stops and reports `retryAfterMs`, and the caller leaves it pending until then.
 * - Not retried: other 4xx (the request itself is wrong) and 3xx (redirects
 *   are not followed: a webhook URL is a secret and the body must not be
 *   replayed to wherever a redirect points).
 * - Never throws; failures are a result with an error that names only the
 *   URL's scheme and host, because webhook URLs embed their credentials.
 * - Response bodies are read up to a cap and otherwise cancelled, so no
 *   socket is left waiting on an unread body.
 * - What the server or the network says (status text, body, error messages)
 *   is cleaned by the shared rule set (core/untrusted-text) before it becomes
 *   part of an error, which the CLI prints and the Lambda logs.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { cleanUntrusted } from '../core/untrusted-text';

/** Options of {@link postJson}. */
export interface PostJsonOptions {
  /**
   * The request method. Ticket channels read (`GET`, no body and no `content-type`) and update
   * (`PATCH`) as well as create; every method gets the same retries. @default 'POST'
   */
  readonly method?: 'POST' | 'PATCH' | 'GET';
  /** Extra request headers; `content-type` and `user-agent` have defaults. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Per-attempt budget covering connect, request and response body. Long enough that a slow but
   * working receiver (8 s) is never cut off, which would cost it a second copy. @default 15000
   */
  readonly timeoutMs?: number;
  /** Attempts in total, including the first. @default 4 */
  readonly maxAttempts?: number;
  /** First backoff step; doubles per retry. @default 1000 */
  readonly baseDelayMs?: number;
  /**
   * Longest single wait, backoff or `Retry-After`. A longer `Retry-After` ends the delivery with
   * `retryAfterMs` instead of being shortened. @default 30000
   */
  readonly maxDelayMs?: number;
  /**
   * The whole delivery: no wait or attempt starts that could end after it, and a `Retry-After`
   * that would is reported instead. @default 60000
   */
  readonly budgetMs?: number;
  /**
   * Attempts with an unknown outcome (timed out, cut off) this delivery may make; reaching it ends
   * the delivery. 2 = the first unknown outcome and the one retry it allows; 1 for a delivery
   * whose earlier send already had one. @default 2
   */
  readonly maxUnknownOutcomes?: number;
  /** Aborts the delivery: an attempt in flight ends as an unknown outcome, and no further attempt starts. */
  readonly signal?: AbortSignal;
  /** Waits between attempts; rejects when `signal` aborts. @default node:timers/promises setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
  /** Random source in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Clock for HTTP-date `Retry-After` values and the budget. @default Date.now */
  readonly now?: () => number;
  /** Bytes of response body kept for error messages; the rest is discarded. @default 65536 */
  readonly maxResponseBytes?: number;
}

/** Outcome of {@link postJson}. */
export interface PostResult {
  /** True when a 2xx response was received. */
  readonly ok: boolean;
  /** Status of the last response; null when none was received. */
  readonly status: number | null;
  /** Requests made (0 when the URL was rejected before any). */
  readonly attempts: number;
  /** What went wrong on the last attempt, with the URL redacted; null when ok. */
  readonly error: string | null;
  /** Attempts whose outcome is unknown (no answer: timed out or cut off); each may have delivered a copy. */
  readonly unknownAttempts: number;
  /** The server asked to wait this long (`Retry-After`) and the delivery did not: retry no sooner. Null otherwise. */
  readonly retryAfterMs: number | null;
}

/** Outcome of {@link exchangeJson}: a {@link PostResult} and the answer's body. */
export interface ExchangeResult extends PostResult {
  /** The body of the 2xx answer, read up to `maxResponseBytes`; null when none came. */
  readonly responseBody: string | null;
}

export const POST_DEFAULTS = {
  timeoutMs: 15_000,
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  budgetMs: 60_000,
  maxUnknownOutcomes: 2,
  maxResponseBytes: 65_536,
} as const;

const USER_AGENT = 'certwatch-notifier/1';

/** `https://hooks.slack.com` for any URL under it: the part of a webhook URL that is safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '[invalid URL]';
  }
}

/** Removes every secret-bearing part of `url` from `message`. */
function scrub(message: string, url: URL, raw: string): string {
  const secrets = [raw, url.href, `${url.pathname}${url.search}`, url.search, url.username, url.password];
  let out = message;
  for (const s of secrets.filter((x) => x.length > 1).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('[redacted]');
  }
  return out;
}

/**
 * Milliseconds a `Retry-After` value asks for (delta-seconds or HTTP date),
 * or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // All three HTTP-date forms start with a day name; Date.parse alone would accept "-5" as a year.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** Reads at most `cap` bytes of the body as text and cancels the rest. Never throws. */
async function readCapped(response: Response, cap: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < cap) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that fails or times out mid-read adds nothing to the diagnosis.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, cap));
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
    if (err.name === 'AbortError') return 'request aborted';
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return `${err.message}: ${typeof code === 'string' && !cause.message.includes(code) ? `${code} ` : ''}${cause.message}`;
    }
    return err.message || err.name;
  }
  return String(err);
}

function describeResponse(response: Response, body: string, target: URL, raw: string): string {
  const where = redactUrl(raw);
  const { status } = response;
  if (status >= 300 && status <= 399) {
    let to = '';
    try {
      const location = response.headers.get('location');
      if (location) to = ` to ${redactUrl(new URL(location, target).href)}`;
    } catch {
      // An unreadable Location only loses detail from the message.
    }
    return `HTTP ${status} redirect from ${where}${to} not followed`;
  }
  const reason = cleanUntrusted(response.statusText, { target: 'plain', maxLength: 100 });
  const snippet = cleanUntrusted(scrub(body, target, raw), { target: 'plain', maxLength: 200 });
  return `HTTP ${status}${reason ? ` ${reason}` : ''} from ${where}${snippet ? `: ${snippet}` : ''}`;
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Error codes that prove the request never reached the server: it could not connect (or the TLS
 * handshake failed before any byte of the request was sent). Every other failure without an
 * answer is an unknown outcome.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/** Whether a failed attempt (no HTTP answer) may still have reached the server. */
function isUnknownOutcome(err: unknown): boolean {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  const causes = [err, cause, ...(cause instanceof AggregateError ? cause.errors : [])];
  for (const c of causes) {
    const code = errorCode(c);
    if (code === null) continue;
    if (NOT_SENT_CODES.has(code)) return false;
    if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) return false;
  }
  return true;
}

/** One attempt: a response (read, capped), or the error that stopped it. */
type AttemptOutcome =
  | { readonly kind: 'answer'; readonly response: Response; readonly body: string }
  | { readonly kind: 'error'; readonly error: unknown };

async function attemptOnce(
  fetchImpl: typeof fetch,
  target: URL,
  init: { method: string; headers: Headers; body: string | undefined },
  timeoutMs: number,
  maxResponseBytes: number,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  // A timer of our own rather than AbortSignal.timeout, so injected clocks (fake timers) drive it too.
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const forward = () => controller.abort(signal?.reason ?? new DOMException('aborted', 'AbortError'));
  signal?.addEventListener('abort', forward, { once: true });
  try {
    const response = await fetchImpl(target, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    return { kind: 'answer', response, body: await readCapped(response, maxResponseBytes) };
  } catch (error) {
    return { kind: 'error', error };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}

/**
 * POSTs `body` to `url` with retries as described in the module comment.
 * Resolves when a 2xx arrives, a non-retryable answer arrives, attempts, unknown
 * outcomes or time run out, or the server asks to wait longer than allowed; never rejects.
 */
export async function postJson(url: string, body: string, opts: PostJsonOptions = {}): Promise<PostResult> {
  const { responseBody: _, ...result } = await exchangeJson(url, body, opts);
  return result;
}

/**
 * {@link postJson} that also returns the body of the 2xx answer (ticket channels read the ids
 * and lists they are given), for any of its methods.
 */
export async function exchangeJson(
  url: string,
  body: string,
  opts: PostJsonOptions = {},
): Promise<ExchangeResult> {
  const timeoutMs = opts.timeoutMs ?? POST_DEFAULTS.timeoutMs;
  const attemptsOpt = opts.maxAttempts ?? POST_DEFAULTS.maxAttempts;
  const maxAttempts = Number.isFinite(attemptsOpt)
    ? Math.max(1, Math.floor(attemptsOpt))
    : POST_DEFAULTS.maxAttempts;
  const baseDelayMs = opts.baseDelayMs ?? POST_DEFAULTS.baseDelayMs;
  const maxDelayMs = opts.maxDelayMs ?? POST_DEFAULTS.maxDelayMs;
  const budgetMs = opts.budgetMs ?? POST_DEFAULTS.budgetMs;
  const maxUnknown = Math.max(1, opts.maxUnknownOutcomes ?? POST_DEFAULTS.maxUnknownOutcomes);
  const maxResponseBytes = opts.maxResponseBytes ?? POST_DEFAULTS.maxResponseBytes;
  const sleep = opts.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const refused = (error: string): ExchangeResult => ({
    ok: false,
    status: null,
    attempts: 0,
    error,
    unknownAttempts: 0,
    retryAfterMs: null,
    responseBody: null,
  });

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return refused('invalid URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    return refused(`unsupported URL scheme ${target.protocol}`);
  }
  if (target.username || target.password) {
    return refused('URL must not embed credentials');
  }
  const where = redactUrl(url);
  const method = opts.method ?? 'POST';
  let headers: Headers;
  try {
    headers = new Headers(
      method === 'GET'
        ? { 'user-agent': USER_AGENT }
        : { 'content-type': 'application/json; charset=utf-8', 'user-agent': USER_AGENT },
    );
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
  } catch {
    // The message would quote the value, which may be a signature.
    return refused('invalid request header');
  }

  const started = now();
  let status: number | null = null;
  let error = 'not attempted';
  let unknownAttempts = 0;
  const failed = (attempts: number, why: string, retryAfterMs: number | null = null): ExchangeResult => ({
    ok: false,
    status,
    attempts,
    error: `${error} (${why})`,
    unknownAttempts,
    retryAfterMs,
    responseBody: null,
  });
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (opts.signal?.aborted) return failed(attempt - 1, 'delivery aborted');
    let retryAfterMs: number | null = null;
    const outcome = await attemptOnce(
      fetchImpl,
      target,
      { method, headers, body: method === 'GET' ? undefined : body },
      timeoutMs,
      maxResponseBytes,
      opts.signal,
    );
    if (outcome.kind === 'answer') {
      const { response } = outcome;
      status = response.status;
      if (status >= 200 && status <= 299) {
        return {
          ok: true,
          status,
          attempts: attempt,
          error: null,
          unknownAttempts,
          retryAfterMs: null,
          responseBody: outcome.body,
        };
      }
      error = describeResponse(response, outcome.body, target, url);
      if (!isRetryableStatus(status)) {
        return {
          ok: false,
          status,
          attempts: attempt,
          error,
          unknownAttempts,
          retryAfterMs: null,
          responseBody: null,
        };
      }
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
    } else {
      status = null;
      // Scrub before cleaning: cleaning may change the spelling of a secret the message quotes.
      const why = cleanUntrusted(scrub(describeError(outcome.error, timeoutMs), target, url), {
        target: 'plain',
      });
      error = `${method} ${where} failed: ${why}`;
      if (isUnknownOutcome(outcome.error)) unknownAttempts++;
    }
    if (unknownAttempts >= maxUnknown) {
      return failed(
        attempt,
        `no answer to ${unknownAttempts} of ${attempt} attempts: may have been delivered`,
      );
    }
    if (opts.signal?.aborted) return failed(attempt, 'delivery aborted');
    if (attempt === maxAttempts) break;
    const elapsed = now() - started;
    let wait: number;
    if (retryAfterMs !== null) {
      // Honoured exactly or not at all: shortening it would only earn another 429.
      if (retryAfterMs > maxDelayMs || elapsed + retryAfterMs + timeoutMs > budgetMs) {
        return failed(
          attempt,
          `asked to retry after ${Math.ceil(retryAfterMs / 1000)} s: left pending`,
          retryAfterMs,
        );
      }
      wait = retryAfterMs;
    } else {
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      // Equal jitter: keeps a floor under the wait while spreading retries from many senders.
      wait = backoff / 2 + random() * (backoff / 2);
      if (elapsed + wait + timeoutMs > budgetMs) {
        return failed(attempt, `out of time after ${attempt} attempts`);
      }
    }
    try {
      await sleep(Math.max(0, Math.round(wait)), opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) return failed(attempt, 'delivery aborted');
      return failed(
        attempt,
        `retry wait failed: ${cleanUntrusted(describeError(err, 0), { target: 'plain' })}`,
      );
    }
  }
  return failed(maxAttempts, `gave up after ${maxAttempts} attempts`);
}
