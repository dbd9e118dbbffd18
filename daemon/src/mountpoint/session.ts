// The resources one inserted medium holds, in the order they were acquired,
// and their release in reverse: gadget, nbd attachment, nbdkit, CIFS mount.
// Every release step runs even if an earlier one failed, and each is bounded
// in time, so a teardown always ends.
import { rmSync } from 'node:fs';
import type { Child, Exit } from '../process/child.js';
import { sizeSectors } from '../seams/block-device.js';
import { unmountShare } from '../seams/cifs.js';
import { detach } from '../seams/nbd-client.js';
import { sleep } from '../util/abortable.js';
import type { MountPointConfig } from '../config/types.js';
import type { MountPointEnvironment } from './environment.js';

export type ChildExitHandler = (name: string, exit: Exit) => void;

export class Session {
  #nbdkit: Child | undefined;
  #nbdClient: Child | undefined;
  /** Told when a supervised child exits; teardown sets `stopping` first so its own stops are expected. */
  onChildExit: ChildExitHandler | undefined;
  cifsTarget: string | undefined;
  gadgetBuilt = false;
  /** Files we created and remove on teardown (legacy socket, pid file). */
  readonly ownedFiles: string[] = [];
  /** Set once teardown starts: child exits from then on are expected. */
  stopping = false;
  /** Children that exited on their own, in the order seen. */
  readonly deaths: { name: string; exit: Exit }[] = [];

  constructor(
    readonly mp: MountPointConfig,
    readonly env: MountPointEnvironment,
  ) {}

  get nbdkit(): Child | undefined {
    return this.#nbdkit;
  }

  set nbdkit(child: Child | undefined) {
    this.#nbdkit = child;
    this.#supervise('nbdkit', child);
  }

  get nbdClient(): Child | undefined {
    return this.#nbdClient;
  }

  set nbdClient(child: Child | undefined) {
    this.#nbdClient = child;
    this.#supervise('nbd-client', child);
  }

  #supervise(name: string, child: Child | undefined): void {
    void child?.exited.then((exit) => {
      if (!this.stopping) this.onChildExit?.(name, exit);
    });
  }

  async teardown(): Promise<void> {
    this.stopping = true;
    const { env, mp } = this;
    const step = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        env.log.error(`${mp.id}: teardown: ${what} failed: ${(e as Error).message}`);
      }
    };
    if (this.gadgetBuilt) await step('removing the USB gadget', () => env.gadget.remove(mp.id));
    this.gadgetBuilt = false;
    await step('detaching the nbd device', () => this.#detachNbd());
    await step('stopping nbdkit', async () => {
      await this.nbdkit?.stop(3000);
    });
    for (const f of this.ownedFiles) await step(`removing ${f}`, () => rmSync(f, { force: true }));
    if (this.cifsTarget) {
      const target = this.cifsTarget;
      await step('unmounting the share', () =>
        unmountShare({ mountCommand: env.config.commands.mount, umountCommand: env.config.commands.umount, runRoot: env.config.roots.run, log: env.log }, target),
      );
      this.cifsTarget = undefined;
    }
  }

  async #detachNbd(): Promise<void> {
    const { env, mp } = this;
    const client = this.nbdClient;
    const attached = sizeSectors(env.config.roots.sys, mp.nbdDevice) > 0;
    if (!client?.running && !attached) return;
    const nbd = { command: env.config.commands.nbdClient, devRoot: env.config.roots.dev, log: env.log };
    await detach(nbd, mp.nbdDevice);
    if (client?.running) {
      // The foreground client returns once the kernel let go of the socket.
      await Promise.race([client.exited, sleep(5000)]);
      await client.stop(2000);
    }
  }
}
