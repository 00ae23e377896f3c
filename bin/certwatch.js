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
// Node 22.1+ keeps the compiled bundle in an on-disk cache between runs (a no-op before).
require('node:module').enableCompileCache?.();

// A reader that stops early (`certwatch status | head -1`) closes the pipe: stop quietly, as
// other command-line tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err?.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const bundle = join(__dirname, '..', 'dist', 'cli', 'main.mjs');
import(pathToFileURL(bundle).href)
  .then(
    ({ main }) =>
      main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
        (code) => {
          process.exitCode = code;
        },
      ),
    (err) => {
      if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(bundle)) {
        process.stderr.write(
          `certwatch: the built CLI is missing (${bundle}): run 'npm run build' in the certwatch checkout\n`,
        );
        process.exitCode = 3;
        return;
      }
      throw err;
    },
  )
  .catch((err) => {
    process.stderr.write(`certwatch: internal error: ${err?.stack ? err.stack : err}\n`);
    process.exitCode = 3;
  });
