// A local image file as the medium (the CLI). Regular files only: Node has
// no portable way to learn a block device's size.
import { open, type FileHandle } from 'node:fs/promises';
import type { Medium } from '../core/medium.js';

export class FileMedium implements Medium {
  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly writable: boolean,
    readonly path: string,
  ) {}

  static async open(path: string, writable: boolean): Promise<FileMedium> {
    const handle = await open(path, writable ? 'r+' : 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new Error(`${path} is not a regular file`);
      return new FileMedium(handle, st.size, writable, path);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    let done = 0;
    while (done < into.byteLength) {
      const { bytesRead } = await this.handle.read(into, done, into.byteLength - done, offset + done);
      if (bytesRead === 0) throw Object.assign(new Error(`${this.path} ended at ${offset + done} (shrunk while served?)`), { code: 'EIO' });
      done += bytesRead;
    }
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw Object.assign(new Error(`${this.path} is open read-only`), { code: 'EPERM' });
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await this.handle.write(data, done, data.byteLength - done, offset + done);
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    if (this.writable) await this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
