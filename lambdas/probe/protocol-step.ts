/**
 * The seam where a protocol runs before the TLS handshake: STARTTLS in SMTP, IMAP,
 * PostgreSQL and the like. The probe connects, hands the plain socket to the
 * protocol's step, and starts TLS on the same socket once the step resolves, all
 * within the one per-address deadline.
 */
import type { Socket } from 'node:net';
import type { ProbeError } from '../core/model';

/** What a protocol step knows about the probe it runs in, and the limits it runs under. */
export interface ProtocolStepContext {
  /** Host name or IP literal of the target (e.g. for a protocol greeting). */
  readonly host: string;
  readonly port: number;
  /** SNI the handshake will send; null for none. */
  readonly servername: string | null;
  /** `performance.now()` at which the probe gives up: a step needs no deadline of its own. */
  readonly deadline: number;
  /**
   * Aborted when the probe settles (deadline passed, socket error or close). The probe destroys the
   * socket then; a step only releases what it holds itself (timers, other resources) and stops.
   */
  readonly signal: AbortSignal;
}

/**
 * One protocol the probe speaks (see protocol-registry.ts).
 *
 * Adding one (e.g. SMTP STARTTLS): a module in ./protocols that exports a ProbeProtocol, its line in
 * the registry, and its name and default port in core's PROBE_PROTOCOLS.
 */
export interface ProbeProtocol {
  /** Registry key, also used in messages ("smtp exchange before TLS not complete ..."). */
  readonly name: string;
  /**
   * Runs on the connected plain TCP socket before TLS starts. Resolve when the TLS handshake may
   * start; reject with a {@link ProtocolStepError} to report what the server did wrong (any other
   * rejection is reported as a failed exchange). Omitted: TLS starts at once (implicit TLS).
   *
   * The probe's deadline, socket errors and socket close all end the step; the probe removes every
   * listener the step left on the socket before TLS starts. A step that reads past its last
   * message must `socket.unshift()` the excess, which then reaches the TLS handshake; it must not
   * set an encoding on the socket, which carries TLS bytes afterwards.
   */
  readonly startTls?: (socket: Socket, context: ProtocolStepContext) => Promise<void>;
}

/** What a protocol step rejects with to report a failure in the public terms of a {@link ProbeError}. */
export class ProtocolStepError extends Error implements ProbeError {
  override readonly name = 'ProtocolStepError';

  constructor(
    readonly code: ProbeError['code'],
    message: string,
  ) {
    super(message);
  }
}
