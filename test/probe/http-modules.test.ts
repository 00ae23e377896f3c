/**
 * The bounded fetches speak HTTP/1.1 over `node:net` themselves (http1-exchange.ts): a fresh Node
 * process imports what a check imports, fetches once from a loopback server, and reports which of
 * Node's HTTP modules it had loaded at each step. None, even after the fetch.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

/** Node's HTTP modules a process has loaded, after each step of `script` (an async body). */
function httpModulesLoaded(script: string): Record<string, string[]> {
  const body = `
    const loaded = () => process.moduleLoadList.filter((m) => /^NativeModule (_http_|https?$)/.test(m)).map((m) => m.slice(13));
    const steps = {};
    (async () => { ${script} })().then(() => console.log(JSON.stringify(steps)));`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', body], { cwd: ROOT, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

describe('the bounded fetch', () => {
  it('loads none of node:http, not even to fetch', () => {
    // Act: import the pipeline and the fetchers (as a check does), then fetch once from a raw
    // loopback server (node:net, so the server loads nothing of HTTP either).
    const steps = httpModulesLoaded(`
      require('./lambdas/pipeline/check-target.ts');
      const { boundedFetch } = require('./lambdas/probe/bounded-http.ts');
      const { HttpConnectionPool } = require('./lambdas/probe/http-connection-pool.ts');
      steps.imported = loaded();
      const server = require('node:net').createServer((socket) => {
        socket.once('data', () => socket.end('HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nanswer'));
      });
      await new Promise((done) => server.listen(0, '127.0.0.1', done));
      const pool = new HttpConnectionPool();
      const fetched = await boundedFetch('http://127.0.0.1:' + server.address().port + '/', {
        timeoutMs: 5000, maxBytes: 1024, maxRedirects: 0, allowLoopback: true, accept: '*/*', pool,
      });
      pool.closeIdle();
      server.close();
      steps.body = [fetched.body ? fetched.body.toString() : fetched.error];
      steps.fetched = loaded();`);

    // Assess
    expect(steps.body).toEqual(['answer']);
    expect(steps.imported).toEqual([]);
    expect(steps.fetched).toEqual([]);
  });
});
