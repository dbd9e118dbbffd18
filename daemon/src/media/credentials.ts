// The secret bmcweb passes with Legacy.Mount: the read end of a pipe carrying
// `user\0password\0`. Read with a size bound and a deadline (a writer that
// never closes must not hang the daemon), parsed strictly, never logged.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Socket } from 'node:net';

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
  const own = openSync(`/proc/self/fd/${fd}`, 'r');
  return parseSecret(await readStream(own));
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

function readStream(fd: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    try {
      socket = new Socket({ fd, readable: true, writable: false });
    } catch (e) {
      closeSync(fd);
      return reject(new CredentialsError('the credentials descriptor cannot be read'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => finish(new CredentialsError('the credentials were not sent within 2 s')), READ_DEADLINE_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_SECRET_BYTES) finish(new CredentialsError(`the credentials are longer than ${MAX_SECRET_BYTES} bytes`));
    });
    socket.on('end', () => finish(undefined));
    socket.on('error', () => finish(new CredentialsError('the credentials descriptor cannot be read')));
  });
}
