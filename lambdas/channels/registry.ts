/**
 * Every channel type certwatch can deliver to, one descriptor each. Adding a
 * type is one new `<type>-channel.ts` (plus its `<type>-notifier.ts`) and one
 * line here; the compiler then asks for its line in `notifier-registry.ts`.
 * Every shape below, and everything that handles channels generically, is
 * derived from this table.
 */
import type { SecretRef } from '../config/secret-ref';
import type {
  ChannelBase,
  ChannelModule,
  ChannelStackNeeds,
  ConfigOf,
  SecretUse,
  WithSecrets,
} from './channel-module';
import { opsgenieChannel } from './opsgenie-channel';
import { pagerDutyChannel } from './pagerduty-channel';
import { discordChannel } from './discord-channel';
import { gitHubChannel } from './github-channel';
import { jiraChannel } from './jira-channel';
import { googleChatChannel } from './google-chat-channel';
import { mattermostChannel } from './mattermost-channel';
import { slackChannel } from './slack-channel';
import { smtpChannel } from './smtp-channel';
import { snsChannel } from './sns-channel';
import { teamsChannel } from './teams-channel';
import { webhookChannel } from './webhook-channel';

/** Checks that each descriptor is listed under its own `type`. */
function registry<R extends { readonly [T in keyof R]: { readonly type: T } }>(modules: R): R {
  return modules;
}

/** The channel types, in the order messages list them. */
export const CHANNEL_TYPES = registry({
  sns: snsChannel,
  slack: slackChannel,
  teams: teamsChannel,
  webhook: webhookChannel,
  pagerduty: pagerDutyChannel,
  opsgenie: opsgenieChannel,
  discord: discordChannel,
  googlechat: googleChatChannel,
  mattermost: mattermostChannel,
  smtp: smtpChannel,
  github: gitHubChannel,
  jira: jiraChannel,
});

/** A channel `type:` value. */
export type ChannelType = keyof typeof CHANNEL_TYPES;

/** Every channel type's channel, its secrets held as `S` (a discriminated union on `type`). */
export type ChannelWith<S> = {
  [T in ChannelType]: WithSecrets<ConfigOf<(typeof CHANNEL_TYPES)[T]>, S>;
}[ChannelType];

/** A channel as configured: secrets are still references (see `secret-ref.ts`). */
export type ChannelConfig = ChannelWith<SecretRef>;

/** A delivery channel with its `env:`/secret references resolved. */
export type Channel = ChannelWith<string>;

/** The types the notifier Lambda delivers in AWS. */
export type NotifierChannelType = {
  [T in ChannelType]: (typeof CHANNEL_TYPES)[T]['stack'] extends { readonly deliveredBy: 'notifier' }
    ? T
    : never;
}[ChannelType];

/** A channel the notifier Lambda delivers, its secrets held as `S`. */
export type NotifierChannelWith<S> = Extract<ChannelWith<S>, { readonly type: NotifierChannelType }>;

/** A descriptor seen generically: its channel's type-specific fields are not known here. */
type AnyChannelModule = ChannelModule<ChannelBase & Record<string, unknown>>;

/** The descriptor of `type`, or undefined for a type no module declares (untyped input). */
export function channelModule(type: string): AnyChannelModule | undefined {
  // Own keys only: `type` comes from files and environments, and must never reach Object.prototype.
  if (!Object.hasOwn(CHANNEL_TYPES, type)) return undefined;
  // Each descriptor takes exactly its own type's channel; the callers below pass it only that.
  return (CHANNEL_TYPES as unknown as Record<string, AnyChannelModule>)[type];
}

/** One secret field of a channel. */
export interface SecretField<S> {
  readonly field: string;
  readonly use: SecretUse;
  /** Null when an optional secret is not set. */
  readonly value: S | null;
}

/** The channel's secret fields in declaration order; none for a type no module declares. */
export function secretFields<S>(channel: ChannelWith<S>): SecretField<S>[] {
  const secrets: Readonly<Record<string, SecretUse>> = channelModule(channel.type)?.secrets ?? {};
  const fields = channel as unknown as Readonly<Record<string, S | null | undefined>>;
  return Object.entries(secrets).map(([field, use]) => ({ field, use, value: fields[field] ?? null }));
}

/** The channel type(s) of `C`, with secrets held as `S`. */
export type Reheld<C, S> = C extends { readonly type: infer T }
  ? Extract<ChannelWith<S>, { readonly type: T }>
  : never;

/**
 * The channel with its secrets replaced by `values` (by field name), every
 * other field as it is: `name`, `type`, `minSeverity`, then the type's own
 * fields, so serialized forms keep one key order.
 */
export function withSecretValues<C extends ChannelWith<unknown>, S>(
  channel: C,
  values: Readonly<Record<string, S | null>>,
): Reheld<C, S> {
  const { name, type, minSeverity, ...own } = channel as unknown as ChannelBase & Record<string, unknown>;
  const replaced = Object.fromEntries(
    Object.entries(own).map(([field, value]) => [
      field,
      Object.hasOwn(values, field) ? values[field] : value,
    ]),
  );
  return { name, type, minSeverity, ...replaced } as unknown as Reheld<C, S>;
}

/** Whether the notifier Lambda delivers the channel in AWS (see {@link ChannelStackNeeds}). */
export function deliveredByNotifier<S>(channel: ChannelWith<S>): channel is NotifierChannelWith<S> {
  return channelModule(channel.type)?.stack.deliveredBy === 'notifier';
}

/** Whether the channel keeps tickets in the state table (see {@link ChannelStackNeeds}). */
export function keepsTickets<S>(channel: ChannelWith<S>): boolean {
  const stack = channelModule(channel.type)?.stack as ChannelStackNeeds<unknown> | undefined;
  return stack?.deliveredBy === 'notifier' && stack.keepsTickets === true;
}

/**
 * Why the AWS stack cannot deliver the channel, in one line with what to use there instead:
 * its type is delivered by the local CLI only (see {@link ChannelStackNeeds}). Null when the
 * stack delivers it.
 */
export function localOnlyReason<S>(channel: ChannelWith<S>): string | null {
  const stack = channelModule(channel.type)?.stack as ChannelStackNeeds<unknown> | undefined;
  return stack?.deliveredBy === 'local' ? stack.inAws : null;
}

/** The SNS topic the checker Lambda publishes a channel to that the notifier does not deliver. */
export function checkerTopicArn(channel: Exclude<ChannelConfig, NotifierChannelWith<SecretRef>>): string {
  const stack = channelModule(channel.type)?.stack as ChannelStackNeeds<ChannelConfig> | undefined;
  if (stack?.deliveredBy !== 'checker') throw new Error(`channel type ${channel.type} has no checker topic`);
  return stack.topicArn(channel);
}
