/**
 * The inventory as the stack bundles it beside the dispatcher: NDJSON, one endpoint per line, after
 * one header line. The header carries the values most endpoints share (`defaults`: the first
 * endpoint's owner, tags, channels, policy, port and timeout); a line omits a field equal to its
 * default, its `id` when it is `host:port`, and its `name` when it is the id. A million endpoints
 * then stream through the dispatcher without it ever holding the text, and the decoded endpoints
 * share one policy object, one tags array and one channels array wherever they are equal.
 *
 * Pure: the file (gzip, the bounded line reader) is the handler runtime's (`inventory-file.ts`).
 */
import * as d from './decode';
import type { Endpoint } from './model';
import { endpoint as endpointDecoder } from './model-decoders';

/** Names the format in the header line; a reader refuses any other. */
export const INVENTORY_FORMAT = 'certwatch-inventory/1';

/**
 * Fields every endpoint has (none optional: a line without one takes the default, exactly) and that
 * most endpoints of a config share, so a line leaves them out.
 */
const DEFAULTED_FIELDS = ['owner', 'tags', 'channels', 'policy', 'port', 'timeoutMs'] as const;
type DefaultedField = (typeof DEFAULTED_FIELDS)[number];
type Defaults = Pick<Endpoint, DefaultedField>;

const header = d.object({
  format: d.literal(INVENTORY_FORMAT),
  endpoints: d.index,
  defaults: d.optional(
    d.object({
      owner: d.nullable(d.string),
      tags: d.array(d.string),
      channels: d.array(d.string),
      policy: d.object({}),
      port: d.number,
      timeoutMs: d.number,
    }),
  ),
});

/** The inventory's lines, header first, each without its line break. */
export function* inventoryLines(endpoints: readonly Endpoint[]): Generator<string> {
  const first = endpoints[0];
  const defaults: Defaults | undefined =
    first === undefined
      ? undefined
      : (Object.fromEntries(DEFAULTED_FIELDS.map((k) => [k, first[k]])) as unknown as Defaults);
  yield JSON.stringify({ format: INVENTORY_FORMAT, endpoints: endpoints.length, defaults });
  const defaultJson = new Map(DEFAULTED_FIELDS.map((k) => [k, JSON.stringify(defaults?.[k])]));
  for (const e of endpoints) {
    const line: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(e)) {
      if (value === undefined) continue;
      if (
        defaultJson.has(key as DefaultedField) &&
        JSON.stringify(value) === defaultJson.get(key as DefaultedField)
      )
        continue;
      line[key] = value;
    }
    if (e.id === `${e.host}:${e.port}`) delete line.id;
    if (e.name === e.id) delete line.name;
    yield JSON.stringify(line);
  }
}

/** A line that does not decode: which line (1 is the header) and what is wrong with it. */
export class InventoryLineError extends Error {
  override readonly name = 'InventoryLineError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

/** A line that names the inventory format: the header of the next section. */
function isHeader(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && (raw as { format?: unknown }).format === INVENTORY_FORMAT;
}

/** Interned values are reused up to this many distinct ones; beyond, each endpoint keeps its own copy. */
const MAX_INTERNED = 4096;

/**
 * Decodes the inventory one line at a time (feed every line, header first, then call `finish`).
 * Keeps no text: only the endpoints, their shared parts interned. Several inventories one after
 * another (the stack's file holds one per dispatch shard) decode as one: once a header's endpoints
 * have all come, the next line is a header again.
 */
export class InventoryDecoder {
  readonly #endpoints: Endpoint[] = [];
  readonly #interned = new Map<string, unknown>();
  readonly #decodedDefaults = new Map<string, unknown>();
  #lineNo = 0;
  #expected: number | null = null;
  /** Endpoints decoded before the current section's header. */
  #before = 0;
  #defaults: Record<string, unknown> = {};

  /** @throws InventoryLineError naming the line */
  push(line: string): void {
    this.#lineNo++;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new InventoryLineError(
        this.#lineNo,
        `not JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const sectionDone = this.#expected !== null && this.#endpoints.length - this.#before >= this.#expected;
    if (this.#expected === null || (sectionDone && isHeader(raw))) {
      const h = d.decode(header, raw);
      if (!h.ok)
        throw new InventoryLineError(
          this.#lineNo,
          `not a ${INVENTORY_FORMAT} header: ${h.failure.field}: ${h.failure.problem}`,
        );
      this.#before = this.#endpoints.length;
      this.#expected = h.value.endpoints;
      this.#decodedDefaults.clear();
      this.#defaults =
        raw !== null && typeof raw === 'object' ? { ...(raw as { defaults?: object }).defaults } : {};
      return;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new InventoryLineError(this.#lineNo, 'expected an object');
    if (sectionDone)
      throw new InventoryLineError(
        this.#lineNo,
        `more endpoints than the ${this.#expected} the header announces`,
      );
    const fields: Record<string, unknown> = { ...this.#defaults, ...raw };
    if (fields.id === undefined && typeof fields.host === 'string' && typeof fields.port === 'number')
      fields.id = `${fields.host}:${fields.port}`;
    if (fields.name === undefined) fields.name = fields.id;
    const decoded = d.decode(endpointDecoder, fields);
    if (!decoded.ok)
      throw new InventoryLineError(this.#lineNo, `${decoded.failure.field}: ${decoded.failure.problem}`);
    const e = decoded.value as { -readonly [K in keyof Endpoint]: Endpoint[K] };
    const own = raw as Record<string, unknown>;
    e.policy = this.#shared('policy', own, e.policy);
    e.tags = this.#shared('tags', own, e.tags);
    e.channels = this.#shared('channels', own, e.channels);
    // One string, not two equal ones, for the usual names.
    if (e.name === e.id) e.name = e.id;
    else if (e.name === e.host) e.name = e.host;
    this.#endpoints.push(e);
  }

  /**
   * The endpoints, in file order.
   * @throws InventoryLineError when the header is missing or fewer endpoints came than it announces
   */
  finish(): Endpoint[] {
    if (this.#expected === null) throw new InventoryLineError(1, 'the inventory is empty (no header line)');
    const got = this.#endpoints.length - this.#before;
    if (got !== this.#expected)
      throw new InventoryLineError(
        this.#lineNo + 1,
        `the header announces ${this.#expected} endpoints, the file ends after ${got}`,
      );
    return this.#endpoints;
  }

  /** The default's one decoded copy when the line left `field` out, else the interned value. */
  #shared<T>(field: 'policy' | 'tags' | 'channels', own: Record<string, unknown>, value: T): T {
    if (field in own) return this.#intern(value);
    const seen = this.#decodedDefaults.get(field);
    if (seen !== undefined) return seen as T;
    this.#decodedDefaults.set(field, value);
    return value;
  }

  /** The one equal value seen before, so equal policies and tag lists are held once. */
  #intern<T>(value: T): T {
    const key = JSON.stringify(value);
    const seen = this.#interned.get(key);
    if (seen !== undefined) return seen as T;
    if (this.#interned.size < MAX_INTERNED) this.#interned.set(key, value);
    return value;
  }
}
