// The daemon scenarios: each drives the daemon only through the generated
// clients (as bmcweb does) and checks the outcome in the kernel (USB block
// devices, configfs, nbd, processes). A scenario throws to fail; what it
// returns is recorded with its result.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as rt from '../../../../codegen/runtime/index.js';
import type { StaticServer } from '../https-static-server.js';
import type { Image, SystemdDaemon } from './fixtures.js';
import { randomImage, secretPipe } from './fixtures.js';
import { dropCaches, leftovers, processes, run, sha256, sleep, usbBlockDevices, waitClean, waitFor, waitForUsbDevice } from './kernel-view.js';
import { Medium } from './media-client.js';

export interface Context {
  connection: rt.Connection;
  /** The unit systemd runs; its mounts (CIFS) live in its own mount namespace. */
  daemon: SystemdDaemon;
  work: string;
  disk: Image;
  iso: Image;
  isoText: string;
  servers: { open: StaticServer; auth: StaticServer };
  auth: { user: string; password: string };
  /** Mount point ids and their nbd devices, as configured. */
  legacy: { id: string; nbd: string };
  proxy: { id: string; nbd: string };
}

export type Measures = Record<string, unknown>;

const url = (server: StaticServer, image: Image): string => `https://localhost:${server.port}/${image.name}`;

async function socketOf(m: Medium): Promise<string> {
  return m.mountPoint.get('Socket');
}

/**
 * After a failed scenario: eject whatever is still inserted so the next
 * scenario starts from ready. Best effort; returns what it had to do.
 */
export async function ensureReady(connection: rt.Connection, kind: 'Legacy' | 'Proxy', id: string): Promise<string | undefined> {
  const m = await Medium.open(connection, kind, id);
  try {
    for (let attempt = 0; attempt < 30; attempt++) {
      if ((await m.process.get('Active')) !== true) return attempt ? 'waited for an operation to end' : undefined;
      try {
        await m.unmount();
        await m.nextCompletion(60_000);
        return 'ejected a medium left inserted';
      } catch {
        await sleep(1000); // an operation is still running: Busy
      }
    }
    return 'could not eject the medium left inserted';
  } finally {
    await m.close();
  }
}

/** Unmount, its Completion(0), and every trace gone. Returns Unmount -> Completion ms. */
async function unmountClean(m: Medium, nbd: string): Promise<number> {
  const socket = await socketOf(m);
  const t = Date.now();
  if ((await m.unmount()) !== true) throw new Error('Unmount returned false');
  const ms = await m.expectCompletion('Unmount', t, 60_000);
  if ((await m.process.get('Active')) !== false) throw new Error('Process.Active is still true after Unmount completed');
  await waitClean(nbd, socket);
  return ms;
}

