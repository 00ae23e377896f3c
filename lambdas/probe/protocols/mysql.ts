/**
 * MySQL (and MariaDB) TLS: read the server's initial handshake packet, check
 * that it offers CLIENT_SSL, and answer with the SSL Request packet (a handshake
 * response cut short after the character set); TLS starts right after it.
 */
import type { ProbeProtocol } from '../protocol-step';
import { type PlainReader, quoteReply, withPlainReader } from './line-reader';

const CLIENT_PROTOCOL_41 = 0x0200;
const CLIENT_SSL = 0x0800;
const CLIENT_SECURE_CONNECTION = 0x8000;
/** utf8_general_ci: any server knows it. */
const CHARSET_UTF8 = 0x21;
/** A greeting is under 200 bytes; a length beyond this is another protocol's bytes read as one. */
const MAX_GREETING = 4096;

/** The SSL Request packet (sequence id `sequence`): capabilities, max packet size, charset, 23 zero bytes. */
export function mysqlSslRequest(sequence: number): Buffer {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE(CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION, 0);
  payload.writeUInt32LE(0x0100_0000, 4);
  payload[8] = CHARSET_UTF8;
  return Buffer.concat([Buffer.from([payload.length, 0, 0, sequence & 0xff]), payload]);
}

/** The parts of the initial handshake (protocol 10) the SSL request needs. */
interface Greeting {
  readonly serverVersion: string;
  readonly capabilities: number;
}

/** Reads the protocol-10 greeting; null when the payload is not one. */
export function parseMysqlGreeting(payload: Buffer): Greeting | null {
  if (payload[0] !== 10) return null;
  const versionEnd = payload.indexOf(0, 1);
  if (versionEnd === -1) return null;
  // version NUL, connection id (4), auth-plugin-data part 1 (8), filler (1), capability flags (lower 2)
  const flagsAt = versionEnd + 1 + 4 + 8 + 1;
  if (payload.length < flagsAt + 2) return null;
  return {
    serverVersion: payload.subarray(1, versionEnd).toString('latin1'),
    capabilities: payload.readUInt16LE(flagsAt),
  };
}

async function readPacket(reader: PlainReader): Promise<{ sequence: number; payload: Buffer }> {
  const header = await reader.bytes(4);
  const length = header.readUIntLE(0, 3);
  if (length === 0 || length > MAX_GREETING) {
    const got = header.toString('latin1') + reader.pending();
    throw reader.failure(`answered ${quoteReply(got)} where a MySQL greeting was expected`);
  }
  return { sequence: header[3]!, payload: await reader.bytes(length) };
}

export function mysqlSsl<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        const { sequence, payload } = await readPacket(reader);
        if (payload[0] === 0xff) {
          // An ERR packet instead of a greeting: error code (2 bytes), then "#SQLSTATE" and the message.
          const code = payload.length >= 3 ? payload.readUInt16LE(1) : 0;
          const text = payload.subarray(3).toString('utf8');
          throw reader.failure(`refused the connection: error ${code} ${quoteReply(text)}`);
        }
        const greeting = parseMysqlGreeting(payload);
        if (greeting === null) {
          throw reader.failure(
            `sent ${quoteReply(payload.toString('latin1'))}, not a MySQL protocol 10 greeting`,
          );
        }
        if ((greeting.capabilities & CLIENT_SSL) === 0) {
          throw reader.failure(
            `does not offer SSL (server ${quoteReply(greeting.serverVersion)}, have_ssl off)`,
          );
        }
        reader.write(mysqlSslRequest(sequence + 1));
      }),
  } as const satisfies ProbeProtocol;
}
