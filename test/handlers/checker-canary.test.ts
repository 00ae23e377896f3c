/**
 * The deployed checker's canary invocation: with the real detector it reports every fixture
 * right and pages nobody; with a broken one it pages the ops topic once, with the canary's
 * words, records the failure on the newest run, and fails the invocation when that page cannot
 * be sent. SNS is mocked at the SDK client (there is no emulator); the store is dynalite; the
 * canary's servers are real, on loopback.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult, Target } from '../../lambdas/core/model';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../../lambdas/store/dynamodb-state-store';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';

const REGION = 'eu-west-1';
const ALERT_TOPIC = `arn:aws:sns:${REGION}:123456789012:certwatch-alerts`;
const OPS_TOPIC = `arn:aws:sns:${REGION}:123456789012:certwatch-ops`;
const TABLE = 'certwatch-canary-test';

/** Set by a test: a check that replaces the real one (a detector that ignores notAfter). */
let brokenCheck: ((target: Target, opts: unknown) => Promise<CheckResult[]>) | null = null;

vi.mock('../../lambdas/canary/run-canary', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lambdas/canary/run-canary')>();
  return {
    ...original,
    runCanary: (deps: Parameters<typeof original.runCanary>[0] = {}) =>
      original.runCanary(brokenCheck === null ? deps : { ...deps, check: brokenCheck as never }),
  };
});

describe('checker handler: the canary invocation', () => {
  const snsMock = mockClient(SNSClient);
  let handler: typeof import('../../lambdas/handlers/checker').handler;
  let dynamo: EmbeddedDynamo;
  let clients: DynamoDbClients;
  let store: DynamoDbStateStore;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    clients = createDocumentClient(dynamo.endpoint);
    await ensureTable(clients.client, TABLE);
    store = new DynamoDbStateStore({ client: clients.documentClient, tableName: TABLE });
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('LOG_LEVEL', 'ERROR');
    vi.stubEnv('TABLE_NAME', TABLE);
    vi.stubEnv('ALERT_TOPIC_ARN', ALERT_TOPIC);
    vi.stubEnv('OPS_TOPIC_ARN', OPS_TOPIC);
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    ({ handler } = await import('../../lambdas/handlers/checker'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    snsMock.restore();
    clients?.destroy();
    await dynamo?.close();
  });
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    brokenCheck = null;
  });

  it('judges every fixture right with the real detector and pages nobody', async () => {
    // Act
    const outcome = await handler({ certwatch: 'canary', executionId: 'exec-1' });
    // Assess
    expect(outcome).toEqual({ fixtures: 6, failures: [], paged: false, markedRun: null });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('pages the ops topic once when the analysis ignores notAfter, and records it on the newest run', async () => {
    // Prepare: a detector that calls every certificate ok; the previous run is judged, this firing's not yet recorded
    const started = Date.now();
    await store.createRun({
      runId: 'run-prev',
      startedAt: new Date(started - 6 * 3_600_000).toISOString(),
      expected: 0,
    });
    await store.finishRun('run-prev', new Date(started - 5 * 3_600_000).toISOString(), {
      verdict: 'complete',
    });
    const { checkTarget } = await import('../../lambdas/pipeline/check-target');
    brokenCheck = async (target, opts) =>
      (await checkTarget(target, opts as never)).map((r) => ({
        ...r,
        status: r.findings.some((f) => f.code === 'EXPIRED') ? 'ok' : r.status,
        findings: r.findings.filter((f) => f.code !== 'EXPIRED'),
      }));
    // Act
    const outcome = await handler({ certwatch: 'canary', executionId: 'exec-2' });
    // Assess
    expect(outcome.paged).toBe(true);
    expect(outcome.failures).toEqual([
      'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)',
    ]);
    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.TopicArn).toBe(OPS_TOPIC);
    expect(input?.Subject).toMatch(/the detector is broken: expired was judged ok/);
    expect(input?.MessageAttributes?.['severity']).toEqual({ DataType: 'String', StringValue: 'critical' });
    expect(outcome.markedRun).toBe('run-prev');
    const mark = (await store.getRun('run-prev'))?.detectorBroken;
    expect(mark).toMatchObject({
      fixture: 'expired',
      judged: 'ok (no findings)',
      expected: 'expired (EXPIRED)',
      reason: 'the detector is broken: expired was judged ok (no findings), expected expired (EXPIRED)',
    });
    expect(Date.parse(mark?.at ?? '')).toBeGreaterThanOrEqual(started);
  });

  it('fails the invocation when the page cannot be sent, so the scheduler retries and the errors alarm fires', async () => {
    // Prepare
    brokenCheck = async () => [];
    snsMock.on(PublishCommand).rejects(new Error('throttled'));
    // Act & Assess
    await expect(handler({ certwatch: 'canary', executionId: 'exec-3' })).rejects.toThrow(
      /canary failed and paging ops failed/,
    );
  });
});
