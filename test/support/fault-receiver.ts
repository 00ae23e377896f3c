/**
 * A webhook receiver on 127.0.0.1 that misbehaves as a test scripts it (answer
 * 500, 429 with Retry-After, hang, or answer late) and counts what it got per
 * channel and alert: every request that arrived, and every one it accepted
 * (processed, whether or not the client was still waiting for the answer).
 *
 * Channels are told apart by path (`url('hook')` → `/hook`), alerts by their
 * `Idempotency-Key` header (every HTTP delivery carries the alert id there).
 * Always `close()` it: that ends hanging requests and pending late answers.
 */
import { hang, type ReceivedRequest, type ScriptedResponse, startWebhookReceiver } from './webhook-receiver';

/** How the receiver treats one request. */
export type Fault =
  /** Accept at once (200). */
  | { readonly kind: 'ok' }
  /** Refuse with this status (not accepted); `retryAfter` sets the header as given. */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  /** Never answer (not accepted: the receiver never got to it). */
  | { readonly kind: 'hang' }
  /** Accept, but answer 200 only after `ms`: a slow but working receiver. */
  | { readonly kind: 'late'; readonly ms: number };

/** One request as the script sees it. */
export interface FaultRequest {
  readonly channel: string;
  /** The Idempotency-Key (the alert id); '' when absent. */
  readonly alertId: string;
  /** 1-based count of requests for this channel and alert, including this one. */
  readonly attempt: number;
  /** 1-based count of all requests, including this one. */
  readonly total: number;
}

/** What one (channel, alert) received. */
export interface DeliveryCount {
  readonly channel: string;
  readonly alertId: string;
  /** Requests that arrived. */
  received: number;
  /** Requests the receiver accepted (processed): the copies the channel's users would see. */
  accepted: number;
  /** Requests it answered with an error status (not processed: certainly no copy). */
  refused: number;
}

export interface FaultReceiver {
  /** `http://127.0.0.1:<port>/<channel>` */
  url(channel: string): string;
  /** How each request is treated from now on (default: every request ok). */
  script(decide: (req: FaultRequest) => Fault): void;
  /** Calls `listener` as each request arrives, before it is answered. */
  onRequest(listener: (req: FaultRequest) => void): void;
  /** Counts per channel and alert, in order of first arrival. */
  counts(): DeliveryCount[];
  /** The count of one (channel, alert), zero when nothing arrived. */
  count(channel: string, alertId: string): DeliveryCount;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startFaultReceiver(): Promise<FaultReceiver> {
  let decide: (req: FaultRequest) => Fault = () => ({ kind: 'ok' });
  const listeners: Array<(req: FaultRequest) => void> = [];
  const counts = new Map<string, DeliveryCount>();
  const timers = new Set<NodeJS.Timeout>();
  const countOf = (channel: string, alertId: string): DeliveryCount => {
    const key = `${channel}\u0000${alertId}`;
    let c = counts.get(key);
    if (!c) {
      c = { channel, alertId, received: 0, accepted: 0, refused: 0 };
      counts.set(key, c);
    }
    return c;
  };

  const receiver = await startWebhookReceiver({
    responder: async (req, total): Promise<ScriptedResponse> => {
      const channel = req.path.replace(/^\//, '').split('?')[0] ?? '';
      const key = req.headers['idempotency-key'];
      const alertId = typeof key === 'string' ? key : '';
      const c = countOf(channel, alertId);
      c.received++;
      const seen: FaultRequest = { channel, alertId, attempt: c.received, total };
      for (const listener of listeners) listener(seen);
      const fault = decide(seen);
      switch (fault.kind) {
        case 'ok':
          c.accepted++;
          return { status: 200, body: 'ok' };
        case 'status':
          c.refused++;
          return {
            status: fault.status,
            ...(fault.retryAfter !== undefined ? { headers: { 'Retry-After': fault.retryAfter } } : {}),
            body: `scripted ${fault.status}`,
          };
        case 'hang':
          return hang();
        case 'late':
          c.accepted++;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              resolve();
            }, fault.ms);
            timers.add(timer);
          });
          return { status: 200, body: 'ok, eventually' };
        default:
          return fault satisfies never;
      }
    },
  });

  return {
    url: (channel) => receiver.url(`/${channel}`),
    script(next) {
      decide = next;
    },
    onRequest(listener) {
      listeners.push(listener);
    },
    counts: () => [...counts.values()].map((c) => ({ ...c })),
    count: (channel, alertId) => ({
      ...(counts.get(`${channel}\u0000${alertId}`) ?? {
        channel,
        alertId,
        received: 0,
        accepted: 0,
        refused: 0,
      }),
    }),
    requests: receiver.requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await receiver.close();
    },
  };
}
