/**
 * Turns whatever went wrong during a probe into a {@link ProbeError}: a code
 * from the public contract and one sentence a human can act on.
 */
import type { ProbeError } from '../core/model';

/**
 * Where the probe was when it failed: TCP connect, the HTTP CONNECT exchange with a proxy, the
 * protocol step before TLS (STARTTLS), or the TLS handshake.
 */
export type ProbePhase = 'connect' | 'proxy' | 'protocol' | 'handshake';

/** What the probe knew when it failed. */
export interface FailureContext {
  readonly phase: ProbePhase;
  /** Name of the protocol whose step ran before TLS (phase 'protocol'), e.g. 'smtp'. */
  readonly protocol?: string;
  /** `address:port` (or `[v6]:port`) connected to (through the proxy, when there is one). */
  readonly endpoint: string;
  /** The proxy URL the connection goes through; absent for a direct connection. */
  readonly proxy?: string;
  /** Bytes received from the server so far. */
  readonly bytesReceived: number;
  /** Whether the server's first bytes look like a TLS record; null when too few arrived. */
  readonly looksLikeTls: boolean | null;
  /** Printable preview of the first bytes received. */
  readonly preview: string;
  /** Certificates in the server's Certificate message, when one was seen complete; else null. */
  readonly certificatesReceived: number | null;
  /** The server asked for a client certificate. @default false */
  readonly certificateRequested?: boolean;
}

/**
 * OpenSSL's complaints about the very first record when the peer does not speak TLS at all
 * (an HTTP response, an SSH banner, ...).
 */
const NOT_TLS_OPENSSL_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

/**
 * Failures to establish the TCP connection at all. They are all reported as
 * CONNECTION_REFUSED ("nothing accepted our connection"); HANDSHAKE_FAILED is kept
 * for failures after TCP was up, so the two codes point at different teams.
 */
const UNREACHABLE = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['EHOSTDOWN', 'host down'],
  ['ENETDOWN', 'network down'],
  ['EADDRNOTAVAIL', 'address not available'],
  ['EACCES', 'connection not permitted'],
  ['EPERM', 'connection not permitted'],
]);

