// Where the layer and its files are, and small readers shared by the layer tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const layerDir = join(repoRoot, 'meta-virtual-media');
export const daemonRecipeDir = join(layerDir, 'recipes-bmc/virtual-media');
export const daemonRecipe = join(daemonRecipeDir, 'virtual-media_0.1.0.bb');
export const daemonFilesDir = join(daemonRecipeDir, 'files');
export const buildScript = join(daemonFilesDir, 'virtual-media-build.sh');
export const unitFile = join(daemonFilesDir, 'xyz.openbmc_project.VirtualMedia.service');
export const policyFile = join(daemonFilesDir, 'xyz.openbmc_project.VirtualMedia.conf');
export const kasFile = join(layerDir, 'ci/kas/evb-ast2600-virtual-media.yml');
export const workflowFile = join(repoRoot, '.github/workflows/yocto-image.yml');
export const releaseScript = join(repoRoot, 'scripts/release/make-release.sh');

/** Every file below `dir`, as absolute paths. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out.sort();
}

export function layerFiles(): string[] {
  return walk(layerDir);
}

/** BitBake metadata files of the layer (.bb, .bbappend, .inc, .conf). */
export function metadataFiles(): string[] {
  return layerFiles().filter((f) => /\.(bb|bbappend|inc|conf)$/.test(f) && !f.endsWith('.service') && f.includes('/') && !isFilesPayload(f));
}

/** Files fetched with file:// (unit, policy, patches, tmpfiles.d, drop-ins, ...) are payload, not metadata. */
function isFilesPayload(path: string): boolean {
  const rel = relative(layerDir, path);
  return /\/(files|linux-aspeed|bmcweb)\//.test(`/${rel}`);
}

export function rel(path: string): string {
  return relative(repoRoot, path);
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}

export function packageVersion(): string {
  return (JSON.parse(read(join(repoRoot, 'package.json'))) as { version: string }).version;
}
