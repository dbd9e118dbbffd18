// Where the kernel checks find their inputs: the patch and config fragment in
// the layer, the Debian kernel packages on this machine, and the cache.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const KERNEL_FILES_DIR = join(
  REPO_ROOT,
  'meta-virtual-media/dynamic-layers/aspeed-layer/recipes-kernel/linux/linux-aspeed',
);
export const PATCH_FILE = join(KERNEL_FILES_DIR, '0001-usb-gadget-f_mass_storage-add-per-LUN-IO-statistics.patch');
export const CONFIG_FRAGMENT = join(KERNEL_FILES_DIR, 'virtual-media.cfg');

/**
 * Build products live here, keyed by a hash of their inputs (gitignored).
 * MVM_KERNEL_CACHE moves it, e.g. to time a cold build without disturbing
 * a VM test that is using the cached module.
 */
export const KERNEL_CACHE_DIR = process.env.MVM_KERNEL_CACHE ?? join(REPO_ROOT, '.cache/kernel');

/** The two kernel series the patch is checked against. */
export type SourceSeries = '6.1' | '6.12';

async function installedVersion(pkg: string): Promise<string | undefined> {
  const result = await runCommand('dpkg-query', ['-W', '-f=${Status}|${Version}', pkg], { allowFailure: true });
  const [status, version] = result.stdout.split('|');
  return result.code === 0 && status?.endsWith(' installed') && version ? version : undefined;
}

async function requirePackageVersion(pkg: string, why: string): Promise<string> {
  const version = await installedVersion(pkg);
  if (!version) throw new Error(`Debian package '${pkg}' is not installed (${why}): install it (npm run bootstrap does this)`);
  return version;
}

export interface DebianSource {
  series: SourceSeries;
  /** Debian package version, e.g. 6.12.117-1~deb12u1 */
  packageVersion: string;
  tarball: string;
  /** Name of the top directory inside the tarball. */
  topDir: string;
}

export async function debianSource(series: SourceSeries): Promise<DebianSource> {
  const pkg = `linux-source-${series}`;
  const packageVersion = await requirePackageVersion(pkg, `the Linux ${series} source the patch is checked against`);
  const tarball = `/usr/src/${pkg}.tar.xz`;
  if (!existsSync(tarball)) throw new Error(`${tarball} is missing: reinstall the Debian package '${pkg}'`);
  return { series, packageVersion, tarball, topDir: pkg };
}

export interface DebianAmd64Kernel {
  /** The kernel release as `uname -r` prints it inside the VM, e.g. 6.1.0-56-amd64 */
  release: string;
  /** Version of linux-image-<release>, e.g. 6.1.192-2 */
  packageVersion: string;
  headersDir: string;
  /** /lib/modules/<release> */
  modulesDir: string;
}

/**
 * The kernel that linux-image-amd64 points at. The host runs some other
 * kernel, so `uname -r` must not be used. The headers and the 6.1 source
 * must be of the same Debian version, or the module would be built from
 * code that does not match the kernel it is loaded into.
 */
export async function debianAmd64Kernel(): Promise<DebianAmd64Kernel> {
  await requirePackageVersion('linux-image-amd64', 'the stock Debian 6.1 kernel the module is built for');
  const depends = await runCommand('dpkg-query', ['-W', '-f=${Depends}', 'linux-image-amd64']);
  const match = /linux-image-(\d+\.\d+\.\d+-\d+-amd64)(?:-unsigned)? \(= ([^)]+)\)/.exec(depends.stdout);
  if (!match?.[1] || !match[2]) throw new Error(`cannot read the kernel release from linux-image-amd64's Depends: ${depends.stdout}`);
  const [, release, packageVersion] = match;
  const headersPkg = `linux-headers-${release}`;
  const headersVersion = await requirePackageVersion(headersPkg, 'to build the module out of tree (package linux-headers-amd64)');
  const source = await debianSource('6.1');
  if (headersVersion !== packageVersion || source.packageVersion !== packageVersion) {
    throw new Error(
      `Debian kernel packages disagree: linux-image-${release} ${packageVersion}, ${headersPkg} ${headersVersion}, ` +
        `linux-source-6.1 ${source.packageVersion}; install matching versions of linux-image-amd64, linux-headers-amd64 and linux-source-6.1`,
    );
  }
  const modulesDir = join('/lib/modules', release);
  if (!existsSync(join(modulesDir, 'modules.dep'))) throw new Error(`${modulesDir}/modules.dep is missing: reinstall linux-image-${release}`);
  return { release, packageVersion, headersDir: join('/usr/src', headersPkg), modulesDir };
}
