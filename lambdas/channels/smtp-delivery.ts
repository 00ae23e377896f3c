/**
 * SMTP delivery of one ready-made message, with the retry and unknown-outcome
 * rules of the HTTP channels (see `postJson` in notify/http-delivery.ts) and
 * the same options, so every channel is retried and recorded alike.
 *
 * nodemailer's SMTP connection does the protocol: STARTTLS, AUTH, dot-stuffing
 * and the DATA phase. What this module decides is what a failure means:
 * - the server answered: a 5xx reply is final (the same message would get it
 *   again), a 4xx reply is retried;
 * - no answer, and the end of the message had not been handed over: the
 *   server cannot have accepted it (it only takes a message whose final `.`
 *   it has read), so it is retried like a refused connection;
 * - no answer after the end of the message was handed over (a timeout or a
 *   dropped connection while waiting for the reply to DATA): the mail may have
 *   been accepted. That is an unknown outcome, retried at most once (with the
 *   same Message-ID, so a mail system can drop the extra copy).
 *
 * Never throws; errors name the server, never the login.
 */
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionOptions } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { cleanUntrusted } from '../core/untrusted-text';
import { POST_DEFAULTS, type PostJsonOptions, type PostResult } from '../notify/http-delivery';
import type { SmtpTls } from './smtp-channel';

/** The server and how to reach it. */
export interface SmtpServer {
  readonly host: string;
  readonly port: number;
  readonly tls: SmtpTls;
  /** Null sends without logging in. */
  readonly auth: { readonly user: string; readonly pass: string } | null;
  /** Extra TLS settings (a private CA in tests); certificates are always verified. */
  readonly tlsOptions?: ConnectionOptions;
}

/** The SMTP envelope: MAIL FROM and RCPT TO. */
export interface SmtpEnvelope {
  readonly from: string;
  readonly to: readonly string[];
}

/** The options of `postJson` that mean the same for SMTP. */
export type SmtpDeliveryOptions = Pick<
  PostJsonOptions,
  | 'timeoutMs'
  | 'maxAttempts'
  | 'baseDelayMs'
  | 'maxDelayMs'
  | 'budgetMs'
  | 'maxUnknownOutcomes'
  | 'signal'
  | 'sleep'
  | 'random'
  | 'now'
>;

/** How one attempt ended. */
type AttemptOutcome =
  /** The server took the message; `refused` describes each recipient it turned down at RCPT TO. */
  | { readonly kind: 'accepted'; readonly refused: readonly string[] }
  /** The server answered no; `final` for a 5xx reply (or a request it can never take). */
  | { readonly kind: 'refused'; readonly final: boolean; readonly error: string }
  /** No answer; `unknown` when the end of the message had been handed over. */
  | { readonly kind: 'no-answer'; readonly unknown: boolean; readonly error: string };

/** nodemailer errors about the request itself, without a server reply: the same send fails again. */
const FINAL_WITHOUT_REPLY = new Set(['EAUTH', 'ENOAUTH', 'EENVELOPE', 'EMESSAGE', 'ESTREAM', 'ECONFIG']);

interface SmtpError {
  readonly code?: string;
  readonly responseCode?: number;
  readonly message?: string;
}

function describeError(err: unknown, server: SmtpServer): string {
  const e = (err ?? {}) as SmtpError & { name?: string };
  let text = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  // A failed login quotes the server's reply, never the password; scrub both parts anyway.
  for (const secret of [server.auth?.pass, server.auth?.user]) {
    if (secret && secret.length > 1) text = text.split(secret).join('[redacted]');
  }
  return cleanUntrusted(text, { target: 'plain', maxLength: 300 });
}

function classify(err: unknown, dataHandedOver: boolean, server: SmtpServer): AttemptOutcome {
  const e = (err ?? {}) as SmtpError;
  const error = describeError(err, server);
  if (typeof e.responseCode === 'number') {
    return { kind: 'refused', final: e.responseCode >= 500, error };
  }
  if (e.code !== undefined && FINAL_WITHOUT_REPLY.has(e.code)) return { kind: 'refused', final: true, error };
  return { kind: 'no-answer', unknown: dataHandedOver, error };
}

