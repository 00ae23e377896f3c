/**
 * Loopback servers for probe tests and benchmarks: well-behaved TLS servers,
 * and servers that misbehave in every way the probe must survive (silence,
 * trickling, garbage, early close, endless data, enormous or malformed
 * certificate messages).
 *
 * The raw servers hand-craft TLS 1.2 and TLS 1.3 server flights in JS, so
 * they can send arbitrary certificate bytes that no real TLS library would.
 * They speak only as far as the Certificate message; no handshake completes.
 *
 * Every server listens on port 0 of a loopback address; `close()` destroys
 * all open connections, clears all timers, and resolves once the listener is closed.
 */
import {
  createHash,
  createCipheriv,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket } from 'node:tls';
import {
  hkdfExpandLabel,
  recordNonce,
  TLS13_SUITES,
  trafficKeys,
} from '../../lambdas/probe/tls13-record-crypto';

/** A running test server. */
export interface TestServer {
  readonly host: string;
  readonly port: number;
  /** Destroy every open connection and timer, then close the listener. Idempotent. */
  close(): Promise<void>;
}

/** Common options. */
export interface ListenOptions {
  /** Loopback address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
}

// ---------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------

interface Tracker {
  readonly sockets: Set<Socket>;
  readonly timers: Set<NodeJS.Timeout>;
}

function track(server: Server): Tracker {
  const tracker: Tracker = { sockets: new Set(), timers: new Set() };
  server.on('connection', (socket: Socket) => {
    tracker.sockets.add(socket);
    // The probe hangs up abruptly by design; a server-side EPIPE/ECONNRESET is expected.
    socket.on('error', () => {});
    socket.on('close', () => tracker.sockets.delete(socket));
  });
  return tracker;
}

async function listen(server: Server, tracker: Tracker, options: ListenOptions): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const timer of tracker.timers) clearInterval(timer);
      tracker.timers.clear();
      server.close(() => resolve());
      for (const socket of tracker.sockets) socket.destroy();
    });
    return closing;
  };
  return { host, port, close };
}

/**
 * Call `onHello` once per connection with the first complete ClientHello handshake message.
 * Anything unexpected (an unparsable hello, a throwing callback) just drops the connection:
 * a test server must never crash the test process.
 */
function onClientHello(socket: Socket, onHello: (hello: ClientHello) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    try {
      const hello = parseClientHello(Buffer.concat(chunks));
      if (hello) {
        socket.off('data', onData);
        // Keep reading (and discarding) so the server notices when the client hangs up.
        socket.resume();
        onHello(hello);
      } else if (size > 65_536) {
        socket.destroy();
      }
    } catch {
      socket.destroy();
    }
  };
  socket.on('data', onData);
}

// ---------------------------------------------------------------------------
// Well-behaved TLS server
// ---------------------------------------------------------------------------

/** Options of {@link startTlsServer}. */
export interface TlsServerOptions extends ListenOptions {
  /** Certificates to send, leaf first: one PEM string holding them all, or one PEM per certificate. */
  readonly chainPem: string | readonly string[];
  readonly keyPem: string;
  readonly minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher string, e.g. 'TLS_CHACHA20_POLY1305_SHA256' or 'DEFAULT:@SECLEVEL=0'. */
  readonly ciphers?: string;
  /** Key-exchange groups, e.g. 'P-256' to force a TLS 1.3 HelloRetryRequest (clients lead with X25519). */
  readonly ecdhCurve?: string;
  /** Mutual TLS: 'required' asks for a client certificate and rejects clients without one. */
  readonly clientCertificate?: 'required' | 'optional';
}

/** A real node:tls server. */
export interface TlsTestServer extends TestServer {
  /** SNI names received, one per ClientHello that carried one (recorded while the ClientHello is processed). */
  readonly servernames: readonly string[];
  /** TCP connections accepted. */
  readonly connections: () => number;
}

