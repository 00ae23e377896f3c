#!/usr/bin/env node
'use strict';
// Runs the built CLI (dist/cli, made by scripts/build-cli.mjs from lambdas/cli: `npm ci` and
// `npm pack` build it through the `prepare` script). Development runs the sources directly:
// `npx tsx lambdas/cli/dev.ts ...` (see package.json `certwatch:dev`).
// The SDK warns once that releases after January 2027 need Node 22: useful to a developer,
// noise in every run of a monitoring CLI. The Lambdas run Node 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
// Node 22.1+ keeps the compiled bundle in an on-disk cache between runs. Older Nodes have no
// such cache: `node:module` is not even loaded there (it brings the ESM loader and source maps
// into every start, which `certwatch check` does not use).
const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number);
if (nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 1)) require('node:module').enableCompileCache();

// A reader that stops early (`certwatch status | head -1`) closes the pipe: stop quietly, as
// other command-line tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err?.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const dist = join(__dirname, '..', 'dist', 'cli');
const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/**
 * `certwatch check`, the command run most often, has a bundle of its own (dist/cli/check.cjs:
 * the same main with only check in it), loaded with a V8 code cache (lambdas/cli/code-cache.ts).
 * Null when that bundle is not there (a build from before it): check then runs from main.mjs.
 * `exitWhenDone`: a check leaves nothing running once its main settles, so the process may end then.
 */
function fastCheck() {
  const file = join(dist, 'check.cjs');
  let codeCache;
  try {
    codeCache = require(join(dist, 'code-cache.cjs'));
  } catch (err) {
    if (err?.code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
  let loaded;
  try {
    loaded = codeCache.requireWithCodeCache(file, {
      shipped: codeCache.shippedCachePath(file),
      own: codeCache.userCachePath(file, process.env),
    });
  } catch (err) {
    if (err?.code === 'ENOENT' && err.path === file) return null;
    throw err;
  }
  return { main: loaded.exports.main, saveCache: loaded.save, exitWhenDone: true };
}

function fromEsmBundle() {
  const bundle = join(dist, 'main.mjs');
  return import(pathToFileURL(bundle).href).then(
    ({ main }) => ({ main, saveCache: () => {}, exitWhenDone: false }),
    (err) => {
      if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(bundle)) {
        process.stderr.write(
          `certwatch: the built CLI is missing (${bundle}): run 'npm run build' in the certwatch checkout\n`,
        );
        return null;
      }
      throw err;
    },
  );
}

Promise.resolve()
  .then(() => (argv[0] === 'check' ? fastCheck() : null) ?? fromEsmBundle())
  .then((cli) => {
    if (cli === null) {
      process.exitCode = 3;
      return;
    }
    return cli.main(argv, io).then((code) => {
      process.exitCode = code;
      // After the work, so the cache holds every function it compiled (a no-op when one was used).
      cli.saveCache();
      // A check is done when main settles: exit now instead of letting Node wind the event loop
      // down and tear the heap apart (about 3 ms of CPU of a one-host check, measured paired). Only
      // with nothing left unwritten: stdout to a pipe is asynchronous on some systems (and on any
      // when the reader falls behind), and that output must not be lost.
      if (cli.exitWhenDone && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) {
        process.exit();
      }
    });
  })
  .catch((err) => {
    process.stderr.write(`certwatch: internal error: ${err?.stack ? err.stack : err}\n`);
    process.exitCode = 3;
  });
