/**
 * Small hand-written loopback servers for every protocol the probe speaks
 * before TLS (SMTP, IMAP, POP3, FTP, LDAP, PostgreSQL, MySQL, XMPP): each plays
 * its side of the exchange, then upgrades the same socket to TLS with node:tls.
 * Hostile variants stay silent, trickle, flood, answer in another protocol or
 * refuse the upgrade. Also an HTTP CONNECT proxy and a mutual-TLS server.
 *
 * Every server listens on port 0 of 127.0.0.1; `close()` destroys every open
 * connection and timer and resolves once the listener is closed.
 */
import { type Server, type Socket, connect as netConnect, createServer as createNetServer } from 'node:net';
import { Duplex } from 'node:stream';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  TLSSocket,
} from 'node:tls';
import type { ProbeProtocolName } from '../../lambdas/core/model';
import { ldapStartTlsRequest } from '../../lambdas/probe/protocols/ldap';
import { POSTGRES_SSL_REQUEST } from '../../lambdas/probe/protocols/postgres';

/** A running test server. */
export interface LoopbackServer {
  readonly host: string;
  readonly port: number;
  /** What clients sent before TLS, per connection, as latin1 text. */
  readonly received: readonly string[];
  /** SNI names received in TLS handshakes (one per handshake that sent one; '' for none). */
  readonly servernames: readonly string[];
  /** TLS handshakes completed. */
  readonly handshakes: () => number;
  close(): Promise<void>;
}

/** The side of one connection a script drives. */
export interface Conversation {
  /** Bytes up to and including the next `\n` (as latin1, without CRLF); rejects if the client hangs up. */
  line(): Promise<string>;
  /** Exactly `n` bytes. */
  bytes(n: number): Promise<Buffer>;
  /** Bytes up to and including the next occurrence of `marker`. */
  until(marker: string): Promise<string>;
  write(data: string | Uint8Array): void;
  /** Upgrade this socket to TLS (server side); resolves when the handshake completes. */
  upgrade(): Promise<void>;
  /** Send `data` one byte every `everyMs` until the connection ends. */
  trickle(data: Buffer, everyMs: number): void;
  /** Write `chunk` again and again until `totalBytes` are sent or the client goes. */
  flood(chunk: Buffer, totalBytes: number): void;
  readonly socket: Socket;
}

export type Script = (conversation: Conversation) => Promise<void>;

/** Certificate and key the servers present after the upgrade. */
export interface ServerIdentity {
  readonly chainPem: string;
  readonly keyPem: string;
}

/** Runs `script` on every connection; any error in it just drops the connection. */
export async function startScriptServer(identity: ServerIdentity, script: Script): Promise<LoopbackServer> {
  const received: string[] = [];
  const servernames: string[] = [];
  let handshakes = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const secureContext = createSecureContext({ cert: identity.chainPem, key: identity.keyPem });
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const index = received.push('') - 1;
    const conversation = converse(socket, secureContext, {
      record: (text) => {
        received[index] += text;
      },
      servername: (name) => servernames.push(name),
      handshake: () => handshakes++,
      timers,
    });
    script(conversation).catch(() => socket.destroy());
  });
  const { port, close } = await listen(server, sockets, timers);
  return { host: '127.0.0.1', port, received, servernames, handshakes: () => handshakes, close };
}

interface Recorders {
  readonly record: (text: string) => void;
  readonly servername: (name: string) => void;
  readonly handshake: () => void;
  readonly timers: Set<NodeJS.Timeout>;
}

