/**
 * Delivery of the `smtp` channel type: the SNS e-mail (its ASCII subject and
 * plain-text body) sent through the configured server.
 *
 * The sending itself is nodemailer's, behind the {@link SmtpTransport} port
 * (implemented in smtp-transport.ts), which the composition root hands over
 * like the SNS client: the CLI does, and no Lambda does, because the stack
 * refuses smtp channels. So this module, which the notifier registry lists and
 * every Lambda that creates a notifier bundles, loads no mail library.
 */
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../config/config-error';
import type { Alert } from '../core/model';
import type { PostResult } from '../notify/http-delivery';
import { fromPost, type Notifier, NotifierConfigError, type NotifierDeps } from './channel-notifier';
import type { SmtpChannel, SmtpTls } from './smtp-channel';
import type { SmtpDeliveryOptions, SmtpServer } from './smtp-delivery';

/**
 * Sends one alert's e-mail: composes it (From, To, the SNS subject and body, a Message-ID per
 * alert) and delivers it with the retries of `sendSmtp`. Resolves with the outcome, never rejects.
 */
export interface SmtpTransport {
  send(
    server: SmtpServer,
    mail: { readonly from: string; readonly to: readonly string[]; readonly date: Date },
    alert: Alert,
    opts: SmtpDeliveryOptions,
  ): Promise<PostResult>;
}

/** Whether `host` names this machine: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * What is wrong with the combination of a channel's settings (each one was valid on its own):
 * TLS off for a remote server, or only half a login. Empty when nothing is.
 */
export function smtpSettingProblems(channel: {
  readonly host: string;
  readonly tls: SmtpTls;
  readonly username: unknown;
  readonly password: unknown;
}): { readonly field: 'tls' | 'username' | 'password'; readonly message: string }[] {
  const problems: { field: 'tls' | 'username' | 'password'; message: string }[] = [];
  if (channel.tls === 'none' && !isLoopbackHost(channel.host)) {
    problems.push({
      field: 'tls',
      message: `none is only allowed for a relay on this machine (localhost, 127.0.0.1 or [::1]), not ${JSON.stringify(channel.host)}: the login and the alert would cross the network in clear; use starttls or implicit`,
    });
  }
  if ((channel.username === null) !== (channel.password === null)) {
    problems.push({
      field: channel.username === null ? 'username' : 'password',
      message: 'set both username and password to log in, or neither to send without logging in',
    });
  }
  return problems;
}

/**
 * The notifier of one smtp channel; `tlsOptions` adds TLS settings such as a private CA (tests).
 * @throws ConfigError when the channel's settings do not go together (TLS off for a remote
 *   server, half a login): raised when the channel is wired, before anything is sent.
 * @throws NotifierConfigError when `deps.smtp` holds no transport.
 */
export function createSmtpNotifier(
  channel: SmtpChannel,
  deps: NotifierDeps,
  tlsOptions?: ConnectionOptions,
): Notifier {
  const problems = smtpSettingProblems(channel);
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map((p) => ({
        source: `channel "${channel.name}"`,
        line: null,
        column: null,
        path: p.field,
        message: p.message,
      })),
    );
  }
  const transport = deps.smtp;
  if (!transport) {
    throw new NotifierConfigError(
      `channel '${channel.name}' is of type smtp but no SMTP transport was provided (smtp channels are for the local CLI)`,
    );
  }
  const now = deps.now ?? (() => new Date());
  const server: SmtpServer = {
    host: channel.host,
    port: channel.port,
    tls: channel.tls,
    auth:
      channel.username !== null && channel.password !== null
        ? { user: channel.username, pass: channel.password }
        : null,
    ...(tlsOptions ? { tlsOptions } : {}),
  };
  return {
    channel,
    async send(alert, opts = {}) {
      const result = await transport.send(
        server,
        { from: channel.from, to: channel.to, date: now() },
        alert,
        {
          ...deps.http,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.maxUnknownOutcomes !== undefined ? { maxUnknownOutcomes: opts.maxUnknownOutcomes } : {}),
        },
      );
      return fromPost(channel, alert, result);
    },
  };
}

export const smtpNotifier = (channel: SmtpChannel, deps: NotifierDeps): Notifier =>
  createSmtpNotifier(channel, deps);
