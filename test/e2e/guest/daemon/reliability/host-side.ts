// What the reliability scenarios need of the guest beyond kernel-view.ts:
// the USB block device of one mount point (found by its USB serial number,
// with four UDCs in use at once), whole-device reads that may fail (dd, with a
// bound on how long an I/O error may take to arrive), a sha256 read that
// reports progress, and netem on lo (a network that stalls or dies).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { dropCaches, run, usbBlockDevices, waitFor } from '../kernel-view.js';

/** The daemon's default Gadget.SerialNumberPrefix: a mount point's USB serial is prefix + id. */
export const SERIAL_PREFIX = 'OBMC';

/** The USB serial number above a /sys/block entry (sdX -> ... -> the usb device dir holding `serial`). */
export function usbSerialOf(block: string): string | undefined {
  let dir: string;
  try {
    dir = realpathSync(`/sys/block/${block}/device`);
  } catch {
    return undefined;
  }
  while (dir !== '/' && dir !== '/sys') {
    if (existsSync(`${dir}/idVendor`) && existsSync(`${dir}/serial`)) return readFileSync(`${dir}/serial`, 'utf8').trim();
    dir = dirname(dir);
  }
  return undefined;
}

export interface UsbDevice {
  name: string;
  bytes: number;
}

/** The USB disk or CD-ROM (with a medium) the gadget of mount point `id` made. */
export function usbDeviceOf(id: string): UsbDevice | undefined {
  return usbBlockDevices().find((d) => d.bytes > 0 && usbSerialOf(d.name) === SERIAL_PREFIX + id && existsSync(`/dev/${d.name}`));
}

export async function waitForUsbDeviceOf(id: string, ms = 60_000): Promise<UsbDevice> {
  return waitFor(`the USB device of ${id} (serial ${SERIAL_PREFIX}${id}) with a medium`, ms, () => usbDeviceOf(id), 100);
}

/** sha256 of the first `bytes` bytes of a device, read asynchronously; `onProgress` sees the bytes read so far. */
export async function sha256Prefix(path: string, bytes: number, onProgress?: (read: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let read = 0;
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 1 << 20, start: 0, end: bytes - 1 })
      .on('data', (chunk) => {
        hash.update(chunk);
        read += chunk.length;
        onProgress?.(read);
      })
      .on('end', () => (read === bytes ? resolve() : reject(new Error(`${path} ended after ${read} of ${bytes} bytes`))))
      .on('error', reject);
  });
  return hash.digest('hex');
}

export interface ReadOutcome {
  /** dd's exit status (null: killed after the bound). */
  code: number | null;
  ms: number;
  /** dd's last stderr line (the I/O error it saw). */
  error: string;
  /** Whether it was still running at the bound (a hang: the host would wait forever). */
  hung: boolean;
}

/**
 * A whole-device O_DIRECT read by dd, started now; `done` resolves when dd
 * ends, or after `boundMs` with hung=true (dd then gets SIGKILL, which a
 * process stuck in the kernel may not even notice).
 */
export function readWholeDevice(device: string, boundMs: number): { done: Promise<ReadOutcome>; startedAt: number } {
  dropCaches();
  const startedAt = Date.now();
  const dd = spawn('dd', [`if=${device}`, 'of=/dev/null', 'bs=64k', 'iflag=direct', 'status=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  dd.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<ReadOutcome>((resolve) => {
    const timer = setTimeout(() => {
      dd.kill('SIGKILL');
      resolve({ code: null, ms: Date.now() - startedAt, error: stderr.trim().split('\n').pop() ?? '', hung: true });
    }, boundMs);
    dd.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - startedAt, error: stderr.trim().split('\n').pop() ?? '', hung: false });
    });
  });
  return { done, startedAt };
}

/** netem on lo (HTTPS, SMB and everything else on TCP in the guest; D-Bus and NBD are unix sockets). */
export const lo = {
  async set(...netem: string[]): Promise<void> {
    await run('tc', ['qdisc', 'replace', 'dev', 'lo', 'root', 'netem', ...netem]);
  },
  async clear(): Promise<void> {
    await run('tc', ['qdisc', 'del', 'dev', 'lo', 'root']).catch(() => undefined);
  },
};

/**
 * CIFS mounts in any mount namespace, from the kernel's own count
 * (/proc/fs/cifs/DebugData: "Mounts: N" per tree connection): a crashed
 * daemon's namespace is gone, but a share it left mounted would be counted.
 */
export function cifsMountsAnywhere(): number {
  const text = readFileSync('/proc/fs/cifs/DebugData', 'utf8');
  return [...text.matchAll(/Mounts: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}
