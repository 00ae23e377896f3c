/**
 * Replies with a three-digit code (SMTP, FTP): `220 ready`, or several lines
 * `250-first`, `250 last`. Shared by the protocols that use them.
 */
import { type PlainReader, quoteReply } from './line-reader';

/** One reply: its code and its lines' text, joined for messages. */
export interface CodedReply {
  readonly code: number;
  /** Every line of the reply as received, CRLF removed. */
  readonly lines: readonly string[];
}

const FIRST_LINE = /^(\d{3})(?:[ -]|$)/;

/** A reply as a message quotes it: its lines joined by " / ". */
export function replyText(reply: CodedReply): string {
  return reply.lines.join(' / ');
}

/**
 * Reads one reply. A first line without a code is another protocol speaking (an SSH banner, a TLS
 * record, HTTP): STARTTLS_FAILED quoting it. Continuation lines up to the final `NNN ` line are
 * read whatever they hold (FTP's multi-line replies carry free text), bounded by the reader.
 */
export async function readCodedReply(reader: PlainReader, expecting: string): Promise<CodedReply> {
  const first = await reader.line();
  const match = FIRST_LINE.exec(first);
  if (!match) throw wrongProtocol(reader, first, expecting);
  const code = match[1]!;
  const lines = [first];
  if (first[3] === '-') {
    for (;;) {
      const line = await reader.line();
      lines.push(line);
      if (line === code || line.startsWith(`${code} `)) break;
    }
  }
  return { code: Number(code), lines };
}

/** The server answered in something other than the protocol: quote what it said, with a hint for TLS. */
export function wrongProtocol(reader: PlainReader, got: string, expecting: string) {
  const tls = got.charCodeAt(0) === 0x16 ? ' (it looks like TLS: the port may expect implicit TLS)' : '';
  return reader.failure(`answered ${quoteReply(got)} where ${expecting} was expected${tls}`);
}
