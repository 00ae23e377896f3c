/**
 * Reads the bytes a server sends during the TLS handshake, next to OpenSSL,
 * to recover the Certificate message exactly as sent: order, duplicates,
 * unrelated extras and certificates OpenSSL cannot parse included.
 *
 * Node offers no API for this: `getPeerCertificate(true)` re-links the chain by
 * issuer name, silently drops certificates that do not link, may append a root
 * from the local store, and there is nothing at all when OpenSSL aborts the
 * handshake on a certificate it cannot decode.
 *
 * - TLS ≤ 1.2: the Certificate message is cleartext and is parsed as it arrives.
 * - TLS 1.3: the flight is encrypted; protected records are kept (within the byte
 *   budget) and opened with the server handshake traffic secret from Node's
 *   `keylog` event when {@link ServerFlightSniffer.finish} is called.
 *
 * Robustness: nothing here throws to the caller, and at most `maxBytes` of input
 * is ever retained, whatever the server sends.
 */
import { ByteQueue } from './byte-queue';
import { openRecord, TLS13_SUITES, type Tls13Suite, trafficKeys } from './tls13-record-crypto';

/** What the sniffer learned about the server's first flight. */
export interface ServerFlight {
  /** Certificates as sent, leaf first, raw DER; null when no complete Certificate message was seen. */
  readonly chainDer: Uint8Array[] | null;
  /** true: the server's first bytes form a TLS record header; false: they do not; null: too few bytes. */
  readonly looksLikeTls: boolean | null;
  /** The first bytes received, for NOT_TLS messages: text with non-printable characters as ".", or hex. */
  readonly preview: string;
  /** Bytes received from the server, including any beyond the budget. */
  readonly bytesReceived: number;
  /** The byte budget ran out before a Certificate message was found. */
  readonly truncated: boolean;
  /** The server asked for a client certificate (a CertificateRequest was seen in its flight). */
  readonly certificateRequested: boolean;
}

const RECORD_HEADER_LENGTH = 5;
/** RFC 8446 §5.2 / RFC 5246 §6.2.3: no record is longer than 2^14 + 2048. */
const MAX_RECORD_LENGTH = 16_384 + 2_048;
const PREVIEW_LENGTH = 16;

enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
}

enum HandshakeType {
  ServerHello = 2,
  Certificate = 11,
  CertificateRequest = 13,
  ServerHelloDone = 14,
  Finished = 20,
}

const SUPPORTED_VERSIONS_EXTENSION = 0x002b;
const TLS13_VERSION = 0x0304;
const SERVER_SECRET_LABEL = 'SERVER_HANDSHAKE_TRAFFIC_SECRET ';
/** RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
const HELLO_RETRY_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

interface SealedRecord {
  readonly header: Buffer;
  readonly payload: Buffer;
}

/** Incremental, bounded parser of the server-to-client direction of a TLS handshake. */
export class ServerFlightSniffer {
  private readonly records = new ByteQueue();
  private readonly handshake = new ByteQueue();
  private readonly sealed: SealedRecord[] = [];
  private head = Buffer.alloc(0);
  private received = 0;
  private accepted = 0;
  private exhausted = false;
  private done = false;
  private tls13Suite: Tls13Suite | null = null;
  private serverSecret: Buffer | null = null;
  private chain: Uint8Array[] | null = null;
  private certificateRequested = false;

  /** @param maxBytes most input bytes ever retained for parsing. */
  constructor(private readonly maxBytes: number) {}

  /** Input bytes currently held for parsing; never more than `maxBytes`. */
  get retainedBytes(): number {
    return (
      this.records.length +
      this.handshake.length +
      this.sealed.reduce((sum, r) => sum + r.payload.length + 5, 0)
    );
  }

