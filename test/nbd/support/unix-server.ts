// Our NBD server on a unix socket in a temporary directory, for clients we
// did not write (nbdinfo, nbdcopy, qemu-img) and for raw-protocol tests.
// Tracks every connection so a test can check that none is left open.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionEnd, Medium, ServerOptions } from '../../../nbd/core/index.js';
import { serveSocket } from '../../../nbd/node/socket-transport.js';

export class UnixNbdServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'nbd-test-'));
  readonly socket = join(this.dir, 'nbd.sock');
  readonly ends: ConnectionEnd[] = [];
  readonly log: string[] = [];
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private readonly done: Promise<ConnectionEnd>[] = [];

  private constructor(medium: Medium, options: ServerOptions) {
    this.server = createServer((socket) => {
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
      const connection = serveSocket(socket, medium, { ...options, log: (l) => this.log.push(l) });
      this.done.push(connection.done.then((end) => (this.ends.push(end), end)));
    });
  }

  static async start(medium: Medium, options: ServerOptions = {}): Promise<UnixNbdServer> {
    const s = new UnixNbdServer(medium, options);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(s.socket, resolve);
    });
    return s;
  }

  get uri(): string {
    return `nbd+unix:///?socket=${this.socket}`;
  }

  uriFor(exportName: string): string {
    return `nbd+unix:///${encodeURIComponent(exportName)}?socket=${this.socket}`;
  }

  /** Sockets still open (a leak once every client has gone). */
  get openSockets(): number {
    return this.open.size;
  }

  /** Waits for every connection to have ended, then closes the listener. */
  async stop(): Promise<ConnectionEnd[]> {
    for (const s of this.open) s.destroy();
    const ends = await Promise.all(this.done);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
    return ends;
  }
}
