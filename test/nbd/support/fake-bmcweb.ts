// A stand-in for bmcweb, for tests and the bench only: the Redfish pieces a
// proxy-mode client touches (SessionService sessions, the Managers and
// VirtualMedia collections with Oem.OpenBMC.WebSocketEndpoint) and the
// /nbd/<id> websocket relay, behaving as bmcweb 7debb8928f does:
//
// - authentication: X-Auth-Token, or the BMCWEB-SESSION cookie with the CSRF
//   token as the websocket subprotocol (http/websocket_impl.hpp); the
//   subprotocol is echoed;
// - /nbd/<id>: <id> is the last path segment, the mount point
//   Proxy/Slot_<id>; a second websocket for a slot in use is closed
//   ("Slot is in use"); the socket file is unlinked, then bound and listened
//   on, then Proxy.Mount is called (`mounted` fires); websocket
//   reading is deferred until the NBD client (the daemon's nbd-client; in
//   tests nbdcopy/nbdinfo) connects to that socket;
// - bytes: each websocket message is written to the unix socket and the
//   next message is read only once that write completed; bytes read from the
//   socket go out as binary messages; an incoming message larger than
//   131088 bytes fails the read and closes the websocket;
// - on websocket close: the peer socket is closed, the socket file removed,
//   then Proxy.Unmount is called (its error only logged; `unmounted` fires).
//
// Where the socket is and what Proxy.Mount/Unmount do is a SlotBackend: by
// default a socket in the test's directory and no daemon (the host tests put
// nbdcopy/nbdinfo on the socket); the e2e VM passes one that reads the
// mount point's Socket and calls the shipped daemon over D-Bus.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createUnix, type Server as UnixServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { BMCWEB_MAX_MESSAGE } from '../../../nbd/core/websocket-messages.js';
import type { Pki } from '../../daemon/support/tls-server.js';

export interface FakeSlot {
  /** Redfish Id, D-Bus object name: Slot_0. */
  id: string;
  /** Proxy slots: the EndpointId, e.g. /nbd/0. Legacy slots: undefined. */
  endpoint?: string;
}

/** What bmcweb asks the daemon for a proxy slot (vm_websocket.hpp), over D-Bus in the real thing. */
export interface SlotBackend {
  /** Properties.GetAll(MountPoint) on Proxy/<slot>: the `Socket` to listen on. */
  socketOf(slot: string): Promise<string>;
  /** Proxy.Mount(), once the socket listens; a rejection closes the websocket. */
  mount(slot: string): Promise<void>;
  /** Proxy.Unmount() after the websocket closed; a rejection is only logged, as bmcweb does. */
  unmount(slot: string): Promise<void>;
}

interface SlotInUse {
  unix: UnixServer;
  peer?: Socket;
  ws: WebSocket;
  /** The socket file, once the backend named it. */
  path: string;
  /** Proxy.Mount returned. */
  mounted: boolean;
}

interface Session {
  id: string;
  token: string;
  csrf: string;
  user: string;
}

export class FakeBmcweb extends EventEmitter {
  readonly sessions = new Map<string, Session>();
  readonly deletedSessions: string[] = [];
  /** Every HTTP request: method and path (never bodies: they hold passwords). */
  readonly requests: string[] = [];
  /** Websocket closes: slot id and the reason given. */
  readonly wsCloses: { slot: string; code: number; reason: string }[] = [];
  /** Static files served without authentication (the browser test's page and module), by path. */
  readonly pages = new Map<string, { type: string; body: string | Buffer }>();
  private readonly active = new Map<string, SlotInUse>();
  /** Proxy.Unmount failures (bmcweb only logs them). */
  readonly unmountErrors: string[] = [];
  private https!: HttpsServer;
  private wss!: WebSocketServer;
  port = 0;
  private host = '127.0.0.1';

  constructor(
    private readonly pki: Pki,
    private readonly dir: string,
    readonly slots: FakeSlot[],
    private readonly credentials = { user: 'root', password: '0penBmc' },
    private readonly backend: SlotBackend = {
      socketOf: async (slot) => join(dir, `${slot}.sock`),
      mount: async () => undefined,
      unmount: async () => undefined,
    },
  ) {
    super();
  }

  /** The unix socket bmcweb listens on for a slot in use (the daemon's `Socket` property). */
  socketPath(slot: string): string {
    return this.active.get(slot)?.path ?? join(this.dir, `${slot}.sock`);
  }

