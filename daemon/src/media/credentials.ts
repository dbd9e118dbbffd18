// The secret bmcweb passes with Legacy.Mount: the read end of a pipe carrying
// `user\0password\0`. Read with a size bound and a deadline (a writer that
// never closes must not hang the daemon), parsed strictly, never logged.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { sleep } from '../util/abortable.js';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export class CredentialsError extends Error {}

/** Intel's daemon read at most 1024 bytes; bmcweb's payloads are far smaller. */
export const MAX_SECRET_BYTES = 1024;
const READ_DEADLINE_MS = 2000;

/** Strict: exactly `user\0password\0`, non-empty user, no line breaks or control characters. */
export function parseSecret(data: Buffer): Credentials {
  if (data.length > MAX_SECRET_BYTES) throw new CredentialsError(`the credentials are longer than ${MAX_SECRET_BYTES} bytes`);
  const nuls = [...data.keys()].filter((i) => data[i] === 0);
  if (nuls.length !== 2 || nuls[1] !== data.length - 1) throw new CredentialsError('the credentials must be "user\\0password\\0"');
  let user: string;
  let password: string;
  try {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    user = utf8.decode(data.subarray(0, nuls[0]));
    password = utf8.decode(data.subarray(nuls[0]! + 1, nuls[1]));
  } catch {
    throw new CredentialsError('the credentials are not valid UTF-8');
  }
  if (user.length === 0) throw new CredentialsError('the user name is empty');
  // Control characters would break the CIFS credentials file format (one key=value per line).
  if (/[\x00-\x1f\x7f]/.test(user) || /[\x00-\x1f\x7f]/.test(password)) throw new CredentialsError('the credentials contain control characters');
  return { user, password };
}

/**
 * Reads the secret from `fd`, which belongs to the caller (the runtime closes
 * it after the method returns): we read through our own descriptor on the
 * same pipe, opened via /proc/self/fd, and close only that one.
 */
export async function readSecretFd(fd: number): Promise<Credentials> {
  const st = fstatSync(fd);
  if (st.isFile()) return parseSecret(readBoundedSync(fd));
  if (!st.isFIFO() && !st.isSocket()) throw new CredentialsError('the credentials descriptor is not a pipe, socket or file');
  // O_NONBLOCK: opening a pipe for reading blocks until it has a writer.
  const own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
  return parseSecret(await readNonBlocking(own));
}

function readBoundedSync(fd: number): Buffer {
  const buf = Buffer.alloc(MAX_SECRET_BYTES + 1);
  let n = 0;
  for (;;) {
    const got = readSync(fd, buf, n, buf.length - n, n);
    if (got === 0 || n + got >= buf.length) return buf.subarray(0, n + got);
    n += got;
  }
}

/**
 * Non-blocking reads until EOF (every writer closed), polling on EAGAIN.
 * libuv's pipe handle misses EOF on a FIFO with no writers, and a blocking
 * read would tie up a thread for as long as a writer keeps the pipe open.
 */
async function readNonBlocking(fd: number): Promise<Buffer> {
  const deadline = Date.now() + READ_DEADLINE_MS;
  const buf = Buffer.alloc(MAX_SECRET_BYTES + 1);
  let n = 0;
  try {
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw new CredentialsError('the credentials descriptor cannot be read');
        if (Date.now() > deadline) throw new CredentialsError(`the credentials were not sent within ${READ_DEADLINE_MS / 1000} s`);
        await sleep(10);
        continue;
      }
      if (got === 0) return Buffer.from(buf.subarray(0, n));
      n += got;
      if (n > MAX_SECRET_BYTES) throw new CredentialsError(`the credentials are longer than ${MAX_SECRET_BYTES} bytes`);
    }
  } finally {
    closeSync(fd);
    buf.fill(0);
  }
}
