// READ reply buffers, reused once the transport has written them. A fresh
// 128 KiB Buffer per READ costs page faults and garbage-collector work on
// every request (bench/nbd.ts row (d)); a read stream asks for the same size
// again and again, so a few buffers per size go round instead.
//
// A buffer comes back only when the transport says it was written whole
// (its write callback), never while the socket or ws may still read it. The
// core overwrites every byte of a READ reply before sending it (header from
// the request, data from the medium, which fails rather than read short), so
// a reused buffer never carries earlier bytes out; a failed READ's buffer is
// not sent and so never comes back.

/** Sizes above this are not pooled (rare, large READs: up to 32 MiB). */
const MAX_POOLED_SIZE = 1024 * 1024 + 16;
/** Buffers kept per size: the core's default request depth (16), twice over. */
const KEPT_PER_SIZE = 32;

export class ReplyBufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private readonly lent = new WeakSet<Uint8Array>();

  /** The core's `allocate`: a buffer of exactly `size` bytes, contents undefined. */
  readonly take = (size: number): Buffer => {
    const buffer = this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
    if (size <= MAX_POOLED_SIZE) this.lent.add(buffer);
    return buffer;
  };

  /** The transport wrote `bytes` completely: a buffer from take() goes back. Anything else is ignored. */
  readonly written = (bytes: Uint8Array): void => {
    if (!this.lent.has(bytes)) return;
    this.lent.delete(bytes);
    let list = this.free.get(bytes.byteLength);
    if (!list) this.free.set(bytes.byteLength, (list = []));
    if (list.length < KEPT_PER_SIZE) list.push(bytes as Buffer);
  };
}
