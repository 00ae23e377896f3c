/**
 * `npm run bench:bundle`: bundles each Lambda handler exactly as the stack
 * does (esbuild, minified, source maps, AWS SDK external because the runtime
 * provides it) and measures bundle size and cold `require` time in fresh
 * Node processes — split into the runtime's AWS SDK and certwatch's own code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { BUNDLE_LIMIT_KIB, type HandlerName } from '../lib/certwatch-function';

const ROOT = resolve(__dirname, '..');
const RUNS = 7;
const HANDLERS: Record<HandlerName, { env: Record<string, string>; sdk: string[] }> = {
  checker: {
    env: { TABLE_NAME: 't', ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t' },
    sdk: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-sns'],
  },
  dispatcher: {
    env: {
      TABLE_NAME: 't',
      QUEUE_URL: 'https://sqs/q',
      CONFIG_FILE: 'none.json',
      DISPATCH_PLAN_FILE: 'none.json',
      DISPATCH_QUEUE_URL: 'https://sqs/d',
    },
    sdk: [],
  },
  notifier: { env: { CHANNELS: '[]', TABLE_NAME: 't' }, sdk: [] },
  watchdog: {
    env: { TABLE_NAME: 't', OPS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:o', REPORT_BUCKET: 'r' },
    sdk: [],
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function coldRequire(
  file: string,
  env: Record<string, string>,
  preload: string[],
): { sdkMs: number; ownMs: number } {
  const script = `
    let t = process.hrtime.bigint();
    for (const m of ${JSON.stringify(preload)}) require(m);
    const sdk = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    try { require(${JSON.stringify(file)}); } catch (e) { if (!/inventory|dispatch plan/.test(String(e))) throw e; }
    console.log(JSON.stringify({ sdkMs: sdk, ownMs: Number(process.hrtime.bigint() - t) / 1e6 }));`;
  const out = spawnSync(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      NODE_OPTIONS: '--enable-source-maps',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

const dir = mkdtempSync(join(tmpdir(), 'certwatch-bundles-'));
try {
  console.log(
    `handler bundles (esbuild, minified, AWS SDK external), cold require: median of ${RUNS} fresh processes`,
  );
  for (const [name, spec] of Object.entries(HANDLERS)) {
    const outfile = join(dir, name, 'index.js');
    buildSync({
      entryPoints: [join(ROOT, 'lambdas/handlers', `${name}.ts`)],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      external: ['@aws-sdk/*'],
      outfile,
      logLevel: 'silent',
    });
    const runs = Array.from({ length: RUNS }, () => coldRequire(outfile, spec.env, spec.sdk));
    const own = median(runs.map((r) => r.ownMs));
    const sdk = median(runs.map((r) => r.sdkMs));
    const kb = statSync(outfile).size / 1024;
    const limit = BUNDLE_LIMIT_KIB[name as HandlerName];
    const goal = limit === undefined ? '' : ` (goal: <= ${limit} KB and 50 ms)`;
    console.log(
      `  ${name.padEnd(10)} ${kb.toFixed(0).padStart(4)} KB; require ${own.toFixed(0)} ms certwatch code` +
        (spec.sdk.length > 0
          ? ` + ${sdk.toFixed(0)} ms AWS SDK (${spec.sdk.join(', ')})`
          : ' (SDK included)') +
        goal,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
