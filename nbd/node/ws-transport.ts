// A `ws` WebSocket to bmcweb's /nbd/<id> as the transport (the CLI).
// Messages are cut to bmcweb's size limit; back-pressure counts the bytes
// handed to ws that it has not written to the socket yet.
import type WebSocket from 'ws';
import { BMCWEB_MAX_MESSAGE, messagesOf } from '../core/websocket-messages.js';
import { NbdServerConnection, type ServerOptions } from '../core/server.js';
import type { Medium } from '../core/medium.js';
import type { Transport } from '../core/transport.js';
import { ReplyBufferPool } from './reply-pool.js';

const LOW_WATER = 1024 * 1024;

/** `written` is told of each buffer sent whole as one message and written (a ReplyBufferPool takes it back). */
export function websocketTransport(ws: WebSocket, maxMessage = BMCWEB_MAX_MESSAGE, written?: (bytes: Uint8Array) => void): Transport {
  let pending = 0;
  let waiters: Array<() => void> = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  ws.on('close', wake);
  return {
    send: (bytes) => {
      if (ws.readyState !== ws.OPEN) return;
      for (const message of messagesOf(bytes, maxMessage)) {
        pending += message.byteLength;
        ws.send(message, { binary: true }, (error) => {
          pending -= message.byteLength;
          if (!error && message === bytes) written?.(bytes);
          if (pending <= LOW_WATER) wake();
        });
      }
    },
    close: () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, 'NBD session over');
    },
    get bufferedAmount() {
      return pending;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        if (pending <= LOW_WATER || ws.readyState !== ws.OPEN) return resolve();
        waiters.push(resolve);
      }),
    pauseInput: () => ws.pause(),
    resumeInput: () => ws.resume(),
  };
}

/** Serves `medium` over an open websocket; the greeting is sent at once. */
export function serveWebSocket(ws: WebSocket, medium: Medium, options: ServerOptions = {}): NbdServerConnection {
  const pool = new ReplyBufferPool();
  const connection = new NbdServerConnection(medium, websocketTransport(ws, BMCWEB_MAX_MESSAGE, pool.written), { allocate: pool.take, ...options });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    if (Array.isArray(data)) for (const d of data) connection.receive(d);
    else connection.receive(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  });
  ws.on('error', (e) => options.log?.(`websocket error: ${e.message}`));
  ws.on('close', () => connection.peerClosed());
  connection.start();
  return connection;
}
