// One test's world: a private bus, a fake kernel tree, the daemon, a client
// connection, and the Completion signals each object emitted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as rt from '../../../codegen/runtime/index.js';
import { LegacyClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/client.js';
import { MountPointClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/client.js';
import { ProcessClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Process/client.js';
import { ProxyClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Proxy/client.js';
import { StatsClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Stats/client.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';
import { requireCommand } from '../../support/require-command.js';
import { DaemonProcess, SERVICE, eventually, fakeConfig, startDaemon, type MountPointJson } from './daemon-process.js';
import { FakeKernel } from './fake-kernel.js';
import { killStrays } from './strays.js';

export const ROOT = '/xyz/openbmc_project/VirtualMedia';

export class Harness {
  bus!: PrivateBus;
  client!: rt.Connection;
  readonly kernel: FakeKernel;
  daemon: DaemonProcess | undefined;
  readonly completions = new Map<string, number[]>();
  readonly #children: ChildProcess[] = [];

  private constructor(udcs?: string[]) {
    this.kernel = new FakeKernel(udcs);
  }

  /** `udcs`: the fake kernel's UDC names (two by default). */
  static async create(udcs?: string[]): Promise<Harness> {
    const h = new Harness(udcs);
    h.bus = await startPrivateBus();
    h.client = await rt.Connection.open({ address: h.bus.address, callTimeoutMs: 10_000 });
    return h;
  }

  async start(mountPoints: Record<string, MountPointJson>, extra: Record<string, unknown> = {}, bundle?: string): Promise<DaemonProcess> {
    this.daemon = await startDaemon(this.kernel, this.bus.address, fakeConfig(this.kernel, mountPoints, extra), this.client, bundle);
    return this.daemon;
  }

  proxy(id: string): ProxyClient {
    return new ProxyClient(this.client, SERVICE, `${ROOT}/Proxy/${id}`);
  }
  legacy(id: string): LegacyClient {
    return new LegacyClient(this.client, SERVICE, `${ROOT}/Legacy/${id}`);
  }
  process(path: string): ProcessClient {
    return new ProcessClient(this.client, SERVICE, path);
  }
  mountPoint(path: string): MountPointClient {
    return new MountPointClient(this.client, SERVICE, path);
  }
  stats(path: string): StatsClient {
    return new StatsClient(this.client, SERVICE, path);
  }

  /** Records Completion signals of the object at `path`. */
  async watchCompletions(client: ProxyClient | LegacyClient): Promise<number[]> {
    const list: number[] = [];
    this.completions.set(client.path, list);
    await client.onCompletion((r) => list.push(r));
    return list;
  }

  async nextCompletion(list: number[], count: number, ms = 15_000): Promise<number> {
    await eventually(`Completion #${count}`, () => list.length >= count, ms);
    return list[count - 1]!;
  }

  /** Plays bmcweb and the browser for proxy mode: an NBD server on the mount point's socket. */
  async serveOnSocket(socket: string, image: string, readOnly = false): Promise<ChildProcess> {
    requireCommand('nbdkit', 'nbdkit');
    const args = ['--foreground', '--unix', socket, ...(readOnly ? ['--readonly'] : []), 'file', `file=${image}`];
    const child = spawn('nbdkit', args, { stdio: 'ignore' });
    this.#children.push(child);
    await eventually(`nbdkit listening on ${socket}`, () => existsSync(socket), 10_000);
    return child;
  }

  async stop(): Promise<void> {
    await this.daemon?.stop('SIGKILL');
    for (const c of this.#children) if (c.exitCode === null) c.kill('SIGKILL');
    // The daemon's children lead their own process groups and survive its
    // SIGKILL (an nbdkit with a connected client ignores its parent's death
    // until the client goes, and the fake nbd-client waits for nbdkit).
    killStrays(this.kernel.root);
    await this.client?.close();
    await this.bus?.stop();
    this.kernel.remove();
  }
}
