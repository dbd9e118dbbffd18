// Runs the virtual-media recipe's do_compile / do_install outside bitbake:
// the task bodies are taken from the .bb file and expanded with the values
// bitbake would give them, mapped to this machine (native sysroot -> the host
// Node installation, ${D} -> a staging root).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RecipeVars, recipeWithIncludes, shellFunction } from './bitbake-vars.js';
import { daemonFilesDir, daemonRecipe, packageVersion } from './layer-files.js';
import { requireCommand } from '../../support/require-command.js';

export interface TargetToolchain {
  /** bitbake TARGET_ARCH */
  targetArch: 'arm' | 'x86_64';
  /** the OVERRIDES entry bitbake derives from it */
  archOverride: 'arm' | 'x86-64';
  cc: string;
  cxx: string;
}

export const hostToolchain: TargetToolchain = { targetArch: 'x86_64', archOverride: 'x86-64', cc: 'gcc', cxx: 'g++' };
export const armToolchain: TargetToolchain = {
  targetArch: 'arm',
  archOverride: 'arm',
  cc: 'arm-linux-gnueabihf-gcc',
  cxx: 'arm-linux-gnueabihf-g++',
};

/** The host's counterpart of ${STAGING_LIBDIR_NATIVE}: where npm (with its node-gyp) lives. */
function nativeLibdir(): string {
  const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const nodeGyp = join(globalRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(nodeGyp)) throw new Error(`npm's node-gyp not found at ${nodeGyp} (install Node with npm, e.g. the nodejs package from nodesource)`);
  return dirname(globalRoot);
}

export interface RecipeWorkdir {
  /** ${UNPACKDIR}: the unpacked release (package/) plus the recipe's file:// files */
  unpackdir: string;
  /** ${D} */
  dest: string;
}

/** Lays out ${UNPACKDIR} like do_unpack does: the tarball's package/ and the layer's files. */
export function prepareUnpackdir(unpackdir: string, tarball: string): void {
  mkdirSync(unpackdir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpackdir]);
  cpSync(daemonFilesDir, unpackdir, { recursive: true });
}

export function recipeVars(work: RecipeWorkdir, toolchain: TargetToolchain, recipe = daemonRecipe): RecipeVars {
  const nodeBin = dirname(process.execPath);
  return new RecipeVars(
    recipeWithIncludes(recipe),
    {
      PV: packageVersion(),
      TARGET_ARCH: toolchain.targetArch,
      UNPACKDIR: work.unpackdir,
      D: work.dest,
      STAGING_BINDIR_NATIVE: nodeBin,
      STAGING_LIBDIR_NATIVE: nativeLibdir(),
      STAGING_DIR_NATIVE: '',
      prefix_native: dirname(nodeBin),
      nonarch_libdir: '/usr/lib',
      sysconfdir: '/etc',
      systemd_system_unitdir: '/usr/lib/systemd/system',
      datadir: '/usr/share',
    },
    [toolchain.archOverride],
  );
}

export interface TaskResult {
  code: number | null;
  output: string;
}

/** Runs one of a recipe's shell tasks (default: the daemon's) without network; resolves with its exit code and output. */
export async function runRecipeTask(
  task: 'do_compile' | 'do_install',
  work: RecipeWorkdir,
  toolchain: TargetToolchain,
  recipe = daemonRecipe,
): Promise<TaskResult> {
  requireCommand(toolchain.cc, toolchain.cc.startsWith('arm-') ? 'gcc-arm-linux-gnueabihf' : 'gcc');
  requireCommand(toolchain.cxx, toolchain.cxx.startsWith('arm-') ? 'g++-arm-linux-gnueabihf' : 'g++');
  requireCommand('make', 'make');
  requireCommand('python3', 'python3');
  const vars = recipeVars(work, toolchain, recipe);
  const body = vars.expand(shellFunction(recipeWithIncludes(recipe), task));
  // Like bitbake, which cuts every task but do_fetch off the network, run the
  // task in an empty network namespace: a step that needs the registry fails.
  requireCommand('unshare', 'util-linux');
  const child = spawn('unshare', ['--net', 'sh', '-e', '-c', body], {
    env: { ...process.env, CC: toolchain.cc, CXX: toolchain.cxx },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

/** ELF e_machine of a shared object: 40 = ARM, 62 = x86-64. */
export function elfMachine(header: Buffer): { bits: 32 | 64; machine: number; hardFloat: boolean } {
  if (header.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  const bits = header[4] === 1 ? 32 : 64;
  const machine = header.readUInt16LE(18);
  // e_flags: at 0x24 (32-bit); EF_ARM_ABI_FLOAT_HARD = 0x400
  const flags = bits === 32 ? header.readUInt32LE(0x24) : header.readUInt32LE(0x30);
  return { bits, machine, hardFloat: (flags & 0x400) !== 0 };
}