function attemptOnce(
  server: SmtpServer,
  envelope: SmtpEnvelope,
  message: Buffer,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let dataHandedOver = false;
    const connection = new SMTPConnection({
      host: server.host,
      port: server.port,
      secure: server.tls === 'implicit',
      // STARTTLS is required, never opportunistic: a server (or a man in the middle) that does not
      // offer it gets neither the login nor the alert.
      requireTLS: server.tls === 'starttls',
      ignoreTLS: server.tls === 'none',
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      logger: false,
      ...(server.tlsOptions ? { tls: server.tlsOptions } : {}),
    });
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome.kind === 'accepted') connection.quit();
      else connection.close();
      resolve(outcome);
    };
    const fail = (err: unknown) => settle(classify(err, dataHandedOver, server));
    const onAbort = () =>
      settle({
        kind: 'no-answer',
        unknown: dataHandedOver,
        error: dataHandedOver ? 'aborted while waiting for the reply to the message' : 'aborted',
      });
    // A timer of our own covers the whole attempt, from connect to the reply to DATA.
    const timer = setTimeout(
      () => settle({ kind: 'no-answer', unknown: dataHandedOver, error: `timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    // Errors also reach the callbacks; after settling they only close the connection.
    connection.on('error', fail);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();

    const send = () => {
      const body = Readable.from([message]);
      // The connection writes the final "." when this stream ends: from then on the server may have it.
      body.once('end', () => {
        dataHandedOver = true;
      });
      connection.send({ from: envelope.from, to: [...envelope.to] }, body, (err, info) => {
        if (err) return fail(err);
        const refused = info?.rejected ?? [];
        const replies = (info?.rejectedErrors ?? []).map((e) => describeError(e, server));
        settle({ kind: 'accepted', refused: replies.length === refused.length ? replies : refused });
      });
    };
    connection.connect((err) => {
      if (err) return fail(err);
      if (server.auth === null) return send();
      connection.login({ user: server.auth.user, pass: server.auth.pass }, (loginErr) =>
        loginErr ? fail(loginErr) : send(),
      );
    });
  });
}

/**
 * Sends `message` (a complete RFC 5322 message) to `envelope.to` through `server`, retrying as
 * described in the module comment. The result has the shape of `postJson`'s (no HTTP status);
 * a message the server took for only some recipients is a failure with one unknown outcome
 * (the others have it, so it is sent at most once more). Never rejects.
 */
export async function sendSmtp(
  server: SmtpServer,
  envelope: SmtpEnvelope,
  message: Buffer,
  opts: SmtpDeliveryOptions = {},
): Promise<PostResult> {
  const timeoutMs = opts.timeoutMs ?? POST_DEFAULTS.timeoutMs;
  const maxAttempts = Math.max(1, Math.floor(opts.maxAttempts ?? POST_DEFAULTS.maxAttempts));
  const baseDelayMs = opts.baseDelayMs ?? POST_DEFAULTS.baseDelayMs;
  const maxDelayMs = opts.maxDelayMs ?? POST_DEFAULTS.maxDelayMs;
  const budgetMs = opts.budgetMs ?? POST_DEFAULTS.budgetMs;
  const maxUnknown = Math.max(1, opts.maxUnknownOutcomes ?? POST_DEFAULTS.maxUnknownOutcomes);
  const sleep = opts.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const where = `SMTP ${server.host}:${server.port}`;

  const started = now();
  let error = 'not attempted';
  let unknownAttempts = 0;
  const result = (ok: boolean, attempts: number, why: string | null): PostResult => ({
    ok,
    status: null,
    attempts,
    error: ok ? null : why === null ? error : `${error} (${why})`,
    unknownAttempts,
    retryAfterMs: null,
  });
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (opts.signal?.aborted) return result(false, attempt - 1, 'delivery aborted');
    const outcome = await attemptOnce(server, envelope, message, timeoutMs, opts.signal);
    if (outcome.kind === 'accepted') {
      if (outcome.refused.length === 0) return result(true, attempt, null);
      // The others have it: a retry would send them a copy, so this send ends, maybe delivered.
      error = `${where} refused ${outcome.refused.length} of ${envelope.to.length} recipients: ${outcome.refused.join('; ')}`;
      unknownAttempts++;
      return result(false, attempt, 'the other recipients have it');
    }
    error = `${where} failed: ${outcome.error}`;
    if (outcome.kind === 'refused' && outcome.final) return result(false, attempt, null);
    if (outcome.kind === 'no-answer' && outcome.unknown) unknownAttempts++;
    if (unknownAttempts >= maxUnknown) {
      return result(
        false,
        attempt,
        `no answer to ${unknownAttempts} of ${attempt} attempts: may have been delivered`,
      );
    }
    if (opts.signal?.aborted) return result(false, attempt, 'delivery aborted');
    if (attempt === maxAttempts) break;
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // Equal jitter, as for HTTP: a floor under the wait, spread across senders.
    const wait = backoff / 2 + random() * (backoff / 2);
    if (now() - started + wait + timeoutMs > budgetMs) {
      return result(false, attempt, `out of time after ${attempt} attempts`);
    }
    try {
      await sleep(Math.max(0, Math.round(wait)), opts.signal);
    } catch {
      return result(false, attempt, opts.signal?.aborted ? 'delivery aborted' : 'retry wait failed');
    }
  }
  return result(false, maxAttempts, `gave up after ${maxAttempts} attempts`);
}
