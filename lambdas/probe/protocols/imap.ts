/**
 * IMAP STARTTLS (RFC 3501 §6.2.1, RFC 2595): wait for the `* OK` greeting,
 * `a1 STARTTLS`, and the tagged `a1 OK` (untagged lines before it are skipped).
 */
import type { ProbeProtocol } from '../protocol-step';
import { wrongProtocol } from './coded-reply';
import { quoteReply, withPlainReader } from './line-reader';

const TAG = 'a1';

export function imapStartTls<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        const greeting = await reader.line();
        if (/^\* BYE\b/i.test(greeting)) throw reader.failure(`refused the session: ${quoteReply(greeting)}`);
        // PREAUTH is a greeting too; STARTTLS is then not allowed, and the tagged reply says so.
        if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) {
          throw wrongProtocol(reader, greeting, 'an IMAP greeting (* OK)');
        }
        reader.write(`${TAG} STARTTLS\r\n`);
        for (;;) {
          const line = await reader.line();
          if (line.startsWith('* ')) continue;
          if (new RegExp(`^${TAG} OK\\b`, 'i').test(line)) return;
          if (line.startsWith(`${TAG} `)) throw reader.failure(`refused STARTTLS: ${quoteReply(line)}`);
          throw wrongProtocol(reader, line, `the tagged reply to ${TAG} STARTTLS`);
        }
      }),
  } as const satisfies ProbeProtocol;
}
