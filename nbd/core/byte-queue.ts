// Bytes received but not yet parsed. Chunks are kept as they came (no
// concatenation on every arrival); a contiguous copy is made only when a
// message spans chunk boundaries, or a payload is taken whole.
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
  }

  /** A view of the first `n` bytes without consuming them (n <= length). */
  peek(n: number): Uint8Array {
    if (n > this.size) throw new RangeError(`peek(${n}) with ${this.size} bytes queued`);
    const first = this.chunks[0];
    if (first && first.byteLength - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let skip = this.head;
    for (const c of this.chunks) {
      const part = c.subarray(skip, Math.min(c.byteLength, skip + (n - filled)));
      out.set(part, filled);
      filled += part.byteLength;
      skip = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes (a view when they lie in one chunk). */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  /** Drops up to `n` bytes; returns how many were dropped. */
  skip(n: number): number {
    let left = Math.min(n, this.size);
    const dropped = left;
    while (left > 0) {
      const first = this.chunks[0]!;
      const avail = first.byteLength - this.head;
      if (avail <= left) {
        left -= avail;
        this.chunks.shift();
        this.head = 0;
      } else {
        this.head += left;
        left = 0;
      }
    }
    this.size -= dropped;
    return dropped;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
  }
}
