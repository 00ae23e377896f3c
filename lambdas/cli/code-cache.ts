/**
 * Loads a CommonJS bundle with a V8 code cache, so a short-lived process neither parses the
 * bundle nor compiles the functions it runs: with the cache, `certwatch check` of one host
 * spends about a fifth less time (Node 20 has no `module.enableCompileCache`, and a user-land
 * snapshot needs a `node` flag that `certwatch` cannot pass).
 *
 * The cache is a file: a key, then V8's data. The key is the SHA-256 of the bundle's bytes and of
 * the runtime ({@link runtimeTag}: Node version, architecture, flags). V8 checks the source by
 * its length alone, so the key is what ties the data to these exact bytes; and V8 refuses data
 * made under other flags (`NODE_OPTIONS=--max-old-space-size=...` is enough), so the key lets a
 * process pass over a cache it cannot use without compiling twice. Any cache that is missing,
 * for other bytes or another runtime, refused by V8 or unwritable costs speed, never
 * correctness: the bundle is then compiled as usual.
 *
 * Two caches: the user's own, written whenever no cache was used (another Node, other flags),
 * and the one shipped beside the bundle (trusted as the bundle is). A cache is code this process
 * runs, so the user's own is read only when the user owns it and no one else may write it.
 *
 * Built to dist/cli/code-cache.cjs (scripts/build-cli.mjs), for bin/certwatch.js and the build's
 * warm-up (scripts/warm-code-cache.ts), which writes the cache shipped beside the bundle.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/** What this module needs of Node's CommonJS loader (the `node:module` exports of the same names). */
type CommonJsLoader = Pick<typeof import('node:module'), 'wrap' | 'createRequire'>;

/**
 * Node's CommonJS loader. Built to CommonJS, this module's own `module.constructor` is that
 * loader, already there at start; `require('node:module')` would load four more internal
 * modules (the ESM loader and source maps) into every `certwatch check`.
 */
function commonJsLoader(): CommonJsLoader {
  const own = typeof module === 'object' ? (module.constructor as Partial<CommonJsLoader>) : undefined;
  if (typeof own?.wrap === 'function' && typeof own.createRequire === 'function')
    return own as CommonJsLoader;
  return require('node:module') as CommonJsLoader;
}

/** Bytes of the key that starts a cache file: a SHA-256. */
const KEY_BYTES = 32;

/** What {@link requireWithCodeCache} made of the caches it was offered. */
export type CacheOutcome = 'accepted' | 'none' | 'rejected';

/** A loaded bundle. */
export interface CachedModule {
  /** The bundle's `module.exports`. */
  readonly exports: Record<string, unknown>;
  /** `accepted`: V8 took a cache's data; `none`: no cache was for these bytes; `rejected`: V8 refused one. */
  readonly outcome: CacheOutcome;
  /**
   * Writes a fresh cache to `own` unless one was accepted. Call it after the bundle's work, so
   * the cache holds every function that work compiled. Never throws; false when nothing was written.
   */
  save(): boolean;
}

/** Where {@link requireWithCodeCache} looks for a cache, and where it keeps one. */
export interface CodeCacheOptions {
  /**
   * The user's own cache: tried first, when the user owns it and only the user may write it; and
   * where {@link CachedModule.save} writes. Null: none, and nothing is written.
   */
  readonly own: string | null;
  /** The cache shipped with the bundle, tried next; null: none. */
  readonly shipped: string | null;
  /** What V8 needs to match, besides the bytes. @default {@link runtimeTag}() */
  readonly runtime?: string;
}

/**
 * This process's runtime as far as V8's cache data goes: the Node version (and so V8's),
 * the architecture and the flags (command line and `NODE_OPTIONS`).
 */
export function runtimeTag(): string {
  return JSON.stringify([process.version, process.arch, process.execArgv, process.env['NODE_OPTIONS'] ?? '']);
}

/** The shipped cache of a bundle: beside it, written when it was built. */
export function shippedCachePath(bundle: string): string {
  return `${bundle}.v8cache`;
}

