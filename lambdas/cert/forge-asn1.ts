/**
 * node-forge's ASN.1 reader alone. Importing 'node-forge' pulls in every
 * cipher and protocol it implements (~290 KB minified in the checker bundle);
 * the analysis only needs the DER reader.
 */
import type forgeTypes from 'node-forge';
// @ts-expect-error node-forge ships no types for its per-module entry points; the module is forge.asn1.
import asn1Module from 'node-forge/lib/asn1';

/** The subset of node-forge the certificate parser uses, typed as the full library types it. */
export const forge: { readonly asn1: typeof forgeTypes.asn1 } = {
  asn1: asn1Module as typeof forgeTypes.asn1,
};

/** A decoded ASN.1 node. */
export type Asn1 = forgeTypes.asn1.Asn1;
