// The browser's WebSocket as the transport. It cannot pause input, and has
// no drain event: back-pressure polls bufferedAmount.
import type { Transport } from '../core/transport.js';
import { BMCWEB_MAX_MESSAGE, messagesOf } from '../core/websocket-messages.js';

const LOW_WATER = 1024 * 1024;
const POLL_MS = 5;

export function browserWebSocketTransport(ws: WebSocket, maxMessage = BMCWEB_MAX_MESSAGE): Transport {
  return {
    send: (bytes) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // Our buffers are never shared memory.
      for (const message of messagesOf(bytes, maxMessage)) ws.send(message as Uint8Array<ArrayBuffer>);
    },
    close: () => {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'NBD session over');
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        const poll = () => {
          if (ws.bufferedAmount <= LOW_WATER || ws.readyState !== WebSocket.OPEN) resolve();
          else setTimeout(poll, POLL_MS);
        };
        poll();
      }),
  };
}
