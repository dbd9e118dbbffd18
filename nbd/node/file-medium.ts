// A local image file as the medium (the CLI). Regular files only: Node has
// no portable way to learn a block device's size.
//
// Reads and writes go through fs.read/fs.write with callbacks, not the
// FileHandle promise API: one 128 KiB READ is one request to libuv's thread
// pool either way, but the promise API adds a promise, a result object and a
// microtask hop per call. On a warm server that was 0.70x of nbdkit's rate on
// the same socket with promises, 0.84x with callbacks (bench/nbd.ts row (d)).
import { read, write } from 'node:fs';
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

  read(offset: number, into: Uint8Array): Promise<void> {
    const fd = this.handle.fd;
    return new Promise((resolve, reject) => {
      const readFrom = (done: number) =>
        read(fd, into, done, into.byteLength - done, offset + done, (error, bytesRead) => {
          if (error) return reject(error);
          if (bytesRead === 0) return reject(Object.assign(new Error(`${this.path} ended at ${offset + done} (shrunk while served?)`), { code: 'EIO' }));
          if (done + bytesRead < into.byteLength) return readFrom(done + bytesRead);
          resolve();
        });
      readFrom(0);
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) return Promise.reject(Object.assign(new Error(`${this.path} is open read-only`), { code: 'EPERM' }));
    const fd = this.handle.fd;
    return new Promise((resolve, reject) => {
      const writeFrom = (done: number) =>
        write(fd, data, done, data.byteLength - done, offset + done, (error, bytesWritten) => {
          if (error) return reject(error);
          if (done + bytesWritten < data.byteLength) return writeFrom(done + bytesWritten);
          resolve();
        });
      writeFrom(0);
    });
  }

  async flush(): Promise<void> {
    if (this.writable) await this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
