/**
 * Bundle smoke test: synthesizes the stack with real esbuild bundling, then
 * loads each bundled handler from the cloud assembly in a fresh Node process
 * and drives the deployed flow end to end with realistic events:
 * Scheduler → dispatcher → (SQS) → checker → (SNS) → notifier → webhook, and
 * the watchdog judging the run. DynamoDB is DynamoDB Local; SQS, SNS and
 * Secrets Manager are a loopback stand-in that records calls; the endpoints are
 * TLS servers on 127.0.0.1, one of them under a private CA whose root the config
 * trusts (bundled with the checker at synth time), and one stapling an OCSP
 * response that says its certificate is revoked. This proves the artifacts
 * work, not just the sources.
 */
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config';
import { createDocumentClient } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable, itemKeys } from '../../lambdas/store/dynamodb-state-store';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { verifyWebhookSignature } from '../../lambdas/notify';
import { REPORT_CONTENT_TYPE, REPORT_OBJECT_KEY } from '../../lambdas/report/report-object';
import { readInventoryFile } from '../../lambdas/handlers/runtime/inventory-file';
import { DISPATCH_PLAN_FILE_NAME, ENDPOINTS_FILE_NAME } from '../../lib/check-pipeline';
import { BUNDLE_LIMIT_KIB } from '../../lib/certwatch-function';
import { CertwatchStack } from '../../lib/certwatch-stack';
import { STATE_TABLE_ACCESS, type StateTableUser } from '../../lib/state-table';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { daysFromNow, makePki } from '../support/cert-factory';
import { type DynamoDbLocal, dynamoDbLocalAvailability, startDynamoDbLocal } from '../support/dynamodb-local';
import { type FakeAws, startFakeAws } from '../support/fake-aws';
import { type LoopbackServer, protocolScript, startScriptServer } from '../support/starttls-servers';
import { startTlsServer } from '../support/tls-test-servers';
import { buildOcspRequest } from '../../lambdas/cert/revocation/ocsp';
import { certificateIdsOf } from '../../lambdas/cert/revocation/revocation-sources';
import { opensslOcspResponse, startStaplingTlsServer } from '../support/ocsp-responder';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { fakeGitHub, fakeJira } from '../support/ticket-vendors';
import { makeAlert } from '../notify/alert-fixtures';
import { renderSnsPublish } from '../../lambdas/notify/render-sns';
import type { Alert } from '../../lambdas/core/model';

const ROOT = resolve(__dirname, '../..');
const REGION = 'us-east-1';
const ALERT_TOPIC = `arn:aws:sns:${REGION}:123456789012:certwatch-alerts`;
const OPS_TOPIC = `arn:aws:sns:${REGION}:123456789012:certwatch-ops`;
const HOOK_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:certwatch/hook-AbCdEf`;
const SIGNING_KEY = 'smoke-signing-key';

const availability = dynamoDbLocalAvailability();
// In CI a missing DynamoDB Local must fail (startDynamoDbLocal throws); locally the suite is skipped, loudly.
const skip = !availability.available && !process.env.CI;
if (skip && !availability.available) console.warn(`bundle smoke test skipped: ${availability.reason}`);

interface Invocation {
  readonly result: unknown;
  readonly requireMs: number;
  readonly lines: string[];
  /** Peak resident memory of the process, in MB (what Lambda holds against the function's memory size). */
  readonly maxRssMb: number;
}

/**
 * A loopback HTTP proxy in front of DynamoDB Local that records the action of every request
 * (`X-Amz-Target: DynamoDB_20120810.<Action>`), so the test can hold what each bundled function
 * really calls against what the stack grants it (IAM is not enforced by DynamoDB Local).
 */
interface DynamoRecorder {
  readonly url: string;
  readonly actions: Set<string>;
  close(): Promise<void>;
}

async function startDynamoRecorder(target: string): Promise<DynamoRecorder> {
  const upstream = new URL(target);
  const actions = new Set<string>();
  const server: Server = createServer((req, res) => {
    const action = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    if (action) actions.add(action);
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    actions,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** An SQS event delivering `messages` (as the fake SQS recorded them) from queue `queueName`. */
function sqsRecords(messages: readonly { messageId: string; body: string }[], queueName: string) {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: `rh-${m.messageId}`,
      body: m.body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:${queueName}`,
      awsRegion: REGION,
    })),
  };
}

/** Per asset directory, the DynamoDB endpoint its function is given instead (its recorder). */
const dynamoRoutes = new Map<string, string>();

