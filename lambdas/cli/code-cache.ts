/**
 * Loads a CommonJS bundle with a V8 code cache, so a short-lived process neither parses the
 * bundle nor compiles the functions it runs: with the cache, `certwatch check` of one host
 * spends about a fifth less time (Node 20 has no `module.enableCompileCache`, and a user-land
 * snapshot needs a `node` flag that `certwatch` cannot pass).
 *
 * The cache is a file: the SHA-256 of the bundle, then V8's data. V8 itself accepts data only
 * from the same V8 version and flags, but checks the source by its length alone, so the hash
 * ties the data to these exact bytes. Any cache that is missing, for other bytes, rejected by
 * V8 or unwritable costs speed, never correctness: the bundle is then compiled as usual.
 *
 * Two caches: the one shipped beside the bundle (trusted as the bundle is), and the user's own,
 * written when the shipped one is not used (another Node, other V8 flags). A cache is code this
 * process runs, so the user's own is read only when the user owns it and no one else may write it.
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
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/** Bytes of the SHA-256 of the bundle that start a cache file. */
const HASH_BYTES = 32;

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
  /** The cache shipped with the bundle, tried first; null: none. */
  readonly shipped: string | null;
  /**
   * The user's own cache: tried next, when the user owns it and only the user may write it; and
   * where {@link CachedModule.save} writes. Null: none, and nothing is written.
   */
  readonly own: string | null;
}

/** The shipped cache of a bundle: beside it, written when it was built. */
export function shippedCachePath(bundle: string): string {
  return `${bundle}.v8cache`;
}

/**
 * The user's own cache of a bundle, for a Node whose V8 refuses the shipped one:
 * `$XDG_CACHE_HOME/certwatch` (else `~/.cache/certwatch`), one file per bundle name, Node
 * version and architecture. Null when there is no home directory to put it in.
 */
export function userCachePath(
  bundle: string,
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  let base = env['XDG_CACHE_HOME'];
  // The XDG spec: a relative path is to be ignored.
  if (base === undefined || !isAbsolute(base)) {
    let home: string;
    try {
      home = homedir();
    } catch {
      return null;
    }
    if (home === '') return null;
    base = join(home, '.cache');
  }
  return join(base, 'certwatch', `${basename(bundle)}-${process.version}-${process.arch}.v8cache`);
}

/**
 * Loads the CommonJS file `bundle` as `require` would (the same wrapper, `require` resolving
 * beside it), compiled with the first cache (shipped, then own) that was made for its bytes.
 * @throws what reading or running the bundle throws; a cache never makes it throw
 */
export function requireWithCodeCache(bundle: string, options: CodeCacheOptions): CachedModule {
  const bytes = readFileSync(bundle);
  const hash = createHash('sha256').update(bytes).digest();
  const cachedData =
    (options.shipped === null ? undefined : cacheFor(options.shipped, hash, false)) ??
    (options.own === null ? undefined : cacheFor(options.own, hash, true));
  const script = new Script(wrap(bytes.toString('utf8')), {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const outcome: CacheOutcome =
    cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  const module = { exports: {} as Record<string, unknown> };
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return {
    exports: module.exports,
    outcome,
    save: () => outcome !== 'accepted' && options.own !== null && writeCache(options.own, hash, script),
  };
}

/**
 * The V8 data of the cache at `path` when it was made for the bundle with this hash (and, when
 * `own`, the file is the user's and writable by no one else); else undefined.
 */
function cacheFor(path: string, hash: Buffer, own: boolean): Buffer | undefined {
  let file: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    // Checked on the open file, so the bytes read are the bytes checked.
    if (own && !privateToUser(fstatSync(fd))) return undefined;
    file = readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (file.length <= HASH_BYTES || !file.subarray(0, HASH_BYTES).equals(hash)) return undefined;
  return file.subarray(HASH_BYTES);
}

/** Whether a file belongs to this user and no one else may write it (always, where there are no uids). */
function privateToUser(stat: Stats): boolean {
  const uid = process.getuid?.();
  return uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0);
}

/** Writes the cache whole or not at all (a reader never sees half a file); false on any failure. */
function writeCache(path: string, hash: Buffer, script: Script): boolean {
  const partial = `${path}.${process.pid}.tmp`;
  try {
    // Private to the user: the cache is code this process would run.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(partial, Buffer.concat([hash, script.createCachedData()]), { mode: 0o600 });
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
