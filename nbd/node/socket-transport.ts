// A Node stream socket (unix or TCP) as the transport: the conformance
// tests, and an NBD server on a plain socket (`--listen`).
import type { Socket } from 'node:net';
import { NbdServerConnection, type ServerOptions } from '../core/server.js';
import type { Medium } from '../core/medium.js';
import type { Transport } from '../core/transport.js';

/** How long queued replies may take to drain after we close, before the socket is cut. */
const CLOSE_GRACE_MS = 5000;

export function socketTransport(socket: Socket): Transport {
  return {
    send: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
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
  const connection = new NbdServerConnection(medium, socketTransport(socket), { allocate: (n) => Buffer.allocUnsafe(n), ...options });
  socket.on('data', (chunk: Buffer) => connection.receive(chunk));
  socket.on('error', (e) => options.log?.(`socket error: ${e.message}`));
  socket.on('close', () => connection.peerClosed());
  connection.start();
  return connection;
}
