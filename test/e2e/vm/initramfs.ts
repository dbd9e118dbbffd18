// Builds the small busybox initramfs at test time and caches it under
// .cache/e2e/, keyed by a hash of everything that goes into it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S_IFCHR, S_IFDIR, S_IFREG, writeNewc, type CpioEntry } from './cpio.js';
import type { DebianKernel } from './kernel.js';
import { loadOrder, readModuleDeps } from './modules.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..', '..');

/** What the initramfs needs to mount the 9p root (and an install root over it); everything else loads later from the root. */
const EARLY_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
const BUSYBOX = '/bin/busybox';
const FORMAT_VERSION = '1';

export interface Initramfs {
  path: string;
  fromCache: boolean;
}

export function buildInitramfs(kernel: DebianKernel, cacheDir = join(repoRoot, '.cache', 'e2e')): Initramfs {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`'${BUSYBOX}' is missing: install the Debian package 'busybox-static'`);
  }
  const busybox = readFileSync(BUSYBOX);
  const init = readFileSync(join(here, 'initramfs-init.sh'));
  const deps = readModuleDeps(kernel.modulesDir);
  const order = loadOrder(deps, EARLY_MODULES);
  const modules = order.map((name) => ({
    name,
    data: readFileSync(join(kernel.modulesDir, deps.pathOf.get(name) as string)),
  }));

  const hash = createHash('sha256');
  hash.update(`format ${FORMAT_VERSION}\nkernel ${kernel.version}\n`);
  hash.update(busybox).update(init);
  for (const m of modules) hash.update(`${m.name}\n`).update(m.data);
  const key = hash.digest('hex').slice(0, 16);
  const path = join(cacheDir, `initramfs-${kernel.version}-${key}.cpio`);
  if (existsSync(path)) return { path, fromCache: true };

  const dir = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  const entries: CpioEntry[] = [
    dir('bin'),
    dir('dev'),
    // The kernel opens /dev/console for init's stdio before init can mount devtmpfs.
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    dir('modules'),
    dir('newroot'),
    dir('proc'),
    dir('sys'),
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: 'init', mode: S_IFREG | 0o755, data: init },
    { name: 'modules/order', mode: S_IFREG | 0o644, data: Buffer.from(`${order.join('\n')}\n`) },
    ...modules.map((m) => ({ name: `modules/${m.name}.ko`, mode: S_IFREG | 0o644, data: m.data })),
  ];
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, writeNewc(entries));
  renameSync(tmp, path);
  return { path, fromCache: false };
}
