/**
 * The watchdog handler writing the HTML report: the real handler module, its
 * store on dynalite (embedded DynamoDB on loopback), S3 and SNS at the loopback
 * stand-in, which records the PutObject the handler sends.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPORT_CSP } from '../../lambdas/report/render-report';
import { REPORT_CONTENT_TYPE, REPORT_OBJECT_KEY } from '../../lambdas/report/report-object';
import { createDocumentClient, type DynamoDbClients } from '../../lambdas/store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../../lambdas/store/dynamodb-state-store';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';
import { FIXTURE_T0, makeEndpoint, makeResult, makeState } from '../support/dynamodb-store-fixtures';
import { type FakeAws, startFakeAws } from '../support/fake-aws';

const TABLE = 'certwatch-watchdog-report';
const BUCKET = 'certwatch-report-bucket-test';
const OPS_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:certwatch-ops';

const HOUR = 3_600_000;

/** A run id as the dispatcher makes them: its start time, sortable, then a name. */
function runIdAt(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:.]/g, '')}-report`;
}

type Handler = (
  event: unknown,
  context?: { awsRequestId?: string },
) => Promise<{ judged: number; report: boolean }>;

describe('watchdog handler report', () => {
  let dynamo: EmbeddedDynamo;
  let clients: DynamoDbClients;
  let store: DynamoDbStateStore;
  let aws: FakeAws;
  let handler: Handler;
  const shop = makeEndpoint('shop.example', { owner: 'team-web', tags: ['prod'] });
  const hostile = makeEndpoint('evil.example', { name: '<script>alert(1)</script>' });

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    clients = createDocumentClient(dynamo.endpoint);
    await ensureTable(clients.client, TABLE);
    store = new DynamoDbStateStore({ client: clients.documentClient, tableName: TABLE });
    aws = await startFakeAws();
    const env = {
      TABLE_NAME: TABLE,
      OPS_TOPIC_ARN: OPS_TOPIC,
      REPORT_BUCKET: BUCKET,
      SCHEDULE_INTERVAL_MS: String(6 * 3_600_000),
      WATCHDOG_GRACE_MS: '1',
      LOG_LEVEL: 'ERROR',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'certwatch',
      AWS_SECRET_ACCESS_KEY: 'certwatch-local',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SNS: aws.url,
      AWS_ENDPOINT_URL_S3: aws.url,
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    ({ handler } = (await import('../../lambdas/handlers/watchdog')) as { handler: Handler });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    await aws?.close();
    clients?.destroy();
    await dynamo?.close();
  });

  it('writes no page after an incomplete run (it pages ops instead), nor when no run is due', async () => {
    // Prepare: a run over both endpoints that completed one check
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await store.syncInventory([shop, hostile]);
    const runId = runIdAt(Date.now() - 2 * HOUR);
    await store.createRun({ runId, startedAt: new Date(Date.now() - 2 * HOUR).toISOString(), expected: 2 });
    await store.saveAddressState(makeState(shop, '192.0.2.1', { lastRunId: runId }), null);
    await store.appendHistory(makeResult(shop, '192.0.2.1', FIXTURE_T0), shop.id);
    await store.recordCheckCompleted(runId);
    // Act
    const incomplete = await handler({}, { awsRequestId: 'incomplete' });
    const nothingDue = await handler({}, { awsRequestId: 'nothing-due' });
    // Assess
    expect(incomplete).toMatchObject({ judged: 1, report: false });
    expect(aws.published.filter((p) => p.topicArn === OPS_TOPIC)).toHaveLength(1);
    expect(nothingDue).toMatchObject({ judged: 0, report: false });
    expect(aws.putObjects).toEqual([]);
  });

  it('puts the rendered page at the one key, as HTML, not cached, with the data escaped', async () => {
    // Prepare: a fresh complete run
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const runId = runIdAt(Date.now() - HOUR);
    await store.createRun({ runId, startedAt: new Date(Date.now() - HOUR).toISOString(), expected: 2 });
    for (const e of [shop, hostile]) {
      const current = await store.getAddressState(`${e.id}|192.0.2.1`);
      await store.saveAddressState(
        { ...(current?.state ?? makeState(e, '192.0.2.1')), lastRunId: runId },
        current?.version ?? null,
      );
      await store.recordCheckCompleted(runId);
    }
    // Act
    const result = await handler({}, { awsRequestId: 'complete' });
    // Assess
    expect(result).toMatchObject({ judged: 1, report: true });
    expect(aws.putObjects.map(({ body: _body, ...rest }) => rest)).toEqual([
      { bucket: BUCKET, key: REPORT_OBJECT_KEY, contentType: REPORT_CONTENT_TYPE, cacheControl: 'no-store' },
    ]);
    const page = aws.putObjects[0]?.body ?? '';
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain(`content="${REPORT_CSP}"`);
    expect(page).toContain(`data-key="${shop.id}|192.0.2.1"`);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toContain(`DynamoDB table ${TABLE}`);
  });

  it("sends the soonest expiry with a run's judgement only, and the stale count on every tick", async () => {
    // Prepare: a fresh complete run whose checks saw 40 and 12 days left; stdout captured
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const runId = runIdAt(Date.now() - HOUR / 2);
    await store.createRun({ runId, startedAt: new Date(Date.now() - HOUR / 2).toISOString(), expected: 2 });
    for (const [e, daysLeft] of [
      [shop, 40],
      [hostile, 12],
    ] as const) {
      const key = `${e.id}|192.0.2.1`;
      const current = await store.getAddressState(key);
      await store.saveAddressState(
        { ...(current?.state ?? makeState(e, '192.0.2.1')), lastRunId: runId, daysLeft },
        current?.version ?? null,
      );
      await store.recordCheckCompleted(runId, { key, daysLeft, failed: false });
    }
    const metrics = (from: string[]) =>
      from
        .filter((l) => l.includes('"CloudWatchMetrics"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    // Act
    const judging = await handler({}, { awsRequestId: 'judging' });
    const judgingMetrics = metrics(lines.splice(0));
    const idle = await handler({}, { awsRequestId: 'idle' });
    const idleMetrics = metrics(lines.splice(0));

    // Assess
    expect(judging).toMatchObject({ judged: 1 });
    expect(idle).toMatchObject({ judged: 0 });
    expect(judgingMetrics.map((m) => m.SoonestDaysToExpiry).filter((v) => v !== undefined)).toEqual([12]);
    expect(judgingMetrics.some((m) => m.StaleEndpoints === 0)).toBe(true);
    expect(idleMetrics.filter((m) => 'SoonestDaysToExpiry' in m)).toEqual([]);
    expect(idleMetrics.some((m) => m.StaleEndpoints === 0)).toBe(true);
  });

  it('leaves a stale endpoint in a running maintenance window out of the page and the StaleEndpoints count', async () => {
    // Prepare: shop (tag prod) refused every connection for two days; a window on prod runs now
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const now = Date.now();
    const runId = runIdAt(now - HOUR / 4);
    await store.createRun({ runId, startedAt: new Date(now - HOUR / 4).toISOString(), expected: 2 });
    for (const e of [shop, hostile]) {
      const key = `${e.id}|192.0.2.1`;
      const current = await store.getAddressState(key);
      const failing =
        e === shop
          ? {
              status: 'error' as const,
              findings: [
                { code: 'CONNECTION_REFUSED' as const, severity: 'critical' as const, message: 'refused' },
              ],
              lastSuccessAt: new Date(now - 48 * HOUR).toISOString(),
              failingSince: new Date(now - 47 * HOUR).toISOString(),
              lastCheckedAt: new Date(now - HOUR / 4).toISOString(),
              consecutiveFailures: 8,
            }
          : {};
      await store.saveAddressState(
        { ...(current?.state ?? makeState(e, '192.0.2.1')), lastRunId: runId, ...failing },
        current?.version ?? null,
      );
      await store.recordCheckCompleted(runId);
    }
    await store.suppressions().saveWindow(
      {
        id: 'lb-swap',
        name: 'LB swap',
        endpoints: [],
        tags: ['prod'],
        start: new Date(now - 50 * HOUR).toISOString(),
        end: new Date(now + HOUR).toISOString(),
        timeZone: 'UTC',
        message: 'Replacing the load balancer.',
        leadTimeMs: 0,
        createdAt: new Date(now - 60 * HOUR).toISOString(),
        cancelledAt: null,
        source: 'cli',
      },
      [],
      null,
    );
    const opsBefore = aws.published.filter((p) => p.topicArn === OPS_TOPIC).length;
    // Act
    const result = await handler({}, { awsRequestId: 'in-window' });
    // Assess
    expect(result).toMatchObject({ judged: 1, stale: 0, quietedStale: 1 });
    const metrics = lines.filter((l) => l.includes('"CloudWatchMetrics"')).map((l) => JSON.parse(l));
    expect(metrics.some((m) => m.StaleEndpoints === 0)).toBe(true);
    expect(aws.published.filter((p) => p.topicArn === OPS_TOPIC)).toHaveLength(opsBefore);
  });
});
