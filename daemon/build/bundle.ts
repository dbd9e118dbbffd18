// Builds the production daemon: one ESM file, dist/virtual-mediad.mjs, with
// dbus-next, the runtime and the generated bindings inside. Only our unix-fd
// addon (codegen/runtime/unix-fd) stays outside: the runtime loads it at run
// time as node_modules/openbmc-dbus-unix-fd (package.json and
// build/Release/unix_fd.node) next to the bundle, where the layer installs
// it. x11 is an optional dbus-next dependency for X11 session buses, never
// used on a BMC; usocket is the addon dbus-next's own socket code would try,
// a code path the runtime never takes (codegen/runtime/transport.ts).
//
// Small stand-ins replace what the daemon does not need, for start-up time
// and memory (bench/daemon.ts): xml2js (dbus-next parses no XML here) and
// Node's assert (two checks).
//
//   npx tsx daemon/build/bundle.ts [--outfile dist/virtual-mediad.mjs] [--metafile FILE] [--entry daemon/src/main.ts] [--no-minify]
import { build, type Metafile } from 'esbuild';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export interface BundleResult {
  readonly outfile: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Modules the bundle still loads at run time (esbuild's metafile): built-ins and the externals. */
  readonly externalImports: readonly string[];
  /** esbuild's metafile: every input that went into the bundle. */
  readonly metafile: Metafile;
}

// esbuild turns require() calls into a shim that fails for externals in ESM
// output; a real require bound to the bundle's location finds what is in the
// node_modules beside it.
const REQUIRE_BANNER = "import { createRequire as __vmCreateRequire } from 'node:module'; const require = __vmCreateRequire(import.meta.url);";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export async function bundleDaemon(outfile = 'dist/virtual-mediad.mjs', minify = true, entry = 'daemon/src/main.ts'): Promise<BundleResult> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const result = await build({
    metafile: true,
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['x11', 'usocket', '*.node'],
    alias: {
      xml2js: here('./xml2js-lite.ts'),
      assert: here('./assert-lite.cjs'),
    },
    banner: { js: REQUIRE_BANNER },
    outfile,
    minify,
    // Readable stack traces in the journal even when minified.
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const path = new URL(outfile, `file://${root}`).pathname;
  const externalImports = new Set<string>();
  for (const output of Object.values(result.metafile!.outputs)) for (const i of output.imports) if (i.external) externalImports.add(i.path);
  return { outfile: path, bytes: statSync(path).size, gzipBytes: gzipSync(readFileSync(path)).length, externalImports: [...externalImports].sort(), metafile: result.metafile! };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const result = await bundleDaemon(option('--outfile'), !args.includes('--no-minify'), option('--entry'));
  // The release script reads which packages went into the bundle (for their licences).
  const metafile = option('--metafile');
  if (metafile) writeFileSync(metafile, JSON.stringify(result.metafile));
  process.stdout.write(`${result.outfile}: ${result.bytes} bytes (${result.gzipBytes} gzipped); loads at run time: ${result.externalImports.join(' ')}\n`);
}
