/**
 * SMTP channel: plain e-mail through a mail server of the user's own, for the
 * local CLI (`certwatch run`, `notify --test`). The AWS stack does not deliver
 * it: the alert topic's e-mail subscriptions are the e-mail of a deployed
 * certwatch, and an SMTP relay would need the notifier Lambda in a VPC with
 * egress. So `cdk synth` refuses a config with an smtp channel, in one line.
 *
 * The mail is the SNS e-mail (the same subject and plain-text body), sent with
 * nodemailer: STARTTLS (required, never opportunistic) on 587 by default,
 * implicit TLS on 465, and plain SMTP only to a relay on this machine.
 */
import { field, type Invalid, invalid, secretRef } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/**
 * How the connection is secured:
 * - `starttls`: plain connect, then STARTTLS before anything else; a server that does not
 *   offer it is an error, never a reason to go on in clear;
 * - `implicit`: TLS from the first byte (SMTPS, port 465);
 * - `none`: no TLS at all, only for a relay on a loopback address.
 */
export type SmtpTls = 'starttls' | 'implicit' | 'none';

/** The port each `tls` mode uses when none is configured. */
export const SMTP_DEFAULT_PORTS: Readonly<Record<SmtpTls, number>> = {
  starttls: 587,
  implicit: 465,
  none: 25,
};

/** The one line `cdk synth` refuses an smtp channel with. */
export const SMTP_IN_AWS =
  'smtp channels are for the local CLI; in AWS use e-mail subscriptions (subscriptions: - email: ADDRESS) or an sns channel';

/** An SMTP channel as configured. */
export interface SmtpChannelConfig extends ChannelBase<'smtp'> {
  /** Mail server host name or IP address. */
  readonly host: string;
  /** @default 587 for starttls, 465 for implicit, 25 for none */
  readonly port: number;
  /** @default 'implicit' when the port is 465, else 'starttls' */
  readonly tls: SmtpTls;
  /** Login user; null sends without authenticating (set both or neither). */
  readonly username: SecretRef | null;
  /** Login password; null when no login. */
  readonly password: SecretRef | null;
  /** Envelope sender and From: address. */
  readonly from: string;
  /** Recipients (envelope and To:), at least one. */
  readonly to: readonly string[];
}

/** An SMTP channel ready to deliver. */
export type SmtpChannel = Resolved<SmtpChannelConfig>;

// A hostname (letters, digits, hyphens, dots) or an IP address, bare or bracketed (IPv6).
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]?$/;
// A plain address (RFC 5321 dot-atom local part @ domain): no display names, no spaces, no
// line breaks, so nothing from the config can add a header or a recipient.
const ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const host = field((v): string | Invalid =>
  typeof v === 'string' && v.length <= 253 && (HOST.test(v) || IPV6.test(v))
    ? v
    : invalid('a mail server host name or IP address', v),
);

const port = field((v): number | Invalid =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : invalid('an integer 1-65535', v),
);

const tls = field((v): SmtpTls | Invalid =>
  v === 'starttls' || v === 'implicit' || v === 'none' ? v : invalid('starttls, implicit or none', v),
);

const address = field((v): string | Invalid =>
  typeof v === 'string' && v.length <= 254 && ADDRESS.test(v)
    ? v
    : invalid('an e-mail address like ops@example.com', v),
);

const addresses = field((v): string[] | Invalid => {
  const expected = 'a list of e-mail addresses like [ops@example.com]';
  if (!Array.isArray(v) || v.length === 0) return invalid(expected, v);
  const bad = v.find((a) => typeof a !== 'string' || a.length > 254 || !ADDRESS.test(a));
  return bad === undefined ? (v as string[]) : invalid(`${expected} (each one a plain address)`, bad);
});

/** The `smtp` channel type. */
export const smtpChannel = defineChannel<SmtpChannelConfig>()({
  type: 'smtp',
  fields: {
    host,
    port: port.optional(),
    tls: tls.optional(),
    username: secretRef('a user name').optional(),
    password: secretRef('a password').optional(),
    from: address,
    to: addresses,
  },
  configure: (file) => {
    const mode: SmtpTls = file.tls ?? (file.port === SMTP_DEFAULT_PORTS.implicit ? 'implicit' : 'starttls');
    return {
      host: file.host,
      port: file.port ?? SMTP_DEFAULT_PORTS[mode],
      tls: mode,
      username: file.username ?? null,
      password: file.password ?? null,
      from: file.from,
      to: file.to,
    };
  },
  secrets: { username: 'key', password: 'key' },
  stack: { deliveredBy: 'local', inAws: SMTP_IN_AWS },
});
