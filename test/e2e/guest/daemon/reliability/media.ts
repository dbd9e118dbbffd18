// Inserting and ejecting one medium of each kind on its own mount point, as
// bmcweb would (the generated clients), and playing bmcweb's part in proxy
// mode (an NBD server on the mount point's socket).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Image, SystemdDaemon } from '../fixtures.js';
import { secretPipe } from '../fixtures.js';
import { waitClean, waitFor } from '../kernel-view.js';
import { Medium } from '../media-client.js';
import { SMB_PASSWORD, SMB_USER } from '../smb.js';
import { waitForUsbDeviceOf, type UsbDevice } from './host-side.js';
import { httpsUrl, smbUrl, type Slot, type World } from './world.js';

export type Kind = 'cd' | 'disk' | 'smb' | 'proxy';

export interface Inserted {
  medium: Medium;
  slot: Slot;
  device: UsbDevice;
  image: Image;
  socket: string;
  mountMs: number;
  /** For the daemon's journal when a call fails. */
  daemon: SystemdDaemon;
}

/** bmcweb's side of proxy mode: an NBD server listening on the mount point's socket. */
export async function proxyServer(socket: string, image: Image): Promise<{ stop(): Promise<void> }> {
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  const server: ChildProcess = spawn('nbdkit', ['--foreground', '--unix', socket, '--readonly', 'file', `file=${image.path}`], { stdio: 'inherit' });
  await waitFor(`the proxy NBD server on ${socket}`, 30_000, () => {
    if (server.exitCode !== null) throw new Error(`nbdkit on ${socket} exited (${server.exitCode})`);
    return readFileSync('/proc/net/unix', 'utf8').includes(socket);
  });
  return {
    stop: async () => {
      if (server.exitCode === null) {
        const gone = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await gone;
      }
      rmSync(socket, { force: true });
    },
  };
}

export function slotOf(w: World, kind: Kind): Slot {
  return w.slots[kind];
}

/**
 * Mount of `image` on the slot of `kind`; resolves after Completion(0) and
 * the USB device with its medium. The Medium stays open (the caller ejects
 * and closes it). Proxy mode expects bmcweb's server already listening.
 */
export async function insert(w: World, kind: Kind, image: Image, options: { server?: 'open' | 'slow'; readWrite?: boolean } = {}): Promise<Inserted> {
  const slot = slotOf(w, kind);
  const medium = await Medium.open(w.connection, kind === 'proxy' ? 'Proxy' : 'Legacy', slot.id);
  try {
    const socket = await medium.mountPoint.get('Socket');
    const t0 = Date.now();
    let ok: boolean;
    if (kind === 'proxy') ok = await medium.mountProxy();
    else if (kind === 'smb') {
      const fd = await secretPipe(w.work, SMB_USER, SMB_PASSWORD);
      try {
        ok = await medium.mountLegacy(smbUrl(image), options.readWrite ?? false, fd);
      } finally {
        closeSync(fd);
      }
    } else ok = await medium.mountLegacy(httpsUrl(w.servers[options.server ?? 'open'], image), false);
    if (!ok) throw new Error(`${slot.id}: Mount returned false`);
    const mountMs = await medium.expectCompletion(`${slot.id} Mount of ${image.name}`, t0, 90_000);
    const device = await waitForUsbDeviceOf(slot.id);
    const want = kind === 'cd' ? 'sr' : 'sd';
    if (!device.name.startsWith(want)) throw new Error(`${slot.id}: ${image.name} became /dev/${device.name}, expected a ${want} device`);
    if (device.bytes !== image.bytes) throw new Error(`${slot.id}: /dev/${device.name} has ${device.bytes} bytes, ${image.name} ${image.bytes}`);
    return { medium, slot, device, image, socket, mountMs, daemon: w.daemon };
  } catch (e) {
    await medium.close();
    throw e;
  }
}

/** Unmount, Completion(0), nothing left of the slot's nbd device and socket; closes the Medium. Returns Unmount -> Completion ms. */
export async function eject(i: Inserted): Promise<number> {
  try {
    const t = Date.now();
    const answered = await i.medium.unmount().catch(async (e: Error) => {
      // Whether the daemon took the call late or its reply got lost on the way: its journal says when it handled it.
      const journal = await i.daemon.journalSince(t - 1000);
      throw new Error(`${i.slot.id}: Unmount failed after ${Date.now() - t} ms: ${e.message}; the daemon's journal since the call (made at ${new Date(t).toISOString()}): ${journal}`);
    });
    if (answered !== true) throw new Error(`${i.slot.id}: Unmount returned false`);
    const ms = await i.medium.expectCompletion(`${i.slot.id} Unmount`, t, 90_000);
    if ((await i.medium.process.get('Active')) !== false) throw new Error(`${i.slot.id}: Process.Active still true after the eject`);
    await waitClean(i.slot.nbd, i.medium.kind === 'Proxy' ? '/nonexistent-socket' : i.socket);
    return ms;
  } finally {
    await i.medium.close();
  }
}
