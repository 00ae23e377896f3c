/**
 * The canary's throwaway servers on loopback: one TLS server that picks the fixture's
 * certificate by SNI, one that answers the ClientHello with a hand-written TLS 1.2 flight
 * carrying a malformed certificate (no TLS library will load one), and one that accepts the
 * connection and never says a word. Every socket is tracked and destroyed on close.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createSecureContext, createServer as createTlsServer, type SecureContext } from 'node:tls';
import type { CanaryCertificate, CanaryPki } from './canary-certificates';

/** Where each kind of canary server listens (all on 127.0.0.1). */
export interface CanaryServers {
  /** The TLS server; the certificate follows the SNI name (see {@link startCanaryServers}). */
  readonly tlsPort: number;
  readonly malformedPort: number;
  readonly silentPort: number;
  /** Stops the servers and destroys every connection they hold; resolves when all are closed. */
  close(): Promise<void>;
}

/** What the TLS server serves for each SNI name: the name's leaf, then the root when it has one. */
export type CanaryTlsChains = Readonly<Record<string, readonly CanaryCertificate[]>>;

/** A ClientHello never needs more than this; a client that sends more gets nothing. */
const MAX_HELLO_BYTES = 16_384;

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

function tracked(server: Server): { server: Server; close: () => Promise<void> } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A peer that resets is normal here (the probe gives up on purpose).
    socket.on('error', () => {});
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// --- the hand-written TLS 1.2 flight ------------------------------------------------------

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 0xff]);
}

function u24(n: number): Buffer {
  return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}

/** The cipher suites of a ClientHello at the start of `data`; null until the first record is complete. */
export function offeredSuites(data: Buffer): number[] | null {
  if (data.length < 5) return null;
  const recordEnd = 5 + data.readUInt16BE(3);
  if (data[0] !== 22 || data.length < recordEnd) return data[0] === 22 ? null : [];
  let at = 5 + 4 + 2 + 32;
  if (at >= recordEnd) return [];
  at += 1 + (data[at] ?? 0);
  if (at + 2 > recordEnd) return [];
  const end = Math.min(recordEnd, at + 2 + data.readUInt16BE(at));
  const suites: number[] = [];
  for (at += 2; at + 2 <= end; at += 2) suites.push(data.readUInt16BE(at));
  return suites;
}

/** ServerHello (an offered TLS 1.2 ECDSA suite), Certificate with exactly `certificates`, ServerHelloDone. */
export function tls12CertificateFlight(suites: readonly number[], certificates: readonly Buffer[]): Buffer {
  const suite =
    [0xc02b, 0xc02c, 0xc02f, 0x009c].find((s) => suites.includes(s)) ??
    suites.find((s) => s >> 8 !== 0x13 && s !== 0x00ff) ??
    0xc02b;
  const renegotiationInfo = Buffer.from([0xff, 0x01, 0x00, 0x01, 0x00]);
  const serverHello = handshake(
    2,
    Buffer.concat([
      Buffer.from([3, 3]),
      randomBytes(32),
      Buffer.from([0]),
      u16(suite),
      Buffer.from([0]),
      u16(5),
      renegotiationInfo,
    ]),
  );
  const list = Buffer.concat(certificates.flatMap((c) => [u24(c.length), c]));
  const messages = Buffer.concat([
    serverHello,
    handshake(11, Buffer.concat([u24(list.length), list])),
    handshake(14, Buffer.alloc(0)),
  ]);
  return Buffer.concat([Buffer.from([22, 3, 3]), u16(messages.length), messages]);
}

// --- the servers -------------------------------------------------------------------------

/** Starts the three canary servers on 127.0.0.1 (ephemeral ports). */
export async function startCanaryServers(pki: CanaryPki, chains: CanaryTlsChains): Promise<CanaryServers> {
  const contexts = new Map<string, SecureContext>(
    Object.entries(chains).map(([sni, chain]) => [
      sni,
      createSecureContext({ key: pki.keyPem, cert: chain.map((c) => c.pem).join('') }),
    ]),
  );
  const tls = tracked(
    createTlsServer({
      SNICallback: (sni, done) => {
        const context = contexts.get(sni);
        done(context ? null : new Error(`no canary fixture is called ${sni}`), context);
      },
    }),
  );
  tls.server.on('tlsClientError', () => {});
  const malformed = tracked(
    createNetServer((socket) => {
      let hello = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        hello = Buffer.concat([hello, chunk]);
        const suites = offeredSuites(hello);
        if (suites === null && hello.length < MAX_HELLO_BYTES) return;
        socket.off('data', onData);
        // Then silence: the client judges the certificate and gives up.
        socket.write(tls12CertificateFlight(suites ?? [], [pki.malformedDer]));
      };
      socket.on('data', onData);
    }),
  );
  const silent = tracked(createNetServer(() => {}));
  const started = [tls, malformed, silent];
  try {
    const [tlsPort, malformedPort, silentPort] = await Promise.all(started.map((s) => listen(s.server)));
    return {
      tlsPort: tlsPort ?? 0,
      malformedPort: malformedPort ?? 0,
      silentPort: silentPort ?? 0,
      close: async () => void (await Promise.all(started.map((s) => s.close()))),
    };
  } catch (error) {
    await Promise.all(started.map((s) => (s.server.listening ? s.close() : undefined)));
    throw error;
  }
}
