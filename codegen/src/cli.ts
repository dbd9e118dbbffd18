// pdi-tsgen: our sdbus++. Generates typed TypeScript D-Bus bindings, docs and
// introspection XML from phosphor-dbus-interfaces YAML.
import { parseArgs } from 'node:util';
import { isAbsolute, resolve } from 'node:path';
import { formatDiagnostic } from './model.js';
import { generate, DEFAULT_RUNTIME } from './generate.js';
import { checkOutput, writeOutput } from './output.js';
import { listInterfaces, loadCorpus } from './parse/index.js';
import type { RuntimeImport } from './emit/layout.js';
import type { Abi } from './emit/type-mapping.js';

const HELP = `Usage: pdi-tsgen <command> [options] [INTERFACE...]

Generates typed TypeScript D-Bus bindings from phosphor-dbus-interfaces YAML
(the input sdbus++ reads): per interface a/b/C/{common,server,client}.ts, per
errors file a/b/C/error.ts, and with --docs a/b/C.md and a/b/C.xml.

Commands:
  generate        write bindings for every interface under --root (or the
                  INTERFACEs named, e.g. xyz.openbmc_project.VirtualMedia.Legacy)
  generate --check
                  write nothing; exit 1 and list the files that differ from
                  what would be generated (for CI)
  list            print the interfaces under --root
  errors          print the D-Bus errors defined under --root
  validate        check the YAML only; print every problem as file:line:col

Options:
  -r, --root DIR      YAML root, like sdbus++ -r (default: .)
  -o, --out DIR       output folder for the TypeScript (default: generated)
  -d, --docs DIR      also write markdown docs and introspection XML here
      --abi ABI       lp64 (default; size/ssize are 64-bit) or ilp32 (32-bit ARM BMCs)
      --runtime WHERE how generated code imports the runtime: a package
                      specifier (default: ${DEFAULT_RUNTIME.specifier}) or a
                      path to the runtime's index.js/.ts (./ or / prefix)
      --check         with generate: compare instead of writing
  -h, --help          this text

Exit status: 0 on success, 1 when the YAML has problems or --check finds
differences, 2 on bad usage.
`;

function runtimeOption(value: string | undefined, out: string): RuntimeImport {
  if (!value) return DEFAULT_RUNTIME;
  if (value.startsWith('.') || isAbsolute(value)) return { entry: resolve(value), outputRoot: resolve(out) };
  return { specifier: value };
}

export function main(argv: string[], print: (s: string) => void = (s) => process.stdout.write(s), printError: (s: string) => void = (s) => process.stderr.write(s)): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string', short: 'r', default: '.' },
        out: { type: 'string', short: 'o', default: 'generated' },
        docs: { type: 'string', short: 'd' },
        abi: { type: 'string', default: 'lp64' },
        runtime: { type: 'string' },
        check: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    printError(`pdi-tsgen: ${(e as Error).message}\nTry 'pdi-tsgen --help'.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...names] = positionals;
  if (values.help || !command) {
    print(HELP);
    return values.help ? 0 : 2;
  }
  if (values.abi !== 'lp64' && values.abi !== 'ilp32') {
    printError(`pdi-tsgen: --abi must be lp64 or ilp32, not '${values.abi}'\n`);
    return 2;
  }
  const root = values.root!;
  switch (command) {
    case 'list':
      print(listInterfaces(root).map((n) => `${n}\n`).join(''));
      return 0;
    case 'validate':
    case 'errors': {
      const { corpus, diagnostics } = loadCorpus({ root, ...(names.length ? { interfaces: names } : {}) });
      if (diagnostics.length) {
        printError(diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join(''));
        printError(`pdi-tsgen: ${diagnostics.length} problem(s)\n`);
        return 1;
      }
      if (command === 'errors') {
        for (const f of [...corpus.errorFiles.values()].sort((a, b) => a.namespace.localeCompare(b.namespace))) {
          for (const e of f.errors) print(`${e.fullName}\t${e.description.trim().replace(/\s+/g, ' ')}\n`);
        }
      } else {
        print(`pdi-tsgen: ${corpus.interfaces.size} interface(s), ${corpus.errorFiles.size} errors file(s): no problems\n`);
      }
      return 0;
    }
    case 'generate': {
      const out = values.out!;
      const result = generate({
        root,
        ...(names.length ? { interfaces: names } : {}),
        abi: values.abi,
        runtime: runtimeOption(values.runtime, out),
        docs: Boolean(values.docs),
      });
      if (result.diagnostics.length) {
        printError(result.diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join(''));
        printError(`pdi-tsgen: ${result.diagnostics.length} problem(s); nothing generated\n`);
        return 1;
      }
      const dirs = { code: out, ...(values.docs ? { docs: values.docs } : {}) };
      if (values.check) {
        const problems = checkOutput(dirs, result.files);
        if (problems.length) {
          printError(problems.map((p) => `${p}\n`).join(''));
          printError(`pdi-tsgen: ${problems.length} file(s) not up to date; run pdi-tsgen generate\n`);
          return 1;
        }
        print(`pdi-tsgen: ${result.files.length} file(s) up to date\n`);
        return 0;
      }
      const { written, removed } = writeOutput(dirs, result.files);
      print(`pdi-tsgen: ${result.files.length} file(s), ${written} written, ${removed} stale removed\n`);
      return 0;
    }
    default:
      printError(`pdi-tsgen: unknown command '${command}'\nTry 'pdi-tsgen --help'.\n`);
      return 2;
  }
}

/** Runs as the `pdi-tsgen` command: this file run directly, or bin/pdi-tsgen.js. */
export function runCommand(argv: string[]): void {
  // `pdi-tsgen list | head`: a reader that went away is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = main(argv);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli.ts') || process.argv[1]?.endsWith('/cli.js')) {
  runCommand(process.argv.slice(2));
}
