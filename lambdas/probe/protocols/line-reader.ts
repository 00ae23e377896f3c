/**
 * The one reader of every plaintext exchange before TLS (SMTP replies, IMAP
 * lines, LDAP and MySQL packets, XMPP tags): bounded in bytes, in line length
 * and in lines, so a server that sends endless lines, one endless line or a
 * flood gets a STARTTLS_FAILED instead of our memory. Time is bounded by the
 * probe: its deadline aborts the step's signal, which ends any wait here.
 */
import type { Socket } from 'node:net';
import { formatTargetId } from '../../core/parse-target';
import { quoteUntrusted } from '../../core/untrusted-text';
import { ByteQueue } from '../byte-queue';
import { type ProtocolStepContext, ProtocolStepError } from '../protocol-step';

/** How much a server may send before TLS starts. */
export interface PlainReaderLimits {
  /** Bytes in all, over the whole exchange. */
  readonly maxBytes: number;
  /** Bytes in one line (or one tag, one packet), terminator included. */
  readonly maxLineBytes: number;
  /** Lines (or tags) in all. */
  readonly maxLines: number;
}

/**
 * Generous for real servers (an EHLO reply is a dozen lines, an XMPP feature list a few KB, a MySQL
 * greeting under 200 bytes), small enough that a hostile one costs nothing.
 */
export const DEFAULT_PLAIN_LIMITS: PlainReaderLimits = {
  maxBytes: 64 * 1024,
  maxLineBytes: 4096,
  maxLines: 512,
};

/** Longest server text quoted in a message. */
const QUOTE_MAX = 120;

const LF = 0x0a;

/** The server's text as a message may quote it: escaped, one line, truncated. */
export function quoteReply(text: string): string {
  return `"${quoteUntrusted(text, QUOTE_MAX)}"`;
}

/** Options of {@link PlainReader}. */
export interface PlainReaderOptions {
  /** @default DEFAULT_PLAIN_LIMITS */
  readonly limits?: PlainReaderLimits;
  /** The code a misbehaving server is reported with. @default 'STARTTLS_FAILED' */
  readonly failureCode?: ProtocolStepError['code'];
  /** Who failed, starting each message. @default `${protocol} server ${host:port}` */
  readonly subject?: string;
}

/**
 * Reads what the server sends on the plain socket, on demand. Listens from construction until
 * {@link release}, which hands bytes read past the last message back to the socket for TLS.
 */
export class PlainReader {
  private readonly limits: PlainReaderLimits;
  private readonly failureCode: ProtocolStepError['code'];
  private readonly subject: string;
  private readonly queue = new ByteQueue();
  /** Bytes consumed by reads so far. */
  private consumed = 0;
  private lines = 0;
  /** Queue bytes already scanned for the terminator without finding it. */
  private scanned = 0;
  private wake: (() => void) | null = null;
  private released = false;
  /** The last line or message read, for messages. */
  private last = '';

  private readonly onData = (chunk: Buffer): void => {
    this.queue.push(chunk);
    // A flood is read no further than needed to tell it is one.
    if (this.consumed + this.queue.length > this.limits.maxBytes) this.socket.pause();
    this.wake?.();
  };

  constructor(
    private readonly socket: Socket,
    private readonly context: ProtocolStepContext,
    /** Protocol name for messages, e.g. 'smtp'. */
    readonly protocol: string,
    options: PlainReaderOptions = {},
  ) {
    this.limits = options.limits ?? DEFAULT_PLAIN_LIMITS;
    this.failureCode = options.failureCode ?? 'STARTTLS_FAILED';
    this.subject = options.subject ?? `${protocol} server ${formatTargetId(context.host, context.port)}`;
    socket.on('data', this.onData);
  }

  /** One line without its CRLF or LF, read as latin1 (byte for byte). */
  async line(): Promise<string> {
    const bytes = await this.delimited(LF, 'line');
    const text = bytes.toString('latin1').replace(/\r?\n$/, '');
    this.last = text;
    return text;
  }

