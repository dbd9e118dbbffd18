// Builds the npm packages a TypeScript service installs, and packs them:
//   openbmc-dbus-runtime          codegen/runtime/  (the runtime generated code imports)
//   openbmc-dbus-unix-fd          codegen/runtime/unix-fd/  (its optional fd-passing addon:
//                                 C sources, built by node-gyp when installed)
//   pdi-tsgen                     codegen/          (the generator, `pdi-tsgen` command)
//   openbmc-virtual-media-client  client/           (the VirtualMedia client)
// The TypeScript ones are JavaScript plus declarations (tsc) in their
// folder's dist/, with the package.json committed next to it. The client's compiled imports of the
// runtime's sources are turned into imports of openbmc-dbus-runtime, so that
// a service using the client and its own bindings has one runtime.
//
// Usage: tsx scripts/packages/build.ts [--out DIR]   (default .cache/packages)
// Prints the tarball paths, one a line. Works offline.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const tsc = join(root, 'node_modules', '.bin', 'tsc');

export const PACKAGES = [
  { name: 'openbmc-dbus-runtime', dir: 'codegen/runtime' },
  { name: 'openbmc-dbus-unix-fd', dir: 'codegen/runtime/unix-fd' },
  { name: 'pdi-tsgen', dir: 'codegen' },
  { name: 'openbmc-virtual-media-client', dir: 'client' },
] as const;

const RUNTIME_PACKAGE = 'openbmc-dbus-runtime';

function run(command: string, args: string[], cwd = root): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

function compile(dir: string): void {
  rmSync(join(root, dir, 'dist'), { recursive: true, force: true });
  try {
    run(tsc, ['-p', join(root, dir, 'tsconfig.build.json')]);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p ${dir}/tsconfig.build.json failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** client/dist: the runtime's compiled copy goes, imports of it name the runtime package. */
function linkClientToRuntimePackage(): void {
  const dist = join(root, 'client', 'dist');
  rmSync(join(dist, 'codegen'), { recursive: true, force: true });
  const runtimeImport = /(['"])(?:\.\.?\/)+codegen\/runtime\/index\.js\1/g;
  for (const f of files(dist).filter((p) => /\.(js|d\.ts)$/.test(p))) {
    const text = readFileSync(f, 'utf8');
    const linked = text.replace(runtimeImport, `'${RUNTIME_PACKAGE}'`);
    if (/codegen\/runtime/.test(linked)) throw new Error(`${f} still refers to codegen/runtime after linking to ${RUNTIME_PACKAGE}`);
    if (linked !== text) writeFileSync(f, linked);
  }
}

export function buildPackages(out: string): string[] {
  compile('codegen/runtime');
  compile('codegen');
  compile('client');
  linkClientToRuntimePackage();
  mkdirSync(out, { recursive: true });
  const tarballs: string[] = [];
  for (const p of PACKAGES) {
    // The license text goes into each package (npm packs LICENSE from the package's top folder).
    const license = join(root, p.dir, 'LICENSE');
    copyFileSync(join(root, 'LICENSE'), license);
    try {
      const json = run('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--pack-destination', out, join(root, p.dir)]);
      const [{ filename }] = JSON.parse(json) as { filename: string }[];
      const tarball = join(out, filename);
      if (!existsSync(tarball)) throw new Error(`npm pack did not write ${tarball}`);
      tarballs.push(tarball);
    } finally {
      rmSync(license, { force: true });
    }
  }
  return tarballs;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, '.cache', 'packages') } } });
  for (const t of buildPackages(resolve(values.out!))) process.stdout.write(`${t}\n`);
}