/** Runs `handler(event)` of a bundled index.js in a fresh Node process, as a Lambda cold start would. */
function invoke(assetDir: string, env: Record<string, string>, event: unknown): Promise<Invocation> {
  const routed = dynamoRoutes.get(assetDir);
  if (routed !== undefined && env['AWS_ENDPOINT_URL_DYNAMODB'] !== undefined) {
    env = { ...env, AWS_ENDPOINT_URL_DYNAMODB: routed };
  }
  const runner = `
    const t0 = process.hrtime.bigint();
    const mod = require(${JSON.stringify(join(assetDir, 'index.js'))});
    const requireMs = Number(process.hrtime.bigint() - t0) / 1e6;
    let input = '';
    process.stdin.on('data', (d) => (input += d)).on('end', async () => {
      try {
        const result = await mod.handler(JSON.parse(input), { awsRequestId: 'smoke' });
        // VmHWM: this process's own peak (getrusage's maxRSS also counts the parent it was forked from).
        const hwm = /VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
        const maxRssMb = (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024;
        process.stdout.write('\\n@@RESULT ' + JSON.stringify({ requireMs, maxRssMb, result: result ?? null }) + '\\n');
      } catch (error) {
        process.stdout.write('\\n@@ERROR ' + String(error && error.stack) + '\\n');
        process.exitCode = 1;
      }
    });`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-e', runner], {
      cwd: assetDir,
      env: {
        PATH: process.env.PATH ?? '',
        // The Lambda runtime provides the AWS SDK; the bundles keep it external.
        NODE_PATH: join(ROOT, 'node_modules'),
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'smoke',
        AWS_SECRET_ACCESS_KEY: 'smoke',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      const lines = out.split('\n').filter((l) => l.trim() !== '');
      const last = lines.find((l) => l.startsWith('@@RESULT '));
      if (!last) {
        reject(new Error(`handler in ${assetDir} failed:\n${out}\n${err}`));
        return;
      }
      const parsed = JSON.parse(last.slice('@@RESULT '.length)) as {
        requireMs: number;
        maxRssMb: number;
        result: unknown;
      };
      resolvePromise({
        result: parsed.result,
        requireMs: parsed.requireMs,
        maxRssMb: parsed.maxRssMb,
        lines,
      });
    });
    child.stdin.end(JSON.stringify(event));
  });
}

