/**
 * HTTP/1.1 over a byte stream, for the bounded fetches (bounded-http.ts): the request written as one
 * buffer, and a reader of the response that holds every part of it to a bound. Node's own client
 * costs about 40 µs of CPU per kept-alive request (agent, streams, events, writev); these fetches
 * need a small, fixed subset of HTTP, so they speak it themselves.
 *
 * The reader is strict where a lenient reading could be fooled (RFC 9112 and llhttp's strict mode):
 * lines end in CRLF, no control bytes or obs-fold in the head, one Content-Length or chunked, never
 * both. It does no I/O: it is fed what the socket reads, in whatever pieces, and says when the
 * response is complete or why it is not usable.
 */

/** Longest status line and headers of one response, as Node's own limit (`--max-http-header-size`). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Most header lines in one response (and trailer lines after a chunked body). */
export const MAX_HEADER_LINES = 100;
/** Most interim (1xx) responses before the final one. */
export const MAX_INTERIM_RESPONSES = 5;
/** Most hex digits of a chunk size: 8 reach 4 GiB, far beyond any body these fetches accept. */
export const MAX_CHUNK_SIZE_DIGITS = 8;
/** Longest chunk-size line, its ignored extensions included. */
export const MAX_CHUNK_LINE_BYTES = 1024;

/** What a request carries. */
export interface RequestParts {
  /** Path and query, as the URL serialises them (so ASCII). */
  readonly path: string;
  /** The Host header: the name (IPv6 in brackets) and the port unless 80. */
  readonly host: string;
  readonly accept: string;
  /** A POST body and its content type; a GET when absent. */
  readonly post?: { readonly body: Uint8Array; readonly contentType: string };
  /** Asks the server to close the connection after the response (a connection used once). */
  readonly close: boolean;
}

/** Bytes a header value or request target may hold: no CR, LF or other control byte. */
const UNSAFE_IN_HEAD = /[^\t\x20-\x7e]/;

/**
 * The request as one buffer, head and body, so the socket writes it at once (one write, no
 * writev, one TCP segment for an OCSP request). Throws on a value that could split the head.
 */
export function requestBytes(parts: RequestParts): Buffer {
  const { path, host, accept, post } = parts;
  for (const value of [path, host, accept, post?.contentType ?? '']) {
    if (UNSAFE_IN_HEAD.test(value))
      throw new TypeError(`a request header would hold ${JSON.stringify(value)}`);
  }
  let head = `${post ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: ${accept}\r\nUser-Agent: certwatch\r\n`;
  if (parts.close) head += 'Connection: close\r\n';
  if (!post) return Buffer.from(`${head}\r\n`, 'latin1');
  head += `Content-Type: ${post.contentType}\r\nContent-Length: ${post.body.byteLength}\r\n\r\n`;
  const bytes = Buffer.allocUnsafe(head.length + post.body.byteLength);
  bytes.write(head, 0, 'latin1');
  bytes.set(post.body, head.length);
  return bytes;
}

/** The parts of a final response's head that the fetches use. */
export interface ResponseHead {
  readonly status: number;
  /** The x of HTTP/1.x. */
  readonly minor: number;
  readonly contentType: string | null;
  readonly location: string | null;
}

/** How reading a response ended. */
export type ResponseOutcome =
  | {
      readonly head: ResponseHead;
      /** The body; null when it was not read (a status whose body the caller does not want). */
      readonly body: Buffer | null;
      /** The connection may carry another request: the response was complete and allowed it. */
      readonly reusable: boolean;
    }
  | { readonly error: string };

/** What the reader expects next. */
const Phase = {
  Head: 0,
  Length: 1,
  UntilClose: 2,
  ChunkSize: 3,
  ChunkData: 4,
  ChunkEnd: 5,
  Trailers: 6,
  Done: 7,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** Why a response is unusable; caught inside the reader, never thrown out of it. */
class Malformed extends Error {
  override readonly name = 'Malformed';
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: .*)?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*(.*?)[\t ]*$/;
/** Control bytes a head may not hold (HTAB is allowed in values; CRLF was taken off the line). */
const CONTROL_BYTE = /[\x00-\x08\x0a-\x1f\x7f]/;
const CHUNK_SIZE = /^([0-9A-Fa-f]+)[\t ]*(?:;.*)?$/;
const DIGITS = /^\d{1,15}$/;
/** Longest piece of a server's value quoted in an error. */
const MAX_QUOTE = 40;

function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTE ? `${value.slice(0, MAX_QUOTE)}…` : value);
}