/** A normal TLS server presenting `chainPem` (TLS 1.2 and 1.3 unless limited). */
export async function startTlsServer(options: TlsServerOptions): Promise<TlsTestServer> {
  const servernames: string[] = [];
  let connections = 0;
  const server = createTlsServer({
    cert: typeof options.chainPem === 'string' ? options.chainPem : options.chainPem.join(''),
    key: options.keyPem,
    ...(options.minVersion ? { minVersion: options.minVersion } : {}),
    ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
    ...(options.ciphers ? { ciphers: options.ciphers } : {}),
    ...(options.ecdhCurve ? { ecdhCurve: options.ecdhCurve } : {}),
    ...(options.clientCertificate
      ? { requestCert: true, rejectUnauthorized: options.clientCertificate === 'required' }
      : {}),
    SNICallback: (servername, callback) => {
      servernames.push(servername);
      callback(null);
    },
  });
  const tracker = track(server);
  server.on('connection', () => connections++);
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => {});
    socket.end();
  });
  server.on('tlsClientError', () => {});
  const base = await listen(server, tracker, options);
  return { ...base, servernames, connections: () => connections };
}

/** Options of {@link startPlainThenTlsServer}. */
export interface PlainThenTlsServerOptions
  extends ListenOptions,
    Pick<TlsServerOptions, 'chainPem' | 'keyPem'> {
  /** The line (without CRLF) a client sends to ask for TLS, e.g. 'STARTTLS'. */
  readonly command: string;
  /** The line answering it; TLS starts right after. */
  readonly reply: string;
  /** What the server does once it has read the command: reply and start TLS, never answer, or hang up. @default 'reply' */
  readonly onCommand?: 'reply' | 'hang' | 'close';
}

/** A {@link startPlainThenTlsServer} server. */
export interface PlainThenTlsTestServer extends TlsTestServer {
  /** The first line of each connection, as received. */
  readonly lines: readonly string[];
}

/**
 * Speaks one plain line exchange, then TLS on the same connection: the shape of every STARTTLS
 * protocol (SMTP, IMAP, ...) reduced to one command and one reply. Anything but `command`
 * gets `500 unexpected` and a hang-up.
 */
export async function startPlainThenTlsServer(
  options: PlainThenTlsServerOptions,
): Promise<PlainThenTlsTestServer> {
  const servernames: string[] = [];
  const lines: string[] = [];
  let connections = 0;
  const secureContext = createSecureContext({
    cert: typeof options.chainPem === 'string' ? options.chainPem : options.chainPem.join(''),
    key: options.keyPem,
  });
  const server = createNetServer();
  const tracker = track(server);
  server.on('connection', (socket: Socket) => {
    connections++;
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n');
      if (end === -1) {
        if (buffered.length > 4096) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const line = buffered.subarray(0, end).toString('latin1');
      lines.push(line);
      // RFC 3207 §4: a client waits for the reply before it starts TLS; one that does not is dropped.
      if (line !== options.command || buffered.length > end + 2) {
        socket.end('500 unexpected\r\n');
        return;
      }
      if (options.onCommand === 'close') {
        socket.end();
        return;
      }
      // Keep reading (and discarding) so the server notices when the client hangs up.
      if (options.onCommand === 'hang') {
        socket.resume();
        return;
      }
      socket.write(`${options.reply}\r\n`);
      const tls = new TLSSocket(socket, {
        isServer: true,
        secureContext,
        SNICallback: (servername, callback) => {
          servernames.push(servername);
          callback(null, secureContext);
        },
      });
      tls.on('error', () => {});
      tls.on('secure', () => tls.end());
    };
    socket.on('data', onData);
  });
  const base = await listen(server, tracker, options);
  return { ...base, servernames, lines, connections: () => connections };
}

// ---------------------------------------------------------------------------
// Misbehaving servers
// ---------------------------------------------------------------------------

/** Accepts connections and never sends a byte. */
export async function startTarpit(options: ListenOptions = {}): Promise<TestServer> {
  // Reading (and discarding) lets the server notice when the client hangs up, so it closes its side too.
  const server = createNetServer((socket) => socket.resume());
  return listen(server, track(server), options);
}

