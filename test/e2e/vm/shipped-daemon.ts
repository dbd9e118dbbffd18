// What the image ships, installed into a root the e2e VM lays over its own:
// the release tarball (`npm run release`, scripts/release/make-release.sh),
// unpacked as do_unpack does, then the daemon recipe's own tasks (do_compile
// when the recipe has one, do_install) run outside bitbake exactly as the
// layer tests run them (test/layer/support/recipe-run.ts). Nothing here knows
// what the install puts where: the guest sees the result at /, over the host
// root (run-in-vm.ts, `installRoot`).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPatchedMassStorageModule } from '../../kernel/build-module.js';
import { recipeWithIncludes } from '../../layer/support/bitbake-vars.js';
import { daemonRecipe } from '../../layer/support/layer-files.js';
import { makeRelease } from '../../layer/support/release.js';
import { hostToolchain, prepareUnpackdir, runRecipeTask } from '../../layer/support/recipe-run.js';

export interface ShippedDaemon {
  /** ${D} of the recipe: usr/lib/virtual-media, etc/virtual-media, the unit, the D-Bus policy. */
  root: string;
  tarball: string;
}

/** Builds the release and installs it with the recipe's tasks under `dir` (emptied first). */
export async function installShippedDaemon(dir: string): Promise<ShippedDaemon> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const release = await makeRelease(join(dir, 'release'));
  if (release.code !== 0) throw new Error(`npm run release (make-release.sh) failed:\n${release.output}`);
  const work = { unpackdir: join(dir, 'unpack'), dest: join(dir, 'root') };
  prepareUnpackdir(work.unpackdir, release.tarball);
  const recipe = recipeWithIncludes(daemonRecipe);
  for (const task of ['do_compile', 'do_install'] as const) {
    if (task === 'do_compile' && !new RegExp(`^${task}\\(\\)`, 'm').test(recipe)) continue;
    const result = await runRecipeTask(task, work, hostToolchain);
    if (result.code !== 0) throw new Error(`the recipe's ${task} failed (${daemonRecipe}):\n${result.output}`);
  }
  return { root: work.dest, tarball: release.tarball };
}

/** What a VM boot of the shipped daemon needs besides its script: the patched module and the install. */
export interface ShippedBoot {
  /** The patched usb_f_mass_storage.ko, for runInVm's replaceModules. */
  ko: string;
  /** The installed root, for runInVm's installRoot. */
  root: string;
  /** Holds the release and the install: remove it when the VM is done. */
  installDir: string;
}

/** Builds the patched module and installs the shipped daemon in a new temp folder named after `prefix`. */
export async function prepareShippedBoot(prefix: string): Promise<ShippedBoot> {
  let ko: string;
  try {
    ko = (await buildPatchedMassStorageModule()).ko;
  } catch (err) {
    throw new Error(`cannot build the patched usb_f_mass_storage.ko (see test/kernel/README.md): ${err instanceof Error ? err.message : String(err)}`);
  }
  const installDir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return { ko, root: (await installShippedDaemon(installDir)).root, installDir };
  } catch (e) {
    rmSync(installDir, { recursive: true, force: true });
    throw e;
  }
}
