// A File or Blob as the medium: read-only (a web page cannot write the
// user's file back).
import type { Medium } from '../core/medium.js';

export class BlobMedium implements Medium {
  readonly writable = false;
  readonly size: number;

  constructor(private readonly blob: Blob) {
    this.size = blob.size;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    const bytes = new Uint8Array(await this.blob.slice(offset, offset + into.byteLength).arrayBuffer());
    if (bytes.byteLength !== into.byteLength) throw new Error(`the file gave ${bytes.byteLength} bytes at ${offset}, ${into.byteLength} asked (changed on disk?)`);
    into.set(bytes);
  }

  async write(): Promise<void> {
    throw new Error('a browser File is read-only');
  }

  async flush(): Promise<void> {}
}
