#!/usr/bin/env node
// Builds the CLI that bin/certwatch.js runs: lambdas/cli/main.ts bundled by esbuild into
// dist/cli/ as ES modules split at each command's import(), so `certwatch --help` loads one
// small file and every command only what it needs. Run by `npm run build` and by the `prepare`
// script (so `npm ci` and `npm pack` build it).
//
// `certwatch check`, the command people time against other tools, also gets a CommonJS bundle of
// its own, dist/cli/check.cjs (main.ts with only check in it; bin/certwatch.js sends check there),
// and a V8 code cache beside it, check.cjs.v8cache, written after a warm-up check against a
// loopback TLS server (scripts/warm-code-cache.ts), so a check neither parses nor compiles the code
// it runs. The cache is tied to the bundle's bytes and this Node; see lambdas/cli/code-cache.ts.
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
 * Bundles a TypeScript program of this repository (stdin `contents`, or an `entry` file) into a
 * temporary CommonJS file, runs it with this Node and returns what it printed.
 */
async function runProgram({ contents, entry }, args = []) {
  const program = await build({
    absWorkingDir: root,
    ...(entry ? { entryPoints: [entry] } : { stdin: { contents, resolveDir: root, loader: 'ts' } }),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  });
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-build-'));
  try {
    const file = join(dir, 'program.cjs');
    writeFileSync(file, program.outputFiles[0].contents);
    return execFileSync(process.execPath, [file, ...args], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The subject keys of Node's roots (lambdas/cli/root-subject-keys.ts), computed now by the very
 * code being bundled, so the bundle's trust store need not compute them at every start.
 */
function rootSubjectKeys() {
  return runProgram({
    contents:
      "import { computeRootSubjectKeys } from './lambdas/cli/root-subject-keys';\n" +
      'process.stdout.write(JSON.stringify(computeRootSubjectKeys()));\n',
  });
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

const MAIN = join(root, 'lambdas', 'cli', 'main.ts');
const CHECK_COMMAND = join(root, 'lambdas', 'cli', 'check-command.ts');

/**
 * check.cjs is main.ts with every command but check left out: bin/certwatch.js sends only
 * `certwatch check` to it. The config parser (zod, yaml: three quarters of check's code, needed
 * only for --config) is check-config.cjs, required when --config is given.
 */
const onlyCheck = {
  name: 'only-check',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'dynamic-import' && args.importer === MAIN && args.path !== './check-command') {
        return { path: args.path, namespace: 'left-out' };
      }
      if (args.kind === 'dynamic-import' && args.importer === CHECK_COMMAND && args.path === '../config') {
        return { path: './check-config.cjs', external: true };
      }
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in check.cjs: bin/certwatch.js sends only check here`)});`,
      loader: 'js',
    }));
  },
};

const commonJs = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  external: EXTERNAL,
  minify: process.env['CERTWATCH_BUILD_MINIFY'] !== '0',
  legalComments: 'linked',
  logLevel: 'warning',
};
const cjs = await Promise.all([
  build({
    ...commonJs,
    entryPoints: { check: 'lambdas/cli/main.ts' },
    define: { CERTWATCH_ROOT_SUBJECT_KEYS: hints },
    sourcemap: 'linked',
    plugins: [onlyCheck],
    // require(), not import(): code compiled by vm.Script (the code cache) has no module loader.
    supported: { 'dynamic-import': false },
  }),
  build({ ...commonJs, entryPoints: { 'check-config': 'lambdas/config/index.ts' }, sourcemap: 'linked' }),
  build({ ...commonJs, entryPoints: { 'code-cache': 'lambdas/cli/code-cache.ts' } }),
]);
if (cjs.some((r) => r.errors.length > 0)) process.exit(1);

try {
  await runProgram({ entry: 'scripts/warm-code-cache.ts' }, [outdir]);
} catch (error) {
  // No shipped cache: certwatch still works, compiles check.cjs and keeps a cache of its own.
  process.stderr.write(
    `build-cli: no code cache for check.cjs: ${String(error.stderr ?? error.message).trim()}\n`,
  );
}
