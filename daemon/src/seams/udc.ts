// Seam: the USB device controllers in /sys/class/udc (on ASPEED the vhub
// ports, e.g. 1e6a0000.usb-vhub:p1; in the test VM dummy_udc.0).
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { Errno, OperationError } from '../util/errno.js';

export function listUdcs(sysRoot: string): string[] {
  try {
    return readdirSync(posix.join(sysRoot, 'class', 'udc')).sort(naturalOrder);
  } catch {
    return [];
  }
}

/**
 * The UDC to bind: the configured one if it is free, else the first free one.
 * The caller holds GadgetSeam's bind lock from this choice until the bind is
 * written, so two mount points never pick the same port.
 */
export function chooseUdc(sysRoot: string, configured: string | undefined, bound: Set<string>): string {
  const all = listUdcs(sysRoot);
  if (configured !== undefined) {
    if (!all.includes(configured)) throw new OperationError(Errno.EINVAL, `the configured UDC ${configured} does not exist`);
    if (bound.has(configured)) throw new OperationError(Errno.EBUSY, `the configured UDC ${configured} is in use`);
    return configured;
  }
  const free = all.find((u) => !bound.has(u));
  if (!free) throw new OperationError(Errno.EBUSY, all.length ? 'every UDC is in use' : 'no UDC in /sys/class/udc');
  return free;
}

// vhub ports p1..p10 in numeric order, not p1, p10, p2.
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
