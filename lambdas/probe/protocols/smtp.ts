/**
 * SMTP STARTTLS (RFC 3207), for `smtp` (25) and `submission` (587): wait for
 * the 220 greeting, EHLO, check that STARTTLS is offered, STARTTLS, 220.
 */
import type { ProbeProtocol } from '../protocol-step';
import { readCodedReply, replyText } from './coded-reply';
import { quoteReply, withPlainReader } from './line-reader';

/**
 * The EHLO argument. RFC 5321 asks for the client's domain, which a monitor does not have;
 * servers accept any syntactically valid name, and `.invalid` can never be mistaken for a real one.
 */
const EHLO_NAME = 'certwatch.invalid';

export function smtpStartTls<const Name extends string>(name: Name) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        const greeting = await readCodedReply(reader, 'an SMTP greeting (220)');
        if (greeting.code !== 220) {
          throw reader.failure(`refused the session: ${quoteReply(replyText(greeting))}`);
        }
        reader.write(`EHLO ${EHLO_NAME}\r\n`);
        const ehlo = await readCodedReply(reader, 'an EHLO reply (250)');
        if (ehlo.code !== 250) throw reader.failure(`refused EHLO: ${quoteReply(replyText(ehlo))}`);
        const offered = ehlo.lines.some((line) => /^250[ -]STARTTLS\b/i.test(line));
        if (!offered) {
          throw reader.failure(`does not offer STARTTLS (EHLO reply: ${quoteReply(replyText(ehlo))})`);
        }
        reader.write('STARTTLS\r\n');
        const reply = await readCodedReply(reader, 'a STARTTLS reply (220)');
        if (reply.code !== 220) throw reader.failure(`refused STARTTLS: ${quoteReply(replyText(reply))}`);
      }),
  } as const satisfies ProbeProtocol;
}