/** (1) HTTPS read-only disk image: the whole cycle, with sizes, hashes and counters. */
export async function httpsDisk(c: Context): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  try {
    const t0 = Date.now();
    if ((await m.mountLegacy(url(c.servers.open, c.disk), false)) !== true) throw new Error('Mount returned false');
    const mountToCompletionMs = await m.expectCompletion('Mount', t0);
    const disk = await waitForUsbDevice('sd');
    const mountToUsbDiskMs = Date.now() - t0;
    if (disk.bytes !== c.disk.bytes) throw new Error(`/dev/${disk.name} has ${disk.bytes} bytes, the image ${c.disk.bytes}`);
    if (readFileSync(`/sys/block/${disk.name}/ro`, 'utf8').trim() !== '1') throw new Error(`/dev/${disk.name} is writable`);
    // The daemon's large requests (BlockDevice defaults), as the real nbd driver took them.
    const queue = (name: string) => readFileSync(`/sys/block/${c.legacy.nbd}/queue/${name}`, 'utf8').trim();
    if (queue('read_ahead_kb') !== '8192' || queue('max_sectors_kb') !== '8192') throw new Error(`${c.legacy.nbd}: read_ahead_kb ${queue('read_ahead_kb')}, max_sectors_kb ${queue('max_sectors_kb')}, expected 8192 and 8192`);
    if ((await m.process.get('Active')) !== true) throw new Error('Process.Active is false after Completion(0)');
    if ((await m.mountPoint.get('ImageURL')) !== url(c.servers.open, c.disk)) throw new Error(`ImageURL is ${await m.mountPoint.get('ImageURL')}`);
    if ((await m.mountPoint.get('WriteProtected')) !== true) throw new Error('WriteProtected is false for an HTTPS image');
    const readBefore = await m.stats.get('ReadIO');
    const got = await sha256(`/dev/${disk.name}`);
    if (got !== c.disk.sha256) throw new Error(`sha256 of /dev/${disk.name} ${got} != image ${c.disk.sha256}`);
    const readAfter = await waitFor('Stats.ReadIO to grow after reading the disk', 10_000, async () => {
      const v = await m.stats.get('ReadIO');
      return v > readBefore ? v : undefined;
    }, 250);
    const unmountMs = await unmountClean(m, c.legacy.nbd);
    return { mountToCompletionMs, mountToUsbDiskMs, unmountMs, readIoBefore: Number(readBefore), readIoAfter: Number(readAfter), disk: disk.name };
  } finally {
    await m.close();
  }
}

/** (2) HTTPS ISO: a USB CD-ROM that mounts as iso9660 and shows the known file. */
export async function httpsIso(c: Context): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  const mnt = join(c.work, 'iso-mnt');
  mkdirSync(mnt, { recursive: true });
  try {
    const t0 = Date.now();
    await m.mountLegacy(url(c.servers.open, c.iso), false);
    const mountToCompletionMs = await m.expectCompletion('Mount', t0);
    const cd = await waitForUsbDevice('sr');
    if (!cd.name.startsWith('sr')) throw new Error(`expected a CD-ROM, got /dev/${cd.name}`);
    await run('mount', ['-t', 'iso9660', '-o', 'ro', `/dev/${cd.name}`, mnt]);
    let text: string;
    try {
      // Async: a sync read would block the in-process HTTPS server that serves it.
      text = await readFile(join(mnt, 'hello.txt'), 'utf8');
    } finally {
      await run('umount', [mnt]);
    }
    if (text !== c.isoText) throw new Error(`hello.txt on /dev/${cd.name} reads ${JSON.stringify(text)}`);
    const unmountMs = await unmountClean(m, c.legacy.nbd);
    return { mountToCompletionMs, unmountMs, cdrom: cd.name, isoBytes: c.iso.bytes };
  } finally {
    rmSync(mnt, { recursive: true, force: true });
    await m.close();
  }
}

/** (3) Basic auth with credentials on a pipe; wrong credentials fail and leave nothing. */
export async function httpsCredentials(c: Context): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  try {
    const socket = await socketOf(m);
    const denied = c.servers.auth.statuses.get(401) ?? 0;
    // Wrong password first: Completion(errno != 0) and a clean mount point.
    let fd = await secretPipe(c.work, c.auth.user, `${c.auth.password}-wrong`);
    const t1 = Date.now();
    try {
      await m.mountLegacy(url(c.servers.auth, c.disk), false, fd);
    } finally {
      closeSync(fd);
    }
    const failed = await m.nextCompletion(60_000);
    if (failed.errno === 0) throw new Error('Mount with a wrong password reported Completion(0)');
    const wrongCredsMs = failed.at - t1;
    if ((c.servers.auth.statuses.get(401) ?? 0) <= denied) throw new Error('the server never refused the wrong credentials (no 401): was auth tried?');
    if ((await m.process.get('Active')) !== false) throw new Error('Process.Active true after a failed Mount');
    await waitClean(c.legacy.nbd, socket);
    if (usbBlockDevices().length) throw new Error('a USB disk appeared for a failed Mount');

    // Right credentials: the disk reads back.
    fd = await secretPipe(c.work, c.auth.user, c.auth.password);
    const t0 = Date.now();
    try {
      await m.mountLegacy(url(c.servers.auth, c.disk), false, fd);
    } finally {
      closeSync(fd);
    }
    const mountToCompletionMs = await m.expectCompletion('Mount with credentials', t0);
    const disk = await waitForUsbDevice('sd');
    const got = await sha256(`/dev/${disk.name}`);
    if (got !== c.disk.sha256) throw new Error(`sha256 through basic auth ${got} != image ${c.disk.sha256}`);
    // The password must not be visible in any process's argv.
    for (const p of processes('nbdkit')) {
      if (p.argv.some((a) => a.includes(c.auth.password))) throw new Error(`nbdkit pid ${p.pid} has the password in argv`);
    }
    await unmountClean(m, c.legacy.nbd);
    return { wrongCredsErrno: failed.errno, wrongCredsMs, mountToCompletionMs };
  } finally {
    await m.close();
  }
}