describe.skipIf(skip)('bundled handlers, end to end', () => {
  let dynamo: DynamoDbLocal;
  let aws: FakeAws;
  let receiver: WebhookReceiver;
  let tls: { port: number; close(): Promise<void> };
  let privateTls: { port: number; close(): Promise<void> };
  let mail: LoopbackServer;
  let revokedTls: { port: number; close(): Promise<void> };
  let outdir: string;
  const assets: Record<string, string> = {};
  const templateEnv: Record<string, string[]> = {};
  const memoryMb: Record<string, number> = {};
  const tableName = 'certwatch-smoke';
  let baseEnv: Record<string, string>;
  const recorders: Partial<Record<StateTableUser, DynamoRecorder>> = {};

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    aws = await startFakeAws();
    receiver = await startWebhookReceiver();
    const pki = makePki({ notAfter: daysFromNow(5.5) });
    tls = await startTlsServer({
      chainPem: pki.leaf.certPem + pki.intermediate.certPem,
      keyPem: pki.leaf.key.privateKeyPem,
    });
    // A private CA: the server sends leaf + intermediate, the root is only in the config's caFiles.
    const privatePki = makePki({ notAfter: daysFromNow(200.5) });
    privateTls = await startTlsServer({
      chainPem: privatePki.leaf.certPem + privatePki.intermediate.certPem,
      keyPem: privatePki.leaf.key.privateKeyPem,
    });
    // A mail server behind STARTTLS (smtp://), under the same private CA.
    mail = await startScriptServer(
      {
        chainPem: privatePki.leaf.certPem + privatePki.intermediate.certPem,
        keyPem: privatePki.leaf.key.privateKeyPem,
      },
      protocolScript('smtp'),
    );
    // Revoked, and the server staples the CA's word for it: the deployed checker fetches nothing from
    // loopback, so the staple is what it can verify.
    const revokedPki = makePki({ notAfter: daysFromNow(100.5), ocspUrl: 'http://127.0.0.1:9/ocsp' });
    const staple = opensslOcspResponse(
      buildOcspRequest({
        ids: certificateIdsOf(revokedPki.leaf.der)!,
        issuer: new X509Certificate(revokedPki.intermediate.der),
      })!,
      {
        issuer: revokedPki.intermediate,
        entries: [{ cert: revokedPki.leaf, revoked: { at: daysFromNow(-1), reason: 'keyCompromise' } }],
      },
    );
    revokedTls = await startStaplingTlsServer({
      chainPem: revokedPki.leaf.certPem + revokedPki.intermediate.certPem,
      keyPem: revokedPki.leaf.key.privateKeyPem,
      staple,
    });
    aws.secrets.set(HOOK_SECRET_ARN, JSON.stringify({ url: receiver.url('/hook'), secret: SIGNING_KEY }));
    const clients = createDocumentClient(dynamo.endpoint);
    await ensureTable(clients.client, tableName);
    clients.destroy();

    // Synthesize with real bundling, exactly as `cdk synth` does.
    outdir = mkdtempSync(join(tmpdir(), 'certwatch-smoke-'));
    const rootFile = join(outdir, 'corp-root.pem');
    writeFileSync(rootFile, privatePki.root.certPem);
    const revokedRootFile = join(outdir, 'revoked-root.pem');
    writeFileSync(revokedRootFile, revokedPki.root.certPem);
    const yaml = [
      'schedule: rate(6 hours)',
      'channels:',
      '  - name: hook',
      '    type: webhook',
      '    url: secretsmanager:certwatch/hook#url',
      '    secret: secretsmanager:certwatch/hook#secret',
      'endpoints:',
      `  - host: 127.0.0.1:${tls.port}`,
      '    name: smoke shop',
      `  - host: 127.0.0.1:${privateTls.port}`,
      '    name: intranet',
      `    trust: { caFiles: [${JSON.stringify(rootFile)}], systemRoots: false }`,
      `  - host: smtp://127.0.0.1:${mail.port}`,
      '    name: mail',
      `    trust: { caFiles: [${JSON.stringify(rootFile)}], systemRoots: false }`,
      `  - host: 127.0.0.1:${revokedTls.port}`,
      '    name: revoked shop',
      `    trust: { caFiles: [${JSON.stringify(revokedRootFile)}], systemRoots: false }`,
      '',
    ].join('\n');
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    new CertwatchStack(app, 'Certwatch', { settings: settingsFromConfig(parseConfig(yaml, 'smoke.yaml')) });
    const template = app.synth().getStackByName('Certwatch').template as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties?: { Environment?: { Variables?: Record<string, unknown> }; MemorySize?: number };
          Metadata?: Record<string, string>;
        }
      >;
    };
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const name = ['Dispatcher', 'Checker', 'Notifier', 'Watchdog'].find((n) => id.includes(n));
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (!name || !assetPath) continue;
      assets[name] = join(outdir, assetPath);
      templateEnv[name] = Object.keys(resource.Properties?.Environment?.Variables ?? {}).sort();
      memoryMb[name] = resource.Properties?.MemorySize ?? 0;
    }
    for (const [name, dir] of Object.entries(assets)) {
      const user = name.toLowerCase() as StateTableUser;
      const recorder = await startDynamoRecorder(dynamo.endpoint);
      recorders[user] = recorder;
      dynamoRoutes.set(dir, recorder.url);
    }
    baseEnv = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: aws.url,
      AWS_ENDPOINT_URL_SNS: aws.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      AWS_ENDPOINT_URL_S3: aws.url,
      LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      TABLE_NAME: tableName,
    };
  }, 180_000);

  afterAll(async () => {
    for (const recorder of Object.values(recorders)) await recorder?.close();
    dynamoRoutes.clear();
    await tls?.close();
    await privateTls?.close();
    await mail?.close();
    await revokedTls?.close();
    await receiver?.close();
    await aws?.close();
    await dynamo?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('dispatches, checks, alerts, delivers and judges the run through the deployed artifacts', async () => {
    const CHECK_QUEUE = `${aws.url}/123456789012/certwatch-checks`;
    const DISPATCH_QUEUE = `${aws.url}/123456789012/certwatch-dispatch`;
    // Prepare: the environments the template gives each function, with local endpoints
    const envs: Record<string, Record<string, string>> = {
      // The SQS client sends to the queue URL's host, so the queue lives at the stand-in.
      Dispatcher: {
        ...baseEnv,
        QUEUE_URL: CHECK_QUEUE,
        DISPATCH_QUEUE_URL: DISPATCH_QUEUE,
        CONFIG_FILE: ENDPOINTS_FILE_NAME,
        DISPATCH_PLAN_FILE: DISPATCH_PLAN_FILE_NAME,
        SCHEDULE_INTERVAL_MS: String(6 * 3_600_000),
      },
      Checker: {
        ...baseEnv,
        ALERT_TOPIC_ARN: ALERT_TOPIC,
        OPS_TOPIC_ARN: OPS_TOPIC,
        SNS_CHANNELS: '[]',
        HISTORY_TTL_DAYS: '30',
        PER_ENDPOINT_METRICS: 'true',
        TRUST_FILE: 'certwatch.trust.json',
        QUEUE_URL: `${aws.url}/123456789012/certwatch-checks`,
      },
      Notifier: {
        ...baseEnv,
        HISTORY_TTL_DAYS: '30',
        CHANNELS: JSON.stringify([
          {
            name: 'hook',
            type: 'webhook',
            minSeverity: 'info',
            url: { secretArn: HOOK_SECRET_ARN, jsonKey: 'url' },
            secret: { secretArn: HOOK_SECRET_ARN, jsonKey: 'secret' },
            signatureHeader: 'X-Certwatch-Signature',
          },
        ]),
      },
      Watchdog: {
        ...baseEnv,
        OPS_TOPIC_ARN: OPS_TOPIC,
        SCHEDULE_INTERVAL_MS: String(6 * 3_600_000),
        WATCHDOG_GRACE_MS: '1',
        REPORT_BUCKET: 'certwatch-report-smoke',
      },
    };
    for (const name of ['Dispatcher', 'Checker', 'Notifier', 'Watchdog']) {
      // The handler contract: the smoke test sets exactly the variables the template sets (minus the table, which it names).
      expect(
        Object.keys(envs[name] ?? {})
          .filter((k) => !k.startsWith('AWS_'))
          .sort(),
      ).toEqual(templateEnv[name]);
    }
    expect(assets.Notifier).toBeDefined();
    expect(
      (await readInventoryFile(join(assets.Dispatcher ?? '', ENDPOINTS_FILE_NAME))).map((e) => e.id),
    ).toContain(`127.0.0.1:${tls.port}`);
    // The private root travels with the checker, as data beside its index.js.
    expect(readFileSync(join(assets.Checker ?? '', 'certwatch.trust.json'), 'utf8')).toContain(
      '"systemRoots":false',
    );

    // Act 1: the EventBridge Scheduler invocation records the run and queues its one dispatch shard;
    // SQS then hands the shard to the dispatcher itself — twice, as at-least-once delivery may
    const dispatch = await invoke(assets.Dispatcher ?? '', envs.Dispatcher ?? {}, {
      scheduledTime: new Date().toISOString(),
      executionId: 'smoke-execution-1',
    });
    const shardMessages = aws.sent.filter((m) => m.queueUrl === DISPATCH_QUEUE);
    const shardEvent = sqsRecords(shardMessages, 'certwatch-dispatch');
    const shard = await invoke(assets.Dispatcher ?? '', envs.Dispatcher ?? {}, shardEvent);
    const shardAgain = await invoke(assets.Dispatcher ?? '', envs.Dispatcher ?? {}, shardEvent);
    // Assess 1: one shard, four checks, each sent once per shard delivery; the retried shard counted once
    expect(dispatch.result).toMatchObject({ shards: 1 });
    expect(shardMessages).toHaveLength(1);
    expect(dispatch.lines.some((l) => l.includes('"DispatchSucceeded":1'))).toBe(true);
    expect(shard.result).toEqual({ batchItemFailures: [] });
    expect(shardAgain.result).toEqual({ batchItemFailures: [] });
    expect(shard.lines.some((l) => l.includes('"ChecksDispatched":4'))).toBe(true);
    const checkMessages = aws.sent.filter((m) => m.queueUrl === CHECK_QUEUE);
    expect(checkMessages).toHaveLength(8);
    expect(new Set(checkMessages.map((m) => m.body)).size).toBe(4);
    // A shard message made from another plan (a deployment since its run started) is dropped, loudly
    const stale = JSON.parse(shardMessages[0]?.body ?? '{}') as Record<string, unknown>;
    const sentBeforeStale = aws.sent.length;
    const staleShard = await invoke(
      assets.Dispatcher ?? '',
      envs.Dispatcher ?? {},
      sqsRecords(
        [{ messageId: 'stale-plan', body: JSON.stringify({ ...stale, plan: 'another-plan' }) }],
        'certwatch-dispatch',
      ),
    );
    expect(staleShard.result).toEqual({ batchItemFailures: [] });
    expect(aws.sent.length).toBe(sentBeforeStale);
    expect(
      staleShard.lines.some(
        (l) => l.includes('dispatch shard message dropped') && l.includes('another-plan'),
      ),
    ).toBe(true);
    const dispatchStore = new DynamoDbStateStore({
      client: createDocumentClient(dynamo.endpoint).documentClient,
      tableName,
    });
    expect((await dispatchStore.listRuns(1))[0]).toMatchObject({ expected: 4, completed: 0 });

    // Act 2: SQS delivers the message to the checker — twice, as at-least-once delivery may
    const sqsEvent = {
      Records: checkMessages.slice(0, 4).map((m) => ({
        messageId: m.messageId,
        receiptHandle: `rh-${m.messageId}`,
        body: m.body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:certwatch-checks`,
        awsRegion: REGION,
      })),
    };
    const check = await invoke(assets.Checker ?? '', envs.Checker ?? {}, sqsEvent);
    const duplicate = await invoke(assets.Checker ?? '', envs.Checker ?? {}, sqsEvent);
    // Assess 2: state written, alerts published once, with attributes subscribers can filter on
    expect(check.result).toEqual({ batchItemFailures: [] });
    expect(duplicate.result).toEqual({ batchItemFailures: [] });
    const published = aws.published.filter((p) => p.topicArn === ALERT_TOPIC);
    expect(published.length).toBeGreaterThanOrEqual(1);
    expect(published.every((p) => p.messageStructure === 'json')).toBe(true);
    expect(published.map((p) => p.attributes.severity)).toContain('critical');
    const clients = createDocumentClient(dynamo.endpoint);
    const store = new DynamoDbStateStore({ client: clients.documentClient, tableName });
    const states = await store.listAllAddressStates();
    expect(states.map((s) => s.state.endpointName).sort()).toEqual([
      'intranet',
      'mail',
      'revoked shop',
      'smoke shop',
    ]);
    const shop = states.find((s) => s.state.endpointName === 'smoke shop');
    expect(shop?.state.daysLeft).toBe(5);
    // The private CA's endpoint is judged against the bundled root: ok, no UNTRUSTED_CHAIN, no alert.
    const intranet = states.find((s) => s.state.endpointName === 'intranet');
    expect(intranet?.state).toMatchObject({ status: 'ok', daysLeft: 200, findings: [] });
    expect(published.map((p) => p.attributes.endpoint)).not.toContain('intranet');
    // The STARTTLS endpoint: the deployed checker spoke SMTP first (EHLO, STARTTLS), then judged the chain.
    const mailState = states.find((s) => s.state.endpointName === 'mail');
    expect(mailState?.state).toMatchObject({ status: 'ok', daysLeft: 200, findings: [] });
    expect(mail.received.some((text) => /^EHLO .*\r\nSTARTTLS\r\n/s.test(text))).toBe(true);
    // The revoked endpoint: REVOKED from the verified staple, critical, alerted on first sight.
    const revoked = states.find((s) => s.state.endpointName === 'revoked shop');
    expect(revoked?.state).toMatchObject({
      status: 'critical',
      findings: [
        {
          code: 'REVOKED',
          severity: 'critical',
          message: expect.stringMatching(/\(reason keyCompromise\), according to the stapled OCSP response$/),
        },
      ],
    });
    expect(
      published.filter((p) => p.attributes.endpoint === 'revoked shop').map((p) => p.attributes.severity),
    ).toEqual(['critical']);
    const runs = await store.listRuns(5);
    expect(runs[0]).toMatchObject({ expected: 4, completed: 4 });
    // The history TTL from the environment reaches the items DynamoDB expires.
    const history = await clients.documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': itemKeys.historyPartition(shop?.state.key ?? '') },
      }),
    );
    const expiresAt = Number(history.Items?.[0]?.expiresAt);
    expect(Math.abs(expiresAt - (Date.now() / 1000 + 30 * 86_400))).toBeLessThan(3_600);

    // Act 2c: the scheduler's canary invocation of the same checker bundle
    const canary = await invoke(assets.Checker ?? '', envs.Checker ?? {}, {
      certwatch: 'canary',
      executionId: 'smoke-canary-1',
    });
    // Assess 2c: every known-bad fixture judged right inside the deployed artifact, the metric its alarm
    // watches emitted, nobody paged
    expect(canary.result).toEqual({ fixtures: 6, failures: [], paged: false, markedRun: null });
    expect(canary.lines.some((l) => l.includes('"CanaryFailures":0'))).toBe(true);
    expect(aws.published.filter((p) => p.topicArn === OPS_TOPIC)).toEqual([]);

    // Act 3: SNS invokes the notifier with what the checker published for the `lambda` protocol
    const snsEvent = {
      Records: published.map((p) => ({
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${ALERT_TOPIC}:sub`,
        Sns: {
          Type: 'Notification',
          MessageId: p.messageId,
          TopicArn: p.topicArn,
          Subject: p.subject,
          Message: (JSON.parse(p.message) as { lambda: string }).lambda,
          Timestamp: new Date().toISOString(),
          MessageAttributes: Object.fromEntries(
            Object.entries(p.attributes).map(([k, v]) => [k, { Type: 'String', Value: v }]),
          ),
        },
      })),
    };
    await invoke(assets.Notifier ?? '', envs.Notifier ?? {}, snsEvent);
    // Assess 3: the webhook got every alert, signed, and each delivery is recorded under the chat channel's name
    expect(receiver.requests).toHaveLength(published.length);
    for (const r of receiver.requests) {
      expect(verifyWebhookSignature(r.body, r.headers, SIGNING_KEY, Date.now()).ok).toBe(true);
    }
    const kinds = receiver.requests.map((r) => (r.json as { alert: { kind: string } }).alert.kind);
    expect(kinds).toContain('threshold');
    const alertIds = receiver.requests.map((r) => (r.json as { alert: { id: string } }).alert.id);
    for (const alertId of alertIds) {
      const records = (await store.listDeliveries(alertId)).map((d) => [d.record.channel, d.record.status]);
      // The notifier's own record of the webhook, and the checker's of the topic publish (in key order).
      expect(records).toEqual([
        ['hook', 'delivered'],
        ['stack:alert-topic', 'delivered'],
      ]);
    }

    // Act 3b: SNS delivers the same event again (at least once)
    const redelivery = await invoke(assets.Notifier ?? '', envs.Notifier ?? {}, snsEvent);
    // Assess 3b: nothing is sent twice
    expect(redelivery.result).toBeNull();
    expect(receiver.requests).toHaveLength(published.length);

    // Act 4: the watchdog judges the run
    const watchdog = await invoke(assets.Watchdog ?? '', envs.Watchdog ?? {}, {});
    // Assess 4: complete, so nobody is paged, the completeness metrics are emitted and the report page is written
    expect(watchdog.result).toMatchObject({ judged: 1, stale: 0, report: true });
    expect(aws.putObjects.map((o) => [o.bucket, o.key, o.contentType])).toEqual([
      ['certwatch-report-smoke', REPORT_OBJECT_KEY, REPORT_CONTENT_TYPE],
    ]);
    expect(aws.putObjects[0]?.body).toContain(`127.0.0.1:${tls.port}`);
    expect(aws.published.filter((p) => p.topicArn === OPS_TOPIC)).toEqual([]);
    expect(
      watchdog.lines.some((l) => l.includes('"RunCompleted":4') && l.includes('"UncheckedAddresses":0')),
    ).toBe(true);
    // The verdict is stored on the run (a canary failure recorded on it would have made it `failed`).
    expect((await store.getRun(runs[0]?.runId ?? ''))?.verdict).toBe('complete');
    clients.destroy();

    // Assess 5: the checker, which cold-starts for every scaled-out batch, stays within its limit and without zod
    const checkerDir = assets.Checker ?? '';
    expect(statSync(join(checkerDir, 'index.js')).size / 1024).toBeLessThanOrEqual(
      BUNDLE_LIMIT_KIB.checker ?? 0,
    );
    const { sources } = JSON.parse(readFileSync(join(checkerDir, 'index.js.map'), 'utf8')) as {
      sources: string[];
    };
    expect(sources.some((source) => source.includes('lambdas/handlers/checker.ts'))).toBe(true);
    expect(sources.filter((source) => source.includes('node_modules/zod/'))).toEqual([]);
    // The checker runs small (CHECKER_MEMORY_MB): a batch, its canary and the process itself keep well inside it,
    // with the other half left for larger chains, CRLs and the runtime's own overhead.
    const checkerPeakMb = Math.max(check.maxRssMb, canary.maxRssMb);
    expect(memoryMb.Checker).toBeGreaterThan(0);
    expect(checkerPeakMb).toBeLessThanOrEqual((memoryMb.Checker ?? 0) / 2);

    const size = (name: string) => (statSync(join(assets[name] ?? '', 'index.js')).size / 1024).toFixed(0);
    console.log(
      `bundles: dispatcher ${size('Dispatcher')} KiB, checker ${size('Checker')} KiB, notifier ${size('Notifier')} KiB, ` +
        `watchdog ${size('Watchdog')} KiB; checker cold require ${check.requireMs.toFixed(0)} ms, peak RSS ` +
        `${check.maxRssMb.toFixed(0)} MB for a batch, ${canary.maxRssMb.toFixed(0)} MB for the canary (of ${memoryMb.Checker} MB); ` +
        `dispatcher ${dispatch.maxRssMb.toFixed(0)} MB, watchdog ${watchdog.maxRssMb.toFixed(0)} MB`,
    );

    // Act 6: a maintenance window on 'smoke shop', announced by the scheduler's maintenance tick in
    // the checker; then the shop goes down and two runs check it through dispatcher, queue and checker
    const maintenanceClients = createDocumentClient(dynamo.endpoint);
    const maintenanceStore = new DynamoDbStateStore({ client: maintenanceClients.documentClient, tableName });
    const startedAt = new Date(Date.now() - 60_000);
    await maintenanceStore.suppressions().saveWindow(
      {
        id: 'smoke-mw',
        name: 'smoke swap',
        endpoints: ['smoke shop'],
        tags: [],
        start: startedAt.toISOString(),
        end: new Date(Date.now() + 3_600_000).toISOString(),
        timeZone: 'UTC',
        message: 'Swapping the shop.',
        leadTimeMs: 0,
        createdAt: startedAt.toISOString(),
        cancelledAt: null,
        source: 'cli',
      },
      [],
      null,
    );
    const publishedBefore = aws.published.length;
    const tick = await invoke(assets.Checker ?? '', envs.Checker ?? {}, {
      certwatch: 'maintenance',
      executionId: 'smoke-maintenance-1',
    });
    const tickAgain = await invoke(assets.Checker ?? '', envs.Checker ?? {}, {
      certwatch: 'maintenance',
      executionId: 'smoke-maintenance-2',
    });
    // Assess 6a: scheduled and started, each published once to the alert topic
    expect(tick.result).toEqual({
      announced: [
        expect.stringMatching(/^announcement:maintenance:smoke-mw:scheduled@[0-9a-f]{8}$/),
        'announcement:maintenance:smoke-mw:start',
      ],
      owed: [],
      rechecked: [],
    });
    expect(tickAgain.result).toEqual({ announced: [], owed: [], rechecked: [] });
    const announcements = aws.published.slice(publishedBefore).map((p) => p.message);
    expect(announcements).toHaveLength(2);
    expect(announcements[0]).toContain('maintenance scheduled: smoke swap');
    expect(announcements[1]).toContain('maintenance started: smoke swap');
    // Act 6b: the shop stops answering; two runs (the unreachable alert needs two failures)
    await tls.close();
    tls = { port: tls.port, close: async () => {} };
    for (const execution of ['smoke-execution-2', 'smoke-execution-3']) {
      const sentBefore = aws.sent.length;
      await invoke(assets.Dispatcher ?? '', envs.Dispatcher ?? {}, {
        scheduledTime: new Date().toISOString(),
        executionId: execution,
      });
      const shards = aws.sent.slice(sentBefore).filter((m) => m.queueUrl === DISPATCH_QUEUE);
      expect(shards).toHaveLength(1);
      const dispatched = await invoke(
        assets.Dispatcher ?? '',
        envs.Dispatcher ?? {},
        sqsRecords(shards, 'certwatch-dispatch'),
      );
      expect(dispatched.result).toEqual({ batchItemFailures: [] });
      const messages = aws.sent.slice(sentBefore).filter((m) => m.queueUrl === CHECK_QUEUE);
      const shopMessage = messages.find((m) => m.body.includes(`127.0.0.1:${tls.port}`));
      expect(JSON.parse(shopMessage?.body ?? '{}').suppressors).toEqual([
        { kind: 'maintenance', id: 'smoke-mw', name: 'smoke swap', until: expect.any(String) },
      ]);
      const checked = await invoke(assets.Checker ?? '', envs.Checker ?? {}, {
        Records: messages.map((m) => ({ ...sqsEvent.Records[0], messageId: m.messageId, body: m.body })),
      });
      expect(checked.result).toEqual({ batchItemFailures: [] });
    }
    // Assess 6b: the failure is recorded "in maintenance", the unreachable alert quieted, nothing published for it
    const shopAfter = (await maintenanceStore.listAllAddressStates()).find(
      (x) => x.state.endpointName === 'smoke shop',
    );
    expect(shopAfter?.state).toMatchObject({
      status: 'error',
      consecutiveFailures: 2,
      suppressedBy: { kind: 'maintenance', id: 'smoke-mw', name: 'smoke swap' },
      quieted: [{ kind: 'error', severity: 'critical', by: { kind: 'maintenance', id: 'smoke-mw' } }],
    });
    const afterWindow = aws.published.slice(publishedBefore + 2);
    expect(afterWindow.filter((p) => p.attributes.endpoint === 'smoke shop')).toEqual([]);
    maintenanceClients.destroy();
  }, 180_000);
  it('delivers PagerDuty, Opsgenie, Discord, Google Chat, Mattermost, Slack, Teams, GitHub and Jira through the deployed notifier, secrets from Secrets Manager', async () => {
    // Prepare: loopback vendors, their secrets in the Secrets Manager stand-in, and the CHANNELS the stack would pass
    const arn = (name: string) =>
      `arn:aws:secretsmanager:${REGION}:123456789012:secret:certwatch/${name}-AbCdEf`;
    const github = fakeGitHub({ prefix: '/gh', repo: 'acme/certs', token: 'ghp_sm0ke' });
    const jira = fakeJira({
      prefix: '/jira',
      project: 'OPS',
      email: 'certwatch@example.com',
      token: 'j1ra-sm0ke',
    });
    const vendors = await startWebhookReceiver({
      responder: (req) =>
        github.respond(req) ??
        jira.respond(req) ??
        (req.path.startsWith('/api/webhooks/')
          ? { status: 200, body: '{"id":"1"}' }
          : { status: 202, body: '{}' }),
    });
    aws.secrets.set(arn('pagerduty'), JSON.stringify({ routingKey: 'R0UT1NG-sm0ke' }));
    aws.secrets.set(arn('opsgenie'), 'gen1e-sm0ke');
    aws.secrets.set(arn('discord'), vendors.url('/api/webhooks/42/t0k3n'));
    aws.secrets.set(arn('googlechat'), vendors.url('/v1/spaces/S/messages?key=k&token=t'));
    aws.secrets.set(arn('mattermost'), vendors.url('/hooks/xyz'));
    aws.secrets.set(arn('slack'), vendors.url('/services/T0/B0/x'));
    aws.secrets.set(arn('teams'), vendors.url('/workflows/teams'));
    aws.secrets.set(arn('github'), JSON.stringify({ token: 'ghp_sm0ke' }));
    aws.secrets.set(arn('jira'), 'j1ra-sm0ke');
    const env = {
      ...baseEnv,
      HISTORY_TTL_DAYS: '30',
      CHANNELS: JSON.stringify([
        {
          name: 'oncall',
          type: 'pagerduty',
          minSeverity: 'info',
          routingKey: { secretArn: arn('pagerduty'), jsonKey: 'routingKey' },
          url: vendors.url('/pd/v2/enqueue'),
        },
        {
          name: 'genie',
          type: 'opsgenie',
          minSeverity: 'info',
          apiKey: { secretArn: arn('opsgenie') },
          url: vendors.url('/og'),
        },
        { name: 'chat', type: 'discord', minSeverity: 'info', url: { secretArn: arn('discord') } },
        { name: 'gchat', type: 'googlechat', minSeverity: 'info', url: { secretArn: arn('googlechat') } },
        { name: 'mm', type: 'mattermost', minSeverity: 'info', url: { secretArn: arn('mattermost') } },
        { name: 'slack', type: 'slack', minSeverity: 'info', url: { secretArn: arn('slack') } },
        { name: 'teams', type: 'teams', minSeverity: 'info', url: { secretArn: arn('teams') } },
        {
          name: 'renewals',
          type: 'github',
          minSeverity: 'info',
          repo: 'acme/certs',
          token: { secretArn: arn('github'), jsonKey: 'token' },
          labels: ['tls'],
          apiUrl: vendors.url('/gh'),
        },
        {
          name: 'ops-jira',
          type: 'jira',
          minSeverity: 'info',
          baseUrl: vendors.url('/jira'),
          project: 'OPS',
          issueType: 'Task',
          email: 'certwatch@example.com',
          apiToken: { secretArn: arn('jira') },
          resolveTransition: 'Done',
          labels: [],
        },
      ]),
    };
    const endpointId = `smoke-tickets.example:443`;
    const threshold = makeAlert({
      id: `${endpointId}|192.0.2.10:threshold:7`,
      endpoint: 'smoke-tickets.example',
      endpointId,
    });
    const renewed = makeAlert({
      id: `${endpointId}|192.0.2.10:renewed:2026-11-24`,
      kind: 'renewed',
      severity: 'info',
      status: 'ok',
      summary: 'renewed',
      findings: [],
      endpoint: 'smoke-tickets.example',
      endpointId,
    });
    const snsEventOf = (alert: Alert) => {
      const publish = renderSnsPublish(alert, ALERT_TOPIC);
      return {
        Records: [
          {
            EventSource: 'aws:sns',
            EventVersion: '1.0',
            EventSubscriptionArn: `${ALERT_TOPIC}:sub`,
            Sns: {
              Type: 'Notification',
              MessageId: `m-${alert.kind}`,
              TopicArn: ALERT_TOPIC,
              Subject: publish.Subject,
              Message: (JSON.parse(publish.Message ?? '{}') as { lambda: string }).lambda,
              Timestamp: new Date().toISOString(),
              MessageAttributes: {},
            },
          },
        ],
      };
    };
    const clients = createDocumentClient(dynamo.endpoint);
    const store = new DynamoDbStateStore({ client: clients.documentClient, tableName });
    const key = `certwatch:${endpointId}|192.0.2.10:expiry`;
    const seen = (from: number, to?: number) =>
      vendors.requests
        .slice(from, to)
        .map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? '-'}`)
        .sort();
    try {
      // Act 1: the threshold alert opens the incident everywhere
      const open = await invoke(assets.Notifier ?? '', env, snsEventOf(threshold));
      const opened = vendors.requests.length;
      // Act 2: the renewed alert closes it
      const close = await invoke(assets.Notifier ?? '', env, snsEventOf(renewed));

      // Assess
      expect([open.result, close.result]).toEqual([null, null]);
      const basic = `Basic ${Buffer.from('certwatch@example.com:j1ra-sm0ke').toString('base64')}`;
      expect(seen(0, opened)).toEqual(
        [
          'POST /api/webhooks/42/t0k3n?wait=true -',
          'POST /v1/spaces/S/messages?key=k&token=t -',
          'POST /hooks/xyz -',
          'POST /services/T0/B0/x -',
          'POST /workflows/teams -',
          'GET /gh/repos/acme/certs/issues?state=open&labels=certwatch&per_page=50&page=1 Bearer ghp_sm0ke',
          'POST /gh/repos/acme/certs/issues Bearer ghp_sm0ke',
          `POST /jira/rest/api/3/issue ${basic}`,
          `POST /jira/rest/api/3/search/jql ${basic}`,
          'POST /og/v2/alerts GenieKey gen1e-sm0ke',
          'POST /pd/v2/enqueue -',
        ].sort(),
      );
      expect(seen(opened)).toEqual(
        [
          'POST /api/webhooks/42/t0k3n?wait=true -',
          'POST /v1/spaces/S/messages?key=k&token=t -',
          'POST /hooks/xyz -',
          'POST /services/T0/B0/x -',
          'POST /workflows/teams -',
          // The ticket channels find their tickets in the state table: no search.
          'POST /gh/repos/acme/certs/issues/1/comments Bearer ghp_sm0ke',
          'PATCH /gh/repos/acme/certs/issues/1 Bearer ghp_sm0ke',
          `POST /jira/rest/api/3/issue/OPS-1/comment ${basic}`,
          `GET /jira/rest/api/3/issue/OPS-1/transitions ${basic}`,
          `POST /jira/rest/api/3/issue/OPS-1/transitions ${basic}`,
          `POST /og/v2/alerts/${encodeURIComponent(key)}/close?identifierType=alias GenieKey gen1e-sm0ke`,
          'POST /pd/v2/enqueue -',
        ].sort(),
      );
      const pd = vendors.requests
        .filter((r) => r.path === '/pd/v2/enqueue')
        .map((r) => r.json as { routing_key: string; event_action: string; dedup_key: string });
      expect(pd.map((e) => [e.event_action, e.routing_key, e.dedup_key])).toEqual([
        ['trigger', 'R0UT1NG-sm0ke', key],
        ['resolve', 'R0UT1NG-sm0ke', key],
      ]);
      expect(github.issues.get(1)).toMatchObject({ state: 'closed', labels: ['certwatch', 'tls'] });
      expect(jira.issues.get('OPS-1')?.status).toBe('Done');
      // Each delivery is recorded under its channel, and each ticket under its channel and incident.
      for (const alert of [threshold, renewed]) {
        expect(
          (await store.listDeliveries(alert.id)).map((d) => [d.record.channel, d.record.status]),
        ).toEqual([
          ['chat', 'delivered'],
          ['gchat', 'delivered'],
          ['genie', 'delivered'],
          ['mm', 'delivered'],
          ['oncall', 'delivered'],
          ['ops-jira', 'delivered'],
          ['renewals', 'delivered'],
          ['slack', 'delivered'],
          ['teams', 'delivered'],
        ]);
      }
      expect((await store.getTicket('renewals', key))?.record).toMatchObject({
        ticketId: '1',
        state: 'closed',
      });
      expect((await store.getTicket('ops-jira', key))?.record).toMatchObject({
        ticketId: 'OPS-1',
        state: 'closed',
      });
    } finally {
      clients.destroy();
      await vendors.close();
    }
  }, 120_000);
  it('calls no DynamoDB action the stack does not grant the function (IAM is not enforced locally)', () => {
    // Assess: every action each bundled function sent in the tests above is in its grant, and the
    // recorders saw traffic (the dispatcher, checker, notifier and watchdog all use the table).
    const users = Object.keys(STATE_TABLE_ACCESS) as StateTableUser[];
    for (const user of users) expect(recorders[user]?.actions.size ?? 0, user).toBeGreaterThan(0);
    const ungranted = users.flatMap((user) =>
      [...(recorders[user]?.actions ?? [])]
        .filter((action) => !(STATE_TABLE_ACCESS[user] as readonly string[]).includes(`dynamodb:${action}`))
        .map((action) => `${user}: dynamodb:${action}`),
    );
    expect(ungranted).toEqual([]);
  });
});
