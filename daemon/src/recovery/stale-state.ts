// Start-up cleanup of what a crashed run left behind: our gadgets (which
// hold UDCs and nbd devices), nbd attachments of our devices, legacy
// sockets, pid and credential files, and CIFS mounts in our run directory.
// Proxy sockets are bmcweb's and are left alone; a missing proxy socket
// directory is only reported (it is bmcweb's, made by tmpfiles.d: created
// here it would be root's, and a non-root bmcweb could not bind in it).
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { Mode, type Config, type MountPointConfig } from '../config/types.js';
import { connectedByLiveProcess, sizeSectors } from '../seams/block-device.js';
import { staleCifsMounts, unmountShare } from '../seams/cifs.js';
import type { GadgetSeam } from '../seams/gadget.js';
import { detach, type NbdClientOptions } from '../seams/nbd-client.js';
import type { Logger } from '../util/logger.js';

/** Each clean-up step is bounded: a start-up that hangs would keep the service down. */
const STEP_MS = 10_000;

export async function cleanStaleState(config: Config, gadget: GadgetSeam, log: Logger): Promise<void> {
  const { roots, commands } = config;
  mkdirSync(roots.run, { recursive: true, mode: 0o700 });
  const nbd = { command: commands.nbdClient, devRoot: roots.dev, log };
  const attached = config.mountPoints.filter((mp) => sizeSectors(roots.sys, mp.nbdDevice) > 0);
  // Orphaned nbd devices first: their nbd-client is gone (systemd stops the
  // whole unit with the dead run) and so is their connection, so nothing
  // written can reach a server any more. But a read the gadget had in flight
  // when the connection died stays queued until nbd's timeout (the mount
  // point's Timeout) unless nbd-client cleared the queue on its way out, which
  // it does not when it dies first (with the daemon gone, its write to stderr
  // kills it). The gadget's unbind waits for that read; `nbd-client -d`
  // fails it. A device whose nbd-client still runs (a daemon run outside the
  // unit) keeps its connection until its gadget is gone, so that closing the
  // LUN flushes what the host wrote.
  const live = attached.filter((mp) => connectedByLiveProcess(roots.sys, mp.nbdDevice));
  for (const mp of attached) if (!live.includes(mp)) await detachStale(nbd, mp);
  const leftBehind = await gadget.ours(AbortSignal.timeout(STEP_MS)).catch((e: Error) => {
    log.error(`cannot list the USB gadgets: ${e.message}`);
    return [];
  });
  for (const name of leftBehind) {
    log.warning(`removing the gadget ${name} left by a previous run`);
    try {
      await gadget.removeByName(name, AbortSignal.timeout(STEP_MS));
    } catch (e) {
      log.error(`cannot remove the stale gadget ${name}: ${(e as Error).message}`);
    }
  }
  // Closing the gadget's LUN may have been the device's last user.
  for (const mp of live) if (sizeSectors(roots.sys, mp.nbdDevice) > 0) await detachStale(nbd, mp);
  for (const mp of config.mountPoints) {
    if (mp.mode === Mode.Legacy) rmSync(mp.unixSocket, { force: true });
    else if (!existsSync(posix.dirname(mp.unixSocket))) {
      log.warning(`${mp.id}: ${posix.dirname(mp.unixSocket)} does not exist, so bmcweb cannot listen on ${mp.unixSocket} (the layer's tmpfiles.d line makes /run/virtual-media-proxy)`);
    }
  }
  for (const entry of safeList(roots.run)) {
    if (entry.endsWith('.nbdkit.pid') || entry.endsWith('.cred')) rmSync(posix.join(roots.run, entry), { force: true });
  }
  for (const target of staleCifsMounts(roots.mountInfo, roots.run)) {
    log.warning(`unmounting ${target} left mounted by a previous run`);
    await unmountShare({ mountCommand: commands.mount, umountCommand: commands.umount, runRoot: roots.run, mountInfo: roots.mountInfo, log }, target, { signal: AbortSignal.timeout(STEP_MS) });
  }
}

async function detachStale(o: NbdClientOptions, mp: MountPointConfig): Promise<void> {
  o.log.warning(`${mp.id}: detaching /dev/${mp.nbdDevice} left attached by a previous run`);
  if (!(await detach(o, mp.nbdDevice, STEP_MS))) o.log.error(`${mp.id}: cannot detach /dev/${mp.nbdDevice}`);
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