/** (5) Proxy: the test plays bmcweb, serving NBD on the mount point's socket. */
export async function proxy(c: Context): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Proxy', c.proxy.id);
  const socket = await socketOf(m);
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  const server = spawn('nbdkit', ['--foreground', '--unix', socket, '--readonly', 'file', `file=${c.disk.path}`], { stdio: 'inherit' });
  try {
    await waitFor(`bmcweb's NBD socket ${socket}`, 30_000, () => {
      try {
        return readFileSync('/proc/net/unix', 'utf8').includes(socket);
      } catch {
        return false;
      }
    });
    const t0 = Date.now();
    if ((await m.mountProxy()) !== true) throw new Error('Proxy.Mount returned false');
    const mountToCompletionMs = await m.expectCompletion('Proxy.Mount', t0);
    const disk = await waitForUsbDevice('sd');
    if (disk.bytes !== c.disk.bytes) throw new Error(`/dev/${disk.name} has ${disk.bytes} bytes, the image ${c.disk.bytes}`);
    const got = await sha256(`/dev/${disk.name}`);
    if (got !== c.disk.sha256) throw new Error(`sha256 of the proxied disk ${got} != image ${c.disk.sha256}`);
    if ((await m.mountPoint.get('WriteProtected')) !== true) throw new Error('WriteProtected is false for a read-only NBD export');
    const t1 = Date.now();
    await m.unmount();
    const unmountMs = await m.expectCompletion('Proxy.Unmount', t1);
    // bmcweb's server is ours: only the daemon's side must be gone.
    await waitFor('the proxy medium to be gone', 20_000, () => {
      const left = leftovers(c.proxy.nbd, '/nonexistent-socket');
      return left.length === 0;
    });
    return { mountToCompletionMs, unmountMs };
  } finally {
    server.kill('SIGTERM');
    await m.close();
  }
}

/** (7) nbdkit killed while active: back to ready, said so, and the next Mount works. */
export async function faults(c: Context): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  try {
    const socket = await socketOf(m);
    const t0 = Date.now();
    await m.mountLegacy(url(c.servers.open, c.disk), false);
    await m.expectCompletion('Mount', t0);
    await waitForUsbDevice('sd');
    const kits = processes('nbdkit', socket);
    if (kits.length !== 1) throw new Error(`expected one nbdkit on ${socket}, found ${kits.length}`);
    const killedAt = Date.now();
    process.kill(kits[0]!.pid, 'SIGKILL');
    const c1 = await m.nextCompletion(60_000);
    if (c1.errno === 0) throw new Error('Completion(0) after nbdkit was killed: expected an errno');
    const active = await m.process.get('Active');
    if (active !== false) throw new Error('Process.Active still true after nbdkit died');
    if (!m.events.some((e) => e.what === 'Active' && e.value === false && e.at >= killedAt)) throw new Error('no PropertiesChanged Active=false after nbdkit died');
    const exitCode = await m.process.get('ExitCode');
    if ((await m.mountPoint.get('ImageURL')) !== '') throw new Error('ImageURL not cleared after nbdkit died');
    await waitClean(c.legacy.nbd, socket);
    const recoveredMs = Date.now() - killedAt;
    // The next Mount works.
    const t1 = Date.now();
    await m.mountLegacy(url(c.servers.open, c.disk), false);
    await m.expectCompletion('Mount after the fault', t1);
    const disk = await waitForUsbDevice('sd');
    if (disk.bytes !== c.disk.bytes) throw new Error(`after the fault /dev/${disk.name} has ${disk.bytes} bytes`);
    await unmountClean(m, c.legacy.nbd);
    return { faultErrno: c1.errno, faultCompletionMs: c1.at - killedAt, exitCode, recoveredMs };
  } finally {
    await m.close();
  }
}

