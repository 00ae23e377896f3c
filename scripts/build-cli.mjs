#!/usr/bin/env node
// Builds the CLI that bin/certwatch.js runs: lambdas/cli/main.ts bundled by esbuild into
// dist/cli/ as ES modules split at each command's import(), so `certwatch --help` loads one
// small file and `certwatch check` only what checking needs. Run by `npm run build` and by
// the `prepare` script (so `npm ci` and `npm pack` build it).
//
// External: exactly package.json's `dependencies` (dynalite and level: level's native
// bindings, loaded by node-gyp-build, cannot be bundled), which are what an installed
// certwatch needs at run time. Everything else (AWS SDK, yaml, zod, node-forge, nodemailer)
// is bundled, so it is a devDependency: one list says both what is external and what installs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ?? join(root, 'dist', 'cli');

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const EXTERNAL = Object.keys(pkg.dependencies ?? {});

/**
 * The subject keys of Node's roots (lambdas/cli/root-subject-keys.ts), computed now by the very
 * code being bundled, so the bundle's trust store need not compute them at every start.
 */
async function rootSubjectKeys() {
  const generator = await build({
    absWorkingDir: root,
    stdin: {
      contents:
        "import { computeRootSubjectKeys } from './lambdas/cli/root-subject-keys';\n" +
        'process.stdout.write(JSON.stringify(computeRootSubjectKeys()));\n',
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  });
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-build-'));
  try {
    const file = join(dir, 'root-subject-keys.cjs');
    writeFileSync(file, generator.outputFiles[0].contents);
    return execFileSync(process.execPath, [file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hints = await rootSubjectKeys();
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'lambdas/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  external: EXTERNAL,
  define: { CERTWATCH_ROOT_SUBJECT_KEYS: hints },
  minify: process.env['CERTWATCH_BUILD_MINIFY'] !== '0',
  legalComments: 'linked',
  sourcemap: 'linked',
  // Bundled CommonJS (the AWS SDK, nodemailer) calls require() for Node's own modules.
  banner: {
    js: "import { createRequire as __cwCreateRequire } from 'node:module'; const require = __cwCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
if (result.errors.length > 0) process.exit(1);
