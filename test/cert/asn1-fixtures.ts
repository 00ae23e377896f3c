/**
 * Small ASN.1 builders for the certificate-module unit tests: build a node
 * with forge, encode it, and decode it back exactly as the parser's strict
 * reader does, so each reader sees the node shapes it sees in production.
 */
import forge from 'node-forge';
import type { Walk } from '../../lambdas/cert/der-walk';
import type { Asn1 } from '../../lambdas/cert/forge-asn1';

const { asn1 } = forge;
const { Class, Type } = asn1;

/** The DER bytes of `node`. */
export function derOf(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'latin1');
}

/** DER bytes decoded as the parser's strict reader decodes them (BIT STRINGs left as bytes). */
export function fromDer(der: Uint8Array): Asn1 {
  return asn1.fromDer(Buffer.from(der).toString('latin1'), {
    strict: true,
    parseAllBytes: true,
    decodeBitStrings: false,
  } as unknown as boolean);
}

/** `node` encoded and decoded again, as the parser's strict reader returns it. */
export function decoded(node: Asn1): Asn1 {
  return fromDer(derOf(node));
}

/** A fresh walk over `buf` with no reasons yet. */
export function newWalk(buf: Buffer = Buffer.alloc(0)): Walk {
  return { buf, reasons: [], truncated: false };
}

export const seq = (...children: Asn1[]): Asn1 => asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, children);
export const set = (...children: Asn1[]): Asn1 => asn1.create(Class.UNIVERSAL, Type.SET, true, children);
export const oid = (dotted: string): Asn1 =>
  asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(dotted).getBytes());
export const bool = (value: boolean): Asn1 =>
  asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\x00');
/** INTEGER from its content bytes as hex (sign and padding exactly as given). */
export const int = (hex: string): Asn1 =>
  asn1.create(Class.UNIVERSAL, Type.INTEGER, false, Buffer.from(hex, 'hex').toString('latin1'));
export const octets = (bytes: Uint8Array | string): Asn1 =>
  asn1.create(
    Class.UNIVERSAL,
    Type.OCTETSTRING,
    false,
    typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1'),
  );
/** A primitive universal node with raw (latin1) content, e.g. a string or time type. */
export const prim = (type: number, raw: string): Asn1 => asn1.create(Class.UNIVERSAL, type, false, raw);
/** A context-specific [n] node. */
export const ctx = (n: number, value: string | Asn1[], constructed = Array.isArray(value)): Asn1 =>
  asn1.create(Class.CONTEXT_SPECIFIC, n, constructed, value);
/** An extnValue OCTET STRING wrapping the DER of `inner`. */
export const wrapped = (inner: Asn1): Asn1 => octets(derOf(inner));