/** (6) Inactivity timeout (the daemon runs with a short one): idle is ejected, busy is not. */
export async function inactivity(c: Context, timeoutSeconds: number): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  try {
    const socket = await socketOf(m);
    // Idle: ejected by itself.
    let t0 = Date.now();
    await m.mountLegacy(url(c.servers.open, c.disk), false);
    const mountedAt = t0 + (await m.expectCompletion('Mount', t0));
    const seen = m.events.length;
    const eject = await m.nextCompletion((timeoutSeconds + 30) * 1000);
    if (eject.errno !== 0) throw new Error(`the inactivity eject reported Completion(${eject.errno}), expected 0`);
    const idleEjectMs = eject.at - mountedAt;
    if (idleEjectMs < (timeoutSeconds - 1) * 1000) throw new Error(`ejected after ${idleEjectMs} ms, before the ${timeoutSeconds} s timeout`);
    const after = m.events.slice(seen);
    const countdown = after.filter((e) => e.what === 'RemainingInactivityTimeout').map((e) => Number(e.value));
    if (!countdown.some((v) => v > 0 && v < timeoutSeconds)) throw new Error(`RemainingInactivityTimeout never counted down: ${JSON.stringify(countdown)}`);
    await waitFor('Process.Active false after the idle eject', 5000, async () => (await m.process.get('Active')) === false);
    if (!m.events.slice(seen).some((e) => e.what === 'Active' && e.value === false)) throw new Error('no PropertiesChanged Active=false for the idle eject');
    await waitClean(c.legacy.nbd, socket);

    // Busy: one 4 KiB O_DIRECT read a second keeps it in.
    t0 = Date.now();
    await m.mountLegacy(url(c.servers.open, c.disk), false);
    await m.expectCompletion('Mount (busy)', t0);
    const disk = await waitForUsbDevice('sd');
    const busyFor = (timeoutSeconds * 2 + 3) * 1000;
    const until = Date.now() + busyFor;
    let reads = 0;
    while (Date.now() < until) {
      await run('dd', [`if=/dev/${disk.name}`, 'of=/dev/null', 'bs=4k', 'count=1', `skip=${reads % 2048}`, 'iflag=direct', 'status=none']);
      reads++;
      if (m.pendingCompletions) throw new Error(`ejected after ${reads} reads although the host kept reading`);
      await sleep(1000);
    }
    if ((await m.process.get('Active')) !== true) throw new Error('not active after the busy period');
    await unmountClean(m, c.legacy.nbd);
    return { idleEjectMs, countdown, busyMs: busyFor, busyReads: reads };
  } finally {
    await m.close();
  }
}

/** Bench: Mount -> Completion and Mount -> USB disk visible for an HTTPS image, medians of `rounds`. */
export async function mountLatency(c: Context, rounds: number): Promise<Measures> {
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  const completion: number[] = [];
  const visible: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = Date.now();
      await m.mountLegacy(url(c.servers.open, c.disk), false);
      completion.push(await m.expectCompletion('Mount', t0));
      await waitFor('a USB disk with a medium', 60_000, () => usbBlockDevices().some((d) => d.name.startsWith('sd') && d.bytes > 0), 20);
      visible.push(Date.now() - t0);
      await unmountClean(m, c.legacy.nbd);
    }
  } finally {
    await m.close();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return { mountToCompletionMs: median(completion), mountToUsbDiskMs: median(visible), mountToCompletionRounds: completion, mountToUsbDiskRounds: visible };
}

