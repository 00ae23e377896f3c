/**
 * `npx cdk synth` as ops run it, with real bundles, in a network-hostile
 * environment: every proxy points at a loopback listener that counts the
 * connections it is offered (it must see none), IMDS is disabled and no
 * credentials exist, so any lookup, context provider, version check or
 * notice fetch would fail or be counted.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInventoryFile } from '../../lambdas/handlers/runtime/inventory-file';
import { ENDPOINTS_FILE_NAME } from '../../lib/check-pipeline';
import { PROJECT_ROOT } from '../../lib/certwatch-function';
import { makePki } from '../support/cert-factory';
import { FULL_CONFIG_YAML, tempDir, writeConfig } from './infra-fixtures';

const SYNTH_TIMEOUT_MS = 240_000;

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

const tmp = tempDir('certwatch-synth-');
let proxy: Server;
let proxyPort = 0;
const proxied: string[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  proxy = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (chunk) => proxied.push(chunk.toString('latin1').split('\r\n')[0] ?? '?'));
    socket.on('close', () => sockets.delete(socket));
    socket.setTimeout(1_000, () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  tmp.cleanup();
});

/** The environment of an offline machine: no credentials, no IMDS, every proxy a counting dead end. */
function hostileEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_|CDK_|NO_PROXY$|no_proxy$|HTTPS?_PROXY$|https?_proxy$)/.test(key)) continue;
    env[key] = value;
  }
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  return {
    ...env,
    HTTPS_PROXY: proxyUrl,
    HTTP_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    http_proxy: proxyUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(tmp.dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp.dir, 'no-aws-credentials'),
    CDK_DISABLE_VERSION_CHECK: '1',
    NPM_CONFIG_UPDATE_NOTIFIER: 'false',
    npm_config_offline: 'true',
    CI: 'true',
  };
}

function cdkSynth(args: readonly string[]): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['cdk', 'synth', ...args], { cwd: PROJECT_ROOT, env: hostileEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), SYNTH_TIMEOUT_MS - 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('cdk synth (offline, real bundles)', () => {
  it(
    'synthesizes with every function bundled, the inventory beside the dispatcher, and no network attempt',
    async () => {
      // Prepare
      const config = writeConfig(tmp.dir, 'certwatch.config.yaml', FULL_CONFIG_YAML);
      const out = join(tmp.dir, 'cdk.out');
      // Act
      const run = await cdkSynth(['-q', '-c', `config=${config}`, '-o', out]);
      // Assess
      expect(run.code, run.stderr).toBe(0);
      const template = JSON.parse(readFileSync(join(out, 'Certwatch.template.json'), 'utf8'));
      const functions = Object.entries(
        template.Resources as Record<string, { Type: string; Metadata: Record<string, string> }>,
      )
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([id, r]) => ({ id, dir: join(out, r.Metadata['aws:asset:path'] ?? 'missing') }));
      expect(functions.map((f) => f.id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
        'AlertingNotifierFunction',
        'PipelineCheckerFunction',
        'PipelineDispatcherFunction',
        'WatchdogFunction',
      ]);
      const sizes: string[] = [];
      for (const fn of functions) {
        expect(existsSync(join(fn.dir, 'index.js')), fn.id).toBe(true);
        expect(existsSync(join(fn.dir, 'index.js.map')), fn.id).toBe(true);
        const kb = (file: string) => (statSync(join(fn.dir, file)).size / 1024).toFixed(1);
        sizes.push(`${fn.id}: index.js ${kb('index.js')} KiB, index.js.map ${kb('index.js.map')} KiB`);
      }
      const dispatcher = functions.find((f) => f.id.startsWith('PipelineDispatcherFunction'))!;
      const inventory = await readInventoryFile(join(dispatcher.dir, ENDPOINTS_FILE_NAME));
      expect(inventory.map((e: { id: string }) => e.id)).toEqual([
        'example.com:443',
        'api.example.com:8443',
        '192.0.2.10:443',
      ]);
      expect(proxied).toEqual([]);
      console.log(`cdk synth took ${(run.ms / 1000).toFixed(1)} s; bundles:\n  ${sizes.join('\n  ')}`);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails on an invalid config with the file:line:col message and no stack trace',
    async () => {
      // Prepare
      const config = writeConfig(
        tmp.dir,
        'broken.yaml',
        'schedule: rate(6 hours)\nendpoints:\n  - host: example.com\n    port: https\n',
      );
      // Act
      const run = await cdkSynth(['-q', '-c', `config=${config}`, '-o', join(tmp.dir, 'broken.out')]);
      // Assess
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/broken\.yaml:4:11: endpoints\[0\]\.port: expected an integer 1-65535/);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(proxied).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails on a bad CA file with the same one line as run: config position, file and certificate',
    async () => {
      // Prepare: the CA file's second certificate is cut off; caFiles is relative to the config
      const root = makePki().root.certPem;
      writeConfig(tmp.dir, 'private-root.pem', `${root}-----BEGIN CERTIFICATE-----\nMIIB\n`);
      const line = root.split('\n').length;
      const config = writeConfig(
        tmp.dir,
        'trust.yaml',
        'defaults:\n  trust:\n    caFiles: [private-root.pem]\nendpoints:\n  - host: example.com\n',
      );
      // Act
      const run = await cdkSynth(['-q', '-c', `config=${config}`, '-o', join(tmp.dir, 'trust.out')]);
      // Assess
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(
        `trust.yaml:3:15: defaults.trust.caFiles[0]: private-root.pem: certificate 2 (line ${line}) has no matching "END CERTIFICATE" line`,
      );
      // One line from certwatch; the cdk CLI adds its own "Subprocess exited with error 1".
      const ours = run.stderr.split('\n').filter((l) => l !== '' && !/Subprocess exited with error/.test(l));
      expect(ours).toHaveLength(1);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(proxied).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails on a plain-text webhook URL without printing it',
    async () => {
      // Prepare
      const config = writeConfig(
        tmp.dir,
        'plain.yaml',
        [
          'channels:',
          '  - name: chat',
          '    type: slack',
          '    url: https://hooks.slack.com/services/T1/B2/doNotPrintMe',
          'endpoints:',
          '  - host: example.com',
          '',
        ].join('\n'),
      );
      // Act
      const run = await cdkSynth(['-q', '-c', `config=${config}`, '-o', join(tmp.dir, 'plain.out')]);
      // Assess
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/plain\.yaml:4:\d+: channels\[0\]\.url: a plain value cannot be deployed/);
      expect(run.stderr + run.stdout).not.toContain('doNotPrintMe');
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
    SYNTH_TIMEOUT_MS,
  );
});
