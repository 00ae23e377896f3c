import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../lambdas/core/model';
import type { CheckMessage, CheckQueue } from '../../lambdas/pipeline/check-message';
import { dispatchRun } from '../../lambdas/pipeline/dispatch-run';
import type { StateStore } from '../../lambdas/store/state-store';
import { makeEndpoint } from '../support/dynamodb-store-fixtures';

const NOW = new Date('2030-03-01T10:00:00.000Z');
const AT = NOW.toISOString();
const RUN = 'run-1';

/** What the resolver answers per host: addresses, an error, or a throw (a resolver bug). */
const answers: Record<string, string[] | { error: string } | 'throws'> = {
  'one.example': ['192.0.2.1'],
  'two.example': ['192.0.2.2', '2001:db8::2'],
  'none.example': [],
  'nx.example': { error: 'ENOTFOUND nx.example' },
  'bug.example': 'throws',
};

const inventory: Endpoint[] = [
  makeEndpoint('one.example'),
  makeEndpoint('two.example'),
  makeEndpoint('none.example'),
  makeEndpoint('nx.example'),
  makeEndpoint('bug.example'),
  makeEndpoint('pinned.example', { address: '10.0.0.5' }),
  makeEndpoint('192.0.2.9'),
];

const msg = (endpointId: string, address: string | null, dnsError?: string): CheckMessage => ({
  v: 1,
  runId: RUN,
  endpointId,
  address,
  ...(dnsError === undefined ? {} : { dnsError }),
  dispatchedAt: AT,
});

const allMessages = [
  msg('one.example:443', '192.0.2.1'),
  msg('two.example:443', '192.0.2.2'),
  msg('two.example:443', '2001:db8::2'),
  msg('nx.example:443', null, 'ENOTFOUND nx.example'),
  msg('bug.example:443', null, 'Error: resolver bug'),
  msg('pinned.example:443', '10.0.0.5'),
  msg('192.0.2.9:443', '192.0.2.9'),
];

/** A store that records the run, and a queue that records each `sendAll` call (a page), failing those asked to. */
function fakes(failPages: readonly number[] = []) {
  const runs: Array<{ expected: number; addressKeys?: readonly string[] }> = [];
  const pages: CheckMessage[][] = [];
  const store = {
    syncInventory: async (endpoints: readonly Endpoint[]) => ({
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: endpoints.length,
    }),
    createRun: async (run: { dispatchShards?: readonly (readonly number[])[] }) => {
      // The run is recorded once, before any message is sent, with its dispatch shards.
      expect(pages).toEqual([]);
      expect(runs).toEqual([]);
      expect(run.dispatchShards).toHaveLength(1);
      runs.push({ expected: 0 });
    },
    recordDispatchShard: async (_runId: string, shard: number, addressKeys: readonly string[]) => {
      // The shard's checks are recorded before any of them is sent.
      expect(pages).toEqual([]);
      expect(shard).toBe(0);
      runs.splice(0, 1, { expected: addressKeys.length, addressKeys: [...addressKeys] });
    },
    shardCount: 16,
    shardOfKey: (key: string) => key.length % 16,
  } as unknown as StateStore;
  const queue: CheckQueue = {
    sendAll: async (messages) => {
      pages.push([...messages]);
      if (failPages.includes(pages.length)) throw new Error(`page ${pages.length} failed`);
    },
  };
  const deps = {
    store,
    queue,
    now: () => NOW,
    newRunId: () => RUN,
    resolve: async (host: string) => {
      const answer = answers[host];
      if (answer === 'throws' || answer === undefined) throw new Error('resolver bug');
      return Array.isArray(answer) ? { addresses: answer } : answer;
    },
  };
  return { deps, runs, pages };
}

describe('dispatchRun', () => {
  it.each([
    { pageSize: 1, pages: [1, 1, 1, 1, 1, 1, 1] },
    { pageSize: 3, pages: [3, 3, 1] },
    { pageSize: 7, pages: [7] },
    { pageSize: undefined, pages: [7] },
  ])('sends every address one message, in order, $pageSize a page', async ({ pageSize, pages }) => {
    // Prepare
    const { deps, runs, pages: sent } = fakes();

    // Act
    const result = await dispatchRun(
      deps,
      inventory,
      pageSize === undefined ? {} : { sendPageSize: pageSize },
    );

    // Assess
    expect(sent.map((p) => p.length)).toEqual(pages);
    expect(sent.flat()).toStrictEqual(allMessages);
    expect(runs).toEqual([
      { expected: 7, addressKeys: allMessages.map((m) => `${m.endpointId}|${m.address ?? 'dns'}`) },
    ]);
    expect(result).toEqual({
      runId: RUN,
      startedAt: AT,
      inventory: { added: 0, updated: 0, removed: 0, unchanged: 7 },
      endpoints: 7,
      expected: 7,
      dnsFailures: 2,
      shards: 1,
    });
  });

  it('checks only the first address when asked to', async () => {
    // Prepare
    const { deps, pages } = fakes();

    // Act
    const result = await dispatchRun(deps, inventory.slice(0, 3), { firstAddressOnly: true });

    // Assess
    expect(pages.flat()).toStrictEqual([
      msg('one.example:443', '192.0.2.1'),
      msg('two.example:443', '192.0.2.2'),
    ]);
    expect(result.expected).toBe(2);
  });

  it('sends the pages after a failed one, then reports the failure', async () => {
    // Prepare
    const { deps, pages } = fakes([1, 2]);

    // Act
    const run = dispatchRun(deps, inventory, { sendPageSize: 3 });

    // Assess
    await expect(run).rejects.toThrow('page 1 failed');
    expect(pages.flat()).toStrictEqual(allMessages);
  });
});
