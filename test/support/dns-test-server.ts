/**
 * A tiny authoritative DNS server on UDP 127.0.0.1 for resolver tests: answers A and AAAA
 * from a table, answers NXDOMAIN or SERVFAIL, or never answers at all. Every query is counted.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { ipAddressBytes } from '../../lambdas/core/parse-target';

/** How the server treats one name. */
export type DnsBehaviour =
  | { readonly a?: readonly string[]; readonly aaaa?: readonly string[] }
  | 'nxdomain'
  | 'servfail'
  | 'stall';

export interface DnsTestServer {
  /** `127.0.0.1:port`, for `dnsServers`. */
  readonly address: string;
  /** Queries received, as `name/TYPE`. */
  readonly queries: () => string[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/** Serves `zone` (lower-case names, no trailing dot); names not in it get NXDOMAIN. */
export async function startDnsServer(zone: Record<string, DnsBehaviour>): Promise<DnsTestServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query: Buffer, from: RemoteInfo) => {
    const question = readQuestion(query);
    if (!question) return;
    queries.push(
      `${question.name}/${question.type === TYPE_A ? 'A' : question.type === TYPE_AAAA ? 'AAAA' : question.type}`,
    );
    const behaviour = zone[question.name] ?? 'nxdomain';
    if (behaviour === 'stall') return;
    socket.send(answer(query, question, behaviour), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  let closed = false;
  return {
    address: `127.0.0.1:${port}`,
    queries: () => [...queries],
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}

interface Question {
  readonly name: string;
  readonly type: number;
  /** End offset of the question section (name, type, class). */
  readonly end: number;
}

function readQuestion(query: Buffer): Question | null {
  if (query.length < 12 || query.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    if (length > 63) return null;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  if (offset + 5 > query.length) return null;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

function answer(query: Buffer, question: Question, behaviour: Exclude<DnsBehaviour, 'stall'>): Buffer {
  const rcode = behaviour === 'nxdomain' ? 3 : behaviour === 'servfail' ? 2 : 0;
  const addresses =
    typeof behaviour === 'object'
      ? ((question.type === TYPE_A ? behaviour.a : question.type === TYPE_AAAA ? behaviour.aaaa : []) ?? [])
      : [];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | 0x0100 | 0x0080 | rcode, 2); // QR, AA, RD, RA, rcode
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const rdata = addressBytes(address);
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // pointer to the question name
    record.writeUInt16BE(question.type, 2);
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(60, 6);
    record.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([record, rdata]);
  });
  return Buffer.concat([header, query.subarray(12, question.end), ...records]);
}

function addressBytes(address: string): Buffer {
  const bytes = ipAddressBytes(address);
  if (!bytes) throw new Error(`not an IP address: ${address}`);
  return Buffer.from(bytes);
}
