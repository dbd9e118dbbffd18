// Proxy-mode virtual media from a web page: serves a File (or any Blob) to
// bmcweb's /nbd/<id> websocket with the same NBD server core as the CLI.
// ESM, no Node APIs; a replacement for webui-vue's NBDServer.js.
//
//   import { serveFile } from './nbd.js';
//   const session = serveFile(input.files[0], `wss://${location.host}/nbd/0`, { protocols: [csrfToken] });
//   session.done.then((end) => ...);   // session.stop() ejects
import { NbdServerConnection, type ConnectionEnd, type ServerStats } from '../core/server.js';
import { BlobMedium } from './blob-medium.js';
import { browserWebSocketTransport } from './websocket-transport.js';

export { BlobMedium } from './blob-medium.js';
export { browserWebSocketTransport } from './websocket-transport.js';
export type { ConnectionEnd, ServerStats } from '../core/server.js';

export interface ServeFileOptions {
  /**
   * Websocket subprotocols. bmcweb, when the page's session is a cookie
   * (the web UI's login), requires the session's CSRF token (the
   * XSRF-TOKEN cookie) as the subprotocol.
   */
  protocols?: string | string[];
  /** Export name shown to NBD clients (default: the file's name). */
  name?: string;
  /** What a client did wrong, for the console. */
  log?: (line: string) => void;
}

export interface ServeEnd extends ConnectionEnd {
  /** Websocket close code and reason, when the websocket closed. */
  code?: number;
  closeReason?: string;
}

export interface ServingSession {
  readonly stats: ServerStats;
  /** Resolves once the websocket opened (rejects if it could not). */
  readonly opened: Promise<void>;
  /** Resolves when serving is over, for whatever reason. */
  readonly done: Promise<ServeEnd>;
  /** Ejects: closes the websocket (bmcweb then unmounts the medium). */
  stop(): void;
}

export function serveFile(file: Blob, url: string | URL, options: ServeFileOptions = {}): ServingSession {
  const ws = new WebSocket(url, options.protocols);
  ws.binaryType = 'arraybuffer';
  const name = options.name ?? ((file as File).name || '');
  const connection = new NbdServerConnection(new BlobMedium(file), browserWebSocketTransport(ws), { name, readOnly: true, log: options.log });
  let close: { code: number; reason: string } | undefined;
  let wasOpen = false;
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => {
      wasOpen = true;
      connection.start();
      resolve();
    });
    ws.addEventListener('close', (ev) => {
      close = { code: ev.code, reason: ev.reason };
      if (!wasOpen) reject(new Error(`websocket ${String(url)} closed before opening (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`));
      connection.peerClosed();
    });
  });
  opened.catch(() => undefined); // observed through done as well
  ws.addEventListener('message', (ev: MessageEvent) => {
    if (ev.data instanceof ArrayBuffer) connection.receive(new Uint8Array(ev.data));
    else connection.close('a text message arrived on the NBD websocket');
  });
  // Over once the server side is done and the websocket has closed (bmcweb unmounts on the close).
  const wsClosed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
  const done = Promise.all([connection.done, wsClosed]).then(([end]): ServeEnd => ({ ...end, code: close!.code, closeReason: close!.reason }));
  return {
    stats: connection.stats,
    opened,
    done,
    stop: () => {
      if (wasOpen) connection.close('stopped by the page');
      else ws.close();
    },
  };
}