/** Options of {@link startTrickler}. */
export interface TricklerOptions extends ListenOptions {
  /** @default 200 */
  readonly intervalMs?: number;
}

/**
 * Answers the ClientHello with the header of a large handshake record, then one more byte
 * of it every `intervalMs`, forever: always almost there, never done.
 */
export async function startTrickler(options: TricklerOptions = {}): Promise<TestServer> {
  const server = createNetServer();
  const tracker = track(server);
  server.on('connection', (socket: Socket) =>
    onClientHello(socket, () => {
      socket.write(Buffer.from([22, 3, 3, 0x40, 0x00, 2]));
      const timer = setInterval(() => socket.write(Buffer.from([0])), options.intervalMs ?? 200);
      tracker.timers.add(timer);
      socket.on('close', () => {
        clearInterval(timer);
        tracker.timers.delete(timer);
      });
    }),
  );
  return listen(server, tracker, options);
}

/** Canned non-TLS answers: what an HTTP, SSH or SMTP server says to a TLS client. */
export const NOT_TLS_PAYLOADS = {
  http: Buffer.from(
    'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nBad Request',
  ),
  ssh: Buffer.from('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n'),
  smtp: Buffer.from('220 mail.example.com ESMTP Postfix\r\n'),
} as const;

/** Options of {@link startGarbageServer}. */
export interface GarbageServerOptions extends ListenOptions {
  /** Bytes to send. */
  readonly payload: Buffer;
  /** Speak first, like SSH and SMTP, or after the ClientHello, like HTTP. @default 'after-client-hello' */
  readonly when?: 'on-connect' | 'after-client-hello';
  /** What to do after sending. @default 'hang' */
  readonly afterwards?: 'close' | 'hang';
}

/** Answers with non-TLS bytes. */
export async function startGarbageServer(options: GarbageServerOptions): Promise<TestServer> {
  const server = createNetServer();
  const tracker = track(server);
  server.on('connection', (socket: Socket) => {
    const send = (): void => {
      if (options.afterwards === 'close') socket.end(options.payload);
      else socket.write(options.payload);
    };
    if (options.when === 'on-connect') send();
    else onClientHello(socket, send);
  });
  return listen(server, tracker, options);
}

/** Options of {@link startClosingServer}. */
export interface ClosingServerOptions extends ListenOptions {
  /** FIN or RST. @default 'close' */
  readonly mode?: 'close' | 'reset';
  /** Send a TLS 1.2 ServerHello first, so the close happens mid-handshake rather than before it. */
  readonly afterServerHello?: boolean;
}

/** Reads the ClientHello, then closes (or resets) the connection. */
export async function startClosingServer(options: ClosingServerOptions = {}): Promise<TestServer> {
  const server = createNetServer();
  const tracker = track(server);
  server.on('connection', (socket: Socket) =>
    onClientHello(socket, (hello) => {
      const hangUp = (): void => {
        if (options.mode === 'reset') socket.resetAndDestroy();
        else socket.end();
      };
      if (options.afterServerHello) socket.write(handshakeRecords([tls12ServerHello(hello)]), hangUp);
      else hangUp();
    }),
  );
  return listen(server, tracker, options);
}

/** Options of {@link startEndlessServer}. */
export interface EndlessServerOptions extends ListenOptions {
  /**
   * 'garbage': endless non-TLS bytes. 'certificate': a ServerHello, then a Certificate message
   * whose body never ends (handshake records of filler, forever).
   * @default 'garbage'
   */
  readonly kind?: 'garbage' | 'certificate';
}

/** An endless-data server; reports how many bytes it managed to send. */
export interface EndlessTestServer extends TestServer {
  readonly bytesSent: () => number;
}

