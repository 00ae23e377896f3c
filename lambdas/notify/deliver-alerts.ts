/**
 * Fan-out of alerts to notifiers. Channels run in parallel and each delivery
 * has its own deadline, so a slow or broken channel delays nobody else; within
 * one channel alerts go out in order, one at a time, which keeps chat
 * webhooks under their rate limits. Nothing is swallowed: every attempted
 * delivery — and every guard that fires — comes back as a DeliveryResult.
 */
import { SEVERITY_RANK, type Alert, type DeliveryResult } from '../core/model';
import type { Notifier } from './notifiers';

/** Options of {@link deliverAlerts}. */
export interface DeliverOptions {
  /**
   * Deadline for one alert on one channel, including retries; a send still
   * running then is reported as failed and left behind. It must exceed the
   * notifiers' own worst case (HTTP defaults: 4 attempts × 5 s plus 3 waits
   * of at most 30 s each = 110 s; SNS default 20 s).
   * @default 120000
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
}

export const DEFAULT_SEND_TIMEOUT_MS = 120_000;

/** Whether `alert` goes to `notifier`: by name (empty list = all) and by severity (test alerts ignore severity). */
export function routesTo(alert: Alert, notifier: Notifier): boolean {
  const { channel } = notifier;
  if (alert.channels.length > 0 && !alert.channels.includes(channel.name)) return false;
  if (alert.kind === 'test') return true;
  return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[channel.minSeverity];
}

async function sendWithDeadline(
  notifier: Notifier,
  alert: Alert,
  timeoutMs: number,
): Promise<DeliveryResult> {
  const failed = (error: string): DeliveryResult => ({
    channel: notifier.channel.name,
    alertId: alert.id,
    ok: false,
    attempts: 0,
    error,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DeliveryResult>((resolve) => {
    timer = setTimeout(() => resolve(failed(`delivery did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const sending = Promise.resolve()
      .then(() => notifier.send(alert))
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
      if (routesTo(alert, notifier)) results.set(i, await sendWithDeadline(notifier, alert, timeoutMs));
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
