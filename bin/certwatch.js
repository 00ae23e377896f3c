#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly (tsx), so `npx certwatch` works right
// after `npm ci` with no build step, on exactly the code the tests exercise.
require('tsx/cjs/api').register();
const { main } = require('../lambdas/cli/main.ts');

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`certwatch: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 3;
  },
);
