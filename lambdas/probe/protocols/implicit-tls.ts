/**
 * Implicit TLS (HTTPS, IMAPS, SMTPS, LDAPS, ...): the server expects a ClientHello
 * as soon as TCP is up, so nothing runs before the handshake.
 */
import type { ProbeProtocol } from '../protocol-step';

export const implicitTls = { name: 'tls' } as const satisfies ProbeProtocol;
