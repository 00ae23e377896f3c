/**
 * The HTTP CONNECT exchange (RFC 9110 §9.3.6) that turns a connection to a
 * proxy into a tunnel to the target. It runs on the probe's socket under the
 * probe's deadline, before the protocol step and the TLS handshake.
 */
import type { Socket } from 'node:net';
import { formatTargetId } from '../core/parse-target';
import { ProtocolStepError, type ProtocolStepContext } from './protocol-step';
import { DEFAULT_PLAIN_LIMITS, PlainReader, quoteReply } from './protocols/line-reader';

/** A proxy's reply headers are a few hundred bytes; this bounds a hostile one. */
const PROXY_LIMITS = { maxBytes: 16 * 1024, maxLineBytes: DEFAULT_PLAIN_LIMITS.maxLineBytes, maxLines: 100 };

/** Where the tunnel goes, and the proxy it goes through (for messages). */
export interface TunnelRequest {
  /** Host name or IP literal the proxy connects to. */
  readonly host: string;
  readonly port: number;
  /** `host:port` of the proxy. */
  readonly proxy: string;
}

/**
 * Ask the proxy to connect to `request.host:port`; resolves once it answers 2xx and its headers
 * are read. A refusal (403, 407, 502, ...) or anything that is not HTTP rejects with a
 * CONNECTION_REFUSED {@link ProtocolStepError} that names the proxy and quotes its status line.
 */
export async function openTunnel(
  socket: Socket,
  request: TunnelRequest,
  context: Pick<ProtocolStepContext, 'deadline' | 'signal'>,
): Promise<void> {
  const authority = formatTargetId(request.host, request.port);
  const reader = new PlainReader(
    socket,
    { ...context, host: request.host, port: request.port, servername: null },
    'http-connect',
    {
      limits: PROXY_LIMITS,
      failureCode: 'CONNECTION_REFUSED',
      subject: `proxy ${request.proxy} (CONNECT ${authority})`,
    },
  );
  try {
    reader.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const status = await reader.line();
    const match = /^HTTP\/1\.[01] (\d{3})\b/.exec(status);
    if (!match) {
      throw new ProtocolStepError(
        'CONNECTION_REFUSED',
        `proxy ${request.proxy} answered ${quoteReply(status)} to CONNECT ${authority}, not HTTP`,
      );
    }
    // Headers up to the blank line; a refusal's body is never read.
    if (match[1]!.startsWith('2')) {
      while ((await reader.line()) !== '');
      return;
    }
    throw new ProtocolStepError(
      'CONNECTION_REFUSED',
      `proxy ${request.proxy} refused CONNECT ${authority}: ${quoteReply(status)}`,
    );
  } finally {
    reader.release();
  }
}