/** After the ClientHello, writes as fast as the client reads, until the client goes away. */
export async function startEndlessServer(options: EndlessServerOptions = {}): Promise<EndlessTestServer> {
  const server = createNetServer();
  const tracker = track(server);
  let sent = 0;
  const filler = Buffer.alloc(16_384, 0x41);
  const fillerRecord = Buffer.concat([recordHeader(22, filler.length), filler]);
  server.on('connection', (socket: Socket) =>
    onClientHello(socket, (hello) => {
      if (options.kind === 'certificate') {
        const certificateHeader = Buffer.from([11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc]);
        socket.write(handshakeRecords([tls12ServerHello(hello), certificateHeader]));
      }
      const chunk = options.kind === 'certificate' ? fillerRecord : filler;
      const pump = (): void => {
        while (!socket.destroyed && socket.write(chunk)) sent += chunk.length;
      };
      socket.on('drain', pump);
      pump();
    }),
  );
  const base = await listen(server, tracker, options);
  return { ...base, bytesSent: () => sent };
}

/** Options of {@link startRawCertificateServer}. */
export interface RawCertificateServerOptions extends ListenOptions {
  /** The certificate_list entries, sent verbatim: any bytes at all. */
  readonly certificates: readonly Uint8Array[];
  /** @default 'TLSv1.2' */
  readonly version?: 'TLSv1.2' | 'TLSv1.3';
  /**
   * After the Certificate message: wait for the client to give up ('hang'), or close.
   * @default 'hang'
   */
  readonly afterwards?: 'hang' | 'close';
}

/**
 * Answers the ClientHello with a hand-made server flight up to and including a Certificate
 * message carrying exactly `certificates`. TLS 1.2 sends it in clear (followed by
 * ServerHelloDone); TLS 1.3 encrypts it under a real X25519 handshake key, as a server would.
 */
export async function startRawCertificateServer(options: RawCertificateServerOptions): Promise<TestServer> {
  return startScriptedServer({
    ...options,
    respond: (hello) =>
      options.version === 'TLSv1.3'
        ? tls13ServerFlight(hello, options.certificates)
        : tls12ServerFlight(hello, options.certificates),
  });
}

/** Options of {@link startEnormousChainServer}. */
export interface EnormousChainServerOptions extends ListenOptions {
  /** One certificate (DER) repeated `count` times. */
  readonly certificate: Uint8Array;
  readonly count: number;
}

/** A TLS 1.2 server whose Certificate message repeats one certificate `count` times (megabytes if wanted). */
export function startEnormousChainServer(options: EnormousChainServerOptions): Promise<TestServer> {
  return startRawCertificateServer({
    ...options,
    certificates: new Array<Uint8Array>(options.count).fill(options.certificate),
  });
}

/** Options of {@link startScriptedServer}. */
export interface ScriptedServerOptions extends ListenOptions {
  /** Bytes to answer the n-th connection's ClientHello with. */
  readonly respond: (hello: ClientHello, connectionIndex: number) => Buffer;
  /** @default 'hang' */
  readonly afterwards?: 'hang' | 'close';
}

/** Answers each ClientHello with whatever `respond` returns: the basis of raw and fuzz servers. */
export async function startScriptedServer(options: ScriptedServerOptions): Promise<TestServer> {
  const server = createNetServer();
  const tracker = track(server);
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    const index = connections++;
    onClientHello(socket, (hello) => {
      const answer = options.respond(hello, index);
      if (options.afterwards === 'close') socket.end(answer);
      else socket.write(answer);
    });
  });
  return listen(server, tracker, options);
}

// ---------------------------------------------------------------------------
// TLS message crafting
// ---------------------------------------------------------------------------

/** The parts of a ClientHello the raw servers need. */
export interface ClientHello {
  /** The whole handshake message (header included), for the TLS 1.3 transcript. */
  readonly message: Buffer;
  readonly sessionId: Buffer;
  readonly cipherSuites: readonly number[];
  /** key_share entries by group id. */
  readonly keyShares: ReadonlyMap<number, Buffer>;
  readonly servername: string | null;
}

