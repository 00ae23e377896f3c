/**
 * The contract of a channel type. Everything certwatch knows about one kind of
 * delivery channel is declared once, in that type's `<type>-channel.ts`, and
 * the module is listed in `registry.ts`. Config parsing, secret resolution,
 * the deploy settings, the CDK wiring and the notifier Lambda all read these
 * descriptors, and none of them names a type.
 *
 * A descriptor holds no delivery code. How alerts are sent lives in the
 * type's `<type>-notifier.ts`, listed in `notifier-registry.ts`. The split
 * keeps SDK clients and renderers out of the CDK app, and the config schema
 * (zod) out of the checker Lambda, which only publishes.
 */
import type { z } from 'zod';
import type { SecretRef } from '../config/secret-ref';
import type { Severity } from '../core/model';

/** The fields every channel has, whatever its type. */
export interface ChannelBase<T extends string = string> {
  readonly type: T;
  /** Unique channel name (endpoints refer to channels by name). */
  readonly name: string;
  /** Alerts below this severity are not sent to the channel. @default 'info' */
  readonly minSeverity: Severity;
}

/** Keys of the configured channel `C` that hold a secret reference (possibly null when optional). */
export type SecretKey<C> = {
  [K in keyof C]-?: C[K] extends SecretRef | null ? (SecretRef extends C[K] ? K : never) : never;
}[keyof C];

/**
 * The configured channel `C` with its secrets held as `S`: `SecretRef` in the
 * config, `string` once resolved, a Secrets Manager reference in the stack and
 * in the notifier's environment. Every other field is the same everywhere.
 */
export type WithSecrets<C, S> = {
  readonly [K in keyof C]: K extends SecretKey<C> ? (null extends C[K] ? S | null : S) : C[K];
};

/** The channel ready to deliver: every secret resolved to its value. */
export type Resolved<C> = WithSecrets<C, string>;

/**
 * How a secret field's value is checked once resolved: a `url` must be https
 * (or http on loopback) and is trimmed; a `key` is used exactly as it is.
 */
export type SecretUse = 'url' | 'key';

/**
 * What the AWS stack needs to deliver a channel type:
 * - `checker`: the checker Lambda publishes to the channel's SNS topic itself
 *   (it is allowed sns:Publish on `topicArn(channel)`); no notifier, no secrets;
 * - `notifier`: the notifier Lambda, subscribed to the alert topic, delivers
 *   it; each secret field becomes a Secrets Manager reference in the
 *   notifier's environment, which the notifier is allowed to read;
 *   A notifier channel that `keepsTickets` (GitHub, Jira) keeps its incident →
 *   ticket mapping in the state table, which the notifier may then read and
 *   write (`TICKET#` items; without one, it may touch delivery records only);
 * - `local`: only the local CLI delivers it. The stack refuses a config with
 *   such a channel (`cdk synth` fails with `inAws`, one line saying what to
 *   use in AWS instead), so none of its secrets is ever granted.
 */
export type ChannelStackNeeds<C> =
  | { readonly deliveredBy: 'checker'; readonly topicArn: (channel: C) => string }
  | { readonly deliveredBy: 'notifier'; readonly keepsTickets?: true }
  | { readonly deliveredBy: 'local'; readonly inAws: string };

/** A type with secrets is never delivered by the checker: the checker reads no secrets. */
export type StackNeedsOf<C> = [SecretKey<C>] extends [never]
  ? ChannelStackNeeds<C>
  : Exclude<ChannelStackNeeds<C>, { readonly deliveredBy: 'checker' }>;

declare const configured: unique symbol;

/**
 * One channel type's descriptor. `C` is the channel as configured (secrets as
 * references), `F` the zod rules of its own keys, `N` what the stack needs.
 * Build one with {@link defineChannel}.
 */
export interface ChannelModule<
  C extends ChannelBase,
  F extends z.ZodRawShape = z.ZodRawShape,
  N extends StackNeedsOf<C> = StackNeedsOf<C>,
> {
  /** The `type:` value in the config. */
  readonly type: C['type'];
  /**
   * Rules of the keys the type adds to `type`, `name` and `minSeverity`, in
   * the order an unknown-key message lists them.
   */
  readonly fields: F;
  /** The channel's own fields from its validated keys, with the type's defaults filled in. */
  readonly configure: (file: z.output<z.ZodObject<F>>) => Omit<C, keyof ChannelBase>;
  /** Every field that holds a secret, and how its value is checked once resolved. */
  readonly secrets: { readonly [K in SecretKey<C>]: SecretUse };
  /** What the AWS stack needs to deliver it. */
  readonly stack: N;
  /** Type only (never set): the channel as configured, so the registry can derive every other shape. */
  readonly [configured]?: C;
}

/** The configured channel of a descriptor. */
export type ConfigOf<M> = M extends { readonly [configured]?: infer C } ? Exclude<C, undefined> : never;

/**
 * Declares the descriptor of the channel type configured as `C`:
 * `defineChannel<SlackChannelConfig>()({ type: 'slack', fields, … })`. The
 * compiler checks the secrets list against `C` and keeps `stack` exact.
 */
export function defineChannel<C extends ChannelBase>() {
  return <F extends z.ZodRawShape, const N extends StackNeedsOf<C>>(
    module: ChannelModule<C, F, N>,
  ): ChannelModule<C, F, N> => module;
}