/** Map an error raised by the socket or by OpenSSL to a ProbeError. */
export function classifyProbeError(error: unknown, context: FailureContext): ProbeError {
  const { code, message, reason, library } = describe(error);
  if (context.phase === 'connect') return classifyConnectError(code, message, context);
  if (context.phase === 'proxy') return proxyError(firstLine(message), context);
  if (context.phase === 'protocol') return classifyProtocolError(code, message, context);
  if (isNotTls(code, context)) {
    return {
      code: 'NOT_TLS',
      message: `${context.endpoint} did not answer with TLS (first bytes: ${JSON.stringify(context.preview)})`,
    };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return closedDuringHandshake(message, context);
  const detail = reason
    ? library && library !== 'SSL routines'
      ? `${library}: ${reason}`
      : reason
    : firstLine(message);
  if (wantsClientCertificate(context)) return clientCertificateRequired(detail, context);
  // "too long" alone says little; "asn1 encoding routines: too long" says a certificate did not decode.
  return {
    code: 'HANDSHAKE_FAILED',
    message: `TLS handshake with ${context.endpoint} failed: ${detail}${afterCertificates(context)}`,
  };
}

/** The error reported when the deadline passes first. */
export function timeoutError(timeoutMs: number, context: FailureContext): ProbeError {
  const stage =
    context.phase === 'connect'
      ? context.proxy === undefined
        ? 'TCP connection not established'
        : `TCP connection to proxy ${context.proxy} not established`
      : context.phase === 'proxy'
        ? `proxy ${context.proxy} did not open a tunnel`
        : context.phase === 'protocol'
          ? `${protocolName(context)} exchange before TLS not complete`
          : `TLS handshake not complete (${context.bytesReceived} bytes received)`;
  return {
    code: 'TIMEOUT',
    message: `${stage} with ${context.endpoint} within ${timeoutMs} ms${afterCertificates(context)}`,
  };
}

/** The error reported when the connection closes before the handshake completes, without an error. */
export function closedError(context: FailureContext): ProbeError {
  if (context.phase === 'proxy') return proxyError('closed the connection', context);
  if (context.phase === 'protocol') return closedDuringProtocol('closed', context);
  return closedDuringHandshake('closed', context);
}

/**
 * Failures while the protocol step ran (TCP up, TLS not started): HANDSHAKE_FAILED, as for any
 * failure after TCP was up. A step that knows better rejects with its own ProbeError instead.
 */
function classifyProtocolError(
  code: string | undefined,
  message: string,
  context: FailureContext,
): ProbeError {
  if (code === 'ECONNRESET' || code === 'EPIPE') return closedDuringProtocol(message, context);
  return {
    code: 'HANDSHAKE_FAILED',
    message: `${protocolName(context)} exchange with ${context.endpoint} failed before TLS: ${firstLine(message)}`,
  };
}

function closedDuringProtocol(message: string, context: FailureContext): ProbeError {
  const how = message.includes('ECONNRESET') ? 'reset' : 'closed';
  return {
    code: 'HANDSHAKE_FAILED',
    message: `${context.endpoint} ${how} the connection during the ${protocolName(context)} exchange before TLS`,
  };
}

/**
 * The proxy failed before the tunnel was up: CONNECTION_REFUSED, as for a target that takes no
 * connection, since the target was never reached; the message names the proxy.
 */
function proxyError(what: string, context: FailureContext): ProbeError {
  return {
    code: 'CONNECTION_REFUSED',
    message: `proxy ${context.proxy ?? '(unknown)'} failed before opening a tunnel to ${context.endpoint}: ${what}`,
  };
}

function protocolName(context: FailureContext): string {
  return context.protocol ?? 'protocol';
}

function classifyConnectError(
  code: string | undefined,
  message: string,
  context: FailureContext,
): ProbeError {
  if (code === 'ETIMEDOUT') {
    return { code: 'TIMEOUT', message: `TCP connection to ${context.endpoint} timed out (ETIMEDOUT)` };
  }
  const what = code === undefined ? undefined : UNREACHABLE.get(code);
  const detail = what ? `${what} (${code})` : firstLine(message);
  if (context.proxy !== undefined) {
    return {
      code: 'CONNECTION_REFUSED',
      message: `cannot connect to proxy ${context.proxy} (for ${context.endpoint}): ${detail}`,
    };
  }
  return { code: 'CONNECTION_REFUSED', message: `cannot connect to ${context.endpoint}: ${detail}` };
}

function isNotTls(code: string | undefined, context: FailureContext): boolean {
  if (context.looksLikeTls !== null) return !context.looksLikeTls;
  return code !== undefined && NOT_TLS_OPENSSL_CODES.has(code);
}

/**
 * A server that asked for a client certificate, sent its own chain, and then ended the handshake
 * (TLS <= 1.2: an alert or a close once it got our empty Certificate) is doing mutual TLS, not
 * failing: its certificate was read in full and is judged on its own.
 */
function wantsClientCertificate(context: FailureContext): boolean {
  return context.certificateRequested === true && (context.certificatesReceived ?? 0) > 0;
}

function clientCertificateRequired(detail: string, context: FailureContext): ProbeError {
  return {
    code: 'CLIENT_CERT_REQUIRED',
    message:
      `${context.endpoint} requires a client certificate: it asked for one and ended the handshake without it (${detail}); ` +
      `the certificate it sent was checked`,
  };
}

function closedDuringHandshake(message: string, context: FailureContext): ProbeError {
  const how = message.includes('ECONNRESET') ? 'reset' : 'closed';
  if (wantsClientCertificate(context)) return clientCertificateRequired(`${how} the connection`, context);
  const when = context.bytesReceived === 0 ? 'before sending any TLS data' : 'during the TLS handshake';
  return { code: 'HANDSHAKE_FAILED', message: `${context.endpoint} ${how} the connection ${when}` };
}

interface ErrorFacts {
  readonly code: string | undefined;
  readonly message: string;
  /** OpenSSL's short reason, e.g. "sslv3 alert handshake failure". */
  readonly reason: string | undefined;
  /** OpenSSL's library, e.g. "SSL routines", "asn1 encoding routines". */
  readonly library: string | undefined;
}

function describe(error: unknown): ErrorFacts {
  if (!(error instanceof Error)) {
    return { code: undefined, message: String(error), reason: undefined, library: undefined };
  }
  const { code, reason, library } = error as Error & { code?: unknown; reason?: unknown; library?: unknown };
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  return { code: text(code), message: error.message, reason: text(reason), library: text(library) };
}

function afterCertificates(context: FailureContext): string {
  const n = context.certificatesReceived;
  return n === null ? '' : ` after the server sent ${n} certificate${n === 1 ? '' : 's'}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim() || 'unknown error';
}
