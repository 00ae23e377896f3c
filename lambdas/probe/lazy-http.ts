/**
 * `node:http`, loaded on the first plain-HTTP fetch (an AIA issuer, an OCSP responder, a CRL): a
 * `certwatch check` whose certificates need nothing fetched, or a checker invocation with
 * revocation off, never loads Node's HTTP client (about nine internal modules). Memoised: one load
 * per process, and after it {@link loadedHttp} hands the module out without a promise.
 */
type HttpModule = typeof import('node:http');

let loading: Promise<HttpModule> | undefined;
let loaded: HttpModule | undefined;

/** `node:http`, loading it on the first call. */
export function loadHttp(): Promise<HttpModule> {
  loading ??= import('node:http').then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** `node:http` once {@link loadHttp} has loaded it; undefined before. */
export function loadedHttp(): HttpModule | undefined {
  return loaded;
}
