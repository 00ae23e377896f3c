import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeTlsRecordStart, ServerFlightSniffer } from '../../lambdas/probe/server-flight-sniffer';
import {
  buildTls13ServerFlight,
  type ClientHello,
  certificateListBody,
  handshakeMessage,
  handshakeRecords,
  NOT_TLS_PAYLOADS,
  tls12ServerFlight,
  tls12ServerHello,
} from '../support/tls-test-servers';

const CERTS = [randomBytes(900), Buffer.from('not DER at all'), randomBytes(700)];

function clientHello(): ClientHello {
  const { publicKey } = generateKeyPairSync('x25519');
  const share = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return {
    message: handshakeMessage(1, randomBytes(100)),
    sessionId: randomBytes(32),
    cipherSuites: [0x1301, 0xc02f],
    keyShares: new Map([[0x001d, share]]),
    servername: null,
  };
}

function keylogLine(label: string, secret: Buffer): Buffer {
  return Buffer.from(`${label} ${randomBytes(32).toString('hex')} ${secret.toString('hex')}\n`);
}

/** Feed `bytes` in pieces of the given sizes (cycled). */
function feed(sniffer: ServerFlightSniffer, bytes: Buffer, sizes: readonly number[]): void {
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    sniffer.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
}

const asArrays = (chain: readonly Uint8Array[] | null) => chain?.map((c) => [...c]) ?? null;

