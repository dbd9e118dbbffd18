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

/** bmcweb accepts a UserName and a Password of at most 512 bytes each (Redfish InsertMedia). */
export const MAX_USER_BYTES = 512;
export const MAX_PASSWORD_BYTES = 512;
/** Both at their limit, each followed by its NUL. */
export const MAX_SECRET_BYTES = MAX_USER_BYTES + MAX_PASSWORD_BYTES + 2;
/** bmcweb writes the pipe right after sending the call; a writer that never closes it is refused after this. */
export const READ_DEADLINE_MS = 2000;

/**
 * Parses what bmcweb writes into the credentials pipe: exactly
 * `user\0password\0`. bmcweb always sends a pipe, so "no credentials" is
 * `\0\0` (both empty): that is undefined here. A user with an empty password
 * is fine; a password without a user is refused (nothing could use it).
 * Errors never quote the bytes.
 */
export function parseSecret(data: Buffer): Credentials | undefined {
  if (data.length > MAX_SECRET_BYTES) throw new CredentialsError(`the credentials are longer than ${MAX_SECRET_BYTES} bytes (a user name and a password of at most ${MAX_USER_BYTES} bytes each, each followed by a NUL)`);
  const nuls: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] === 0) nuls.push(i);
  if (nuls.length !== 2 || nuls[1] !== data.length - 1) {
    throw new CredentialsError(nuls.length === 2 ? 'the credentials must end with the NUL after the password' : `the credentials must be "user\\0password\\0" with exactly two NULs`);
  }
  const userBytes = data.subarray(0, nuls[0]);
  const passwordBytes = data.subarray(nuls[0]! + 1, nuls[1]);
  if (userBytes.length > MAX_USER_BYTES) throw new CredentialsError(`the user name is longer than ${MAX_USER_BYTES} bytes`);
  if (passwordBytes.length > MAX_PASSWORD_BYTES) throw new CredentialsError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  if (userBytes.length === 0 && passwordBytes.length === 0) return undefined;
  if (userBytes.length === 0) throw new CredentialsError('a password was given without a user name');
  let user: string;
  let password: string;
  try {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    user = utf8.decode(userBytes);
    password = utf8.decode(passwordBytes);
  } catch {
    throw new CredentialsError('the credentials are not valid UTF-8');
  }
  // Control characters would break the CIFS credentials file format (one key=value per line).
  if (/[\x00-\x1f\x7f]/.test(user)) throw new CredentialsError('the user name contains control characters');
  if (/[\x00-\x1f\x7f]/.test(password)) throw new CredentialsError('the password contains control characters');
  return { user, password };
}

/**
 * Reads the secret from `fd`, which belongs to the caller (the runtime closes
 * it after the method returns): we read through our own descriptor on the
 * same pipe, opened via /proc/self/fd, and close only that one.
 */
export async function readSecretFd(fd: number): Promise<Credentials | undefined> {
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
