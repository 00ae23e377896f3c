import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult, Status } from '../../lambdas/core/model';
import { byReportUrgency, gatherReport } from '../../lambdas/report/report-data';
import { type EmbeddedStateStore, openEmbeddedStateStore } from '../../lambdas/store/embedded-dynamodb';
import { FIXTURE_T0, makeEndpoint, makeResult, makeState } from '../support/dynamodb-store-fixtures';

const HOUR = 3_600_000;

describe('byReportUrgency', () => {
  const s = (key: string, daysLeft: number | null, status: Status) => ({ key, daysLeft, status });

  it.each([
    ['fewer days left first', s('a', 30, 'ok'), s('b', 3, 'critical'), ['b', 'a']],
    ['expired (negative) before any positive', s('a', 1, 'critical'), s('b', -4, 'expired'), ['b', 'a']],
    ['unknown days last', s('a', null, 'error'), s('b', 90, 'ok'), ['b', 'a']],
    ['equal days: worse status first', s('a', null, 'ok'), s('b', null, 'error'), ['b', 'a']],
    ['equal days and status: by key', s('b', 7, 'warning'), s('a', 7, 'warning'), ['a', 'b']],
  ])('puts %s', (_name, x, y, order) => {
    expect([x, y].sort(byReportUrgency).map((r) => r.key)).toEqual(order);
  });
});

describe('gatherReport', () => {
  let embedded: EmbeddedStateStore;
  const shop = makeEndpoint('shop.example', { owner: 'team-web', tags: ['prod', 'public'] });
  const api = makeEndpoint('api.example');
  const now = new Date(FIXTURE_T0 + HOUR);

  beforeEach(async () => {
    embedded = await openEmbeddedStateStore({});
    await embedded.store.syncInventory([shop, api]);
  });
  afterEach(async () => {
    await embedded.close();
  });

  const failed = (result: CheckResult): CheckResult => ({
    ...result,
    status: 'error',
    chain: [],
    daysLeft: null,
    notAfter: null,
  });

  it('joins each address state with its endpoint, its newest chain and its history, oldest first', async () => {
    // Prepare: shop has three checks, the newest of which failed; api has none in the history
    await embedded.store.saveAddressState(
      makeState(shop, '192.0.2.1', { daysLeft: 12, status: 'warning' }),
      null,
    );
    await embedded.store.saveAddressState(makeState(api, null, { daysLeft: 40 }), null);
    await embedded.store.appendHistory(makeResult(shop, '192.0.2.1', FIXTURE_T0 - 2 * HOUR), shop.id);
    await embedded.store.appendHistory(makeResult(shop, '192.0.2.1', FIXTURE_T0 - HOUR), shop.id);
    await embedded.store.appendHistory(failed(makeResult(shop, '192.0.2.1', FIXTURE_T0)), shop.id);
    // Act
    const data = await gatherReport(embedded.store, { source: 'test store', now });
    // Assess
    expect(data).toMatchObject({ generatedAt: now.toISOString(), source: 'test store', omitted: 0 });
    expect(data.rows.map((r) => [r.key, r.owner, r.tags])).toEqual([
      [`${shop.id}|192.0.2.1`, 'team-web', ['prod', 'public']],
      [`${api.id}|dns`, null, []],
    ]);
    const [shopRow, apiRow] = data.rows;
    expect(shopRow?.chain.map((c) => c.subject)).toEqual(['CN=leaf.example']);
    expect(shopRow?.chainCheckedAt).toBe(new Date(FIXTURE_T0 - HOUR).toISOString());
    expect(shopRow?.history).toEqual([
      {
        checkedAt: new Date(FIXTURE_T0 - 2 * HOUR).toISOString(),
        daysLeft: 12,
        status: 'warning',
        failed: false,
      },
      {
        checkedAt: new Date(FIXTURE_T0 - HOUR).toISOString(),
        daysLeft: 12,
        status: 'warning',
        failed: false,
      },
      { checkedAt: new Date(FIXTURE_T0).toISOString(), daysLeft: null, status: 'error', failed: true },
    ]);
    expect(apiRow).toMatchObject({ chain: [], chainCheckedAt: null, history: [] });
  });

  it.each([
    ['every row within the limit', 5, 3, 0],
    ['the most urgent rows, counting the rest', 2, 2, 1],
  ])('shows %s', async (_name, maxRows, shown, omitted) => {
    // Prepare: three addresses of shop
    for (const [i, days] of [40, 4, 20].entries()) {
      await embedded.store.saveAddressState(makeState(shop, `192.0.2.${i + 1}`, { daysLeft: days }), null);
    }
    // Act
    const data = await gatherReport(embedded.store, { source: 's', now, maxRows, historyLimit: 5 });
    // Assess
    expect(data.rows.map((r) => r.daysLeft)).toEqual([4, 20, 40].slice(0, shown));
    expect(data.omitted).toBe(omitted);
  });

  it.each([
    ['every row within the limit', 10, 5, 0],
    ['the soonest rows, counting the rest', 3, 3, 2],
  ])(
    'bounded, shows %s: the same page as reading every state, without reading them',
    async (_name, maxRows, shown, omitted) => {
      // Prepare: five addresses, one of them failing (no certificate: last)
      const days = [40, 4, 20, 9, null];
      for (const [i, d] of days.entries()) {
        await embedded.store.saveAddressState(
          makeState(shop, `192.0.2.${i + 1}`, {
            daysLeft: d,
            notAfter: d === null ? null : new Date(FIXTURE_T0 + (d + 0.5) * 24 * HOUR).toISOString(),
            ...(d === null
              ? { status: 'error' as const, consecutiveFailures: 2, failingSince: now.toISOString() }
              : {}),
          }),
          null,
        );
      }
      const full = await gatherReport(embedded.store, { source: 's', now, maxRows, historyLimit: 5 });
      const listAll = embedded.store.listAllAddressStates.bind(embedded.store);
      let fullReads = 0;
      embedded.store.listAllAddressStates = async () => {
        fullReads++;
        return listAll();
      };
      // Act
      const bounded = await gatherReport(embedded.store, {
        source: 's',
        now,
        maxRows,
        historyLimit: 5,
        bounded: true,
      });
      // Assess
      expect(bounded.rows.map((r) => r.daysLeft)).toEqual([4, 9, 20, 40, null].slice(0, shown));
      expect(bounded.omitted).toBe(omitted);
      expect(bounded).toEqual(full);
      expect(fullReads).toBe(0);
    },
  );

  it('reads at most historyLimit checks per address', async () => {
    // Prepare
    await embedded.store.saveAddressState(makeState(shop, '192.0.2.1'), null);
    for (let k = 0; k < 6; k++) {
      await embedded.store.appendHistory(makeResult(shop, '192.0.2.1', FIXTURE_T0 - k * HOUR), shop.id);
    }
    // Act
    const data = await gatherReport(embedded.store, { source: 's', now, historyLimit: 4 });
    // Assess: the four newest, oldest first
    expect(data.rows[0]?.history.map((h) => h.checkedAt)).toEqual(
      [3, 2, 1, 0].map((k) => new Date(FIXTURE_T0 - k * HOUR).toISOString()),
    );
  });
});
