// A Node stream socket (unix or TCP) as the transport: the conformance
// tests, and an NBD server on a plain socket (`--listen`).
import type { Socket } from 'node:net';
import { NbdServerConnection, type ServerOptions } from '../core/server.js';
import type { Medium } from '../core/medium.js';
import type { Transport } from '../core/transport.js';
import { ReplyBufferPool } from './reply-pool.js';

/** How long queued replies may take to drain after we close, before the socket is cut. */
const CLOSE_GRACE_MS = 5000;

/** `written` is told of each buffer the socket has written whole (a ReplyBufferPool takes it back). */
export function socketTransport(socket: Socket, written?: (bytes: Uint8Array) => void): Transport {
  return {
    send: (bytes) => {
      if (socket.destroyed) return;
      if (written) socket.write(bytes, (error) => error || written(bytes));
      else socket.write(bytes);
    },
    close: () => {
      if (socket.destroyed) return;
      socket.end(() => socket.destroy());
      // A peer that stops reading would keep end() from ever finishing.
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    },
    get bufferedAmount() {
      return socket.writableLength;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableLength === 0) return resolve();
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      }),
    pauseInput: () => socket.pause(),
    resumeInput: () => socket.resume(),
  };
}

/** Serves `medium` to the NBD client on `socket`; resolves when the connection is over. */
export function serveSocket(socket: Socket, medium: Medium, options: ServerOptions = {}): NbdServerConnection {
  const pool = new ReplyBufferPool();
  const connection = new NbdServerConnection(medium, socketTransport(socket, pool.written), { allocate: pool.take, ...options });
  socket.on('data', (chunk: Buffer) => connection.receive(chunk));
  socket.on('error', (e) => options.log?.(`socket error: ${e.message}`));
  socket.on('close', () => connection.peerClosed());
  connection.start();
  return connection;
}
