// The byte stream between the server and one NBD client. The core only
// sees this; nbd/node/ adapts Node sockets and `ws` websockets to it,
// nbd/browser/ the browser's WebSocket.

export interface Transport {
  /** Queues bytes for the client, in order. The core does not reuse `bytes` afterwards. */
  send(bytes: Uint8Array): void;
  /** Ends the connection once what was queued is sent. Called once. */
  close(): void;
  /** Bytes queued but not yet handed to the network (output back-pressure). */
  readonly bufferedAmount: number;
  /** Resolves when bufferedAmount has fallen enough to queue more. */
  drained(): Promise<void>;
  /** Stop / restart delivering input (optional: a browser WebSocket cannot). */
  pauseInput?(): void;
  resumeInput?(): void;
}
