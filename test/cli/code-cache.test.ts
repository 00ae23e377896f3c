/**
 * The code cache the built `certwatch check` loads its bundle with: a cache speeds a start up
 * or is ignored, and never changes what runs. V8 checks a cache against the source's length
 * only (a cache of other code of the same length would run that other code), so the cases with
 * a cache of other bytes fail if the bundle's hash is not checked.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CacheOutcome,
  requireWithCodeCache,
  shippedCachePath,
  userCachePath,
} from '../../lambdas/cli/code-cache';

/** The runtime the caches are made for (a real one: V8 checks its own flags and version regardless). */
const RUNTIME = 'this runtime';

/**
 * A bundle whose export says which source it was compiled from; A and B have the same length.
 * `unique` keeps every test's sources apart: V8 reuses a script this process already compiled
 * from the same text, whatever cache it is offered.
 */
const source = (mark: 'A' | 'B', unique: string) =>
  `// ${unique}\nexports.mark = function mark() { return '${mark.repeat(8)}'; };\n`;

describe('requireWithCodeCache', () => {
  let dir: string;
  let bundle: string;
  let cache: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-code-cache-'));
    bundle = join(dir, 'bundle.cjs');
    cache = shippedCachePath(bundle);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Loads `mark` from the bundle as it is now, offered `cache` as the user's own (and kept there). */
  function load(own: string | null = cache, runtime = RUNTIME) {
    const loaded = requireWithCodeCache(bundle, { shipped: null, own, runtime });
    return { ...loaded, mark: (loaded.exports['mark'] as () => string)() };
  }

  /** Writes a cache made for `mark`'s source (loaded and run first, as bin/certwatch.js does). */
  function cacheOf(mark: 'A' | 'B'): Buffer {
    writeFileSync(bundle, source(mark, dir));
    rmSync(cache, { force: true });
    expect(load().save()).toBe(true);
    return readFileSync(cache);
  }

  const cases: readonly {
    readonly name: string;
    readonly cacheFile: () => Buffer | null;
    readonly outcome: CacheOutcome;
  }[] = [
    { name: 'no cache file', cacheFile: () => null, outcome: 'none' },
    { name: 'a cache of these bytes', cacheFile: () => cacheOf('B'), outcome: 'accepted' },
    { name: 'a cache of other bytes of the same length', cacheFile: () => cacheOf('A'), outcome: 'none' },
    {
      name: 'a cache of these bytes that V8 cannot use',
      // The key of the bytes, then what V8 refuses (without compiling them first: see `source`).
      cacheFile: () =>
        Buffer.concat([
          createHash('sha256').update(source('B', dir)).update('\0').update(RUNTIME).digest(),
          Buffer.from('not V8 data at all'),
        ]),
      outcome: 'rejected',
    },
    {
      name: 'a cache made for another runtime (a Node version, other flags)',
      cacheFile: () => {
        writeFileSync(bundle, source('B', dir));
        rmSync(cache, { force: true });
        load(cache, 'another runtime').save();
        return readFileSync(cache);
      },
      outcome: 'none',
    },
    { name: 'a cache holding only the key', cacheFile: () => cacheOf('B').subarray(0, 32), outcome: 'none' },
    { name: 'an empty cache file', cacheFile: () => Buffer.alloc(0), outcome: 'none' },
  ];

  it.each(cases)('with $name: runs the bundle as it is ($outcome)', ({ cacheFile, outcome }) => {
    // Prepare
    const file = cacheFile();
    rmSync(cache, { force: true });
    if (file !== null) writeFileSync(cache, file);
    writeFileSync(bundle, source('B', dir));
    // Act
    const loaded = load();
    const saved = loaded.save();
    // Assess: the current code runs; a cache not used is replaced by one that is
    expect(loaded.mark).toBe('BBBBBBBB');
    expect(loaded.outcome).toBe(outcome);
    expect(saved).toBe(outcome !== 'accepted');
    expect(load().outcome).toBe('accepted');
  });

  it('takes the own cache first, then the shipped one, each only when made for these bytes', () => {
    // Prepare
    const good = cacheOf('B');
    const stale = cacheOf('A');
    writeFileSync(bundle, source('B', dir));
    const shipped = join(dir, 'shipped.v8cache');
    const own = join(dir, 'own.v8cache');
    const loadWith = (ownCache: Buffer, shippedCache: Buffer) => {
      writeFileSync(own, ownCache);
      writeFileSync(shipped, shippedCache);
      const loaded = requireWithCodeCache(bundle, { own, shipped, runtime: RUNTIME });
      return [loaded.outcome, (loaded.exports['mark'] as () => string)(), loaded.save()];
    };
    // Act
    const ownStale = loadWith(stale, good);
    const shippedStale = loadWith(good, stale);
    const bothStale = loadWith(stale, stale);
    // Assess: the own cache is replaced only when no cache was used
    expect(ownStale).toEqual(['accepted', 'BBBBBBBB', false]);
    expect(shippedStale).toEqual(['accepted', 'BBBBBBBB', false]);
    expect(bothStale).toEqual(['none', 'BBBBBBBB', true]);
    expect(readFileSync(own)).not.toEqual(stale);
  });

  it("reads the user's own cache only when no one else may write it; the shipped one as the bundle", () => {
    // Prepare: a good cache, writable by everyone
    const good = cacheOf('B');
    writeFileSync(bundle, source('B', dir));
    writeFileSync(cache, good);
    chmodSync(cache, 0o666);
    // Act
    const asOwn = requireWithCodeCache(bundle, { own: cache, shipped: null, runtime: RUNTIME }).outcome;
    const asShipped = requireWithCodeCache(bundle, { own: null, shipped: cache, runtime: RUNTIME }).outcome;
    // Assess
    expect(asOwn).toBe('none');
    expect(asShipped).toBe('accepted');
  });

  it('writes nowhere without an own cache', () => {
    // Prepare
    writeFileSync(bundle, source('B', dir));
    // Act
    const loaded = requireWithCodeCache(bundle, { own: null, shipped: cache });
    // Assess
    expect(loaded.outcome).toBe('none');
    expect(loaded.save()).toBe(false);
    expect(() => statSync(cache)).toThrow();
  });

  it('returns false, never throws, when the cache cannot be written', () => {
    // Prepare: the cache's directory would have to be inside a regular file
    writeFileSync(bundle, source('B', dir));
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, '');
    // Act
    const loaded = load(join(blocked, 'certwatch', 'bundle.v8cache'));
    // Assess
    expect(loaded.mark).toBe('BBBBBBBB');
    expect(loaded.save()).toBe(false);
  });

  it('keeps a cache it writes private to the user, in a directory it makes', () => {
    // Prepare
    writeFileSync(bundle, source('B', dir));
    const own = join(dir, 'cache-home', 'certwatch', 'bundle.v8cache');
    // Act
    const saved = load(own).save();
    // Assess
    expect(saved).toBe(true);
    expect(statSync(own).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cache-home', 'certwatch')).mode & 0o777).toBe(0o700);
  });

  it("gives the bundle a require that resolves beside it, and Node's module variables", () => {
    // Prepare
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'helper.cjs'), "module.exports = 'helper';\n");
    writeFileSync(
      bundle,
      "exports.seen = [require('./lib/helper.cjs'), typeof module, __filename, require('node:path').basename(__dirname)];\n",
    );
    // Act
    const loaded = requireWithCodeCache(bundle, { own: null, shipped: null });
    // Assess
    expect(loaded.exports['seen']).toEqual(['helper', 'object', bundle, basename(dir)]);
  });

  it('lets what the bundle throws through', () => {
    // Prepare
    writeFileSync(bundle, "throw new Error('broken bundle');\n");
    // Act / Assess
    expect(() => requireWithCodeCache(bundle, { own: cache, shipped: cache })).toThrow('broken bundle');
  });
});

describe('userCachePath', () => {
  const tag = `${process.version}-${process.arch}`;

  it.each([
    {
      env: { XDG_CACHE_HOME: '/var/cache/u', HOME: '/home/u' },
      expected: `/var/cache/u/certwatch/check.cjs-${tag}.v8cache`,
    },
    // The XDG spec: a relative path is ignored.
    {
      env: { XDG_CACHE_HOME: 'relative', HOME: '/home/u' },
      expected: `/home/u/.cache/certwatch/check.cjs-${tag}.v8cache`,
    },
    { env: { HOME: '/home/u' }, expected: `/home/u/.cache/certwatch/check.cjs-${tag}.v8cache` },
    { env: { USERPROFILE: '/Users/u' }, expected: `/Users/u/.cache/certwatch/check.cjs-${tag}.v8cache` },
    { env: { HOME: '' }, expected: null },
    { env: { HOME: 'relative' }, expected: null },
    { env: {}, expected: null },
  ])('with $env: $expected', ({ env, expected }) => {
    // Act
    const path = userCachePath('/opt/certwatch/dist/cli/check.cjs', env);
    // Assess
    expect(path).toBe(expected);
  });
});
