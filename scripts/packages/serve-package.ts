// Builds and packs the virtual-media-serve package (nbd/): the CLI and the
// NBD core compiled to nbd/dist/ (tsc -p nbd/tsconfig.build.json), with
// nbd/package.json and the launcher nbd/bin/virtual-media-serve.js, which
// runs dist/ when no TypeScript source sits beside it. Kept apart from
// build.ts (the D-Bus packages): this package shares nothing with them.
//
// Usage: tsx scripts/packages/serve-package.ts [--out DIR]   (default .cache/packages)
// Prints the tarball path. Works offline.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SERVE_PACKAGE = { name: 'virtual-media-serve', dir: 'nbd' } as const;

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** Compiles nbd/ and packs it into `out`; returns the tarball's path. */
export function buildServePackage(out: string): string {
  const dir = join(root, SERVE_PACKAGE.dir);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.build.json')]);
  mkdirSync(out, { recursive: true });
  // npm packs LICENSE from the package's top folder.
  const license = join(dir, 'LICENSE');
  copyFileSync(join(root, 'LICENSE'), license);
  try {
    const [{ filename }] = JSON.parse(run('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--pack-destination', out, dir])) as { filename: string }[];
    const tarball = join(out, filename);
    if (!existsSync(tarball)) throw new Error(`npm pack did not write ${tarball}`);
    return tarball;
  } finally {
    rmSync(license, { force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, '.cache', 'packages') } } });
  process.stdout.write(`${buildServePackage(resolve(values.out!))}\n`);
}
