/**
 * `node:http`, loaded on the first plain-HTTP fetch (an AIA issuer, an OCSP responder, a CRL): a
 * `certwatch check` whose certificates need nothing fetched, or a checker invocation with
 * revocation off, never loads Node's HTTP client (about nine internal modules). Memoised: one load
 * per process.
 */
type HttpModule = typeof import('node:http');

let loading: Promise<HttpModule> | undefined;

/** `node:http`, loading it on the first call. */
export function loadHttp(): Promise<HttpModule> {
  loading ??= import('node:http');
  return loading;
}
