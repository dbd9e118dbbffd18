// A unix stream socket that passes file descriptors, as a Duplex dbus-next's
// handshake and message code can use: writes take `{ data, fds }` (or a
// Buffer or string), received fds queue up in arrival order and are taken
// with takeFds(n). Every fd it receives is either taken or closed when the
// socket closes. The system calls live in our Node-API addon
// (codegen/runtime/unix-fd/, loaded only by connections that pass fds);
// README.md says why it replaced usocket.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Duplex } from 'node:stream';

/** The npm package of the addon (codegen/runtime/unix-fd/), an optional dependency of the runtime. */
export const UNIX_FD_ADDON = 'openbmc-dbus-unix-fd';

interface Poller {
  /** 1 readable, 2 writable, 3 both, 0 none. */
  start(events: number): void;
  close(): void;
}

export interface UnixFdAddon {
  connect(path: string | Buffer): number;
  recv(fd: number, maxBytes: number): { data: Buffer; fds: number[] } | null;
  send(fd: number, data: Buffer, fds?: number[]): number;
  shutdown(fd: number): void;
  closeFd(fd: number): void;
  Poller: new (fd: number, onEvents: (status: number, events: number) => void) => Poller & { readonly fd: number };
}

let loaded: UnixFdAddon | undefined;
let failed: Error | undefined;

/**
 * Loads the addon, or throws saying why fd passing is unavailable: not
 * installed (npm leaves an optional dependency out when its build fails),
 * installed without its build (--ignore-scripts), or a build that does not
 * load here (another architecture). The caller adds which bus needed it.
 */
export function loadUnixFdAddon(): UnixFdAddon {
  if (loaded) return loaded;
  if (failed) throw failed;
  const require = createRequire(import.meta.url);
  try {
    // The built module itself: a package "main" would make npm pack ship a host build.
    loaded = require(`${UNIX_FD_ADDON}/build/Release/unix_fd.node`) as UnixFdAddon;
    return loaded;
  } catch (e) {
    let why: string;
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      let installedAt: string | undefined;
      try {
        installedAt = dirname(require.resolve(`${UNIX_FD_ADDON}/package.json`));
      } catch {
        // not installed at all
      }
      why = installedAt
        ? `it is installed (${installedAt}) but was not built: run \`npm rebuild ${UNIX_FD_ADDON}\` (node-gyp needs make, a C compiler and python3)`
        : `it is not installed (npm leaves this optional dependency of openbmc-dbus-runtime out when its build fails; \`npm install ${UNIX_FD_ADDON}\` shows why)`;
    } else {
      // Only the first line: the rest is node's require stack (our source paths).
      why = String((e as Error).message).split('\n')[0]!;
    }
    failed = new Error(`unix fd passing is unavailable: the native addon ${UNIX_FD_ADDON} did not load: ${why}`);
    throw failed;
  }
}

const READABLE = 1;
const WRITABLE = 2;
const READ_BYTES = 64 * 1024;
/** A full listen backlog (EAGAIN) is retried this often, this many times. */
const CONNECT_RETRY_MS = 10;
const CONNECT_RETRIES = 500;

interface Chunk {
  data: Buffer;
  fds: number[];
  done(error?: Error | null): void;
}

function toChunk(chunk: unknown, done: Chunk['done']): Chunk {
  if (typeof chunk === 'string') return { data: Buffer.from(chunk), fds: [], done };
  if (Buffer.isBuffer(chunk)) return { data: chunk, fds: [], done };
  const c = chunk as { data?: unknown; fds?: unknown };
  if (c && Buffer.isBuffer(c.data) && (c.fds === undefined || Array.isArray(c.fds))) return { data: c.data, fds: (c.fds as number[] | undefined) ?? [], done };
  throw new TypeError('UnixFdSocket.write takes a Buffer, a string or { data: Buffer, fds?: number[] }');
}

function closedError(): Error {
  return Object.assign(new Error('the socket was closed before the data was sent'), { code: 'ERR_STREAM_DESTROYED' });
}

export class UnixFdSocket extends Duplex {
  /** dbus-next's handshake offers fd passing when set (and clears it if the bus refuses). */
  supportsUnixFd = true;
  /** True from the connect until the socket closes. */
  connected = false;
  readonly #addon: UnixFdAddon;
  #poller: (Poller & { readonly fd: number }) | null = null;
  #fd = -1;
  /** Received fds not yet taken, oldest first. */
  #fds: number[] = [];
  #wantRead = false;
  /** A write the socket buffer had no room for: sent when it becomes writable. */
  #blocked: Chunk | null = null;
  /** The end of our side, waiting for the connect. */
  #finalPending: ((error?: Error | null) => void) | null = null;
  #retryTimer: NodeJS.Timeout | null = null;