/**
 * The user's own cache of a bundle, for a runtime the shipped one was not made for (another
 * Node, other flags): `$XDG_CACHE_HOME/certwatch` (else `$HOME/.cache/certwatch`), one file per
 * bundle name, Node version and architecture. Null without a home to put it in (read from the
 * environment, as `os.homedir()` would, so the start-up loads no module for it).
 */
export function userCachePath(
  bundle: string,
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  const xdg = env['XDG_CACHE_HOME'];
  const home = env['HOME'] || env['USERPROFILE'];
  // The XDG spec: a relative path is to be ignored.
  const base =
    xdg !== undefined && isAbsolute(xdg)
      ? xdg
      : home !== undefined && isAbsolute(home)
        ? join(home, '.cache')
        : null;
  return base === null
    ? null
    : join(base, 'certwatch', `${basename(bundle)}-${process.version}-${process.arch}.v8cache`);
}

/**
 * Loads the CommonJS file `bundle` as `require` would (the same wrapper, `require` resolving
 * beside it), compiled with the first cache (own, then shipped) made for its bytes and this runtime.
 * @throws what reading or running the bundle throws; a cache never makes it throw
 */
export function requireWithCodeCache(bundle: string, options: CodeCacheOptions): CachedModule {
  const bytes = readFileSync(bundle);
  const key = createHash('sha256')
    .update(bytes)
    .update('\0')
    .update(options.runtime ?? runtimeTag())
    .digest();
  const cachedData =
    (options.own === null ? undefined : cacheFor(options.own, key, true)) ??
    (options.shipped === null ? undefined : cacheFor(options.shipped, key, false));
  const loader = commonJsLoader();
  const script = new Script(loader.wrap(bytes.toString('utf8')), {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const outcome: CacheOutcome =
    cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  const loaded = { exports: {} as Record<string, unknown> };
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(
    loaded.exports,
    loaded.exports,
    loader.createRequire(bundle),
    loaded,
    bundle,
    dirname(bundle),
  );
  return {
    exports: loaded.exports,
    outcome,
    save: () => outcome !== 'accepted' && options.own !== null && writeCache(options.own, key, script),
  };
}

/**
 * The V8 data of the cache at `path` when it has this key (and, when `own`, the file is the
 * user's and writable by no one else); else undefined. The key is read first, so a cache of
 * other bytes (the user's own, left from an older bundle while the shipped one is used) costs
 * 32 bytes of reading, not its 400 KB of data, at every start.
 */
function cacheFor(path: string, key: Buffer, own: boolean): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    // Checked on the open file, so the bytes read are the bytes checked.
    const stat = fstatSync(fd);
    if (own && !privateToUser(stat)) return undefined;
    if (stat.size <= KEY_BYTES || !readExactly(fd, KEY_BYTES, 0).equals(key)) return undefined;
    return readExactly(fd, stat.size - KEY_BYTES, KEY_BYTES);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `length` bytes of the open file from `position`. @throws when the file ends first */
function readExactly(fd: number, length: number, position: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, bytes, filled, length - filled, position + filled);
    if (read === 0) throw new Error('cache file ends early');
    filled += read;
  }
  return bytes;
}

/** Whether a file belongs to this user and no one else may write it (always, where there are no uids). */
function privateToUser(stat: Stats): boolean {
  const uid = process.getuid?.();
  return uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0);
}

/** Writes the cache whole or not at all (a reader never sees half a file); false on any failure. */
function writeCache(path: string, key: Buffer, script: Script): boolean {
  const partial = `${path}.${process.pid}.tmp`;
  try {
    // Private to the user: the cache is code this process would run.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(partial, Buffer.concat([key, script.createCachedData()]), { mode: 0o600 });
    renameSync(partial, path);
    return true;
  } catch {
    try {
      rmSync(partial, { force: true });
    } catch {
      // nothing more to tidy
    }
    return false;
  }
}
