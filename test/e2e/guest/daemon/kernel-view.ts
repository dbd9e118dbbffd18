// What the guest's kernel shows of a mount point, read the way a test on the
// BMC would check it: USB block devices under dummy_hcd, configfs gadgets,
// /sys/block/nbdN/size, nbdkit and nbd-client processes. Only async reads of
// device data (an in-process HTTPS server may be what serves them).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

export const GADGET_ROOT = '/sys/kernel/config/usb_gadget';
export const run = promisify(execFile);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until check() returns a value other than undefined/false; throws `what` after ms. */
export async function waitFor<T>(what: string, ms: number, check: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** sdX / srN devices usb-storage made for the dummy_hcd gadget, with their sizes in bytes. */
export function usbBlockDevices(): { name: string; bytes: number }[] {
  const out: { name: string; bytes: number }[] = [];
  for (const name of readdirSync('/sys/block')) {
    if (!/^(sd|sr)/.test(name)) continue;
    let device: string;
    try {
      device = realpathSync(`/sys/block/${name}/device`);
    } catch {
      continue;
    }
    if (!device.includes('/dummy_hcd.')) continue;
    out.push({ name, bytes: Number(readText(`/sys/block/${name}/size`) ?? 0) * 512 });
  }
  return out;
}

/** Waits for one USB block device (prefix sd or sr) with a medium, and its /dev node. */
export async function waitForUsbDevice(prefix: 'sd' | 'sr', ms = 60_000): Promise<{ name: string; bytes: number }> {
  return waitFor(`a USB ${prefix === 'sd' ? 'disk' : 'CD-ROM'} with a medium under dummy_hcd`, ms, () => {
    const d = usbBlockDevices().find((x) => x.name.startsWith(prefix) && x.bytes > 0);
    return d && existsSync(`/dev/${d.name}`) ? d : undefined;
  });
}

export function gadgets(): string[] {
  try {
    return readdirSync(GADGET_ROOT);
  } catch {
    return [];
  }
}

export function nbdSizeSectors(nbd: string): number {
  return Number(readText(`/sys/block/${nbd}/size`) ?? 0);
}

/** Processes whose command name is `comm` and whose argv mentions `needle`. */
export function processes(comm: string, needle?: string): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (readText(`/proc/${entry}/comm`) !== comm) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (needle === undefined || argv.some((a) => a.includes(needle))) out.push({ pid: Number(entry), argv });
  }
  return out;
}

/** The one process whose command name is `comm` and whose argv mentions `needle`. */
export function onlyProcess(comm: string, needle: string): number {
  const found = processes(comm, needle);
  if (found.length !== 1) throw new Error(`expected one ${comm} for ${needle}, found ${found.length}`);
  return found[0]!.pid;
}

/** SIGKILL, if it is still there. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function dropCaches(): void {
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/** sha256 of a file or device, read asynchronously (page cache dropped first). */
export async function sha256(path: string): Promise<string> {
  dropCaches();
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}

/** What must be gone once a mount point is back to ready. Returns the leftovers, empty when clean. */
export function leftovers(nbd: string, socket: string): string[] {
  const left: string[] = [];
  if (gadgets().length) left.push(`configfs gadgets: ${gadgets().join(' ')}`);
  const usb = usbBlockDevices();
  if (usb.length) left.push(`USB block devices: ${usb.map((d) => d.name).join(' ')}`);
  if (nbdSizeSectors(nbd) !== 0) left.push(`/dev/${nbd} still attached (${nbdSizeSectors(nbd)} sectors)`);
  const kits = processes('nbdkit', socket);
  if (kits.length) left.push(`nbdkit on ${socket}: pid ${kits.map((p) => p.pid).join(' ')}`);
  const clients = processes('nbd-client', nbd);
  if (clients.length) left.push(`nbd-client for ${nbd}: pid ${clients.map((p) => p.pid).join(' ')}`);
  return left;
}

export async function waitClean(nbd: string, socket: string, ms = 20_000): Promise<void> {
  let last: string[] = [];
  await waitFor(`nothing left of /dev/${nbd}`, ms, () => {
    last = leftovers(nbd, socket);
    return last.length === 0;
  }).catch(() => {
    throw new Error(`left behind after ${ms} ms: ${last.join('; ')}`);
  });
}
