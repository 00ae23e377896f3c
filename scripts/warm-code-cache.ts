/**
 * Build step (scripts/build-cli.mjs bundles and runs this): writes the V8 code cache shipped
 * beside dist/cli/check.cjs. It loads the bundle as bin/certwatch.js does, runs `certwatch check`
 * against a TLS server of its own on 127.0.0.1 (the canary's certificates, made in memory), and
 * then saves the cache, so it holds every function a check compiles, not only the top level:
 * a cache taken before running saves about 10 ms less of a one-host check.
 *
 * Usage: node warm-code-cache.cjs DIST_DIR. Exit 0 with the cache written; 1 with one line on
 * stderr and no cache (the build goes on: certwatch then compiles, and keeps a cache of its own).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer } from 'node:tls';
import { CANARY_DOMAIN, makeCanaryPki } from '../lambdas/canary/canary-certificates';
import type { CliIo } from '../lambdas/cli/cli-io';
import { requireWithCodeCache, shippedCachePath } from '../lambdas/cli/code-cache';

type Main = (argv: string[], io: CliIo) => Promise<number>;

/** The checks the cache is warmed with: the common shapes (a name or an address; table or Nagios). */
function warmUpRuns(port: number, caFile: string): string[][] {
  const name = `good.${CANARY_DOMAIN}`;
  return [
    ['check', '--timeout', '5s', '--ca-file', caFile, `127.0.0.1:${port}`],
    [
      'check',
      '--timeout',
      '5s',
      '--format',
      'nagios',
      '--ca-file',
      caFile,
      '--connect-to',
      `${name}:${port}:127.0.0.1:${port}`,
      `${name}:${port}`,
    ],
  ];
}

async function warm(dist: string): Promise<void> {
  const bundle = join(dist, 'check.cjs');
  const pki = makeCanaryPki(Date.now());
  const server = createServer({ key: pki.keyPem, cert: pki.good.pem + pki.root.pem });
  server.on('tlsClientError', () => {});
  const work = mkdtempSync(join(tmpdir(), 'certwatch-warm-'));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    const caFile = join(work, 'root.pem');
    writeFileSync(caFile, pki.root.pem);
    const loaded = requireWithCodeCache(bundle, { shipped: null, own: shippedCachePath(bundle) });
    const main = loaded.exports['main'] as Main;
    for (const argv of warmUpRuns(port, caFile)) {
      let output = '';
      const sink = new Writable({
        write(chunk, _encoding, done) {
          output += String(chunk);
          done();
        },
      });
      const code = await main(argv, { stdout: sink, stderr: sink, env: {} });
      // Each run judges a certificate (0 ok, 2 for the address, which the name does not match); 3 would be a usage error.
      if (code === 3 || !output.includes(String(port))) {
        throw new Error(`certwatch ${argv.join(' ')} exited ${code}: ${output.trim().slice(0, 300)}`);
      }
    }
    if (!loaded.save()) throw new Error(`could not write ${shippedCachePath(bundle)}`);
    // Shipped with the bundle, so readable by whoever runs it (save() keeps a user's own cache private).
    chmodSync(shippedCachePath(bundle), 0o644);
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const dist = process.argv[2];
if (dist === undefined) {
  process.stderr.write('usage: node warm-code-cache.cjs DIST_DIR\n');
  process.exit(2);
}
warm(dist).then(
  // Exits at once: a connection the server still holds must not keep the build waiting.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`warm-code-cache: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
