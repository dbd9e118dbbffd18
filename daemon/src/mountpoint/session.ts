// The resources one inserted medium holds, in the order they were acquired,
// and their release in reverse: gadget, nbd attachment, nbdkit, CIFS mount.
// Every release step runs even if an earlier one failed, and each is bounded
// in time, so a teardown always ends. A teardown whose signal aborts (the
// watchdog gave up on it) turns urgent: what still runs is killed (SIGKILL to
// its process group), the share is detached lazily, and the remaining steps
// get short bounds, so the mount point is free again within seconds.
// A read-only medium whose gadget removal waits on a hung backend has its
// nbd device detached after a few seconds (#removeGadget).
import { rmSync } from 'node:fs';
import type { Child, Exit } from '../process/child.js';
import { sizeSectors } from '../seams/block-device.js';
import { unmountShare, type CifsOptions } from '../seams/cifs.js';
import { detach } from '../seams/nbd-client.js';
import { sleep, withDeadline } from '../util/abortable.js';
import type { MountPointConfig } from '../config/types.js';
import type { MountPointEnvironment } from './environment.js';

export type ChildExitHandler = (name: string, exit: Exit) => void;

/** Bounds of teardown steps once the teardown is urgent. */
const URGENT_STEP_MS = 5000;
/** How long a read-only medium's gadget removal may wait on the backend before its nbd device is detached. */
const UNBIND_PATIENCE_MS = 3000;

export function cifsOptions(env: MountPointEnvironment): CifsOptions {
  const { commands, roots } = env.config;
  return { mountCommand: commands.mount, umountCommand: commands.umount, runRoot: roots.run, mountInfo: roots.mountInfo, log: env.log };
}

export class Session {
  #nbdkit: Child | undefined;
  #nbdClient: Child | undefined;
  /** Told when a supervised child exits; teardown sets `stopping` first so its own stops are expected. */
  onChildExit: ChildExitHandler | undefined;
  /** Where the share is (or may be, if mount.cifs was killed) mounted. */
  cifsTarget: string | undefined;
  gadgetBuilt = false;
  /** The gadget's LUN is read-only: closing it has nothing to flush. */
  readOnlyMedium = false;
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

  /** Releases everything; `signal` aborting makes the rest of the teardown urgent. */
  async teardown(signal: AbortSignal): Promise<void> {
    this.stopping = true;
    const { env, mp } = this;
    // Children still running when the teardown turns urgent are killed at once.
    const killAll = () => {
      void this.nbdClient?.stop(0);
      void this.nbdkit?.stop(0);
    };
    if (signal.aborted) killAll();
    else signal.addEventListener('abort', killAll, { once: true });
    const step = async (what: string, fn: (stepSignal: AbortSignal) => unknown, urgentMs = URGENT_STEP_MS) => {
      // Urgent steps get their own short bound; polite ones are cut short by `signal`.
      const urgent = signal.aborted ? withDeadline(undefined, urgentMs) : undefined;
      try {
        await fn(urgent?.signal ?? signal);
      } catch (e) {
        env.log.error(`${mp.id}: teardown: ${what} failed: ${(e as Error).message}`);
      } finally {
        urgent?.release();
      }
    };
    try {
      // Twice the bound: the gadget's two unbinding writes have a bound of their own.
      if (this.gadgetBuilt) await step('removing the USB gadget', (s) => this.#removeGadget(s), 2 * URGENT_STEP_MS);
      this.gadgetBuilt = false;
      await step('detaching the nbd device', (s) => this.#detachNbd(s, signal.aborted));
      await step('stopping nbdkit', async () => {
        await this.nbdkit?.stop(signal.aborted ? 0 : 3000);
      });
      for (const f of this.ownedFiles) await step(`removing ${f}`, () => rmSync(f, { force: true }));
      if (this.cifsTarget) {
        const target = this.cifsTarget;
        await step('unmounting the share', (s) => unmountShare(cifsOptions(env), target, { urgent: signal.aborted, signal: s }));
        this.cifsTarget = undefined;
      }
    } finally {
      signal.removeEventListener('abort', killAll);
    }
  }

  /**
   * The UDC unbind waits for the command the LUN is serving, and on a
   * backend that stopped answering that is nbd's whole timeout (the mount
   * point's Timeout, 30 s by default) with two of libuv's workers held in
   * the kernel. A read-only medium has nothing to flush, so once the
   * removal has waited UNBIND_PATIENCE_MS its nbd device is detached: that
   * fails the command and the unbind goes on.
   * A writable medium waits: the LUN's close flushes what the host wrote, if
   * the backend comes back within nbd's timeout.
   */
  async #removeGadget(signal: AbortSignal): Promise<void> {
    const { env, mp } = this;
    const removal = env.gadget.remove(mp.id, signal);
    if (!this.readOnlyMedium) return removal;
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<'waiting'>((resolve) => (timer = setTimeout(() => resolve('waiting'), UNBIND_PATIENCE_MS)));
    const first = await Promise.race([removal.then(() => 'done' as const, () => 'done' as const), patience]);
    clearTimeout(timer);
    if (first === 'waiting') {
      env.log.warning(`${mp.id}: the USB gadget's removal still waits on the backend after ${UNBIND_PATIENCE_MS} ms; detaching /dev/${mp.nbdDevice} (read-only: nothing to flush) to end the read it serves`);
      await this.#detachNbd(signal, false).catch((e: Error) => env.log.error(`${mp.id}: detaching /dev/${mp.nbdDevice} failed: ${e.message}`));
    }
    return removal;
  }

  async #detachNbd(signal: AbortSignal, urgent: boolean): Promise<void> {
    const { env, mp } = this;
    const client = this.nbdClient;
    const attached = sizeSectors(env.config.roots.sys, mp.nbdDevice) > 0;
    if (!client?.running && !attached) return;
    const nbd = { command: env.config.commands.nbdClient, devRoot: env.config.roots.dev, log: env.log };
    await detach(nbd, mp.nbdDevice, urgent ? URGENT_STEP_MS : 10_000, signal);
    if (client?.running) {
      // The foreground client returns once the kernel let go of the socket.
      await Promise.race([client.exited, sleep(urgent ? 1000 : 5000)]);
      await client.stop(urgent ? 0 : 2000);
    }
  }
}