  /** `path` starting with NUL is an abstract address. */
  constructor(readonly path: string, addon: UnixFdAddon = loadUnixFdAddon()) {
    super({ writableObjectMode: true, allowHalfOpen: false });
    this.#addon = addon;
    // Connected on the next tick, once the creator has attached its listeners.
    process.nextTick(() => this.#connect(0));
  }

  /** Up to `count` received fds, oldest first; the caller owns them. */
  takeFds(count: number): number[] {
    return this.#fds.splice(0, Math.max(0, count));
  }

  /** How many received fds wait to be taken. */
  get queuedFds(): number {
    return this.#fds.length;
  }

  #connect(attempt: number): void {
    this.#retryTimer = null;
    if (this.destroyed) return;
    let fd: number;
    try {
      fd = this.#addon.connect(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN' && attempt < CONNECT_RETRIES) {
        this.#retryTimer = setTimeout(() => this.#connect(attempt + 1), CONNECT_RETRY_MS);
        return;
      }
      this.destroy(e as Error);
      return;
    }
    try {
      this.#poller = new this.#addon.Poller(fd, (status, events) => this.#onEvents(status, events));
    } catch (e) {
      this.destroy(e as Error); // the poller closed the fd
      return;
    }
    this.#fd = fd;
    this.connected = true;
    this.emit('connect');
    const blocked = this.#blocked;
    this.#blocked = null;
    if (blocked) this.#send(blocked);
    if (this.#finalPending && !this.#blocked) this.#final(this.#finalPending);
    this.#updatePoll();
  }

  #updatePoll(): void {
    if (!this.#poller) return;
    try {
      this.#poller.start((this.#wantRead ? READABLE : 0) | (this.#blocked ? WRITABLE : 0));
    } catch (e) {
      this.destroy(e as Error);
    }
  }

  #onEvents(status: number, events: number): void {
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy(Object.assign(new Error(`poll on the D-Bus socket ${this.#shownPath()} failed (${status})`), { errno: status }));
      return;
    }
    if (events & WRITABLE && this.#blocked) {
      const blocked = this.#blocked;
      this.#blocked = null;
      this.#send(blocked);
      if (this.destroyed) return;
      if (!this.#blocked && this.#finalPending) this.#final(this.#finalPending);
    }
    if (events & READABLE && this.#wantRead) this.#readLoop();
    if (!this.destroyed) this.#updatePoll();
  }

  #readLoop(): void {
    while (this.#wantRead && !this.destroyed) {
      let got: { data: Buffer; fds: number[] } | null;
      try {
        got = this.#addon.recv(this.#fd, READ_BYTES);
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      if (!got) return; // nothing more for now
      // Queue the fds before the bytes: a reader of the message finds them.
      if (got.fds.length > 0) this.#fds.push(...got.fds);
      if (got.data.length === 0 && got.fds.length === 0) {
        this.#wantRead = false;
        this.push(null);
        return;
      }
      if (got.data.length > 0 && !this.push(got.data)) this.#wantRead = false;
    }
  }

  override _read(): void {
    this.#wantRead = true;
    if (this.#poller) this.#readLoop();
    if (!this.destroyed) this.#updatePoll();
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let c: Chunk;
    try {
      c = toChunk(chunk, callback);
    } catch (e) {
      callback(e as Error);
      return;
    }
    if (!this.#poller) {
      this.#blocked = c; // sent once connected
      return;
    }
    this.#send(c);
    this.#updatePoll();
  }

  /** Sends as much as the socket takes; the rest waits for it to be writable. */
  #send(c: Chunk): void {
    let { data, fds } = c;
    while (data.length > 0) {
      let n: number;
      try {
        n = this.#addon.send(this.#fd, data, fds.length > 0 ? fds : undefined);
      } catch (e) {
        c.done(e as Error);
        return;
      }
      if (n < 0) {
        this.#blocked = { data, fds, done: c.done };
        return;
      }
      data = data.subarray(n);
      fds = []; // they went with the first byte
    }
    c.done();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#poller || this.#blocked) {
      this.#finalPending = callback;
      return;
    }
    this.#final(callback);
  }

  #final(callback: (error?: Error | null) => void): void {
    this.#finalPending = null;
    try {
      this.#addon.shutdown(this.#fd);
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    // Closing the poller closes the socket; nothing calls back afterwards.
    this.#poller?.close();
    this.#poller = null;
    this.#fd = -1;
    this.connected = false;
    for (const fd of this.#fds.splice(0)) this.#addon.closeFd(fd);
    const blocked = this.#blocked;
    this.#blocked = null;
    if (blocked) blocked.done(closedError());
    const finalPending = this.#finalPending;
    this.#finalPending = null;
    if (finalPending) finalPending(closedError());
    callback(error);
  }

  #shownPath(): string {
    return this.path.startsWith('\0') ? `@${this.path.slice(1)}` : this.path;
  }
}