/**
 * Bench: the daemon streaming a 32 MiB HTTPS image with `delayMs` of netem
 * delay on lo (a 2x round trip), read once through the USB disk (O_DIRECT),
 * then checked by sha256. Which nbdkit filters it uses is the daemon's config.
 */
export async function daemonStream(c: Context, delayMs: number): Promise<Measures> {
  const image = randomImage(join(c.work, 'www'), 'stream.img', 32);
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  await run('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', `${delayMs}ms`]);
  try {
    const t0 = Date.now();
    await m.mountLegacy(url(c.servers.open, image), false);
    await m.expectCompletion('Mount', t0);
    const disk = await waitForUsbDevice('sd');
    dropCaches();
    const started = process.hrtime.bigint();
    await run('dd', [`if=/dev/${disk.name}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none']);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const got = await sha256(`/dev/${disk.name}`);
    if (got !== image.sha256) throw new Error(`sha256 of the streamed disk ${got} != image ${image.sha256}`);
    await unmountClean(m, c.legacy.nbd);
    return { readMiBps: Math.round((image.bytes / 1048576 / seconds) * 10) / 10, imageMiB: image.bytes >> 20, delayMs };
  } finally {
    await run('tc', ['qdisc', 'del', 'dev', 'lo', 'root']).catch(() => undefined);
    rmSync(image.path, { force: true });
    await m.close();
  }
}

/** Sequential O_DIRECT read rate of a block device in MiB/s, caches dropped first (as lib.sh's read_rate_mib_s). */
async function readRate(device: string, bytes: number): Promise<number> {
  dropCaches();
  const started = process.hrtime.bigint();
  await run('dd', [`if=${device}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none']);
  return bytes / 2 ** 20 / (Number(process.hrtime.bigint() - started) / 1e9);
}

/**
 * Bench: the USB-disk read rate of a daemon-made mount, on the same data
 * path as the by-hand bench (nbdkit file plugin on a unix socket, served as
 * bmcweb would in proxy mode), so only the daemon's nbd-client and gadget
 * settings differ. Also the raw /dev/nbdN rate under it. Medians of rounds.
 */
export async function daemonReadRate(c: Context, imageMiB: number, rounds: number): Promise<Measures> {
  const image = randomImage(c.work, 'read-rate.img', imageMiB);
  const m = await Medium.open(c.connection, 'Proxy', c.proxy.id);
  const socket = await socketOf(m);
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  const server = spawn('nbdkit', ['--foreground', '--unix', socket, '--readonly', 'file', `file=${image.path}`], { stdio: 'inherit' });
  try {
    await waitFor(`the NBD socket ${socket}`, 30_000, () => readFileSync('/proc/net/unix', 'utf8').includes(socket));
    const t0 = Date.now();
    if ((await m.mountProxy()) !== true) throw new Error('Proxy.Mount returned false');
    await m.expectCompletion('Proxy.Mount', t0);
    const disk = await waitForUsbDevice('sd');
    const usb: number[] = [];
    const nbd: number[] = [];
    for (let i = 0; i < rounds; i++) {
      nbd.push(await readRate(`/dev/${c.proxy.nbd}`, image.bytes));
      usb.push(await readRate(`/dev/${disk.name}`, image.bytes));
    }
    const t1 = Date.now();
    await m.unmount();
    await m.expectCompletion('Proxy.Unmount', t1);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    return { imageMiB, usbReadMiBps: median(usb), nbdReadMiBps: median(nbd), usbReadRounds: usb, nbdReadRounds: nbd };
  } finally {
    server.kill('SIGTERM');
    await m.close();
  }
}
