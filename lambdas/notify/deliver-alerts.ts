/**
 * Fan-out of alerts to notifiers. Channels run in parallel and each delivery
 * has its own deadline, so a slow or broken channel delays nobody else; within
 * one channel alerts go out in order, one at a time, which keeps chat
 * webhooks under their rate limits. Nothing is swallowed: every attempted
 * delivery — and every guard that fires — comes back as a DeliveryResult,
 * and a caller that records deliveries hears of each one as soon as it ends.
 */
import { incidentChanges } from '../core/incident-lifecycle';
import { SEVERITY_RANK, type Alert, type DeliveryResult } from '../core/model';
import type { Notifier } from './notifiers';

/** Options of {@link deliverAlerts}. */
export interface DeliverOptions {
  /**
   * Deadline for one alert on one channel, including retries. A send still running then is
   * aborted and reported as an unknown outcome ("maybe delivered": the request in flight may
   * have arrived). It must exceed the notifiers' own worst case (HTTP defaults: a 60 s budget
   * for all attempts and waits; SNS default 20 s), and stay under the delivery lease of
   * whoever records the deliveries (process-check: 2 min).
   * @default 75000
   */
  readonly sendTimeoutMs?: number;
  /**
   * What to do with names in `alert.channels` that match no notifier. The
   * notifier Lambda sees only chat channels (SNS is its trigger), so the
   * default is to ignore them; the CLI, which holds every channel, can ask
   * for a failed result per unknown name.
   * @default 'ignore'
   */
  readonly unknownChannels?: 'ignore' | 'fail';
  /**
   * Unknown outcomes the send of `alert` to `channel` may still have (a delivery record's
   * allowance); see `SendOptions.maxUnknownOutcomes`. @default the notifier's own (2)
   */
  readonly maxUnknownOutcomes?: (channel: string, alert: Alert) => number;
  /**
   * Called with each result the moment its send ends, and awaited before that channel's next
   * alert, so the caller can record a delivery as soon as the channel accepted it. It must not
   * reject (a rejection is ignored here: the caller keeps its own errors).
   */
  readonly onResult?: (result: DeliveryResult, alert: Alert) => Promise<void> | void;
}

/** The notifiers' worst case (a 60 s HTTP budget) plus room for rendering and a slow last answer. */
export const DEFAULT_SEND_TIMEOUT_MS = 75_000;

/**
 * Whether `alert` goes to `notifier`: by name (empty list = all) and by severity. Test alerts
 * ignore severity, and so do alerts that close an incident on a channel that keeps incidents.
 */
export function routesTo(alert: Alert, notifier: Notifier): boolean {
  const { channel } = notifier;
  if (alert.channels.length > 0 && !alert.channels.includes(channel.name)) return false;
  if (alert.kind === 'test') return true;
  if (notifier.keepsIncidents && incidentChanges(alert).some((c) => c.action === 'close')) return true;
  return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[channel.minSeverity];
}

async function sendWithDeadline(
  notifier: Notifier,
  alert: Alert,
  timeoutMs: number,
  maxUnknownOutcomes: number | undefined,
): Promise<DeliveryResult> {
  const failed = (error: string): DeliveryResult => ({
    channel: notifier.channel.name,
    alertId: alert.id,
    ok: false,
    attempts: 0,
    error,
  });
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DeliveryResult>((resolve) => {
    timer = setTimeout(() => {
      // Stop the send, so no copy leaves after it has been reported; what was in flight may have arrived.
      abort.abort(new DOMException(`delivery did not finish within ${timeoutMs} ms`, 'TimeoutError'));
      resolve({
        ...failed(`delivery did not finish within ${timeoutMs} ms`),
        unknownAttempts: 1,
        maybeDelivered: true,
      });
    }, timeoutMs);
  });
  try {
    const opts = {
      signal: abort.signal,
      ...(maxUnknownOutcomes !== undefined ? { maxUnknownOutcomes } : {}),
    };
    const sending = Promise.resolve()
      .then(() => notifier.send(alert, opts))
      .catch((err: unknown) => failed(`notifier threw: ${err instanceof Error ? err.message : String(err)}`));
    return await Promise.race([sending, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Delivers every alert to every notifier it routes to. Never rejects.
 * Results are ordered by alert, then by notifier order.
 */
export async function deliverAlerts(
  alerts: readonly Alert[],
  notifiers: readonly Notifier[],
  opts: DeliverOptions = {},
): Promise<DeliveryResult[]> {
  const timeoutMs = opts.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const perChannel = notifiers.map(async (notifier) => {
    const results = new Map<number, DeliveryResult>();
    for (const [i, alert] of alerts.entries()) {
      if (!routesTo(alert, notifier)) continue;
      const unknownLeft = opts.maxUnknownOutcomes?.(notifier.channel.name, alert);
      const result = await sendWithDeadline(notifier, alert, timeoutMs, unknownLeft);
      results.set(i, result);
      try {
        await opts.onResult?.(result, alert);
      } catch {
        // The hook's owner keeps its own errors (see DeliverOptions.onResult).
      }
    }
    return results;
  });
  const byChannel = await Promise.all(perChannel);

  const out: DeliveryResult[] = [];
  for (const [i, alert] of alerts.entries()) {
    for (const results of byChannel) {
      const r = results.get(i);
      if (r) out.push(r);
    }
    if (opts.unknownChannels === 'fail') {
      const known = new Set(notifiers.map((n) => n.channel.name));
      for (const name of new Set(alert.channels)) {
        if (!known.has(name)) {
          out.push({
            channel: name,
            alertId: alert.id,
            ok: false,
            attempts: 0,
            error: `no channel named '${name}' is configured`,
          });
        }
      }
    }
  }
  return out;
}