describe('ServerFlightSniffer', () => {
  it.each([
    ['in one piece', [1 << 20]],
    ['byte by byte', [1]],
    ['in odd pieces', [3, 7, 1, 5000, 2]],
  ])('recovers a TLS 1.2 Certificate message exactly, fed %s', (_, sizes) => {
    // Prepare
    const sniffer = new ServerFlightSniffer(256 * 1024);
    const flight = tls12ServerFlight(clientHello(), CERTS);

    // Act
    feed(sniffer, flight, sizes);
    const result = sniffer.finish();

    // Assess
    expect(asArrays(result.chainDer)).toEqual(asArrays(CERTS));
    expect(result).toMatchObject({ looksLikeTls: true, truncated: false, bytesReceived: flight.length });
  });

  it('returns compact copies, not views into the received stream', () => {
    // Prepare
    const sniffer = new ServerFlightSniffer(256 * 1024);

    // Act
    sniffer.push(tls12ServerFlight(clientHello(), CERTS));
    const chain = sniffer.finish().chainDer ?? [];

    // Assess
    expect(chain.map((c) => [c.constructor.name, c.buffer.byteLength])).toEqual(
      CERTS.map((c) => ['Uint8Array', c.length]),
    );
  });

  it.each([
    ['in one piece', [1 << 20]],
    ['byte by byte', [1]],
  ])('opens a TLS 1.3 flight with the keylog secret, fed %s', (_, sizes) => {
    // Prepare
    const sniffer = new ServerFlightSniffer(256 * 1024);
    const { bytes, serverHandshakeSecret } = buildTls13ServerFlight(clientHello(), CERTS);

    // Act
    feed(sniffer, bytes, sizes);
    sniffer.onKeylog(keylogLine('CLIENT_HANDSHAKE_TRAFFIC_SECRET', randomBytes(32)));
    sniffer.onKeylog(keylogLine('SERVER_HANDSHAKE_TRAFFIC_SECRET', serverHandshakeSecret));
    const result = sniffer.finish();

    // Assess
    expect(asArrays(result.chainDer)).toEqual(asArrays(CERTS));
  });

  it('skips a HelloRetryRequest and reads the flight after it', () => {
    // Prepare
    const hello = clientHello();
    const helloRetry = handshakeMessage(
      2,
      Buffer.concat([
        Buffer.from([3, 3]),
        Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
        Buffer.from([hello.sessionId.length]),
        hello.sessionId,
        Buffer.from([0x13, 0x01, 0, 0, 6, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]),
      ]),
    );
    const { bytes, serverHandshakeSecret } = buildTls13ServerFlight(hello, CERTS);
    const sniffer = new ServerFlightSniffer(256 * 1024);

    // Act
    sniffer.push(handshakeRecords([helloRetry]));
    sniffer.push(bytes);
    sniffer.onKeylog(keylogLine('SERVER_HANDSHAKE_TRAFFIC_SECRET', serverHandshakeSecret));

    // Assess
    expect(asArrays(sniffer.finish().chainDer)).toEqual(asArrays(CERTS));
  });

  it.each([
    ['no secret', null],
    ['a wrong secret', randomBytes(32)],
  ])('gives no TLS 1.3 chain, and does not throw, with %s', (_, secret) => {
    // Prepare
    const sniffer = new ServerFlightSniffer(256 * 1024);

    // Act
    sniffer.push(buildTls13ServerFlight(clientHello(), CERTS).bytes);
    if (secret) sniffer.onKeylog(keylogLine('SERVER_HANDSHAKE_TRAFFIC_SECRET', secret));
    const result = sniffer.finish();

    // Assess
    expect(result).toMatchObject({ chainDer: null, looksLikeTls: true, truncated: false });
  });

  it('keeps the complete entries when a certificate length overruns the message', () => {
    // Prepare
    const body = certificateListBody(CERTS);
    const secondEntry = 3 + 3 + CERTS[0]!.length;
    body.writeUIntBE(0xfffff0, secondEntry, 3);
    const sniffer = new ServerFlightSniffer(256 * 1024);

    // Act
    sniffer.push(handshakeRecords([tls12ServerHello(clientHello()), handshakeMessage(11, body)]));

    // Assess
    expect(asArrays(sniffer.finish().chainDer)).toEqual(asArrays([CERTS[0]!]));
  });

  it('reports an empty Certificate message as an empty chain', () => {
    // Prepare
    const sniffer = new ServerFlightSniffer(256 * 1024);

    // Act
    sniffer.push(tls12ServerFlight(clientHello(), []));

    // Assess
    expect(sniffer.finish().chainDer).toEqual([]);
  });

  it('stops at its byte budget and says the chain was truncated', () => {
    // Prepare
    const sniffer = new ServerFlightSniffer(4096);
    const flight = tls12ServerFlight(clientHello(), [randomBytes(3000), randomBytes(3000)]);

    // Act
    feed(sniffer, flight, [1000]);
    const result = sniffer.finish();

    // Assess
    expect(result).toMatchObject({ chainDer: null, truncated: true, bytesReceived: flight.length });
    expect(sniffer.retainedBytes).toBeLessThanOrEqual(4096);
  });

  it('never holds more than its budget, whatever arrives', () => {
    // Prepare
    const budget = 64 * 1024;
    const endlessCertificate = Buffer.concat([
      handshakeRecords([tls12ServerHello(clientHello())]),
      handshakeRecords([Buffer.from([11, 0x00, 0xff, 0xff, 0x00, 0xff, 0xfc]), Buffer.alloc(16_000)]),
    ]);
    const filler = handshakeRecords([Buffer.alloc(16_000)]);
    const sniffer = new ServerFlightSniffer(budget);
    let maxRetained = 0;

    // Act
    sniffer.push(endlessCertificate);
    for (let i = 0; i < 640; i++) {
      sniffer.push(filler);
      maxRetained = Math.max(maxRetained, sniffer.retainedBytes);
    }
    const result = sniffer.finish();

    // Assess
    expect(maxRetained).toBeLessThanOrEqual(budget);
    expect(result.truncated).toBe(true);
    expect(result.bytesReceived).toBeGreaterThan(10_000_000);
  });

  it.each([
    ['HTTP', NOT_TLS_PAYLOADS.http, 'HTTP/1.1 400 Bad'],
    ['SSH', NOT_TLS_PAYLOADS.ssh, 'SSH-2.0-OpenSSH_'],
    ['text with control characters', Buffer.from('\x00OK hello\r\n'), '.OK hello..'],
    ['binary', Buffer.from([0, 1, 2, 0xff, 0x41]), '0x000102ff41'],
    ['TLS-like header with an illegal record length', Buffer.from([0x16, 3, 3, 0xff, 0xff]), '0x160303ffff'],
  ])('flags a %s answer as not TLS, with a readable preview', (_, payload, preview) => {
    // Prepare
    const sniffer = new ServerFlightSniffer(256 * 1024);

    // Act
    sniffer.push(payload);
    const result = sniffer.finish();

    // Assess
    expect(result).toMatchObject({ chainDer: null, looksLikeTls: false, preview });
  });

  it('never throws and always reports a well-formed result on random input', () => {
    // Prepare
    const samples = Array.from({ length: 300 }, (_, i) => {
      const prefix = i % 3 === 0 ? Buffer.from([22, 3, 3]) : Buffer.alloc(0);
      return Buffer.concat([prefix, randomBytes(1 + ((i * 37) % 3000))]);
    });

    // Act / Assess
    for (const sample of samples) {
      const sniffer = new ServerFlightSniffer(2048);
      feed(sniffer, sample, [1, 13, 200]);
      sniffer.onKeylog(keylogLine('SERVER_HANDSHAKE_TRAFFIC_SECRET', randomBytes(32)));
      sniffer.onKeylog(randomBytes(40));
      const result = sniffer.finish();
      expect(result.bytesReceived).toBe(sample.length);
      expect(result.chainDer === null || Array.isArray(result.chainDer)).toBe(true);
      expect(sniffer.retainedBytes).toBeLessThanOrEqual(2048);
    }
  });
});

describe('judgeTlsRecordStart', () => {
  it.each([
    [[], null],
    [[22], null],
    [[22, 3], null],
    [[22, 3, 3, 0], null],
    [[22, 3, 3, 0, 5], true],
    [[21, 3, 1, 0, 2], true],
    [[0x48, 0x54], false],
    [[19], false],
    [[24], false],
    [[22, 9], false],
    [[22, 3, 9, 0, 5], false],
    [[22, 3, 3, 0xff, 0xff], false],
  ])('%j → %s', (bytes, expected) => {
    // Act / Assess
    expect(judgeTlsRecordStart(Buffer.from(bytes))).toBe(expected);
  });
});
