/**
 * XMPP STARTTLS (RFC 6120 §5): open a stream to the domain, read the stream
 * features, send `<starttls/>`, and wait for `<proceed/>`. Client streams
 * (`xmpp`, 5222) and server streams (`xmpp-server`, 5269) differ only in the
 * namespace. The XML is read tag by tag (each up to `>`), bounded like lines;
 * no XML parser is needed to find three elements.
 */
import type { ProbeProtocol } from '../protocol-step';
import { type PlainReader, quoteReply, withPlainReader } from './line-reader';

const GT = 0x3e;
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** The stream namespace of each kind of stream. */
export const XMPP_STREAMS = { client: 'jabber:client', server: 'jabber:server' } as const;

export function xmppStreamHeader(domain: string, kind: keyof typeof XMPP_STREAMS): string {
  return (
    `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' ` +
    `xmlns='${XMPP_STREAMS[kind]}' xmlns:stream='http://etherx.jabber.org/streams'>`
  );
}

async function tag(reader: PlainReader): Promise<string> {
  const text = (await reader.delimited(GT, 'tag')).toString('utf8');
  if (/<stream:error\b/.test(text)) {
    // The error's condition is the next element: quote it too.
    const condition = await reader.delimited(GT, 'tag').then(
      (b) => b.toString('utf8'),
      () => '',
    );
    throw reader.failure(`ended the stream with an error: ${quoteReply((text + condition).trim())}`);
  }
  return text;
}

export function xmppStartTls<const Name extends string>(name: Name, kind: keyof typeof XMPP_STREAMS) {
  return {
    name,
    startTls: (socket, context) =>
      withPlainReader(socket, context, name, async (reader) => {
        reader.write(xmppStreamHeader(context.servername ?? context.host, kind));
        // Another protocol's banner may never contain a '>': judge the first byte instead of waiting for one.
        const [first] = await reader.peek(1);
        if (first !== 0x3c && first !== 0x20 && first !== 0x0a && first !== 0x0d && first !== 0x09) {
          throw reader.failure(`answered ${quoteReply(reader.pending())} where an XMPP stream was expected`);
        }
        let offered = false;
        for (;;) {
          const text = await tag(reader);
          if (/<starttls[\s/>]/.test(text)) offered = true;
          if (/<\/stream:features>|<stream:features\s*\/>/.test(text)) break;
        }
        if (!offered) throw reader.failure('does not offer STARTTLS in its stream features');
        reader.write(`<starttls xmlns='${TLS_NS}'/>`);
        for (;;) {
          const text = await tag(reader);
          if (/<proceed[\s/>]/.test(text)) {
            if (!/\/>\s*$/.test(text)) await tag(reader); // </proceed>
            return;
          }
          if (/<failure[\s/>]/.test(text))
            throw reader.failure(`refused STARTTLS: ${quoteReply(text.trim())}`);
          // Whitespace keepalives and unknown elements are skipped, bounded by the reader.
        }
      }),
  } as const satisfies ProbeProtocol;
}
