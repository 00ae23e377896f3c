import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVENTORY_FORMAT, inventoryLines } from '../../lambdas/core/inventory-lines';
import type { Endpoint } from '../../lambdas/core/model';
import { ConfigurationError } from '../../lambdas/handlers/runtime/env';
import { readDispatchPlanFile, readInventoryFile } from '../../lambdas/handlers/runtime/inventory-file';
import { dispatchBundle, inventoryFileContent } from '../../lib/check-pipeline';
import { makeEndpoint } from '../support/dynamodb-store-fixtures';

const plain = makeEndpoint('a.example');
/** Every way a field can differ from the first endpoint's, and every optional field set. */
const inventory: Endpoint[] = [
  plain,
  makeEndpoint('b.example', { name: 'b.example:443' }),
  makeEndpoint('c.example', { port: 8443, id: 'c.example:8443', name: 'Payments' }),
  makeEndpoint('d.example', { id: 'custom-id', owner: 'team-d', tags: ['prod', 'eu'], channels: ['ops'] }),
  makeEndpoint('e.example', {
    timeoutMs: 9_000,
    policy: { ...plain.policy, thresholdsDays: [60, 30] },
    protocol: 'smtp',
    servername: null,
    address: '192.0.2.7',
    connectPort: 2525,
    proxy: 'http://proxy.internal:3128',
    clientCertificate: {
      certPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
      keyRef: 'arn:k',
    },
    trust: 'intranet',
    revocation: 'off',
  }),
  makeEndpoint('f.example', { tags: ['prod', 'eu'], policy: { ...plain.policy, thresholdsDays: [60, 30] } }),
  makeEndpoint('ü-名前.example', { name: 'ünïcödé 名前' }),
];

/** Writes gzip-compressed `text` to a fresh file and returns its path. */
function fileOf(dir: string, text: string): string {
  const path = join(dir, `inventory-${Math.random().toString(36).slice(2)}.ndjson.gz`);
  writeFileSync(path, gzipSync(Buffer.from(text)));
  return path;
}

/** The header of an inventory of `n` endpoints whose defaults are `plain`'s. */
function headerOf(n: number): string {
  const { owner, tags, channels, policy, port, timeoutMs } = plain;
  return JSON.stringify({
    format: INVENTORY_FORMAT,
    endpoints: n,
    defaults: { owner, tags, channels, policy, port, timeoutMs },
  });
}

