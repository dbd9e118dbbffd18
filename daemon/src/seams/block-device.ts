// Seam: what sysfs and /dev say about an nbd device. The device "appears"
// when /sys/block/nbdN/size turns non-zero (polled: BMCs and the test VM
// may have no udevd) and what kind of medium it holds is read from /dev.
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';

/** Size in 512-byte sectors (sysfs always counts 512-byte units), 0 when detached or unknown. */
export function sizeSectors(sysRoot: string, nbdDevice: string): number {
  try {
    const n = Number.parseInt(readFileSync(posix.join(sysRoot, 'block', nbdDevice, 'size'), 'utf8').trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * Whether the process that connected the device (sysfs `pid`: the
 * nbd-client in NBD_DO_IT) still runs. The file stays while anything holds
 * the device open, after that process is gone.
 */
export function connectedByLiveProcess(sysRoot: string, nbdDevice: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(posix.join(sysRoot, 'block', nbdDevice, 'pid'), 'utf8').trim(), 10);
  } catch {
    return false;
  }
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ISO 9660: the primary volume descriptor starts at sector 16 (byte 32768)
// with a type byte, then the standard identifier "CD001".
const ISO_MAGIC_OFFSET = 32769;
const ISO_MAGIC = 'CD001';

/**
 * Asynchronous on purpose: the read goes over the medium's link (HTTPS, SMB,
 * the operator's browser), a round trip at best and nbd's Timeout at worst,
 * and a synchronous one would stop every other mount point's D-Bus calls
 * for that long.
 */
export async function isIso9660(devicePath: string): Promise<boolean> {
  const handle = await open(devicePath, 'r');
  try {
    const buf = Buffer.alloc(ISO_MAGIC.length);
    const { bytesRead } = await handle.read(buf, 0, buf.length, ISO_MAGIC_OFFSET);
    return bytesRead === buf.length && buf.toString('latin1') === ISO_MAGIC;
  } finally {
    await handle.close();
  }
}

/** The kernel's view of the device's write protection (/sys/block/nbdN/ro), set from the NBD server's flags. */
export function isReadOnlyDevice(sysRoot: string, nbdDevice: string): boolean {
  try {
    return readFileSync(posix.join(sysRoot, 'block', nbdDevice, 'ro'), 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export interface QueueLimits {
  readonly readAheadKiB: number;
  readonly maxRequestKiB: number;
}

export interface QueueLimitsResult {
  /** What the device holds afterwards (read back), undefined when unreadable. */
  readonly readAheadKiB: number | undefined;
  readonly maxRequestKiB: number | undefined;
  readonly problems: readonly string[];
}

/**
 * Sets /sys/block/nbdN/queue/{max_sectors_kb, read_ahead_kb}: the largest
 * request the kernel sends to the NBD server (clamped to the driver's
 * max_hw_sectors_kb) and how far it reads ahead of a sequential reader.
 * Written only to files that exist (sysfs has no others).
 */
export function setQueueLimits(sysRoot: string, nbdDevice: string, want: QueueLimits): QueueLimitsResult {
  const queue = posix.join(sysRoot, 'block', nbdDevice, 'queue');
  const problems: string[] = [];
  const read = (name: string): number | undefined => {
    try {
      const n = Number.parseInt(readFileSync(posix.join(queue, name), 'utf8').trim(), 10);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const write = (name: string, value: number): void => {
    try {
      writeFileSync(posix.join(queue, name), `${value}\n`, { flag: 'r+' });
    } catch (e) {
      problems.push(`cannot set queue/${name} to ${value}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const hardware = read('max_hw_sectors_kb');
  write('max_sectors_kb', hardware === undefined ? want.maxRequestKiB : Math.min(want.maxRequestKiB, hardware));
  write('read_ahead_kb', want.readAheadKiB);
  return { readAheadKiB: read('read_ahead_kb'), maxRequestKiB: read('max_sectors_kb'), problems };
}
