/**
 * Implicit TLS (HTTPS, IMAPS, SMTPS, LDAPS, ...): the server expects a ClientHello
 * as soon as TCP is up, so nothing runs before the handshake.
 */
import type { ProbeProtocol } from '../protocol-step';

/** Implicit TLS under `name` (the scheme it is named by: `https`, `smtps`, ...). */
export function implicitTls<const Name extends string>(name: Name) {
  return { name } as const satisfies ProbeProtocol;
}