/** Parse the first ClientHello from the start of a client's byte stream; null until it is complete. */
export function parseClientHello(stream: Buffer): ClientHello | null {
  const handshake: Buffer[] = [];
  for (let offset = 0; offset + 5 <= stream.length; ) {
    const length = stream.readUInt16BE(offset + 3);
    if (offset + 5 + length > stream.length) break;
    if (stream[offset] === 22) handshake.push(stream.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  const bytes = Buffer.concat(handshake);
  if (bytes.length < 4 || bytes[0] !== 1) return null;
  const length = bytes.readUIntBE(1, 3);
  if (bytes.length < 4 + length) return null;
  const message = bytes.subarray(0, 4 + length);
  let at = 4 + 2 + 32;
  const sessionId = message.subarray(at + 1, at + 1 + message[at]!);
  at += 1 + sessionId.length;
  const suitesLength = message.readUInt16BE(at);
  const cipherSuites: number[] = [];
  for (let i = 0; i < suitesLength; i += 2) cipherSuites.push(message.readUInt16BE(at + 2 + i));
  at += 2 + suitesLength;
  at += 1 + message[at]!;
  const keyShares = new Map<number, Buffer>();
  let servername: string | null = null;
  const extensionsEnd = at + 2 + message.readUInt16BE(at);
  for (at += 2; at + 4 <= extensionsEnd; ) {
    const type = message.readUInt16BE(at);
    const data = message.subarray(at + 4, at + 4 + message.readUInt16BE(at + 2));
    at += 4 + data.length;
    if (type === 0x0033) {
      for (let k = 2; k + 4 <= data.length; ) {
        const keyLength = data.readUInt16BE(k + 2);
        keyShares.set(data.readUInt16BE(k), data.subarray(k + 4, k + 4 + keyLength));
        k += 4 + keyLength;
      }
    } else if (type === 0x0000 && data.length > 5) {
      servername = data.subarray(5, 5 + data.readUInt16BE(3)).toString('latin1');
    }
  }
  return { message, sessionId, cipherSuites, keyShares, servername };
}

/** A 5-byte record header (legacy version TLS 1.2). */
export function recordHeader(contentType: number, length: number): Buffer {
  return Buffer.from([contentType, 3, 3, length >> 8, length & 0xff]);
}

/** A handshake message: type, 24-bit length, body. */
export function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]),
    body,
  ]);
}

/** Handshake messages framed into cleartext records of at most 16 KiB. */
export function handshakeRecords(messages: readonly Buffer[]): Buffer {
  const stream = Buffer.concat(messages);
  const records: Buffer[] = [];
  for (let offset = 0; offset < stream.length; offset += 16_384) {
    const fragment = stream.subarray(offset, offset + 16_384);
    records.push(recordHeader(22, fragment.length), fragment);
  }
  return Buffer.concat(records);
}

/** A TLS 1.2 certificate_list body (RFC 5246 §7.4.2) holding exactly these bytes. */
export function certificateListBody(
  certificates: readonly Uint8Array[],
  withEntryExtensions = false,
): Buffer {
  const entries = certificates.flatMap((der) => [
    u24(der.length),
    Buffer.from(der),
    ...(withEntryExtensions ? [Buffer.from([0, 0])] : []),
  ]);
  const list = Buffer.concat(entries);
  return Buffer.concat([u24(list.length), list]);
}

/**
 * A TLS 1.2 ServerHello: fresh random, empty session id (so it is not a resumption), the
 * client's preferred RSA or ECDHE-RSA suite, and the renegotiation_info OpenSSL insists on.
 */
export function tls12ServerHello(hello: ClientHello): Buffer {
  const preferred = [0xc02f, 0x009c, 0xc030, 0x009d, 0x002f];
  const suite = preferred.find((s) => hello.cipherSuites.includes(s)) ?? 0xc02f;
  const renegotiationInfo = Buffer.from([0xff, 0x01, 0x00, 0x01, 0x00]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    randomBytes(32),
    Buffer.from([0]),
    u16(suite),
    Buffer.from([0]),
    u16(renegotiationInfo.length),
    renegotiationInfo,
  ]);
  return handshakeMessage(2, body);
}

