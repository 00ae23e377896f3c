/**
 * Every protocol the probe speaks, by name: the one list the probe looks a
 * configured protocol up in. Adding a protocol is one module in ./protocols and
 * one line here; its name and default port go in core's PROBE_PROTOCOLS, and a
 * name on either side without the other does not compile.
 */
import { DEFAULT_PROBE_PROTOCOL, type ProbeProtocolName } from '../core/model';
import type { ProbeProtocol } from './protocol-step';
import { implicitTls } from './protocols/implicit-tls';

export const PROBE_PROTOCOL_REGISTRY = {
  tls: implicitTls,
} as const satisfies { readonly [Name in ProbeProtocolName]: ProbeProtocol & { readonly name: Name } };

/**
 * The implementation of `name`; undefined for a name this build does not know (an inventory
 * written by a newer version, say), which the probe reports rather than guessing.
 */
export function probeProtocol(name: string = DEFAULT_PROBE_PROTOCOL): ProbeProtocol | undefined {
  return Object.hasOwn(PROBE_PROTOCOL_REGISTRY, name)
    ? PROBE_PROTOCOL_REGISTRY[name as ProbeProtocolName]
    : undefined;
}
