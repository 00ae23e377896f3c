/**
 * PostgreSQL SSLRequest (protocol 3, "SSL Session Encryption"): eight bytes
 * asking for TLS; the server answers one byte, `S` to go ahead or `N` to refuse.
 */
import type { ProbeProtocol } from '../protocol-step';
import { quoteReply, withPlainReader } from './line-reader';

/** Length 8, then the SSLRequest code 80877103 (1234 << 16 | 5679). */
export const POSTGRES_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export function postgresSslRequest<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        reader.write(POSTGRES_SSL_REQUEST);
        const [answer] = await reader.bytes(1);
        if (answer === 0x53) return; // 'S'
        if (answer === 0x4e) throw reader.failure('refused SSL: it answered N (ssl = off)');
        const got = String.fromCharCode(answer!) + reader.pending();
        // 'E': an ErrorResponse, from servers that predate the SSLRequest or refuse the client.
        if (answer === 0x45) throw reader.failure(`answered with an error: ${quoteReply(got)}`);
        throw reader.failure(`answered ${quoteReply(got)} where S or N was expected`);
      }),
  } as const satisfies ProbeProtocol;
}
