/**
 * Delivery for channels whose incidents are tickets (GitHub Issues, Jira): an
 * alert's incident changes (core/incident-lifecycle.ts) open a ticket, comment
 * on it, or comment and close it. Each vendor says how ({@link TicketApi});
 * this module decides when, and keeps the incident → ticket mapping.
 *
 * Finding the ticket of an incident, in order:
 * 1. a ticket this send already opened (a test alert opens and closes one);
 * 2. the channel's record in certwatch's state ({@link TicketStore}), when it
 *    says the ticket is open;
 * 3. the marker every ticket carries: the vendor searches the open tickets for
 *    it. So a lost record (a new table, a store the notifier cannot read) costs
 *    a search, never a second ticket.
 *
 * Unknown outcomes: the request that opens a ticket is never repeated in the
 * same send (`maxUnknownOutcomes: 1`): when its answer does not come, the send
 * ends "maybe delivered", and the retry of the delivery searches for the marker
 * first, finding the ticket if it was opened. The marker also names the alert
 * that opened the ticket, so that retry adds no comment repeating it. Comments
 * get the same single retry after an unknown outcome as every HTTP channel's
 * requests (at worst one comment twice); closing is idempotent.
 *
 * Everything goes through `postJson`: timeouts, retries, `Retry-After`, one
 * time budget and one allowance of unknown outcomes for the whole send, and
 * one delivery result, recorded like every other channel's.
 */
import {
  type IncidentChange,
  incidentChanges,
  type TicketRecord,
  type TicketStore,
} from '../core/incident-lifecycle';
import type { Alert } from '../core/model';
import { exchangeJson, POST_DEFAULTS, type PostJsonOptions, type PostResult } from '../notify/http-delivery';
import {
  failedDelivery,
  fromPost,
  type Notifier,
  type NotifierDeps,
  type SendOptions,
} from './channel-notifier';
import type { Channel } from './registry';

/** An open ticket found by its marker. */
export interface FoundTicket {
  /** The vendor's id: issue number, issue key. */
  readonly id: string;
  /** The alert whose change opened it, as its marker says; null when it names none. */
  readonly openedBy: string | null;
}

/** One request of a ticket API. */
export interface TicketRequest {
  /** Names the request in an error, e.g. `create issue for certwatch:test`. */
  readonly label: string;
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly url: string;
  /** JSON body; none for GET. */
  readonly body?: unknown;
  /** Answers may be large (a page of issues): read up to this many bytes. @default 65536 */
  readonly maxResponseBytes?: number;
  /** Never repeat this request after an unknown outcome (it opens a ticket). */
  readonly once?: boolean;
}

/** Sends one request with the channel's headers and returns its parsed JSON answer (null when empty). */
export type TicketCall = (request: TicketRequest) => Promise<unknown>;

/** What a ticket vendor does; each function fails by throwing (see {@link TicketSendError}). */
export interface TicketApi {
  /** Headers of every request (authorization, accept, API version). */
  readonly headers: Readonly<Record<string, string>>;
  /** The open ticket carrying the incident's marker, or null. */
  findOpen(call: TicketCall, change: IncidentChange): Promise<FoundTicket | null>;
  /** Opens the incident's ticket (with its marker, naming the alert); resolves with its id. */
  open(call: TicketCall, alert: Alert, change: IncidentChange): Promise<string>;
  /** Adds the alert to the ticket as a comment. */
  comment(call: TicketCall, id: string, alert: Alert, change: IncidentChange): Promise<void>;
  /** Comments and closes the ticket (a ticket already closed stays closed). */
  close(call: TicketCall, id: string, alert: Alert, change: IncidentChange): Promise<void>;
}

/** A request failed, or its answer was not what the vendor documents: the send ends with `result`. */
export class TicketSendError extends Error {
  override readonly name = 'TicketSendError';
  constructor(
    message: string,
    readonly result: PostResult | null = null,
  ) {
    super(message);
  }
}

/** The answer of a request, parsed; `what` names it in the error. */
function parseAnswer(request: TicketRequest, text: string | null): unknown {
  if (text === null || text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new TicketSendError(`${request.label}: the answer is not JSON (or longer than certwatch reads)`);
  }
}

/** The per-send state: one time budget, one allowance of unknown outcomes, attempts summed. */
class TicketSend {
  attempts = 0;
  unknownAttempts = 0;
  readonly #started: number;

  constructor(
    readonly api: TicketApi,
    readonly deps: NotifierDeps,
    readonly opts: SendOptions,
    readonly now: () => number,
    readonly budgetMs: number,
    readonly maxUnknown: number,
  ) {
    this.#started = now();
  }