function converse(socket: Socket, secureContext: SecureContext, recorders: Recorders): Conversation {
  let buffered = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | null = null;
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    recorders.record(chunk.toString('latin1'));
    if (buffered.length > 1_000_000) socket.destroy();
    wake?.();
  };
  socket.on('data', onData);
  socket.on('close', () => {
    ended = true;
    wake?.();
  });
  const waitFor = async <T>(take: () => T | null): Promise<T> => {
    for (;;) {
      const taken = take();
      if (taken !== null) return taken;
      if (ended) throw new Error('client hung up');
      await new Promise<void>((resolve) => {
        wake = () => {
          wake = null;
          resolve();
        };
      });
    }
  };
  const takeUntil = (marker: Buffer) => () => {
    const at = buffered.indexOf(marker);
    if (at === -1) return null;
    const out = buffered.subarray(0, at + marker.length);
    buffered = buffered.subarray(at + marker.length);
    return out;
  };
  const interval = (run: () => boolean, everyMs: number) => {
    const timer = setInterval(() => {
      if (socket.destroyed || !run()) {
        clearInterval(timer);
        recorders.timers.delete(timer);
      }
    }, everyMs);
    recorders.timers.add(timer);
  };
  return {
    socket,
    line: async () => (await waitFor(takeUntil(Buffer.from('\n')))).toString('latin1').replace(/\r?\n$/, ''),
    bytes: (n) =>
      waitFor(() => {
        if (buffered.length < n) return null;
        const out = buffered.subarray(0, n);
        buffered = buffered.subarray(n);
        return out;
      }),
    until: async (marker) => (await waitFor(takeUntil(Buffer.from(marker, 'latin1')))).toString('latin1'),
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    upgrade: () =>
      new Promise<void>((resolve, reject) => {
        socket.off('data', onData);
        const tls = new TLSSocket(carry(socket, buffered), {
          isServer: true,
          secureContext,
          SNICallback: (servername, callback) => {
            recorders.servername(servername);
            callback(null, secureContext);
          },
        });
        tls.on('error', reject);
        tls.on('secure', () => {
          recorders.handshake();
          tls.end();
          resolve();
        });
      }),
    trickle: (data, everyMs) => {
      let at = 0;
      interval(() => {
        socket.write(data.subarray(at, at + 1));
        at = (at + 1) % data.length;
        return true;
      }, everyMs);
    },
    flood: (chunk, totalBytes) => {
      let sent = 0;
      const more = () => {
        while (sent < totalBytes && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', more);
            return;
          }
        }
      };
      more();
    },
  };
}

/**
 * The socket as a stream that first replays `leftover`: a MySQL client sends its ClientHello right
 * behind the SSL request, before the server's script decided to upgrade, and those bytes are
 * already read. (A TLSSocket over a net.Socket reads its handle directly and would miss them.)
 */
function carry(socket: Socket, leftover: Buffer): Duplex {
  const duplex = new Duplex({
    read: () => {
      socket.resume();
    },
    write: (chunk: Buffer, _encoding, callback) => {
      socket.write(chunk, () => callback());
    },
    final: (callback) => {
      socket.end();
      callback();
    },
    destroy: (error, callback) => {
      socket.destroy();
      callback(error);
    },
  });
  if (leftover.length > 0) duplex.push(leftover);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

async function listen(
  server: Server,
  sockets: Set<Socket>,
  timers: Set<NodeJS.Timeout>,
): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  return { port, close };
}

// ---------------------------------------------------------------------------
// The protocols, well-behaved and refusing
// ---------------------------------------------------------------------------

const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** An LDAP ExtendedResponse to message 1 with `resultCode` and `diagnostic`. */
export function ldapExtendedResponse(resultCode: number, diagnostic = '', messageId = 1): Buffer {
  const text = Buffer.from(diagnostic, 'utf8');
  const op = Buffer.concat([
    Buffer.from([0x0a, 1, resultCode, 0x04, 0]),
    Buffer.from([0x04, text.length]),
    text,
  ]);
  const body = Buffer.concat([Buffer.from([0x02, 1, messageId, 0x78, op.length]), op]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** A MySQL protocol-10 greeting packet (sequence 0) with `capabilities` in its lower flags. */
export function mysqlGreeting(capabilities = 0xffff, version = '8.0.36'): Buffer {
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from(`${version}\0`, 'latin1'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from('abcdefgh', 'latin1'),
    Buffer.from([0]),
    Buffer.from([capabilities & 0xff, capabilities >> 8]),
    Buffer.from([0x21, 2, 0, 0xff, 0x01, 21]),
    Buffer.alloc(10),
    Buffer.from('ijklmnopqrst\0', 'latin1'),
    Buffer.from('mysql_native_password\0', 'latin1'),
  ]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, payload.length >> 8, 0, 0]), payload]);
}

export function xmppStreamOpen(kind: 'client' | 'server', features: string): string {
  return (
    `<?xml version='1.0'?><stream:stream from='chat.test' id='s1' version='1.0' xmlns='jabber:${kind}' ` +
    `xmlns:stream='http://etherx.jabber.org/streams'><stream:features>${features}</stream:features>`
  );
}

