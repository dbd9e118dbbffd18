// What bmcweb does with credentials: write `user\0password\0` into a pipe and
// pass its read end. A FIFO gives the test a real pipe; the write end is
// closed before the call, so the reader sees EOF after the secret.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export function secretPipe(dir: string, payload: Buffer, keepWriterOpen = false): { fd: number; close(): void } {
  const path = join(dir, `secret-${process.hrtime.bigint()}`);
  execFileSync('mkfifo', ['-m', '0600', path]);
  const readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(path, constants.O_WRONLY);
  rmSync(path);
  if (payload.length) writeSync(writeEnd, payload);
  if (!keepWriterOpen) closeSync(writeEnd);
  return {
    fd: readEnd,
    close() {
      closeSync(readEnd);
      if (keepWriterOpen) closeSync(writeEnd);
    },
  };
}

export function secret(user: string, password: string): Buffer {
  return Buffer.from(`${user}\0${password}\0`, 'utf8');
}
