// What an export serves: a fixed-size array of bytes. The Node CLI backs it
// with a file handle (nbd/node/file-medium.ts), the browser module with a
// File or Blob (nbd/browser/blob-medium.ts), tests with memory.

export interface Medium {
  /** Size in bytes: an integer in [0, Number.MAX_SAFE_INTEGER]. */
  readonly size: number;
  /** Whether write() and flush() may be called. */
  readonly writable: boolean;
  /**
   * Fills `into` with the bytes at [offset, offset + into.byteLength).
   * The caller has checked the range against `size`. Rejects on I/O errors.
   */
  read(offset: number, into: Uint8Array): Promise<void>;
  /** Stores `data` at `offset` (range checked by the caller). Writable media only. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes completed writes durable. Writable media only. */
  flush(): Promise<void>;
}

/** A medium in memory: tests, and small generated images. */
export class MemoryMedium implements Medium {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly writable = false,
  ) {
    this.size = bytes.byteLength;
  }
  async read(offset: number, into: Uint8Array): Promise<void> {
    into.set(this.bytes.subarray(offset, offset + into.byteLength));
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new Error('medium is read-only');
    this.bytes.set(data, offset);
  }
  async flush(): Promise<void> {}
}
