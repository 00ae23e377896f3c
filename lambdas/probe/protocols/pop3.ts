/**
 * POP3 STLS (RFC 2595 §4): wait for the `+OK` greeting, `STLS`, `+OK`.
 */
import type { ProbeProtocol } from '../protocol-step';
import { wrongProtocol } from './coded-reply';
import { quoteReply, withPlainReader } from './line-reader';

export function pop3Stls<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        const greeting = await reader.line();
        if (/^-ERR\b/i.test(greeting)) throw reader.failure(`refused the session: ${quoteReply(greeting)}`);
        if (!/^\+OK\b/i.test(greeting)) throw wrongProtocol(reader, greeting, 'a POP3 greeting (+OK)');
        reader.write('STLS\r\n');
        const reply = await reader.line();
        if (/^\+OK\b/i.test(reply)) return;
        if (/^-ERR\b/i.test(reply)) throw reader.failure(`refused STLS: ${quoteReply(reply)}`);
        throw wrongProtocol(reader, reply, 'a reply to STLS (+OK)');
      }),
  } as const satisfies ProbeProtocol;
}