  /** Where a client on this machine reaches it (the loopback when it listens on every address). */
  get url(): string {
    return `https://${this.host === '0.0.0.0' ? '127.0.0.1' : this.host}:${this.port}`;
  }

  /** Resolves when the websocket for `slot` is up and its socket listening (after "Proxy.Mount"). */
  mounted(slot: string): Promise<string> {
    if (this.active.get(slot)?.mounted) return Promise.resolve(this.socketPath(slot));
    return new Promise((resolve) => this.once(`mounted:${slot}`, () => resolve(this.socketPath(slot))));
  }

  /** Resolves when the websocket for `slot` has closed and the socket is gone (after "Proxy.Unmount"). */
  unmounted(slot: string): Promise<void> {
    return new Promise((resolve) => this.once(`unmounted:${slot}`, () => resolve()));
  }

  /** Ends a slot's websocket from the BMC side (as an eject would). */
  closeSlot(slot: string, reason = 'ejected'): void {
    this.active.get(slot)?.ws.close(1000, reason);
  }

  /**
   * Listens on the loopback at a free port unless told otherwise; the e2e VM
   * listens on every address at a fixed port that the host forwards to, as
   * bmcweb listens for browsers on other machines.
   */
  async start(listen: { host?: string; port?: number } = {}): Promise<void> {
    this.host = listen.host ?? '127.0.0.1';
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: BMCWEB_MAX_MESSAGE,
      handleProtocols: (protocols) => (protocols.size ? [...protocols][0]! : false),
    });
    this.https = createHttps({ key: this.pki.key, cert: this.pki.cert }, (req, res) => this.http(req, res));
    this.https.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => this.https.once('error', reject).listen(listen.port ?? 0, this.host, resolve));
    this.port = (this.https.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const slot of [...this.active.keys()]) this.closeSlot(slot, 'server stopping');
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.https.closeAllConnections();
    await new Promise<void>((r) => this.https.close(() => r()));
  }

  private authenticate(req: IncomingMessage, websocket: boolean): Session | undefined {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string') return [...this.sessions.values()].find((s) => s.token === token);
    const cookie = /(?:^|;\s*)BMCWEB-SESSION=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const session = cookie ? [...this.sessions.values()].find((s) => s.token === cookie) : undefined;
    if (!session) return undefined;
    // Cookie auth: the CSRF token travels as X-XSRF-TOKEN, or for websockets as the subprotocol.
    const csrf = websocket ? req.headers['sec-websocket-protocol'] : req.method === 'GET' ? session.csrf : req.headers['x-xsrf-token'];
    return csrf === session.csrf ? session : undefined;
  }

  private http(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').replace(/\/$/, '');
    this.requests.push(`${req.method} ${path}`);
    const json = (status: number, body: unknown, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const page = req.method === 'GET' ? this.pages.get(path) : undefined;
    if (page) return void res.writeHead(200, { 'Content-Type': page.type }).end(page.body);
    if (req.method === 'POST' && (path === '/redfish/v1/SessionService/Sessions' || path === '/login')) {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        let parsed: { UserName?: unknown; Password?: unknown; username?: unknown; password?: unknown } = {};
        try {
          parsed = JSON.parse(body);
        } catch {
          return json(400, { error: 'malformed JSON' });
        }
        const user = parsed.UserName ?? parsed.username;
        const password = parsed.Password ?? parsed.password;
        if (user !== this.credentials.user || password !== this.credentials.password) return json(401, { error: { message: 'Invalid username or password' } });
        const session: Session = { id: randomBytes(5).toString('hex'), token: randomBytes(10).toString('hex'), csrf: randomBytes(10).toString('hex'), user: String(user) };
        this.sessions.set(session.id, session);
        const uri = `/redfish/v1/SessionService/Sessions/${session.id}`;
        json(201, { '@odata.id': uri, Id: session.id, UserName: session.user }, {
          'X-Auth-Token': session.token,
          Location: uri,
          // What /login gives a browser: the session cookie, and the CSRF token readable by scripts.
          'Set-Cookie': [`BMCWEB-SESSION=${session.token}; Path=/; Secure; HttpOnly; SameSite=Strict`, `XSRF-TOKEN=${session.csrf}; Path=/; Secure; SameSite=Strict`],
        });
      });
      return;
    }
    const session = this.authenticate(req, false);
    if (!session) return json(401, { error: { message: 'Unauthorized' } });
    const deleteMatch = /^\/redfish\/v1\/SessionService\/Sessions\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && deleteMatch) {
      const gone = this.sessions.get(deleteMatch[1]!);
      if (!gone) return json(404, {});
      this.sessions.delete(gone.id);
      this.deletedSessions.push(gone.id);
      return json(200, {});
    }
    if (req.method !== 'GET') return json(405, {});
    if (path === '/redfish/v1/Managers') return json(200, { Members: [{ '@odata.id': '/redfish/v1/Managers/bmc' }], 'Members@odata.count': 1 });
    if (path === '/redfish/v1/Managers/bmc') return json(200, { '@odata.id': path, Id: 'bmc', VirtualMedia: { '@odata.id': '/redfish/v1/Managers/bmc/VirtualMedia' } });
    if (path === '/redfish/v1/Managers/bmc/VirtualMedia') {
      return json(200, { Members: this.slots.map((s) => ({ '@odata.id': `${path}/${s.id}` })), 'Members@odata.count': this.slots.length });
    }
    const slot = this.slots.find((s) => path === `/redfish/v1/Managers/bmc/VirtualMedia/${s.id}`);
    if (slot) {
      const item: Record<string, unknown> = {
        '@odata.id': path,
        '@odata.type': '#VirtualMedia.v1_3_0.VirtualMedia',
        Id: slot.id,
        Name: 'Virtual Removable Media',
        WriteProtected: true,
        ConnectedVia: this.active.has(slot.id) ? 'Applet' : 'NotConnected',
        Inserted: this.active.has(slot.id),
        MediaTypes: ['CD', 'USBStick'],
        TransferMethod: 'Stream',
        Oem: { OpenBMC: { '@odata.type': '#OpenBMCVirtualMedia.v1_0_0.VirtualMedia' } },
      };
      if (slot.endpoint) {
        (item.Oem as { OpenBMC: Record<string, unknown> }).OpenBMC.WebSocketEndpoint = slot.endpoint;
        item.TransferProtocolType = 'OEM';
      }
      return json(200, item);
    }
    json(404, { error: { message: `no resource ${path}` } });
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0]!.replace(/\/$/, '');
    this.requests.push(`UPGRADE ${path}`);
    const segments = path.split('/').filter(Boolean);
    if (!this.authenticate(req, true)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (segments[0] !== 'nbd' || segments.length < 2) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.relay(ws, `Slot_${segments.at(-1)}`));
  }

  private relay(ws: WebSocket, slot: string): void {
    const known = this.slots.find((s) => s.id === slot && s.endpoint);
    ws.on('close', (code, reason) => this.wsCloses.push({ slot, code, reason: reason.toString() }));
    if (!known) {
      ws.close(1000, 'Internal Error'); // GetAll on an object that is not there
      return;
    }
    if (this.active.has(slot)) {
      ws.close(1000, 'Slot is in use');
      return;
    }
    // Reading is deferred until the NBD client connects.
    ws.pause();
    const unix = createUnix();
    const entry: SlotInUse = { unix, ws, path: '', mounted: false };
    this.active.set(slot, entry);
    let closed = false;
    ws.on('close', () => {
      closed = true;
      entry.peer?.destroy();
      unix.close();
      if (entry.path) rmSync(entry.path, { force: true });
      this.active.delete(slot);
      void this.backend
        .unmount(slot)
        .catch((e: unknown) => this.unmountErrors.push(`${slot}: ${(e as Error).message}`))
        .finally(() => this.emit(`unmounted:${slot}`));
    });
    unix.once('connection', (peer) => {
      entry.peer = peer;
      unix.close(); // bmcweb accepts once
      peer.on('data', (d: Buffer) => ws.send(d, { binary: true }));
      peer.on('error', () => ws.close(1000, 'Internal error'));
      peer.on('close', () => ws.readyState === ws.OPEN && ws.close(1000, 'VM socket port closed'));
      ws.on('message', (data: Buffer) => {
        // The next websocket message is read once this one is written (onmessageex + whenComplete).
        ws.pause();
        peer.write(data, () => ws.resume());
      });
      ws.resume();
    });
    void (async () => {
      try {
        entry.path = await this.backend.socketOf(slot);
        if (closed) return;
        rmSync(entry.path, { force: true });
        await new Promise<void>((resolve, reject) => unix.once('error', reject).listen(entry.path, resolve));
        if (closed) return;
        await this.backend.mount(slot);
        entry.mounted = true;
        this.emit(`mounted:${slot}`);
      } catch (e) {
        if (!closed) ws.close(1000, `Internal Error: ${(e as Error).message}`.slice(0, 120));
      }
    })();
  }
}
