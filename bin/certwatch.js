#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly (tsx), so `npx certwatch` works right
// after `npm ci` with no build step, on exactly the code the tests exercise.
require('tsx/cjs/api').register();
// The SDK warns once that releases after January 2027 need Node 22: useful to
// a developer, noise in every run of a monitoring CLI. The Lambdas run Node 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = require('../lambdas/cli/main.ts');

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`certwatch: internal error: ${err?.stack ? err.stack : err}\n`);
    process.exitCode = 3;
  },
);
