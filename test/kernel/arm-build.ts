// Cross-compiles the patched mass-storage objects for a 32-bit ASPEED BMC:
// linux-source-6.12 unpacked, patched, configured with aspeed_g5_defconfig
// plus virtual-media.cfg, then only the two objects are built. The unpacked
// tree and the build output are cached under .cache/kernel/arm-<hash>/,
// keyed by the source version, the patch and the fragment.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { applyWithPatch, parsePatchOutput, type PatchReport } from './apply-patch.js';
import { CONFIG_FRAGMENT, debianSource, KERNEL_CACHE_DIR, PATCH_FILE } from './kernel-inputs.js';
import { runCommand } from './run-command.js';
import { requireCommand } from '../support/require-command.js';

export const ARM_DEFCONFIG = 'aspeed_g5_defconfig';
const CROSS_COMPILE = 'arm-linux-gnueabi-';
const OBJECTS = ['drivers/usb/gadget/function/f_mass_storage.o', 'drivers/usb/gadget/function/storage_common.o'];
// Bump when the steps below change, to invalidate old caches.
const RECIPE_VERSION = '1';

export interface ArmTree {
  /** Patched linux-source-6.12 tree. */
  sourceDir: string;
  /** Debian package version of linux-source-6.12. */
  packageVersion: string;
  /** GNU patch's report from patching the pristine tree. */
  patchReport: PatchReport;
}

export interface ArmBuild extends ArmTree {
  /** Build output directory (make O=...). */
  objDir: string;
  /** The final .config after the defconfig, the fragment and olddefconfig. */
  config: string;
  /** merge_config.sh's output (it names values the final .config did not keep). */
  mergeOutput: string;
  fMassStorageObject: string;
  storageCommonObject: string;
  /** Seconds spent in each step of this call; empty when everything came from the cache. */
  timings: Record<string, number>;
}

function cacheKey(packageVersion: string): string {
  return createHash('sha256')
    .update(readFileSync(PATCH_FILE))
    .update(readFileSync(CONFIG_FRAGMENT))
    .update(`\n${packageVersion}\n${ARM_DEFCONFIG}\n${RECIPE_VERSION}`)
    .digest('hex')
    .slice(0, 16);
}

function makeArgs(objDir: string): string[] {
  return [`O=${objDir}`, 'ARCH=arm', `CROSS_COMPILE=${CROSS_COMPILE}`];
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: 'C' });

async function timed<T>(timings: Record<string, number>, step: string, work: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  try {
    return await work();
  } finally {
    timings[step] = Number(process.hrtime.bigint() - start) / 1e9;
  }
}

/** Removes trees of other patch/fragment versions: each is about 1.7 GB. */
function pruneOtherTrees(keep: string): void {
  if (!existsSync(KERNEL_CACHE_DIR)) return;
  for (const name of readdirSync(KERNEL_CACHE_DIR)) {
    if (name.startsWith('arm-') && name !== keep) rmSync(join(KERNEL_CACHE_DIR, name), { recursive: true, force: true });
  }
}

let pendingTree: Promise<ArmTree & { root: string; timings: Record<string, number> }> | undefined;

async function prepareTree(): Promise<ArmTree & { root: string; timings: Record<string, number> }> {
  requireCommand('tar', 'tar');
  requireCommand('xz', 'xz-utils');
  const source = await debianSource('6.12');
  const name = `arm-${cacheKey(source.packageVersion)}`;
  const root = join(KERNEL_CACHE_DIR, name);
  const sourceDir = join(root, 'src');
  const patchOutputFile = join(root, 'patch-output.txt');
  const timings: Record<string, number> = {};
  if (!existsSync(patchOutputFile)) {
    pruneOtherTrees(name);
    rmSync(root, { recursive: true, force: true });
    const scratch = join(root, `src.tmp-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
    await timed(timings, 'unpack', () =>
      runCommand('tar', ['-xJf', source.tarball, '-C', scratch, '--strip-components=1']),
    );
    const report = await timed(timings, 'patch', () => applyWithPatch(scratch, PATCH_FILE));
    renameSync(scratch, sourceDir);
    writeFileSync(patchOutputFile, report.output);
  }
  return {
    root,
    sourceDir,
    packageVersion: source.packageVersion,
    patchReport: parsePatchOutput(readFileSync(patchOutputFile, 'utf8')),
    timings,
  };
}

/** The unpacked, patched 6.12 tree (about 10 s cold), shared by the ARM build and the Kconfig checks. */
export function preparePatchedArmTree(): Promise<ArmTree & { root: string; timings: Record<string, number> }> {
  if (!pendingTree) {
    pendingTree = prepareTree();
    pendingTree.catch(() => {
      pendingTree = undefined;
    });
  }
  return pendingTree;
}

let pendingBuild: Promise<ArmBuild> | undefined;

async function build(): Promise<ArmBuild> {
  requireCommand('make', 'make');
  requireCommand(`${CROSS_COMPILE}gcc`, 'gcc-arm-linux-gnueabi');
  for (const [cmd, pkg] of [['bison', 'bison'], ['flex', 'flex'], ['bc', 'bc'], ['perl', 'perl']] as const) {
    requireCommand(cmd, pkg);
  }
  const tree = await preparePatchedArmTree();
  const timings: Record<string, number> = { ...tree.timings };
  const objDir = join(tree.root, 'obj');
  const configFile = join(objDir, '.config');
  const mergeOutputFile = join(tree.root, 'merge-output.txt');
  const args = makeArgs(objDir);
  if (!existsSync(mergeOutputFile)) {
    rmSync(objDir, { recursive: true, force: true });
    mkdirSync(objDir, { recursive: true });
    await timed(timings, 'defconfig', () => runCommand('make', [...args, ARM_DEFCONFIG], { cwd: tree.sourceDir, env: env() }));
    const merge = await timed(timings, 'merge_config', () =>
      runCommand('scripts/kconfig/merge_config.sh', ['-m', '-O', objDir, configFile, CONFIG_FRAGMENT], {
        cwd: tree.sourceDir,
        env: { ...env(), ARCH: 'arm', CROSS_COMPILE },
      }),
    );
    await timed(timings, 'olddefconfig', () => runCommand('make', [...args, 'olddefconfig'], { cwd: tree.sourceDir, env: env() }));
    writeFileSync(mergeOutputFile, merge.stdout + merge.stderr);
  }
  // make itself decides whether anything is out of date (about 1 s when not).
  await timed(timings, 'objects', () =>
    runCommand('make', [...args, `-j${availableParallelism()}`, ...OBJECTS], { cwd: tree.sourceDir, env: env() }),
  );
  return {
    sourceDir: tree.sourceDir,
    packageVersion: tree.packageVersion,
    patchReport: tree.patchReport,
    objDir,
    config: readFileSync(configFile, 'utf8'),
    mergeOutput: readFileSync(mergeOutputFile, 'utf8'),
    fMassStorageObject: join(objDir, OBJECTS[0] as string),
    storageCommonObject: join(objDir, OBJECTS[1] as string),
    timings,
  };
}

/** Builds (or finds up to date) the two ARM objects; about 20-30 s cold, a few seconds warm. */
export function buildArmMassStorageObjects(): Promise<ArmBuild> {
  if (!pendingBuild) {
    pendingBuild = build();
    pendingBuild.catch(() => {
      pendingBuild = undefined;
    });
  }
  return pendingBuild;
}
