/**
 * A plain HTTP server on 127.0.0.1 that serves binary files the way the test scripts them (a
 * CA's AIA endpoint: DER, PKCS#7, redirects, errors, bodies too large or too slow) and records
 * what it was asked and how each response ended. Always `close()` it: close destroys open
 * connections, including responses left hanging on purpose.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the server answers one path. */
export type FileReply =
  | {
      readonly status?: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: Uint8Array;
    }
  /** Sends headers, then `chunk` every `intervalMs` until the client goes away. */
  | { readonly drip: Uint8Array; readonly intervalMs: number }
  /** Never answers. */
  | { readonly hang: true };

/** One request and how its response ended. */
export interface ServedRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Bytes of body written before the response ended. */
  bytesSent: number;
  /** The client went away before the whole response was sent. */
  cutOff: boolean;
}

export interface HttpFileServer {
  readonly port: number;
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string;
  readonly requests: readonly ServedRequest[];
  close(): Promise<void>;
}

/** Chunk size of large bodies, so a client that stops reading stops the server too. */
const CHUNK = 16 * 1024;

function send(res: ServerResponse, served: ServedRequest, body: Uint8Array): void {
  let offset = 0;
  const writeMore = (): void => {
    while (offset < body.length && !res.destroyed) {
      const chunk = body.subarray(offset, offset + CHUNK);
      offset += chunk.length;
      served.bytesSent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', writeMore);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  writeMore();
}

/** Starts a server answering each path with `routes[path]` (404 for any other path). */
export async function startHttpFileServer(
  routes: Readonly<Record<string, FileReply>> | ((path: string) => FileReply | undefined),
): Promise<HttpFileServer> {
  const requests: ServedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const lookup = typeof routes === 'function' ? routes : (path: string) => routes[path];
  const server = createServer((req, res) => {
    const served: ServedRequest = { path: req.url ?? '', headers: req.headers, bytesSent: 0, cutOff: false };
    requests.push(served);
    res.on('close', () => {
      served.cutOff = !res.writableFinished;
    });
    const reply: FileReply = lookup(served.path) ?? { status: 404, body: Buffer.from('not found') };
    if ('hang' in reply) return;
    if ('drip' in reply) {
      res.writeHead(200, { 'content-type': 'application/pkix-cert' });
      const timer = setInterval(() => {
        if (res.destroyed) {
          clearInterval(timer);
          timers.delete(timer);
          return;
        }
        served.bytesSent += reply.drip.length;
        res.write(reply.drip);
      }, reply.intervalMs);
      timers.add(timer);
      return;
    }
    const body = reply.body ?? new Uint8Array();
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/pkix-cert', ...reply.headers });
    send(res, served, body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
