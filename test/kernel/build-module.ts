// Builds the patched usb_f_mass_storage.ko out of tree for Debian's stock
// 6.1 amd64 kernel, so the VM tests can load it in place of the stock module.
// Inputs: the few files of linux-source-6.1 the module is made of, the patch,
// and linux-headers-<release> (its Module.symvers gives the CRCs of the
// libcomposite/configfs symbols the module uses). The .ko is cached under
// .cache/kernel/<hash>/ keyed by the patch, the kernel and this recipe.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { applyWithPatch, type PatchReport } from './apply-patch.js';
import { debianAmd64Kernel, KERNEL_CACHE_DIR, PATCH_FILE } from './kernel-inputs.js';
import { runCommand } from './run-command.js';
import { copySubset, sourceSubset } from './source-files.js';
import { requireCommand } from '../support/require-command.js';

const MODULE_NAME = 'usb_f_mass_storage';
const FUNCTION_DIR = 'drivers/usb/gadget/function';

// Same objects as the kernel's drivers/usb/gadget/function/Makefile; the
// include path stands in for its -I$(srctree)/drivers/usb/gadget/ (configfs.h).
const KBUILD = `ccflags-y := -I$(src)/..
obj-m := ${MODULE_NAME}.o
${MODULE_NAME}-y := f_mass_storage.o storage_common.o
`;

// Bump when the way the module is built changes, to invalidate old caches.
const RECIPE_VERSION = '1';

export interface PatchedModule {
  /** Absolute path of the cached usb_f_mass_storage.ko */
  ko: string;
  /** Kernel release it is built for (uname -r in the VM), e.g. 6.1.0-56-amd64 */
  kernelVersion: string;
  /** /lib/modules/<kernelVersion>: the stock modules it sits beside */
  modulesDir: string;
  /** The stock module it replaces, for comparisons */
  stockKo: string;
  /** vermagic string of the built module (equal to the stock module's) */
  vermagic: string;
  /** True if this call compiled it, false if the cached copy was used */
  built: boolean;
}

export async function modinfoField(ko: string, field: string): Promise<string> {
  requireCommand('modinfo', 'kmod');
  return (await runCommand('modinfo', ['-F', field, ko])).stdout.trim();
}

function findStockModule(modulesDir: string): string {
  const base = join(modulesDir, 'kernel', FUNCTION_DIR, MODULE_NAME);
  for (const suffix of ['.ko', '.ko.xz', '.ko.zst', '.ko.gz']) {
    if (existsSync(base + suffix)) return base + suffix;
  }
  throw new Error(`stock ${MODULE_NAME} module not found under ${modulesDir}: reinstall the Debian kernel image package`);
}

async function compile(buildRoot: string, headersDir: string): Promise<{ ko: string; patchReport: PatchReport }> {
  const subset = await sourceSubset('6.1');
  copySubset(subset, buildRoot);
  const patchReport = await applyWithPatch(buildRoot, PATCH_FILE);
  const moduleDir = join(buildRoot, FUNCTION_DIR);
  writeFileSync(join(moduleDir, 'Kbuild'), KBUILD);
  await runCommand('make', ['-C', headersDir, `M=${moduleDir}`, `-j${availableParallelism()}`, 'modules'], {
    env: { ...process.env, LC_ALL: 'C' },
  });
  return { ko: join(moduleDir, `${MODULE_NAME}.ko`), patchReport };
}

let pending: Promise<PatchedModule> | undefined;

async function buildOrReuse(): Promise<PatchedModule> {
  requireCommand('make', 'make');
  requireCommand('gcc', 'gcc');
  const kernel = await debianAmd64Kernel();
  const stockKo = findStockModule(kernel.modulesDir);
  const key = createHash('sha256')
    .update(readFileSync(PATCH_FILE))
    .update(`\n${kernel.release}\n${kernel.packageVersion}\n${RECIPE_VERSION}\n${KBUILD}`)
    .digest('hex')
    .slice(0, 16);
  const outDir = join(KERNEL_CACHE_DIR, key);
  const ko = join(outDir, `${MODULE_NAME}.ko`);
  let built = false;
  if (!existsSync(ko)) {
    mkdirSync(KERNEL_CACHE_DIR, { recursive: true });
    const buildRoot = mkdtempSync(join(KERNEL_CACHE_DIR, 'build-x86-'));
    try {
      const result = await compile(buildRoot, kernel.headersDir);
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, 'patch-output.txt'), result.patchReport.output);
      // Copy then rename, so a concurrent reader never sees half a file.
      cpSync(result.ko, `${ko}.tmp-${process.pid}`);
      renameSync(`${ko}.tmp-${process.pid}`, ko);
      built = true;
    } finally {
      rmSync(buildRoot, { recursive: true, force: true });
    }
  }
  const vermagic = await modinfoField(ko, 'vermagic');
  const stockVermagic = await modinfoField(stockKo, 'vermagic');
  if (vermagic !== stockVermagic) {
    throw new Error(`vermagic of ${ko} ('${vermagic}') differs from the stock module's ('${stockVermagic}')`);
  }
  return { ko, kernelVersion: kernel.release, modulesDir: kernel.modulesDir, stockKo, vermagic, built };
}

/**
 * The patched module for Debian's stock 6.1 amd64 kernel: built on first use
 * (about 10 s cold including the source extraction), then taken from the
 * cache. Checks that its vermagic equals the stock module's.
 */
export function buildPatchedMassStorageModule(): Promise<PatchedModule> {
  if (!pending) {
    pending = buildOrReuse();
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}
