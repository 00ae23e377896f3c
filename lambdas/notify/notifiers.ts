/**
 * Channel adapters: one {@link Notifier} per configured channel. A notifier
 * renders the alert for its channel and delivers it; it never throws — every
 * outcome, good or bad, is a {@link DeliveryResult}. Each channel type's
 * delivery lives in its own `lambdas/channels/<type>-notifier.ts`.
 */
import {
  type Notifier,
  NotifierConfigError,
  type NotifierDeps,
  type NotifierFactory,
} from '../channels/channel-notifier';
import { NOTIFIER_FACTORIES } from '../channels/notifier-registry';
import type { Channel } from '../core/model';

export { type Notifier, NotifierConfigError, type NotifierDeps } from '../channels/channel-notifier';
export { DEFAULT_SNS_TIMEOUT_MS } from '../channels/sns-notifier';

/**
 * The notifier for one channel. Every registered type has a factory (the
 * compiler checks `NOTIFIER_FACTORIES` against the registry); a type outside
 * it can only come from untyped input, such as a Lambda environment.
 * @throws NotifierConfigError when an `sns` channel has no `deps.sns` client, or the type is unknown.
 */
export function createNotifier(channel: Channel, deps: NotifierDeps = {}): Notifier {
  // Own keys only: the type may come from JSON and must never reach Object.prototype.
  const create = Object.hasOwn(NOTIFIER_FACTORIES, channel.type)
    ? // Each factory takes exactly its own type's channel, and is looked up by that type.
      (NOTIFIER_FACTORIES[channel.type] as NotifierFactory<Channel>)
    : undefined;
  if (create === undefined) {
    const unknown: { type?: unknown; name?: unknown } = channel;
    throw new NotifierConfigError(
      `channel '${String(unknown.name)}' has unsupported type '${String(unknown.type)}'`,
    );
  }
  return create(channel, deps);
}