function controlByteError(char: string): string {
  if (char === '\0') return 'a NUL byte';
  if (char === '\r') return 'a CR without LF';
  return `the control byte 0x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Reads one response from the bytes of a connection. `read` each piece as it arrives and `end`
 * when the connection closes; each returns the outcome once there is one (then stop feeding it),
 * undefined while more is needed. Bounded: the head at {@link MAX_HEAD_BYTES} and
 * {@link MAX_HEADER_LINES}, the body at `maxBytes` (a Content-Length or chunk size beyond it is
 * refused before its bytes are read), a chunk size at {@link MAX_CHUNK_SIZE_DIGITS}.
 */
export class ResponseReader {
  /** Bytes received so far: none means the server answered nothing. */
  received = 0;
  private phase: Phase = Phase.Head;
  /** The line being read, as received so far, and its length. */
  private lineParts: Buffer[] = [];
  private lineBytes = 0;
  /** Bytes and lines of the head (or trailers) read so far; lines is -1 before the status line. */
  private headBytes = 0;
  private headLines = -1;
  private interim = 0;
  private status = 0;
  private minor = 1;
  private contentType: string | null = null;
  private location: string | null = null;
  private contentLength: string | null = null;
  private transferEncoding: string | null = null;
  private close = false;
  private keepAlive = false;
  private bodySkipped = false;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;
  /** Body bytes left in the Content-Length or the current chunk; CRLF bytes seen after a chunk. */
  private remaining = 0;

  /**
   * @param maxBytes the largest body read
   * @param wantsBody whether the body of a final response with this status is read; when not, the
   *   outcome comes with the head and the connection is not reusable
   * @param headRequest the request was a HEAD: no response has a body
   */
  constructor(
    private readonly maxBytes: number,
    private readonly wantsBody: (status: number) => boolean = (status) => status === 200,
    private readonly headRequest = false,
  ) {}

  /** Takes the next bytes of the connection. */
  read(chunk: Buffer): ResponseOutcome | undefined {
    this.received += chunk.length;
    try {
      let offset = 0;
      while (offset < chunk.length) {
        offset = this.step(chunk, offset);
        if (this.phase === Phase.Done) return this.finish(offset === chunk.length);
      }
      return undefined;
    } catch (error) {
      this.phase = Phase.Done;
      if (error instanceof Malformed) return { error: error.message };
      throw error;
    }
  }

  /** The connection closed: the outcome, which ends a body read until close. */
  end(): ResponseOutcome {
    if (this.phase === Phase.UntilClose) {
      this.phase = Phase.Done;
      return this.finish(false);
    }
    this.phase = Phase.Done;
    return { error: 'the connection closed early' };
  }

  /** Reads what `chunk` holds for the current phase from `offset`; returns where it stopped. */
  private step(chunk: Buffer, offset: number): number {
    switch (this.phase) {
      case Phase.Head:
        return this.readHeadLine(chunk, offset);
      case Phase.Length:
      case Phase.ChunkData:
        return this.readCounted(chunk, offset);
      case Phase.UntilClose:
        this.keep(chunk.subarray(offset));
        return chunk.length;
      case Phase.ChunkSize:
        return this.readChunkSize(chunk, offset);
      case Phase.ChunkEnd:
        return this.readChunkEnd(chunk, offset);
      case Phase.Trailers:
        return this.readTrailer(chunk, offset);
      default:
        return chunk.length;
    }
  }

  /**
   * The next line ending in CRLF, without it, or null when `chunk` ends first (what it held is
   * kept). `budget` bounds the line with its CRLF; `what` names the bound in the error.
   */
  private takeLine(chunk: Buffer, offset: number, budget: number, what: string): [string | null, number] {
    const lf = chunk.indexOf(10, offset);
    const end = lf === -1 ? chunk.length : lf + 1;
    this.lineBytes += end - offset;
    if (this.lineBytes > budget) throw new Malformed(`malformed response: ${what}`);
    if (lf === -1) {
      if (end > offset) this.lineParts.push(chunk.subarray(offset, end));
      return [null, end];
    }
    const piece = chunk.subarray(offset, lf);
    const bytes = this.lineParts.length === 0 ? piece : Buffer.concat([...this.lineParts, piece]);
    this.lineParts = [];
    this.lineBytes = 0;
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 13) {
      throw new Malformed('malformed response: a line ends in LF without CR');
    }
    const line = bytes.toString('latin1', 0, bytes.length - 1);
    const control = CONTROL_BYTE.exec(line);
    if (control !== null) throw new Malformed(`malformed response: ${controlByteError(control[0])}`);
    return [line, end];
  }

  /** The next line of a head or of trailers, which together stay within {@link MAX_HEAD_BYTES}. */
  private takeHeadLine(chunk: Buffer, offset: number, what: string): [string | null, number] {
    const before = this.lineBytes;
    const budget = MAX_HEAD_BYTES - this.headBytes;
    const taken = this.takeLine(chunk, offset, budget, `${what} longer than ${MAX_HEAD_BYTES} bytes`);
    if (taken[0] !== null) this.headBytes += before + (taken[1] - offset);
    return taken;
  }

  private readHeadLine(chunk: Buffer, offset: number): number {
    const [line, next] = this.takeHeadLine(chunk, offset, 'headers');
    if (line === null) return next;
    if (this.headLines < 0) this.statusLine(line);
    else if (line === '') this.headEnded();
    else this.headerLine(line);
    return next;
  }

  private statusLine(line: string): void {
    const match = STATUS_LINE.exec(line);
    if (match === null) throw new Malformed(`malformed response: the status line ${quote(line)}`);
    this.minor = Number(match[1]);
    this.status = Number(match[2]);
    this.headLines = 0;
  }

  private headerLine(line: string): void {
    if (++this.headLines > MAX_HEADER_LINES) {
      throw new Malformed(`malformed response: more than ${MAX_HEADER_LINES} header lines`);
    }
    const [name, value] = headerField(line);
    switch (name.toLowerCase()) {
      case 'content-length':
        if (!DIGITS.test(value))
          throw new Malformed(`malformed response: the Content-Length ${quote(value)}`);
        if (this.contentLength !== null && Number(this.contentLength) !== Number(value)) {
          throw new Malformed('malformed response: differing Content-Length values');
        }
        this.contentLength = value;
        break;
      case 'transfer-encoding':
        this.transferEncoding = this.transferEncoding === null ? value : `${this.transferEncoding}, ${value}`;
        break;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const option = token.trim();
          if (option === 'close') this.close = true;
          else if (option === 'keep-alive') this.keepAlive = true;
        }
        break;
      // As Node: the first of several is the one used.
      case 'content-type':
        this.contentType ??= value;
        break;
      case 'location':
        this.location ??= value;
        break;
    }
  }

  /** The empty line after the headers: an interim response is skipped; a final one says how its body ends. */
  private headEnded(): void {
    if (this.status < 200) {
      if (this.status === 101)
        throw new Malformed('malformed response: a protocol switch (101) not asked for');
      if (++this.interim > MAX_INTERIM_RESPONSES) {
        throw new Malformed(`malformed response: more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
      }
      this.startHead();
      return;
    }
    if (this.contentLength !== null && this.transferEncoding !== null) {
      throw new Malformed('malformed response: both Content-Length and Transfer-Encoding');
    }
    if (this.transferEncoding !== null && this.transferEncoding.trim().toLowerCase() !== 'chunked') {
      throw new Malformed(`malformed response: the Transfer-Encoding ${quote(this.transferEncoding)}`);
    }
    if (!this.wantsBody(this.status)) {
      this.phase = Phase.Done;
      this.bodySkipped = true;
    } else if (this.headRequest || this.status === 204 || this.status === 304) {
      this.phase = Phase.Done;
    } else if (this.contentLength !== null) {
      this.remaining = Number(this.contentLength);
      this.ensureRoom(this.remaining);
      this.phase = this.remaining === 0 ? Phase.Done : Phase.Length;
    } else if (this.transferEncoding !== null) {
      this.phase = Phase.ChunkSize;
    } else {
      this.phase = Phase.UntilClose;
    }
  }

  /** Forgets an interim response's head, for the response after it. */
  private startHead(): void {
    this.headBytes = 0;
    this.headLines = -1;
    this.contentType = null;
    this.location = null;
    this.contentLength = null;
    this.transferEncoding = null;
    this.close = false;
    this.keepAlive = false;
  }

  /** Refuses a body that would pass `maxBytes` with `more` bytes. */
  private ensureRoom(more: number): void {
    if (this.bodyBytes + more > this.maxBytes) {
      throw new Malformed(`the response is larger than ${this.maxBytes} bytes`);
    }
  }

  private keep(bytes: Buffer): void {
    this.ensureRoom(bytes.length);
    this.bodyBytes += bytes.length;
    this.body.push(bytes);
  }

  /** Body bytes of a Content-Length or a chunk, `remaining` of them. */
  private readCounted(chunk: Buffer, offset: number): number {
    const end = Math.min(chunk.length, offset + this.remaining);
    this.keep(chunk.subarray(offset, end));
    this.remaining -= end - offset;
    if (this.remaining === 0) this.phase = this.phase === Phase.Length ? Phase.Done : Phase.ChunkEnd;
    return end;
  }

  private readChunkSize(chunk: Buffer, offset: number): number {
    const [line, next] = this.takeLine(
      chunk,
      offset,
      MAX_CHUNK_LINE_BYTES,
      `a chunk-size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`,
    );
    if (line === null) return next;
    const match = CHUNK_SIZE.exec(line);
    if (match === null) throw new Malformed(`malformed response: the chunk size ${quote(line)}`);
    const digits = match[1]!;
    if (digits.length > MAX_CHUNK_SIZE_DIGITS) {
      throw new Malformed(
        `malformed response: a chunk size of more than ${MAX_CHUNK_SIZE_DIGITS} hex digits`,
      );
    }
    const size = Number.parseInt(digits, 16);
    this.ensureRoom(size);
    this.remaining = size;
    if (size > 0) {
      this.phase = Phase.ChunkData;
    } else {
      this.phase = Phase.Trailers;
      this.headBytes = 0;
      this.headLines = 0;
    }
    return next;
  }

  /** The CRLF after a chunk's data; `remaining` counts its bytes seen. */
  private readChunkEnd(chunk: Buffer, offset: number): number {
    let at = offset;
    while (at < chunk.length && this.phase === Phase.ChunkEnd) {
      if (chunk[at] !== (this.remaining === 0 ? 13 : 10)) {
        throw new Malformed('malformed response: a chunk does not end in CRLF');
      }
      at++;
      if (++this.remaining === 2) this.phase = Phase.ChunkSize;
    }
    return at;
  }

  /** Trailer fields after the last chunk: bounded as headers, checked, and ignored. */
  private readTrailer(chunk: Buffer, offset: number): number {
    const [line, next] = this.takeHeadLine(chunk, offset, 'trailers');
    if (line === null) return next;
    if (line === '') {
      this.phase = Phase.Done;
    } else {
      if (++this.headLines > MAX_HEADER_LINES) {
        throw new Malformed(`malformed response: more than ${MAX_HEADER_LINES} trailer lines`);
      }
      headerField(line);
    }
    return next;
  }

  /** The outcome of a response read to its end; `clean` when nothing followed it. */
  private finish(clean: boolean): ResponseOutcome {
    const head: ResponseHead = {
      status: this.status,
      minor: this.minor,
      contentType: this.contentType,
      location: this.location,
    };
    if (this.bodySkipped) return { head, body: null, reusable: false };
    const persistent = this.minor === 1 ? !this.close : this.keepAlive && !this.close;
    return {
      head,
      body: this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.bodyBytes),
      // Bytes after the response are not one the client asked for: the connection is out of step.
      reusable: persistent && clean && this.phase === Phase.Done && this.wasDelimited(),
    };
  }

  /** Whether the body's end was marked in the response (not by the connection closing). */
  private wasDelimited(): boolean {
    return (
      this.contentLength !== null ||
      this.transferEncoding !== null ||
      this.headRequest ||
      this.status === 204 ||
      this.status === 304
    );
  }
}

/** A header line's name and value (OWS trimmed); obs-fold and lines without a name are malformed. */
function headerField(line: string): [string, string] {
  if (line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) {
    throw new Malformed('malformed response: a folded header line (obs-fold)');
  }
  const match = HEADER_LINE.exec(line);
  if (match === null) throw new Malformed(`malformed response: the header line ${quote(line)}`);
  return [match[1]!, match[2]!];
}