  /** Feed bytes as they arrive from the server. Never throws. */
  push(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.head.length < PREVIEW_LENGTH) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, PREVIEW_LENGTH - this.head.length)]);
    }
    if (this.done) return;
    const room = this.maxBytes - this.accepted;
    if (chunk.length > room) this.exhausted = true;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.accepted += kept.length;
    this.records.push(kept);
    this.guard(() => this.readRecords());
    // Past the budget nothing more is parsed; TLS 1.3 records already kept can still be opened.
    if (this.exhausted) this.done = true;
  }

  /** Feed one line of Node's `keylog` event (NSS key log format). Never throws. */
  onKeylog(line: Buffer): void {
    const text = line.toString('latin1');
    if (!text.startsWith(SERVER_SECRET_LABEL)) return;
    const hex = text.trim().split(' ')[2] ?? '';
    if (/^([0-9a-f]{2}){32,64}$/i.test(hex)) this.serverSecret = Buffer.from(hex, 'hex');
  }

  /** Stop and report; for TLS 1.3 this opens the kept protected records. Never throws. */
  finish(): ServerFlight {
    if (this.chain === null && this.tls13Suite && this.serverSecret) {
      this.guard(() => this.openSealedFlight(this.tls13Suite!, this.serverSecret!));
    }
    this.sealed.length = 0;
    this.done = true;
    return {
      chainDer: this.chain,
      looksLikeTls: judgeTlsRecordStart(this.head),
      preview: printable(this.head),
      bytesReceived: this.received,
      truncated: this.exhausted && this.chain === null,
      certificateRequested: this.certificateRequested,
    };
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch {
      // Whatever the server sent confused the parser: stop sniffing; OpenSSL decides the outcome.
      this.done = true;
    }
  }

  private readRecords(): void {
    while (!this.done) {
      const header = this.records.peek(RECORD_HEADER_LENGTH);
      if (!header) return;
      if (!isRecordHeader(header)) {
        this.done = true;
        return;
      }
      const record = this.records.take(RECORD_HEADER_LENGTH + header.readUInt16BE(3));
      if (!record) return;
      this.onRecord(record.subarray(0, RECORD_HEADER_LENGTH), record.subarray(RECORD_HEADER_LENGTH));
    }
  }

  private onRecord(header: Buffer, payload: Buffer): void {
    const type = header[0];
    if (type === ContentType.Handshake && this.tls13Suite === null) {
      this.handshake.push(payload);
      this.readCleartextHandshake();
    } else if (type === ContentType.ApplicationData && this.tls13Suite !== null) {
      this.sealed.push({ header, payload });
    }
    // ChangeCipherSpec and alerts carry nothing we need; OpenSSL reports alerts itself.
  }

  private readCleartextHandshake(): void {
    for (
      let message = this.nextMessage(this.handshake);
      message;
      message = this.nextMessage(this.handshake)
    ) {
      if (message.type === HandshakeType.ServerHello) {
        this.onServerHello(message.body);
      } else if (message.type === HandshakeType.Certificate) {
        // The first Certificate message is the server's; a second one is noise.
        this.chain ??= parseCertificateList(new Reader(message.body), false);
      } else if (message.type === HandshakeType.CertificateRequest) {
        this.certificateRequested = true;
        this.done = true;
      } else if (message.type === HandshakeType.ServerHelloDone) {
        // The end of the cleartext flight (TLS <= 1.2): what follows is encrypted.
        this.done = true;
      }
      if (this.done || this.tls13Suite !== null) return;
    }
  }

  private onServerHello(body: Buffer): void {
    const r = new Reader(body);
    r.skip(2);
    if (r.bytes(32).equals(HELLO_RETRY_RANDOM)) return;
    r.skip(r.u8());
    const cipherSuite = r.u16();
    r.skip(1);
    if (r.remaining === 0 || !isTls13(r.bytes(r.u16()))) return;
    const suite = TLS13_SUITES.get(cipherSuite);
    if (suite) this.tls13Suite = suite;
    else this.done = true;
  }

  private openSealedFlight(suite: Tls13Suite, secret: Buffer): void {
    const keys = trafficKeys(suite, secret);
    const plaintext = new ByteQueue();
    for (const [sequence, record] of this.sealed.entries()) {
      const inner = openRecord(keys, sequence, record.header, record.payload);
      if (!inner || inner.contentType !== ContentType.Handshake) return;
      plaintext.push(inner.content);
      for (let message = this.nextMessage(plaintext); message; message = this.nextMessage(plaintext)) {
        // TLS 1.3 order: EncryptedExtensions, [CertificateRequest], Certificate, ...
        if (message.type === HandshakeType.CertificateRequest) this.certificateRequested = true;
        if (message.type === HandshakeType.Certificate) {
          this.chain = parseCertificateList(new Reader(message.body), true);
          return;
        }
        if (message.type === HandshakeType.Finished) return;
      }
    }
  }

  private nextMessage(queue: ByteQueue): { type: number; body: Buffer } | null {
    const header = queue.peek(4);
    if (!header) return null;
    const length = header.readUIntBE(1, 3);
    if (length > this.maxBytes) {
      this.exhausted = true;
      this.done = true;
      return null;
    }
    const message = queue.take(4 + length);
    return message ? { type: header[0]!, body: message.subarray(4) } : null;
  }
}

