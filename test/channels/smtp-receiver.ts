/**
 * A real SMTP server on 127.0.0.1 (smtp-server, from the nodemailer project)
 * that records every mail it receives and answers as the test scripts it —
 * the stand-in for a mail relay. Always `close()` it: close ends open
 * sessions, including ones left hanging on purpose.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One mail as received. */
export interface ReceivedMail {
  /** MAIL FROM. */
  readonly from: string;
  /** RCPT TO, the accepted ones. */
  readonly to: readonly string[];
  /** The user that logged in, null when none did. */
  readonly user: string | null;
  /** Whether the session was encrypted (implicit TLS or STARTTLS). */
  readonly secure: boolean;
  /** The message exactly as received. */
  readonly raw: string;
  /** Header fields by lower-case name, unfolded, in arrival order per name. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** The body with its Content-Transfer-Encoding undone (UTF-8). */
  readonly text: string;
}

/** What the receiver does with the `count`-th message (1-based): accept, refuse with a reply, or never answer. */
export type MailResponder = (
  mail: ReceivedMail,
  count: number,
) => 'accept' | 'hang' | { code: number; message: string };

export interface SmtpReceiverOptions {
  /** `implicit` listens with TLS; `starttls` offers STARTTLS; `none` offers neither. @default 'none' */
  readonly tls?: 'implicit' | 'starttls' | 'none';
  /** Certificate chain and key (PEM) for `implicit` and `starttls`. */
  readonly cert?: string;
  readonly key?: string;
  /** Users that may log in; none means AUTH is not offered. */
  readonly users?: Readonly<Record<string, string>>;
  /** Recipients refused at RCPT TO with 550. */
  readonly refuseRecipients?: readonly string[];
  /** Recipients whose RCPT TO is never answered (the message is never sent). */
  readonly hangRecipients?: readonly string[];
  /** Answer to each message. @default accept */
  readonly responder?: MailResponder;
}

export interface SmtpReceiver {
  readonly port: number;
  /** Every message received (accepted or not), in arrival order. */
  readonly mails: ReceivedMail[];
  /** Sessions opened so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

function parseHeaders(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const soft = body.replace(/=\r\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

/** Splits a raw message into headers and decoded text (a single-part message, as certwatch sends). */
export function parseMail(raw: string): { headers: Map<string, string[]>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(split === -1 ? raw : raw.slice(0, split));
  const body = split === -1 ? '' : raw.slice(split + 4);
  return { headers, text: decodeBody(body, headers.get('content-transfer-encoding')?.[0]) };
}

export async function startSmtpReceiver(opts: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const mode = opts.tls ?? 'none';
  const mails: ReceivedMail[] = [];
  let connections = 0;
  const users = opts.users ?? null;
  const refused = new Set(opts.refuseRecipients ?? []);
  const hanging = new Set(opts.hangRecipients ?? []);
  const responder: MailResponder = opts.responder ?? (() => 'accept');
  const options: SMTPServerOptions = {
    secure: mode === 'implicit',
    ...(mode !== 'none' && opts.cert && opts.key ? { cert: opts.cert, key: opts.key } : {}),
    // Without STARTTLS in the list a client that insists on it gets "502 command not implemented".
    disabledCommands: [...(mode === 'starttls' ? [] : ['STARTTLS']), ...(users === null ? ['AUTH'] : [])],
    authOptional: true,
    // Logins on a loopback relay without TLS are what `tls: none` is for.
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 100,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (users !== null && auth.username !== undefined && users[auth.username] === auth.password) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onRcptTo(address, _session, callback) {
      if (hanging.has(address.address)) return;
      if (refused.has(address.address)) {
        callback(Object.assign(new Error(`No such user here: ${address.address}`), { responseCode: 550 }));
      } else {
        callback();
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, text } = parseMail(raw);
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : null,
          secure: session.secure,
          raw,
          headers,
          text,
        };
        mails.push(mail);
        const answer = responder(mail, mails.length);
        if (answer === 'hang') return;
        if (answer === 'accept') return callback();
        callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
