// Shared by the corpus tests, the CLI tests and the codegen benchmark: where
// the upstream phosphor-dbus-interfaces tree is, how to generate all of it
// into a folder, and how to type-check a generated folder with tsc --strict.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate, type GenerateResult } from '../../../codegen/src/generate.js';
import { writeOutput } from '../../../codegen/src/output.js';
import type { InterfaceDef, TypeNode } from '../../../codegen/src/model.js';
import type { Abi } from '../../../codegen/src/emit/type-mapping.js';
import { findCorpusRoot } from '../../support/corpus-root.js';

const execFileAsync = promisify(execFile);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const corpusRoot = findCorpusRoot(repoRoot);
export const runtimeEntry = join(repoRoot, 'codegen', 'runtime', 'index.ts');
export const tscPath = join(repoRoot, 'node_modules', '.bin', 'tsc');

/** Counts stated in FACTS.md §3 for the pinned corpus. */
export const CORPUS_INTERFACES = 348;
export const CORPUS_ERROR_FILES = 39;

/** A fresh scratch folder under .cache/ (removed first if a previous run left it). */
export function scratchDir(name: string): string {
  const dir = join(repoRoot, '.cache', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function requireCorpus(): string {
  if (!existsSync(corpusRoot)) throw new Error(`the phosphor-dbus-interfaces corpus is missing at ${corpusRoot}: it lives beside the repository (../shared/corpus) or where PDI_CORPUS points`);
  return corpusRoot;
}

/** Generates the whole corpus (server + client + docs) in memory, importing the runtime by path. */
export function generateCorpus(outDir: string, abi: Abi = 'lp64', interfaces?: string[]): GenerateResult {
  return generate({
    root: requireCorpus(),
    abi,
    docs: true,
    runtime: { entry: runtimeEntry, outputRoot: outDir },
    ...(interfaces ? { interfaces } : {}),
  });
}

/** Generates and writes code to outDir and docs to outDir/docs. */
export function generateCorpusTo(outDir: string, abi: Abi = 'lp64', interfaces?: string[]): GenerateResult {
  const result = generateCorpus(outDir, abi, interfaces);
  if (result.diagnostics.length) throw new Error(`corpus has problems:\n${result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n')}`);
  writeOutput({ code: outDir, docs: join(outDir, 'docs') }, result.files);
  return result;
}

/**
 * Runs tsc --strict (no emit) over every .ts file in `dir`, the way a user
 * of the generated bindings would compile them. Returns tsc's diagnostics
 * (empty when clean).
 */
export async function typeCheck(dir: string): Promise<{ code: number; output: string }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['**/*.ts'],
      },
      null,
      2,
    ),
  );
  try {
    const { stdout, stderr } = await execFileAsync(tscPath, ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { maxBuffer: 64 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message };
  }
}

/** Whether a type expression contains a node matching `pred` anywhere. */
export function typeContains(t: TypeNode, pred: (t: TypeNode) => boolean): boolean {
  if (pred(t)) return true;
  switch (t.kind) {
    case 'array':
    case 'set':
      return typeContains(t.element, pred);
    case 'dict':
      return typeContains(t.key, pred) || typeContains(t.value, pred);
    case 'struct':
      return t.members.some((m) => typeContains(m, pred));
    case 'variant':
      return t.alternatives.some((m) => typeContains(m, pred));
    default:
      return false;
  }
}

/** Every type an interface puts on the bus (properties, method args, signal args). */
export function interfaceTypes(iface: InterfaceDef): TypeNode[] {
  return [
    ...iface.properties.map((p) => p.type),
    ...iface.methods.flatMap((m) => [...m.parameters, ...m.returns].map((a) => a.type)),
    ...iface.signals.flatMap((s) => s.properties.map((a) => a.type)),
  ];
}

export function usesSize(iface: InterfaceDef): boolean {
  return interfaceTypes(iface).some((t) => typeContains(t, (x) => x.kind === 'primitive' && (x.name === 'size' || x.name === 'ssize')));
}

/** Interfaces (other than itself) whose enums this interface uses. */
export function foreignEnumInterfaces(iface: InterfaceDef): string[] {
  const found = new Set<string>();
  for (const t of interfaceTypes(iface)) {
    typeContains(t, (x) => {
      if (x.kind === 'enum' && x.interface !== iface.name) found.add(x.interface);
      return false;
    });
  }
  return [...found].sort();
}
