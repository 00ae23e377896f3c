/**
 * FTP `AUTH TLS` (RFC 4217): wait for the 220 greeting (after any 120 "wait"
 * replies), AUTH TLS, 234.
 */
import type { ProbeProtocol } from '../protocol-step';
import { readCodedReply, replyText } from './coded-reply';
import { quoteReply, withPlainReader } from './line-reader';

/** "Service ready in nnn minutes" replies accepted before the greeting. */
const MAX_WAIT_REPLIES = 3;

export function ftpAuthTls<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        let greeting = await readCodedReply(reader, 'an FTP greeting (220)');
        for (let waits = 0; greeting.code === 120 && waits < MAX_WAIT_REPLIES; waits++) {
          greeting = await readCodedReply(reader, 'an FTP greeting (220)');
        }
        if (greeting.code !== 220) {
          throw reader.failure(`refused the session: ${quoteReply(replyText(greeting))}`);
        }
        reader.write('AUTH TLS\r\n');
        const reply = await readCodedReply(reader, 'an AUTH TLS reply (234)');
        if (reply.code !== 234) throw reader.failure(`refused AUTH TLS: ${quoteReply(replyText(reply))}`);
      }),
  } as const satisfies ProbeProtocol;
}