  /** Bytes up to and including the next `terminator` byte (e.g. `>` for an XML tag), bounded as a line. */
  async delimited(terminator: number, what = 'message'): Promise<Buffer> {
    for (;;) {
      const at = this.queue.indexOf(terminator, this.scanned, this.limits.maxLineBytes);
      if (at !== -1) {
        this.scanned = 0;
        if (++this.lines > this.limits.maxLines) {
          throw this.failure(
            `sent more than ${this.limits.maxLines} ${what}s before TLS (last: ${quoteReply(this.last)})`,
          );
        }
        return this.consume(at + 1);
      }
      this.scanned = Math.min(this.queue.length, this.limits.maxLineBytes);
      if (this.queue.length >= this.limits.maxLineBytes) {
        const start = this.queue.peek(Math.min(this.queue.length, QUOTE_MAX))!.toString('latin1');
        throw this.failure(
          `sent a ${what} longer than ${this.limits.maxLineBytes} bytes: ${quoteReply(start)}`,
        );
      }
      await this.more();
    }
  }

  /** Exactly `n` bytes. */
  async bytes(n: number): Promise<Buffer> {
    if (this.consumed + n > this.limits.maxBytes) {
      throw this.failure(`announced ${n} bytes, more than the ${this.limits.maxBytes} allowed before TLS`);
    }
    while (this.queue.length < n) await this.more();
    return this.consume(n);
  }

  /** The first `n` bytes not yet read, without consuming them; waits until they arrive. */
  async peek(n: number): Promise<Buffer> {
    while (this.queue.length < n) await this.more();
    return Buffer.from(this.queue.peek(n)!);
  }

  /** Up to `n` bytes received but not yet read, as latin1, without consuming them (to quote a wrong answer). */
  pending(n = QUOTE_MAX): string {
    return this.queue.peek(Math.min(n, this.queue.length))?.toString('latin1') ?? '';
  }

  /** Send `text` (ASCII commands) or bytes to the server. */
  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The server did something other than what the protocol expects: STARTTLS_FAILED (by default), naming the target. */
  failure(what: string): ProtocolStepError {
    return new ProtocolStepError(this.failureCode, `${this.subject} ${what}`);
  }

  /**
   * Stop reading and give bytes read past the last message back to the socket, where the TLS
   * handshake reads them. The socket is left paused; the probe resumes it.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.socket.off('data', this.onData);
    this.socket.pause();
    if (this.queue.length > 0) this.socket.unshift(this.queue.takeAll());
  }

  private consume(n: number): Buffer {
    const bytes = Buffer.from(this.queue.take(n)!);
    this.consumed += n;
    return bytes;
  }

  /** Waits for more bytes; rejects once the exchange is over budget or the probe gave up. */
  private more(): Promise<void> {
    if (this.consumed + this.queue.length > this.limits.maxBytes) {
      return Promise.reject(
        this.failure(
          `sent more than ${this.limits.maxBytes} bytes before TLS (last: ${quoteReply(this.last)})`,
        ),
      );
    }
    const { signal } = this.context;
    return new Promise((resolve, reject) => {
      const aborted = () => {
        this.wake = null;
        reject(new Error('the probe ended the exchange'));
      };
      if (signal.aborted) return aborted();
      signal.addEventListener('abort', aborted, { once: true });
      this.wake = () => {
        this.wake = null;
        signal.removeEventListener('abort', aborted);
        resolve();
      };
    });
  }
}

/**
 * Runs `exchange` with a reader on the socket and releases it however the exchange ends, so no
 * listener or unread byte is left behind.
 */
export async function withPlainReader(
  socket: Socket,
  context: ProtocolStepContext,
  protocol: string,
  exchange: (reader: PlainReader) => Promise<void>,
  options: PlainReaderOptions = {},
): Promise<void> {
  const reader = new PlainReader(socket, context, protocol, options);
  try {
    await exchange(reader);
  } finally {
    reader.release();
  }
}
