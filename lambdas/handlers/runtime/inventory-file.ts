/**
 * Reads the inventory file bundled beside the dispatcher (gzip NDJSON, `core/inventory-lines.ts`) as
 * a stream: gunzip, split into lines of bounded length, decode each. The process never holds the
 * file's text, only the decoded endpoints.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Endpoint } from '../../core/model';
import { InventoryDecoder, InventoryLineError } from '../../core/inventory-lines';
import * as d from '../../core/decode';
import { DISPATCH_PLAN_FORMAT, type DispatchPlanFile } from '../../pipeline/dispatch-plan';
import { ConfigurationError } from './env';

/** No endpoint's line comes near this (a client certificate is a few KB); a longer one is a broken file. */
export const MAX_INVENTORY_LINE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;

/**
 * The endpoints of the inventory file at `path`.
 * @throws ConfigurationError naming the file and the line when it cannot be read or a line does not decode
 */
export async function readInventoryFile(
  path: string,
  maxLineBytes: number = MAX_INVENTORY_LINE_BYTES,
  /** Read only these bytes (one dispatch shard's gzip member: `DispatchPlanFile`). @default the whole file */
  range?: { readonly offset: number; readonly bytes: number },
): Promise<Endpoint[]> {
  const decoder = new InventoryDecoder();
  let lineNo = 0;
  try {
    const gunzip = createGunzip();
    const source = createReadStream(
      path,
      range === undefined ? {} : { start: range.offset, end: range.offset + range.bytes - 1 },
    );
    // pipeline, not pipe: a read error (a missing file) then ends the gunzip stream with it.
    pipeline(source, gunzip, () => {});
    for await (const line of boundedLines(gunzip, maxLineBytes)) {
      lineNo++;
      decoder.push(line);
    }
    return decoder.finish();
  } catch (error) {
    if (error instanceof InventoryLineError)
      throw new ConfigurationError(`bundled inventory ${path}: ${error.message}`);
    if (error instanceof LineTooLong)
      throw new ConfigurationError(
        `bundled inventory ${path}: line ${lineNo + 1}: longer than ${maxLineBytes} bytes`,
      );
    throw new ConfigurationError(
      `cannot read the bundled inventory ${path} (after line ${lineNo}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

class LineTooLong extends Error {
  override readonly name = 'LineTooLong';
}

/** The stream's lines (UTF-8, without the line break; a last line without one counts), none longer than `max` bytes. */
async function* boundedLines(stream: AsyncIterable<Buffer>, max: number): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      if (length + nl - from > max) throw new LineTooLong();
      if (parts.length === 0) yield chunk.toString('utf8', from, nl);
      else yield Buffer.concat([...parts, chunk.subarray(from, nl)]).toString('utf8');
      parts = [];
      length = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      length += chunk.length - from;
      if (length > max) throw new LineTooLong();
      // A copy: a view would keep the whole chunk alive.
      parts.push(Buffer.from(chunk.subarray(from)));
    }
  }
  if (length > 0) yield Buffer.concat(parts).toString('utf8');
}

const dispatchPlanFile: d.Decoder<DispatchPlanFile> = d.object({
  format: d.literal(DISPATCH_PLAN_FORMAT),
  shards: d.array(
    d.object({
      offset: d.index,
      bytes: d.index,
      endpoints: d.index,
      segments: d.array(
        d.object({ partition: d.index, from: d.nullable(d.string), to: d.nullable(d.string) }),
      ),
    }),
  ),
});

/**
 * The dispatch plan bundled beside the dispatcher (`DispatchPlanFile`): small (a few hundred shards
 * at a million endpoints), so read whole.
 * @throws ConfigurationError naming the file and the first bad field
 */
export function readDispatchPlanFile(path: string): DispatchPlanFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(
      `cannot read the bundled dispatch plan ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const decoded = d.decode(dispatchPlanFile, json);
  if (!decoded.ok)
    throw new ConfigurationError(
      `bundled dispatch plan ${path}: ${decoded.failure.field}: ${decoded.failure.problem}`,
    );
  return decoded.value;
}