  readonly call: TicketCall = async (request) => {
    const leftMs = this.budgetMs - (this.now() - this.#started);
    if (leftMs <= 0) throw new TicketSendError(`${request.label}: not sent, out of time`);
    const left = Math.max(1, this.maxUnknown - this.unknownAttempts);
    const options: PostJsonOptions = {
      ...this.deps.http,
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      method: request.method,
      budgetMs: leftMs,
      maxUnknownOutcomes: request.once ? 1 : left,
      ...(request.maxResponseBytes ? { maxResponseBytes: request.maxResponseBytes } : {}),
      headers: { ...this.deps.http?.headers, ...this.api.headers },
    };
    const body = request.body === undefined ? '' : JSON.stringify(request.body);
    const result = await exchangeJson(request.url, body, options);
    this.attempts += result.attempts;
    this.unknownAttempts += result.unknownAttempts;
    if (!result.ok) throw new TicketSendError(`${request.label}: ${result.error}`, result);
    return parseAnswer(request, result.responseBody);
  };
}

/**
 * A notifier that keeps one ticket per incident through `api`. `deps.tickets` keeps the
 * incident → ticket mapping; without it (`certwatch notify --test` without a store) the markers
 * alone find the tickets.
 */
export function ticketNotifier(channel: Channel, api: TicketApi, deps: NotifierDeps): Notifier {
  const now = deps.http?.now ?? Date.now;
  const budgetMs = deps.http?.budgetMs ?? POST_DEFAULTS.budgetMs;
  const tickets: TicketStore | undefined = deps.tickets;
  const clock = deps.now ?? (() => new Date());

  async function save(
    change: IncidentChange,
    id: string,
    state: TicketRecord['state'],
    version: number | null,
  ) {
    if (!tickets) return;
    const record: TicketRecord = {
      channel: channel.name,
      incidentKey: change.key,
      ticketId: id,
      state,
      updatedAt: clock().toISOString(),
    };
    // 'conflict': another sender wrote the record meanwhile; the ticket is found by its marker either way.
    await tickets.saveTicket(record, version);
  }

  /** Applies one change; `opened` holds the tickets this send opened, by incident key. */
  async function apply(send: TicketSend, alert: Alert, change: IncidentChange, opened: Map<string, string>) {
    const stored = tickets ? await tickets.getTicket(channel.name, change.key) : null;
    const version = stored?.version ?? null;
    let id = opened.get(change.key) ?? (stored?.record.state === 'open' ? stored.record.ticketId : null);
    let openedByThisAlert = false;
    if (id === undefined || id === null) {
      const found = await api.findOpen(send.call, change);
      if (found !== null) {
        id = found.id;
        openedByThisAlert = found.openedBy === alert.id;
        if (change.action !== 'close') await save(change, id, 'open', version);
      }
    }
    if (change.action === 'close') {
      if (id === null || id === undefined) return; // Nothing open: closing changes nothing.
      await api.close(send.call, id, alert, change);
      opened.delete(change.key);
      await save(change, id, 'closed', (await tickets?.getTicket(channel.name, change.key))?.version ?? null);
      return;
    }
    if (id === null || id === undefined) {
      const created = await api.open(send.call, alert, change);
      opened.set(change.key, created);
      await save(change, created, 'open', version);
      return;
    }
    // An earlier send of this alert opened it (its answer was lost): the ticket already says it all.
    if (!openedByThisAlert) await api.comment(send.call, id, alert, change);
  }

  return {
    channel,
    keepsIncidents: true,
    async send(alert, opts = {}) {
      const maxUnknown =
        opts.maxUnknownOutcomes ?? deps.http?.maxUnknownOutcomes ?? POST_DEFAULTS.maxUnknownOutcomes;
      const send = new TicketSend(api, deps, opts, now, budgetMs, maxUnknown);
      const opened = new Map<string, string>();
      try {
        for (const change of incidentChanges(alert)) await apply(send, alert, change, opened);
        return fromPost(channel, alert, {
          ok: true,
          status: null,
          attempts: send.attempts,
          error: null,
          unknownAttempts: send.unknownAttempts,
          retryAfterMs: null,
        });
      } catch (err) {
        if (err instanceof TicketSendError) {
          return fromPost(channel, alert, {
            ok: false,
            status: err.result?.status ?? null,
            attempts: send.attempts,
            error: err.message,
            unknownAttempts: send.unknownAttempts,
            retryAfterMs: err.result?.retryAfterMs ?? null,
          });
        }
        // The ticket store failed (or the unforeseen): the delivery is retried; the markers keep it safe.
        const why = err instanceof Error ? err.message : String(err);
        return {
          ...failedDelivery(channel, alert, `ticket state: ${why}`, send.attempts),
          ...(send.unknownAttempts > 0 ? { unknownAttempts: send.unknownAttempts } : {}),
        };
      }
    },
  };
}

/** A JSON object's field, or undefined (answers are untyped). */
export function fieldOf(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
