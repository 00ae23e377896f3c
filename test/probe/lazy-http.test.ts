/**
 * `node:http` is loaded on the first fetch, not by importing the check pipeline: a fresh Node
 * process imports what a check imports, then fetches, and reports which of Node's http modules it
 * had loaded at each step.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

/** Node's http client modules a process has loaded, after each step of `script` (an async body). */
function httpModulesLoaded(script: string): Record<string, string[]> {
  const body = `
    const loaded = () => process.moduleLoadList.filter((m) => /^NativeModule (_http_|http$)/.test(m)).map((m) => m.slice(13));
    const steps = {};
    (async () => { ${script} })().then(() => console.log(JSON.stringify(steps)));`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', body], { cwd: ROOT, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

describe('loadHttp', () => {
  it('leaves node:http unloaded until the first fetch asks for it', () => {
    // Act: import the pipeline and the fetchers (as a check does), then make one fetch's first move.
    const steps = httpModulesLoaded(`
      require('./lambdas/pipeline/check-target.ts');
      require('./lambdas/probe/fetch-revocation.ts');
      steps.imported = loaded();
      const { loadHttp } = require('./lambdas/probe/lazy-http.ts');
      const first = await loadHttp();
      steps.fetched = loaded();
      steps.memoised = [String(first === (await loadHttp()))];`);

    // Assess
    expect(steps.imported).toEqual([]);
    expect(steps.fetched).toEqual(expect.arrayContaining(['http', '_http_client', '_http_agent']));
    expect(steps.memoised).toEqual(['true']);
  });
});