/** What the server says first (or in answer to the client's first message): what the hostile servers mangle. */
export const FIRST_SERVER_MESSAGE: Readonly<Record<StartTlsProtocol, Buffer>> = {
  smtp: Buffer.from('220 mail.test ESMTP ready\r\n'),
  submission: Buffer.from('220 mail.test ESMTP ready\r\n'),
  imap: Buffer.from('* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n'),
  pop3: Buffer.from('+OK POP3 ready\r\n'),
  ftp: Buffer.from('220-Welcome\r\n220 FTP ready\r\n'),
  ldap: ldapExtendedResponse(0),
  postgres: Buffer.from('S'),
  mysql: mysqlGreeting(),
  xmpp: Buffer.from(xmppStreamOpen('client', `<starttls xmlns='${TLS_NS}'><required/></starttls>`)),
  'xmpp-server': Buffer.from(xmppStreamOpen('server', `<starttls xmlns='${TLS_NS}'/>`)),
};

/** Protocols with an exchange before TLS. */
export type StartTlsProtocol = Exclude<
  ProbeProtocolName,
  'tls' | 'https' | 'smtps' | 'imaps' | 'pop3s' | 'ldaps'
>;

export const STARTTLS_PROTOCOLS = Object.keys(FIRST_SERVER_MESSAGE) as StartTlsProtocol[];

/** Whether the client speaks first (the server's first message answers it). */
export const CLIENT_SPEAKS_FIRST: Readonly<Record<StartTlsProtocol, boolean>> = {
  smtp: false,
  submission: false,
  imap: false,
  pop3: false,
  ftp: false,
  ldap: true,
  postgres: true,
  mysql: false,
  xmpp: true,
  'xmpp-server': true,
};

/** Reads the client's first message of a client-first protocol. */
async function clientOpening(c: Conversation, protocol: StartTlsProtocol): Promise<void> {
  if (protocol === 'ldap') await c.bytes(ldapStartTlsRequest().length);
  else if (protocol === 'postgres') await c.bytes(POSTGRES_SSL_REQUEST.length);
  else if (protocol === 'xmpp' || protocol === 'xmpp-server') await c.until("streams'>");
}

