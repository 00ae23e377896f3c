/**
 * HTTP delivery for chat and webhook channels: POST a JSON body with a
 * per-attempt timeout, retrying only what can succeed on retry.
 *
 * - Retried: network errors, timeouts, 429 and 5xx — exponential backoff with
 *   jitter, or the server's `Retry-After` (seconds or HTTP date) when it sends
 *   one; every delay is capped by `maxDelayMs`.
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
  /** Extra request headers; `content-type` and `user-agent` have defaults. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-attempt budget covering connect, request and response body. @default 5000 */
  readonly timeoutMs?: number;
  /** Attempts in total, including the first. @default 4 */
  readonly maxAttempts?: number;
  /** First backoff step; doubles per retry. @default 500 */
  readonly baseDelayMs?: number;
  /** Cap on any single delay, including one requested by `Retry-After`. @default 30000 */
  readonly maxDelayMs?: number;
  /** Waits between attempts. @default node:timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
  /** Random source in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Clock for HTTP-date `Retry-After` values. @default Date.now */
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
}

export const POST_DEFAULTS = {
  timeoutMs: 5000,
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
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
 * POSTs `body` to `url` with retries as described in the module comment.
 * Resolves when a 2xx arrives, a non-retryable answer arrives, or attempts
 * run out; never rejects.
 */
export async function postJson(url: string, body: string, opts: PostJsonOptions = {}): Promise<PostResult> {
  const timeoutMs = opts.timeoutMs ?? POST_DEFAULTS.timeoutMs;
  const attemptsOpt = opts.maxAttempts ?? POST_DEFAULTS.maxAttempts;
  const maxAttempts = Number.isFinite(attemptsOpt)
    ? Math.max(1, Math.floor(attemptsOpt))
    : POST_DEFAULTS.maxAttempts;
  const baseDelayMs = opts.baseDelayMs ?? POST_DEFAULTS.baseDelayMs;
  const maxDelayMs = opts.maxDelayMs ?? POST_DEFAULTS.maxDelayMs;
  const maxResponseBytes = opts.maxResponseBytes ?? POST_DEFAULTS.maxResponseBytes;
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, status: null, attempts: 0, error: 'invalid URL' };
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    return { ok: false, status: null, attempts: 0, error: `unsupported URL scheme ${target.protocol}` };
  }
  if (target.username || target.password) {
    return { ok: false, status: null, attempts: 0, error: 'URL must not embed credentials' };
  }
  const where = redactUrl(url);
  let headers: Headers;
  try {
    headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'user-agent': USER_AGENT });
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
  } catch {
    // The message would quote the value, which may be a signature.
    return { ok: false, status: null, attempts: 0, error: 'invalid request header' };
  }

  let status: number | null = null;
  let error = 'not attempted';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let retryAfterMs: number | null = null;
    let retryable: boolean;
    try {
      const response = await fetchImpl(target, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      const text = await readCapped(response, maxResponseBytes);
      if (status >= 200 && status <= 299) return { ok: true, status, attempts: attempt, error: null };
      retryable = isRetryableStatus(status);
      if (retryable) retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      error = describeResponse(response, text, target, url);
    } catch (err) {
      status = null;
      // Scrub before cleaning: cleaning may change the spelling of a secret the message quotes.
      const why = cleanUntrusted(scrub(describeError(err, timeoutMs), target, url), { target: 'plain' });
      error = `POST ${where} failed: ${why}`;
      retryable = true;
    }
    if (!retryable) return { ok: false, status, attempts: attempt, error };
    if (attempt === maxAttempts) break;
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // Equal jitter: keeps a floor under the wait while spreading retries from many senders.
    const wait =
      retryAfterMs !== null ? Math.min(maxDelayMs, retryAfterMs) : backoff / 2 + random() * (backoff / 2);
    try {
      await sleep(Math.max(0, Math.round(wait)));
    } catch (err) {
      return {
        ok: false,
        status,
        attempts: attempt,
        error: `${error} (retry wait failed: ${cleanUntrusted(describeError(err, 0), { target: 'plain' })})`,
      };
    }
  }
  return {
    ok: false,
    status,
    attempts: maxAttempts,
    error: `${error} (gave up after ${maxAttempts} attempts)`,
  };
}