/**
 * Whether bytes start like a TLS record from a server: a known content type, major
 * version 3 and a legal length. Judged on as few bytes as possible; null when undecidable.
 */
export function judgeTlsRecordStart(head: Buffer): boolean | null {
  if (head.length === 0) return null;
  const type = head[0]!;
  if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) return false;
  if (head.length === 1) return null;
  if (head[1] !== 3) return false;
  if (head.length < RECORD_HEADER_LENGTH) return null;
  return isRecordHeader(head);
}

function isRecordHeader(header: Buffer): boolean {
  const type = header[0]!;
  return (
    type >= ContentType.ChangeCipherSpec &&
    type <= ContentType.ApplicationData &&
    header[1] === 3 &&
    header[2]! <= 4 &&
    header.readUInt16BE(3) <= MAX_RECORD_LENGTH
  );
}

function isTls13(extensions: Buffer): boolean {
  const r = new Reader(extensions);
  while (r.remaining >= 4) {
    const type = r.u16();
    const data = r.bytes(r.u16());
    if (type === SUPPORTED_VERSIONS_EXTENSION && data.length === 2)
      return data.readUInt16BE(0) === TLS13_VERSION;
  }
  return false;
}

/**
 * The certificate_list of a Certificate message (RFC 5246 §7.4.2; RFC 8446 §4.4.2 adds a request
 * context before it and extensions after each entry). Framing errors end the list: the complete
 * entries before them are kept, as those are what the server did send.
 */
function parseCertificateList(r: Reader, tls13: boolean): Uint8Array[] {
  const certificates: Uint8Array[] = [];
  try {
    if (tls13) r.skip(r.u8());
    const end = r.offset + r.u24();
    while (r.offset < end) {
      const der = r.bytes(r.u24());
      certificates.push(new Uint8Array(der));
      if (tls13) r.skip(r.u16());
    }
  } catch {
    // Keep what was complete.
  }
  return certificates;
}

/** Text answers (HTTP, SSH, SMTP banners) as text, other characters as "."; binary answers as hex. */
function printable(bytes: Buffer): string {
  const isText = (b: number) => b >= 0x20 && b < 0x7f;
  const text = [...bytes].filter(isText).length;
  if (text * 2 < bytes.length) return `0x${bytes.toString('hex')}`;
  return [...bytes].map((b) => (isText(b) ? String.fromCharCode(b) : '.')).join('');
}

/** Bounds-checked big-endian reader; throws RangeError past the end. */
class Reader {
  offset = 0;

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  u8(): number {
    return this.bytes(1)[0]!;
  }

  u16(): number {
    return this.bytes(2).readUInt16BE(0);
  }

  u24(): number {
    return this.bytes(3).readUIntBE(0, 3);
  }

  skip(n: number): void {
    this.bytes(n);
  }

  bytes(n: number): Buffer {
    if (n > this.remaining) throw new RangeError('truncated');
    this.offset += n;
    return this.buffer.subarray(this.offset - n, this.offset);
  }
}