/** The well-behaved server of `protocol`; `refuse` makes it decline the upgrade its own way. */
export function protocolScript(
  protocol: StartTlsProtocol,
  options: { readonly refuse?: boolean } = {},
): Script {
  const refuse = options.refuse ?? false;
  return async (c) => {
    switch (protocol) {
      case 'smtp':
      case 'submission': {
        c.write(FIRST_SERVER_MESSAGE[protocol]);
        await c.line(); // EHLO
        c.write('250-mail.test greets you\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
        await c.line(); // STARTTLS
        if (refuse) return c.write('454 4.7.0 TLS not available due to local problem\r\n');
        c.write('220 2.0.0 Ready to start TLS\r\n');
        return c.upgrade();
      }
      case 'imap': {
        c.write(FIRST_SERVER_MESSAGE.imap);
        await c.line();
        if (refuse) return c.write('a1 NO STARTTLS is disabled\r\n');
        c.write('* OK still here\r\na1 OK Begin TLS negotiation now\r\n');
        return c.upgrade();
      }
      case 'pop3': {
        c.write(FIRST_SERVER_MESSAGE.pop3);
        await c.line();
        if (refuse) return c.write('-ERR TLS not available\r\n');
        c.write('+OK Begin TLS negotiation\r\n');
        return c.upgrade();
      }
      case 'ftp': {
        c.write(FIRST_SERVER_MESSAGE.ftp);
        await c.line();
        if (refuse) return c.write('534 Policy requires SSL, but it is not configured\r\n');
        c.write('234 AUTH TLS OK\r\n');
        return c.upgrade();
      }
      case 'ldap': {
        await clientOpening(c, protocol);
        if (refuse) return c.write(ldapExtendedResponse(2, 'unsupported extended operation'));
        c.write(FIRST_SERVER_MESSAGE.ldap);
        return c.upgrade();
      }
      case 'postgres': {
        await clientOpening(c, protocol);
        if (refuse) return c.write('N');
        c.write('S');
        return c.upgrade();
      }
      case 'mysql': {
        c.write(refuse ? mysqlGreeting(0xffff & ~0x0800) : FIRST_SERVER_MESSAGE.mysql);
        await c.bytes(36); // the SSL request: 4-byte header, 32-byte payload
        return c.upgrade();
      }
      case 'xmpp':
      case 'xmpp-server': {
        await clientOpening(c, protocol);
        c.write(FIRST_SERVER_MESSAGE[protocol]);
        await c.until('/>');
        if (refuse) return c.write(`<failure xmlns='${TLS_NS}'/></stream:stream>`);
        c.write(`<proceed xmlns='${TLS_NS}'/>`);
        return c.upgrade();
      }
    }
  };
}

/** Ways a server misbehaves before TLS. */
export type HostileBehaviour = 'silent' | 'trickle' | 'endless-lines' | 'flood' | 'wrong-protocol' | 'refuse';

/** `behaviour` for `protocol`: what the server sends instead of the right thing. */
export function hostileScript(protocol: StartTlsProtocol, behaviour: HostileBehaviour): Script {
  return async (c) => {
    if (behaviour === 'refuse') return protocolScript(protocol, { refuse: true })(c);
    if (behaviour === 'wrong-protocol') {
      c.write('SSH-2.0-OpenSSH_9.6\r\n');
      return;
    }
    if (CLIENT_SPEAKS_FIRST[protocol]) await clientOpening(c, protocol);
    switch (behaviour) {
      case 'silent':
        return;
      case 'trickle':
        return c.trickle(FIRST_SERVER_MESSAGE[protocol], 100);
      case 'flood':
        return c.flood(Buffer.alloc(16 * 1024, 'A'), 4 * 1024 * 1024);
      case 'endless-lines':
        return c.flood(
          Buffer.from(ENDLESS_LINE[protocol].repeat(Math.ceil(16_384 / ENDLESS_LINE[protocol].length))),
          4 * 1024 * 1024,
        );
    }
  };
}

/** A line each protocol's reader accepts and asks for more after, repeated forever. */
const ENDLESS_LINE: Readonly<Record<StartTlsProtocol, string>> = {
  smtp: '220-still greeting\r\n',
  submission: '220-still greeting\r\n',
  imap: '* OK [ALERT] still greeting\r\n',
  pop3: 'x'.repeat(100),
  ftp: '220-Welcome\r\n',
  ldap: 'x',
  postgres: 'x',
  mysql: 'x',
  xmpp: `<?xml version='1.0'?><stream:stream xmlns='jabber:client'><a>`,
  'xmpp-server': '<a>',
};

// ---------------------------------------------------------------------------
// Proxy and mutual TLS
// ---------------------------------------------------------------------------

/** A loopback HTTP CONNECT proxy. */
export interface ProxyServer {
  readonly host: string;
  readonly port: number;
  /** The request lines received (`CONNECT host:port HTTP/1.1`). */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy: tunnels to the requested authority, unless `answer` (e.g.
 * `HTTP/1.1 403 Forbidden`) says otherwise; `'silent'` never answers.
 */
export async function startConnectProxy(
  options: { readonly answer?: string | 'silent' } = {},
): Promise<ProxyServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const request = head.slice(0, head.indexOf('\r\n'));
      requests.push(request);
      if (options.answer === 'silent') return;
      if (options.answer !== undefined) {
        socket.end(`${options.answer}\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      const [, authority = ''] = request.split(' ');
      const colon = authority.lastIndexOf(':');
      const upstream = netConnect({
        host: authority.slice(0, colon).replace(/^\[|\]$/g, ''),
        port: Number(authority.slice(colon + 1)),
      });
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        socket.destroy();
      });
      socket.on('close', () => upstream.destroy());
      upstream.once('connect', () => {
        socket.write('HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n');
        const rest = head.slice(end + 4);
        if (rest) upstream.write(Buffer.from(rest, 'latin1'));
        socket.pipe(upstream).pipe(socket);
      });
    };
    socket.on('data', onData);
  });
  const { port, close } = await listen(server, sockets, new Set());
  return { host: '127.0.0.1', port, requests, close };
}

/** A TLS server that requires a client certificate issued by `clientCaPem`. */
export interface MutualTlsServer {
  readonly host: string;
  readonly port: number;
  /** Subject CNs of the client certificates accepted. */
  readonly clients: readonly string[];
  close(): Promise<void>;
}

export async function startMutualTlsServer(
  identity: ServerIdentity & { readonly clientCaPem: string },
): Promise<MutualTlsServer> {
  const clients: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer({
    cert: identity.chainPem,
    key: identity.keyPem,
    ca: identity.clientCaPem,
    requestCert: true,
    rejectUnauthorized: true,
    maxVersion: 'TLSv1.2',
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => {});
    clients.push(String(socket.getPeerCertificate().subject?.CN ?? ''));
    socket.end();
  });
  server.on('tlsClientError', () => {});
  const { port, close } = await listen(server, sockets, new Set());
  return { host: '127.0.0.1', port, clients, close };
}
