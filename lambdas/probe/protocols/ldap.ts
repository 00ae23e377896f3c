/**
 * LDAP StartTLS (RFC 4511 §4.14): an ExtendedRequest naming
 * 1.3.6.1.4.1.1466.20037, then the ExtendedResponse, whose resultCode must be
 * success. BER is written and read by hand: two fixed messages do not need an
 * ASN.1 library in the checker bundle.
 */
import type { ProbeProtocol } from '../protocol-step';
import { type PlainReader, quoteReply, withPlainReader } from './line-reader';

export const LDAP_START_TLS_OID = '1.3.6.1.4.1.1466.20037';
/** Sent by a server that drops the connection (RFC 4511 §4.4.1), with messageID 0. */
const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';

const MESSAGE_ID = 1;
const SEQUENCE = 0x30;
const INTEGER = 0x02;
const ENUMERATED = 0x0a;
const OCTET_STRING = 0x04;
const EXTENDED_REQUEST = 0x77; // [APPLICATION 23], constructed
const EXTENDED_RESPONSE = 0x78; // [APPLICATION 24], constructed
const REQUEST_NAME = 0x80; // [0], primitive
const RESPONSE_NAME = 0x8a; // [10], primitive
/** Largest response read: a real one is a few dozen bytes plus the diagnostic text. */
const MAX_RESPONSE = 16 * 1024;

/** RFC 4511 §4.1.9 names of the result codes a StartTLS answer carries in practice. */
const RESULT_NAMES: Readonly<Record<number, string>> = {
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  8: 'strongerAuthRequired',
  12: 'unavailableCriticalExtension',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

function tlv(tag: number, content: Buffer): Buffer {
  if (content.length > 127) throw new Error('ldap: long form lengths are never written');
  return Buffer.concat([Buffer.from([tag, content.length]), content]);
}

/** The StartTLS ExtendedRequest, messageID 1. */
export function ldapStartTlsRequest(): Buffer {
  return tlv(
    SEQUENCE,
    Buffer.concat([
      tlv(INTEGER, Buffer.from([MESSAGE_ID])),
      tlv(EXTENDED_REQUEST, tlv(REQUEST_NAME, Buffer.from(LDAP_START_TLS_OID, 'ascii'))),
    ]),
  );
}

/** One decoded element of a BER buffer. */
interface Element {
  readonly tag: number;
  readonly content: Buffer;
}

/** The elements of `buffer` in order; null when they do not decode (definite lengths only, as LDAP requires). */
function elements(buffer: Buffer): Element[] | null {
  const out: Element[] = [];
  let at = 0;
  while (at < buffer.length) {
    const header = lengthAt(buffer, at + 1);
    if (header === null) return null;
    const end = header.start + header.length;
    if (end > buffer.length) return null;
    out.push({ tag: buffer[at]!, content: buffer.subarray(header.start, end) });
    at = end;
  }
  return out;
}

/** Length at `at` (short or long form, up to 4 bytes) and where the content starts; null if malformed. */
function lengthAt(buffer: Buffer, at: number): { length: number; start: number } | null {
  const first = buffer[at];
  if (first === undefined) return null;
  if (first < 0x80) return { length: first, start: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 4 || at + 1 + n > buffer.length) return null;
  let length = 0;
  for (let i = 1; i <= n; i++) length = length * 256 + buffer[at + i]!;
  return { length, start: at + 1 + n };
}

function integer(content: Buffer): number | null {
  if (content.length === 0 || content.length > 4) return null;
  let value = 0;
  for (const byte of content) value = value * 256 + byte;
  return value;
}

/** Reads one LDAPMessage: its tag and length first, then exactly its content. */
async function readMessage(reader: PlainReader): Promise<Buffer> {
  const head = await reader.bytes(2);
  if (head[0] !== SEQUENCE) throw notLdap(reader, head);
  let length = head[1]!;
  if (length >= 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw notLdap(reader, head);
    const bytes = await reader.bytes(n);
    length = 0;
    for (const byte of bytes) length = length * 256 + byte;
  }
  if (length > MAX_RESPONSE) throw reader.failure(`announced an LDAP message of ${length} bytes`);
  return reader.bytes(length);
}

function notLdap(reader: PlainReader, head: Buffer) {
  const got = head.toString('latin1') + reader.pending();
  return reader.failure(`answered ${quoteReply(got)} where an LDAP message was expected`);
}

export function ldapStartTls<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        reader.write(ldapStartTlsRequest());
        const message = elements(await readMessage(reader));
        const [id, op] = message ?? [];
        const fields = op?.tag === EXTENDED_RESPONSE ? elements(op.content) : null;
        const [code, , diagnostic] = fields ?? [];
        const messageId = id?.tag === INTEGER ? integer(id.content) : null;
        const resultCode = code?.tag === ENUMERATED ? integer(code.content) : null;
        if (messageId === null || resultCode === null || diagnostic?.tag !== OCTET_STRING) {
          throw reader.failure('answered with an LDAP message that is not an ExtendedResponse');
        }
        const text = diagnostic.content.toString('utf8');
        const responseName = fields?.find((f) => f.tag === RESPONSE_NAME)?.content.toString('latin1');
        if (messageId === 0 && responseName === NOTICE_OF_DISCONNECTION_OID) {
          throw reader.failure(`disconnected: ${describe(resultCode, text)}`);
        }
        if (messageId !== MESSAGE_ID)
          throw reader.failure(`answered message ${messageId}, not the StartTLS request`);
        if (resultCode !== 0) throw reader.failure(`refused StartTLS: ${describe(resultCode, text)}`);
      }),
  } as const satisfies ProbeProtocol;
}

function describe(resultCode: number, text: string): string {
  const name = RESULT_NAMES[resultCode];
  return `resultCode ${resultCode}${name ? ` (${name})` : ''}${text ? ` ${quoteReply(text)}` : ''}`;
}