describe('readInventoryFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'certwatch-inventory-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { name: 'one shard', endpoints: inventory, shardSize: 100, shards: 1 },
    { name: 'a shard per few endpoints', endpoints: inventory, shardSize: 2, shards: 4 },
    {
      name: 'many shards',
      endpoints: Array.from({ length: 300 }, (_, i) => makeEndpoint(`n${i}.example`)),
      shardSize: 20,
      // 16 partitions of ~19 each, one over 20 (cut in two), merged where neighbours fit
      shards: 21,
    },
  ])(
    'reads each dispatch shard of the bundle alone, and the whole file as every shard in turn: $name',
    async ({ endpoints, shardSize, shards }) => {
      // Prepare
      const bundle = dispatchBundle(endpoints, shardSize);
      const path = join(dir, 'inventory.ndjson.gz');
      const planPath = join(dir, 'plan.json');
      writeFileSync(path, bundle.inventory);
      writeFileSync(planPath, JSON.stringify(bundle.plan));

      // Act
      const plan = readDispatchPlanFile(planPath);
      const each = await Promise.all(plan.shards.map((shard) => readInventoryFile(path, undefined, shard)));
      const whole = await readInventoryFile(path);

      // Assess
      expect(plan).toEqual(bundle.plan);
      expect(plan.shards).toHaveLength(shards);
      expect(each.map((e) => e.length)).toEqual(plan.shards.map((s) => s.endpoints));
      expect(whole).toStrictEqual(each.flat());
      expect([...whole].sort((a, b) => (a.id < b.id ? -1 : 1))).toStrictEqual(
        [...endpoints].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    },
  );

  it.each([
    { name: 'not JSON', text: '{', problem: /cannot read the bundled dispatch plan .*plan\.json/ },
    { name: 'another format', text: '{"format":"x","shards":[]}', problem: /plan\.json: format: / },
    {
      name: 'a shard without its bytes',
      text: '{"format":"certwatch-dispatch-plan/1","shards":[{"offset":0,"endpoints":1,"segments":[]}]}',
      problem: /plan\.json: shards\[0\]\.bytes: /,
    },
  ])(
    'refuses a dispatch plan that is $name, in one line naming the file and the field',
    ({ text, problem }) => {
      // Prepare
      const planPath = join(dir, 'plan.json');
      writeFileSync(planPath, text);

      // Act
      const read = () => readDispatchPlanFile(planPath);

      // Assess
      expect(read).toThrow(ConfigurationError);
      expect(read).toThrow(problem);
    },
  );

  it.each([
    { name: 'no endpoints', endpoints: [] },
    { name: 'one endpoint', endpoints: [plain] },
    { name: 'endpoints differing in every field', endpoints: inventory },
  ])('returns exactly the endpoints the stack wrote: $name', async ({ endpoints }) => {
    // Prepare
    const path = join(dir, 'inventory.ndjson.gz');
    writeFileSync(path, inventoryFileContent(endpoints));

    // Act
    const read = await readInventoryFile(path);

    // Assess
    expect(read).toStrictEqual(endpoints);
  });

  it('leaves out of each line what equals the defaults, the id when it is host:port and the name when it is the id', () => {
    // Act
    const lines = [...inventoryLines(inventory.slice(0, 3))].map((l) => JSON.parse(l));

    // Assess
    expect(lines).toEqual([
      {
        format: INVENTORY_FORMAT,
        endpoints: 3,
        defaults: {
          owner: null,
          tags: [],
          channels: [],
          policy: plain.policy,
          port: 443,
          timeoutMs: 5_000,
        },
      },
      { host: 'a.example', name: 'a.example' },
      { host: 'b.example' },
      { host: 'c.example', port: 8443, name: 'Payments' },
    ]);
  });

  it('holds equal policies, tag lists and channel lists once', async () => {
    // Prepare
    const path = join(dir, 'inventory.ndjson.gz');
    writeFileSync(path, inventoryFileContent(inventory));

    // Act
    const read = await readInventoryFile(path);

    // Assess
    expect(read[1]?.policy).toBe(read[0]?.policy);
    expect(read[1]?.tags).toBe(read[0]?.tags);
    expect(read[1]?.channels).toBe(read[0]?.channels);
    expect(read[5]?.policy).toBe(read[4]?.policy);
    expect(read[5]?.tags).toBe(read[3]?.tags);
    expect(read[4]?.policy).not.toBe(read[0]?.policy);
  });

  it('splits lines at any chunk boundary and reads a last line without a line break', async () => {
    // Prepare: a line far longer than one stream chunk (64 KiB), multi-byte characters across the boundaries
    const long = makeEndpoint('long.example', {
      tags: Array.from({ length: 12_000 }, (_, i) => `tag-ü-${i}`),
    });
    const text = [...inventoryLines([plain, long, inventory[6] as Endpoint])].join('\n');
    const path = fileOf(dir, text);

    // Act
    const read = await readInventoryFile(path);

    // Assess
    expect(read).toStrictEqual([plain, long, inventory[6]]);
  });

  const valid = JSON.stringify({ host: 'a.example' });
  it.each([
    { name: 'an empty file', text: '', problem: 'line 1: the inventory is empty (no header line)' },
    { name: 'no header', text: `${valid}\n`, problem: `line 1: not a ${INVENTORY_FORMAT} header` },
    {
      name: 'another format',
      text: `${JSON.stringify({ format: 'certwatch-inventory/2', endpoints: 0 })}\n`,
      problem: `line 1: not a ${INVENTORY_FORMAT} header: format`,
    },
    {
      name: 'a line that is not JSON',
      text: `${headerOf(2)}\n${valid}\n{"host":\n`,
      problem: 'line 3: not JSON',
    },
    { name: 'an empty line', text: `${headerOf(2)}\n\n${valid}\n`, problem: 'line 2: not JSON' },
    { name: 'a line that is an array', text: `${headerOf(1)}\n[]\n`, problem: 'line 2: expected an object' },
    {
      name: 'a field of the wrong type',
      text: `${headerOf(1)}\n${JSON.stringify({ ...plain, port: '443' })}\n`,
      problem: 'line 2: port: expected number',
    },
    {
      name: 'a missing field without a default',
      text: `${JSON.stringify({ format: INVENTORY_FORMAT, endpoints: 1 })}\n${JSON.stringify({ host: 'a.example', port: 443 })}\n`,
      problem: 'line 2: owner: expected',
    },
    {
      name: 'fewer endpoints than announced (a truncated file)',
      text: `${headerOf(3)}\n${JSON.stringify(plain)}\n`,
      problem: 'line 3: the header announces 3 endpoints, the file ends after 1',
    },
    {
      name: 'more endpoints than announced',
      text: `${headerOf(1)}\n${JSON.stringify(plain)}\n${JSON.stringify(plain)}\n`,
      problem: 'line 3: more endpoints than the 1 the header announces',
    },
  ])('refuses $name with one line naming the file and the line', async ({ text, problem }) => {
    // Prepare
    const path = fileOf(dir, text);

    // Act
    const read = readInventoryFile(path);

    // Assess
    await expect(read).rejects.toThrow(ConfigurationError);
    await expect(read).rejects.toThrow(`bundled inventory ${path}: ${problem}`);
  });

  it('refuses a line longer than the bound without reading it whole', async () => {
    // Prepare
    const path = fileOf(dir, `${headerOf(2)}\n${JSON.stringify(plain)}\n${'x'.repeat(5_000)}\n`);

    // Act
    const read = readInventoryFile(path, 1_000);

    // Assess
    await expect(read).rejects.toThrow(`bundled inventory ${path}: line 3: longer than 1000 bytes`);
  });

  it.each([
    { name: 'a file that is not gzip', bytes: Buffer.from(`${headerOf(0)}\n`) },
    { name: 'a truncated gzip stream', bytes: inventoryFileContent(inventory).subarray(0, 60) },
  ])('refuses $name, naming the file', async ({ bytes }) => {
    // Prepare
    const path = join(dir, 'broken.ndjson.gz');
    writeFileSync(path, bytes);

    // Act
    const read = readInventoryFile(path);

    // Assess
    await expect(read).rejects.toThrow(ConfigurationError);
    await expect(read).rejects.toThrow(`cannot read the bundled inventory ${path}`);
  });

  it('refuses a missing file, naming it', async () => {
    // Act
    const read = readInventoryFile(join(dir, 'absent.ndjson.gz'));

    // Assess
    await expect(read).rejects.toThrow(`cannot read the bundled inventory ${join(dir, 'absent.ndjson.gz')}`);
  });
});
