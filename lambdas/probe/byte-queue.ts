/**
 * A FIFO of byte chunks with bounded-cost reads, for incremental parsing of
 * data that arrives in arbitrary pieces (one byte at a time, or megabytes).
 */
export class ByteQueue {
  private readonly chunks: Buffer[] = [];
  /** Bytes currently queued. */
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * The first `n` bytes as one contiguous view, without consuming them; null while fewer are queued.
   * Chunks are merged only once enough bytes are present, so a message trickled in byte by byte is
   * copied once, not once per byte.
   */
  peek(n: number): Buffer | null {
    if (this.length < n) return null;
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= n) return first.subarray(0, n);
    let count = 0;
    let size = 0;
    while (size < n) size += this.chunks[count++]!.length;
    const merged = Buffer.concat(this.chunks.slice(0, count), size);
    this.chunks.splice(0, count, merged);
    return merged.subarray(0, n);
  }

  /**
   * Offset of the first `byte` at or after `from` and before `limit` (at most the queued length),
   * or -1. Scans chunk by chunk without merging, so a reader can resume where its last scan ended.
   */
  indexOf(byte: number, from = 0, limit = this.length): number {
    const end = Math.min(limit, this.length);
    let base = 0;
    for (const chunk of this.chunks) {
      if (base >= end) break;
      if (base + chunk.length > from) {
        const start = Math.max(0, from - base);
        const stop = Math.min(chunk.length, end - base);
        const at = chunk.subarray(0, stop).indexOf(byte, start);
        if (at !== -1) return base + at;
      }
      base += chunk.length;
    }
    return -1;
  }

  /** Consume and return every queued byte. */
  takeAll(): Buffer {
    return this.take(this.length) ?? Buffer.alloc(0);
  }

  /** Consume and return the first `n` bytes; null (and nothing consumed) while fewer are queued. */
  take(n: number): Buffer | null {
    const bytes = this.peek(n);
    if (bytes) this.drop(n);
    return bytes;
  }

  private drop(n: number): void {
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        this.chunks.shift();
        left -= first.length;
      } else {
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
  }
}
