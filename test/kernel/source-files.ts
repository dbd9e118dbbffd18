// Pristine copies of the few source files the patch touches (plus what the
// out-of-tree build and checkpatch need), pulled out of the Debian
// linux-source tarballs once and cached. Callers copy them before patching.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { debianSource, KERNEL_CACHE_DIR, PATCH_FILE, type SourceSeries } from './kernel-inputs.js';
import { runCommand } from './run-command.js';
import { requireCommand } from '../support/require-command.js';

/** Files the build and checkpatch need besides the ones the patch touches. */
const EXTRA_FILES = [
  'drivers/usb/gadget/configfs.h',
  'drivers/usb/gadget/function/f_mass_storage.h',
  'scripts/checkpatch.pl',
  'scripts/spelling.txt',
  'scripts/const_structs.checkpatch',
];

/** Paths (relative to the tree) that a git-format-patch file modifies. */
export function filesTouchedBy(patchText: string): string[] {
  const files = [...patchText.matchAll(/^diff --git a\/(\S+) b\/\S+$/gm)].map((m) => m[1] as string);
  return [...new Set(files)];
}

export interface SourceSubset {
  series: SourceSeries;
  packageVersion: string;
  /** Root of the extracted files, laid out as in the kernel tree. */
  dir: string;
  files: string[];
}

const pending = new Map<SourceSeries, Promise<SourceSubset>>();

async function extractSubset(series: SourceSeries): Promise<SourceSubset> {
  requireCommand('tar', 'tar');
  requireCommand('xz', 'xz-utils');
  const source = await debianSource(series);
  const files = [...new Set([...filesTouchedBy(readFileSync(PATCH_FILE, 'utf8')), ...EXTRA_FILES])].sort();
  const key = createHash('sha256').update(`${source.packageVersion}\n${files.join('\n')}`).digest('hex').slice(0, 16);
  const dir = join(KERNEL_CACHE_DIR, 'src-subset', `${series}-${key}`);
  if (!existsSync(join(dir, '.complete'))) {
    const scratch = `${dir}.tmp-${process.pid}`;
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    await runCommand('tar', [
      '-xJf', source.tarball, '-C', scratch, '--strip-components=1',
      ...files.map((f) => `${source.topDir}/${f}`),
    ]);
    writeFileSync(join(scratch, '.complete'), `${source.packageVersion}\n`);
    if (existsSync(join(dir, '.complete'))) {
      rmSync(scratch, { recursive: true, force: true }); // another test run got there first
    } else {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dirname(dir), { recursive: true });
      renameSync(scratch, dir);
    }
  }
  return { series, packageVersion: source.packageVersion, dir, files };
}

/** The cached pristine subset of linux-source-<series>; extracted on first use (~7 s). */
export function sourceSubset(series: SourceSeries): Promise<SourceSubset> {
  let promise = pending.get(series);
  if (!promise) {
    promise = extractSubset(series);
    promise.catch(() => pending.delete(series));
    pending.set(series, promise);
  }
  return promise;
}

/** Copies the subset into `dest` (same layout) so it can be patched. */
export function copySubset(subset: SourceSubset, dest: string): void {
  for (const file of subset.files) {
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(join(subset.dir, file), join(dest, file));
  }
}