/** ServerHello, Certificate carrying `certificates` verbatim, ServerHelloDone; in clear. */
export function tls12ServerFlight(hello: ClientHello, certificates: readonly Uint8Array[]): Buffer {
  return handshakeRecords([
    tls12ServerHello(hello),
    handshakeMessage(11, certificateListBody(certificates)),
    handshakeMessage(14, Buffer.alloc(0)),
  ]);
}

/**
 * A TLS 1.3 server flight up to the Certificate message: ServerHello with an X25519 key share,
 * then EncryptedExtensions and Certificate protected with TLS_AES_128_GCM_SHA256 under the real
 * server handshake traffic key, so the client decrypts it and judges the certificates itself.
 */
export function tls13ServerFlight(hello: ClientHello, certificates: readonly Uint8Array[]): Buffer {
  return buildTls13ServerFlight(hello, certificates).bytes;
}

/** {@link tls13ServerFlight}, plus the server handshake traffic secret a keylog line would carry. */
export function buildTls13ServerFlight(
  hello: ClientHello,
  certificates: readonly Uint8Array[],
): { bytes: Buffer; serverHandshakeSecret: Buffer } {
  const clientShare = hello.keyShares.get(0x001d);
  if (!clientShare) throw new Error('client offered no X25519 key share');
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const serverShare = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const clientKey = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: clientShare.toString('base64url') },
    format: 'jwk',
  });
  const shared = diffieHellman({ privateKey, publicKey: clientKey });

  const extensions = Buffer.concat([
    Buffer.from([0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]),
    Buffer.from([0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]),
    serverShare,
  ]);
  const serverHello = handshakeMessage(
    2,
    Buffer.concat([
      Buffer.from([3, 3]),
      randomBytes(32),
      Buffer.from([hello.sessionId.length]),
      hello.sessionId,
      u16(0x1301),
      Buffer.from([0]),
      u16(extensions.length),
      extensions,
    ]),
  );

  const suite = TLS13_SUITES.get(0x1301)!;
  const zeros = Buffer.alloc(32);
  const earlySecret = hmac(zeros, zeros);
  const derived = hkdfExpandLabel('sha256', earlySecret, 'derived', sha256(Buffer.alloc(0)), 32);
  const handshakeSecret = hmac(derived, shared);
  const transcript = sha256(Buffer.concat([hello.message, serverHello]));
  const serverHandshakeSecret = hkdfExpandLabel('sha256', handshakeSecret, 's hs traffic', transcript, 32);
  const keys = trafficKeys(suite, serverHandshakeSecret);

  const encryptedExtensions = handshakeMessage(8, Buffer.from([0, 0]));
  const certificate = handshakeMessage(
    11,
    Buffer.concat([Buffer.from([0]), certificateListBody(certificates, true)]),
  );
  const protectedStream = Buffer.concat([encryptedExtensions, certificate]);
  const sealed: Buffer[] = [];
  // Separate records for EncryptedExtensions and each 16 KiB of Certificate exercise the sequence numbers.
  const fragments = [encryptedExtensions];
  for (let offset = encryptedExtensions.length; offset < protectedStream.length; offset += 16_000) {
    fragments.push(protectedStream.subarray(offset, offset + 16_000));
  }
  for (const [sequence, fragment] of fragments.entries()) {
    const inner = Buffer.concat([fragment, Buffer.from([22])]);
    const header = recordHeader(23, inner.length + 16);
    const cipher = createCipheriv('aes-128-gcm', keys.key, recordNonce(keys.iv, sequence));
    cipher.setAAD(header);
    sealed.push(header, cipher.update(inner), cipher.final(), cipher.getAuthTag());
  }
  const changeCipherSpec = Buffer.from([20, 3, 3, 0, 1, 1]);
  return {
    bytes: Buffer.concat([handshakeRecords([serverHello]), changeCipherSpec, ...sealed]),
    serverHandshakeSecret,
  };
}

function u16(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}

function u24(value: number): Buffer {
  return Buffer.from([value >> 16, (value >> 8) & 0xff, value & 0xff]);
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
