// Finds the Debian stock kernel (package linux-image-amd64) on this machine:
// its vmlinuz in /boot and its unpacked modules in /lib/modules/<version>.
// The host's running kernel is not Debian's, so `uname -r` is no help here.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DebianKernel {
  /** e.g. 6.1.0-56-amd64 */
  version: string;
  vmlinuz: string;
  /** /lib/modules/<version> on the host, which the guest sees at the same path over 9p. */
  modulesDir: string;
  /** What `modprobe -d` takes: the directory that contains lib/modules/<version>. */
  modulesBase: string;
}

const MISSING =
  "no Debian kernel with modules found (need /boot/vmlinuz-<ver>-amd64 and /lib/modules/<ver>/modules.dep): install the Debian package 'linux-image-amd64'";

/** Compares Debian kernel versions like 6.1.0-56-amd64 numerically, field by field. */
function compareVersions(a: string, b: string): number {
  const na = a.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  const nb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const x = Number.isNaN(na[i]) ? -1 : (na[i] ?? -1);
    const y = Number.isNaN(nb[i]) ? -1 : (nb[i] ?? -1);
    if (x !== y) return x - y;
  }
  return 0;
}

export function findDebianKernel(preferredMajorMinor = '6.1'): DebianKernel {
  const modulesBase = '/';
  let names: string[] = [];
  try {
    names = readdirSync('/boot');
  } catch {
    throw new Error(MISSING);
  }
  const candidates = names
    .filter((n) => /^vmlinuz-.+-amd64$/.test(n))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join('/lib/modules', v, 'modules.dep')))
    .filter((v) => existsSync(join('/lib/modules', v, 'kernel/drivers/usb/gadget/udc/dummy_hcd.ko')));
  if (candidates.length === 0) throw new Error(MISSING);
  const preferred = candidates.filter((v) => v.startsWith(`${preferredMajorMinor}.`));
  const pool = preferred.length > 0 ? preferred : candidates;
  const version = pool.sort(compareVersions)[pool.length - 1] as string;
  return {
    version,
    vmlinuz: join('/boot', `vmlinuz-${version}`),
    modulesDir: join('/lib/modules', version),
    modulesBase,
  };
}
