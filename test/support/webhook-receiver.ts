/**
 * A real HTTP server on 127.0.0.1 that records every request it receives and
 * answers as the test scripts it — the stand-in for Slack, Teams and generic
 * webhook endpoints. Always `close()` it (afterEach/afterAll): close destroys
 * open connections, including requests left hanging on purpose.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as received: the raw body is kept exactly, for signature checks. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  readonly body: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: unknown;
}

/** How the receiver answers one request. */
export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * Decides the response to the `count`-th request (1-based). Return a promise
 * that never settles (see {@link hang}) to leave the request unanswered.
 */
export type Responder = (req: ReceivedRequest, count: number) => ScriptedResponse | Promise<ScriptedResponse>;

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>`; path defaults to `/`. */
  url(path?: string): string;
  /** Every request received so far, in arrival order. */
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A responder result that never arrives: the request hangs until the client gives up or the receiver closes. */
export function hang(): Promise<ScriptedResponse> {
  return new Promise(() => undefined);
}

/** Largest body the receiver buffers; beyond it the request is answered 413. */
const MAX_BODY_BYTES = 1024 * 1024;

function respond(res: ServerResponse, r: ScriptedResponse): void {
  if (res.destroyed) return;
  res.writeHead(r.status, r.headers);
  res.end(r.body ?? '');
}

export async function startWebhookReceiver(
  opts: { readonly responder?: Responder } = {},
): Promise<WebhookReceiver> {
  const responder: Responder = opts.responder ?? (() => ({ status: 200, body: 'ok' }));
  const requests: ReceivedRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        respond(res, { status: 413 });
        return;
      }
      const rawBody = Buffer.concat(chunks);
      const body = rawBody.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body,
        json,
      };
      requests.push(received);
      Promise.resolve()
        .then(() => responder(received, requests.length))
        .then(
          (r) => respond(res, r),
          (err: unknown) => respond(res, { status: 500, body: `responder failed: ${String(err)}` }),
        );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
