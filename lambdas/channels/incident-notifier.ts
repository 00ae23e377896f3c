/**
 * Delivery for channels that keep incidents (PagerDuty, Opsgenie): an alert
 * becomes the requests of its incident changes (core/incident-lifecycle.ts),
 * usually one, sent in order through the same HTTP delivery as every other
 * channel (`postJson`: timeouts, retries, `Retry-After`, unknown outcomes).
 *
 * The requests of one alert share one delivery: one time budget, one
 * allowance of unknown outcomes, and one result (attempts and unknown outcomes
 * summed). The first request that fails ends the send, and the delivery is
 * retried whole; that is safe because each request is idempotent at the vendor
 * (a trigger or create of an open key adds to it, a resolve or close of a
 * closed key changes nothing).
 */
import { type IncidentChange, incidentChanges } from '../core/incident-lifecycle';
import type { Alert } from '../core/model';
import { POST_DEFAULTS, type PostResult, postJson } from '../notify/http-delivery';
import { IDEMPOTENCY_KEY_HEADER } from '../notify/render-webhook';
import { failedDelivery, fromPost, type Notifier, type NotifierDeps } from './channel-notifier';
import type { Channel } from './registry';

/** One HTTP request of an incident change. */
export interface IncidentRequest {
  readonly url: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Names the request in an error, e.g. `resolve certwatch:example.com:443|192.0.2.10:expiry`. */
  readonly label: string;
}

/**
 * A notifier that sends, for each alert, the request `render` makes of each of
 * its incident changes. Each request carries `Idempotency-Key: <alert id>`
 * (`<alert id>#<n>` when an alert makes several), like every HTTP channel's.
 */
export function incidentNotifier(
  channel: Channel,
  render: (alert: Alert, change: IncidentChange) => IncidentRequest,
  deps: NotifierDeps,
): Notifier {
  const now = deps.http?.now ?? Date.now;
  const budgetMs = deps.http?.budgetMs ?? POST_DEFAULTS.budgetMs;
  return {
    channel,
    keepsIncidents: true,
    async send(alert, opts = {}) {
      let requests: IncidentRequest[];
      try {
        requests = incidentChanges(alert).map((change) => render(alert, change));
      } catch (err) {
        // Rendering is pure; this only guards against the unforeseen.
        const why = err instanceof Error ? err.message : String(err);
        return failedDelivery(channel, alert, `internal error: ${why}`, 0);
      }
      const maxUnknown =
        opts.maxUnknownOutcomes ?? deps.http?.maxUnknownOutcomes ?? POST_DEFAULTS.maxUnknownOutcomes;
      const started = now();
      let attempts = 0;
      let unknownAttempts = 0;
      let last: PostResult | null = null;
      for (const [i, request] of requests.entries()) {
        const leftMs = budgetMs - (now() - started);
        if (i > 0 && leftMs <= 0) {
          const error = `${request.label}: not sent, out of time after ${i} of ${requests.length} requests`;
          return fromPost(channel, alert, {
            ok: false,
            status: null,
            attempts,
            error,
            unknownAttempts,
            retryAfterMs: null,
          });
        }
        const key = requests.length === 1 ? alert.id : `${alert.id}#${i + 1}`;
        const result = await postJson(request.url, request.body, {
          ...deps.http,
          ...(opts.signal ? { signal: opts.signal } : {}),
          budgetMs: leftMs,
          // Each earlier unknown outcome used up one of the delivery's allowance.
          maxUnknownOutcomes: Math.max(1, maxUnknown - unknownAttempts),
          headers: { ...deps.http?.headers, [IDEMPOTENCY_KEY_HEADER]: key, ...request.headers },
        });
        attempts += result.attempts;
        unknownAttempts += result.unknownAttempts;
        last = result;
        if (!result.ok) {
          const error = requests.length === 1 ? result.error : `${request.label}: ${result.error}`;
          return fromPost(channel, alert, { ...result, attempts, unknownAttempts, error });
        }
      }
      return fromPost(channel, alert, {
        ok: true,
        status: last?.status ?? null,
        attempts,
        error: null,
        unknownAttempts,
        retryAfterMs: null,
      });
    },
  };
}
