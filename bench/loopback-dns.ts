/**
 * A small DNS server on 127.0.0.1 (UDP) for `npm run bench:scale`: it answers A queries after a fixed
 * latency, answers some names NXDOMAIN and never answers others, as a fleet's DNS does with dead
 * names. AAAA queries get an empty answer (NODATA) after the same latency, so a name resolves to its
 * one IPv4 address.
 *
 * Bounded: queries longer than 512 bytes or malformed are dropped, at most `maxPending` answers wait
 * at once (a query beyond is dropped, as a loaded server would), names longer than 255 bytes are
 * dropped. Stopped by `close()`.
 */
import { createSocket } from 'node:dgram';

/** What the server does with a name. */
export type DnsFate = { readonly answer: string } | 'nxdomain' | 'silent';

export interface LoopbackDnsOptions {
  /** Delay of every answer (NXDOMAIN included), in ms. */
  readonly latencyMs: number;
  /** The fate of a (lower-case) name. */
  readonly fate: (name: string) => DnsFate;
  /** Answers waiting at once. @default 20000 */
  readonly maxPending?: number;
}

export interface LoopbackDns {
  /** `127.0.0.1:<port>`, for `resolveAddresses`'s `dnsServers`. */
  readonly server: string;
  readonly stats: { queries: number; answered: number; nxdomain: number; silent: number; dropped: number };
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

export async function startLoopbackDns(options: LoopbackDnsOptions): Promise<LoopbackDns> {
  const socket = createSocket('udp4');
  const stats = { queries: 0, answered: 0, nxdomain: 0, silent: 0, dropped: 0 };
  const maxPending = options.maxPending ?? 20_000;
  const timers = new Set<NodeJS.Timeout>();
  socket.on('message', (query, peer) => {
    stats.queries++;
    const parsed = parseQuery(query);
    if (parsed === null || timers.size >= maxPending) {
      stats.dropped++;
      return;
    }
    const fate = options.fate(parsed.name);
    if (fate === 'silent') {
      stats.silent++;
      return;
    }
    const reply =
      fate === 'nxdomain'
        ? response(query, parsed.questionEnd, 3, null)
        : response(query, parsed.questionEnd, 0, parsed.type === TYPE_A ? fate.answer : null);
    if (fate === 'nxdomain') stats.nxdomain++;
    else stats.answered++;
    const timer = setTimeout(() => {
      timers.delete(timer);
      socket.send(reply, peer.port, peer.address);
    }, options.latencyMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    server: `127.0.0.1:${socket.address().port}`,
    stats,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** The question's name, type and where it ends; null for anything that is not one plain query. */
function parseQuery(q: Buffer): { name: string; type: number; questionEnd: number } | null {
  if (q.length < 17 || q.length > 512) return null;
  if ((q.readUInt16BE(2) & 0x8000) !== 0 || q.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let at = 12;
  for (let length = q[at] ?? 0; length !== 0; length = q[at] ?? 0) {
    // Compression pointers never appear in a question; label lengths are at most 63.
    if (length > 63 || at + 1 + length >= q.length) return null;
    labels.push(q.toString('latin1', at + 1, at + 1 + length).toLowerCase());
    at += 1 + length;
    if (at > 12 + 255) return null;
  }
  at++;
  if (at + 4 > q.length) return null;
  const type = q.readUInt16BE(at);
  if (type !== TYPE_A && type !== TYPE_AAAA) return null;
  return { name: labels.join('.'), type, questionEnd: at + 4 };
}

/** The answer to `query`: its id and question, `rcode`, and one A record when `address` is given. */
function response(query: Buffer, questionEnd: number, rcode: number, address: string | null): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, the query's opcode and RD, AA, RA, then the rcode.
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(address === null ? 0 : 1, 6);
  const question = query.subarray(12, questionEnd);
  if (address === null) return Buffer.concat([header, question]);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0);
  answer.writeUInt16BE(TYPE_A, 2);
  answer.writeUInt16BE(1, 4);
  answer.writeUInt32BE(300, 6);
  answer.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => {
    answer.writeUInt8(Number(octet) & 255, 12 + i);
  });
  return Buffer.concat([header, question, answer]);
}
