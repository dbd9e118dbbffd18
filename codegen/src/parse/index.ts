// The PDI YAML front end: reads a YAML root (the layout of
// phosphor-dbus-interfaces' yaml/ tree) into the model, checking everything
// sdbus++ would trip over and reporting all problems with file:line:column.

import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Corpus, Diagnostic, ErrorsFileDef, TypeNode } from '../model.js';
import { DiagnosticSink, show } from './diagnostics.js';
import { readErrorsFile, readEventErrors } from './errors-file.js';
import { readInterface, type ParsedInterface } from './interface.js';
import { identifierProblem, interfaceNameProblem } from './names.js';
import { FileReader } from './reader.js';
import { referencedInterfaces, resolveInterface } from './resolve.js';
import { parseType } from './types.js';
import { readYamlFile, type SourceFile, type YNode } from './yaml-source.js';

export { typeToString } from './types.js';

export interface LoadOptions {
  root: string;
  /** Full interface names; default: every *.interface.yaml under root. */
  interfaces?: string[];
}

export interface LoadResult {
  corpus: Corpus;
  /** Errors: when non-empty, the input is not usable as is. */
  diagnostics: Diagnostic[];
  /** Accepted but suspicious (upstream PDI quirks that sdbus++ ignores). */
  warnings: Diagnostic[];
}

const KINDS = { interface: '.interface.yaml', errors: '.errors.yaml', events: '.events.yaml' } as const;
type Kind = keyof typeof KINDS;

interface FoundFile {
  kind: Kind;
  /** Path relative to the root, with / separators. */
  relative: string;
  /** Dotted name, e.g. xyz.openbmc_project.Common */
  name: string;
}

function walk(root: string, relative: string, out: FoundFile[]): void {
  let entries;
  try {
    entries = readdirSync(join(root, relative), { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      walk(root, rel, out);
      continue;
    }
    for (const [kind, suffix] of Object.entries(KINDS) as [Kind, string][]) {
      if (entry.name.endsWith(suffix)) {
        out.push({ kind, relative: rel, name: rel.slice(0, -suffix.length).split('/').join('.') });
      }
    }
  }
}

function findFiles(root: string): FoundFile[] {
  const out: FoundFile[] = [];
  walk(root, '', out);
  return out;
}

/** Full names of every *.interface.yaml under root, sorted. */
export function listInterfaces(root: string): string[] {
  return findFiles(root)
    .filter((f) => f.kind === 'interface')
    .map((f) => f.name)
    .sort();
}

/** Why a file's path cannot name an interface/errors namespace, or undefined. */
function fileNameProblem(file: FoundFile): string | undefined {
  const elements = file.relative.slice(0, -KINDS[file.kind].length).split('/');
  for (const element of elements) {
    const problem = identifierProblem(element);
    if (problem) return `${show(element)} cannot be part of a D-Bus name: ${problem}`;
  }
  if (file.kind === 'interface' && elements.length < 2) {
    return 'an interface file must be at least one directory deep (a/C.interface.yaml is interface a.C): D-Bus interface names have at least two elements';
  }
  return file.kind === 'interface' ? interfaceNameProblem(file.name) : undefined;
}

/** Parse a type expression such as `array[enum[self.Unit]]` (syntax only: enum targets are not checked). */
export function parseTypeExpression(text: string, selfInterface: string): { type?: TypeNode; error?: string } {
  const result = parseType(text, selfInterface);
  if (result.error) return { error: `${result.error.message} (at character ${result.error.offset + 1})` };
  return { type: result.type };
}

function loadErrorFiles(root: string, files: FoundFile[], kind: 'errors' | 'events', sink: DiagnosticSink): Map<string, ErrorsFileDef> {
  const map = new Map<string, ErrorsFileDef>();
  for (const found of files.filter((f) => f.kind === kind)) {
    const file = join(root, found.relative);
    const problem = fileNameProblem(found);
    if (problem) {
      sink.error(file, 1, 1, `invalid ${kind} file name ${show(found.relative)}: ${problem}`);
      continue;
    }
    const source = readYamlFile(file, sink);
    if (!source.root) continue;
    const reader = new FileReader(file, sink, source.lines);
    const def = kind === 'errors' ? readErrorsFile(source.root, found.name, file, reader) : readEventErrors(source.root, found.name, file, reader);
    map.set(found.name, def);
  }
  return map;
}

export function loadCorpus(options: LoadOptions): LoadResult {
  const sink = new DiagnosticSink();
  const root = options.root;
  const corpus: Corpus = { root, interfaces: new Map(), errorFiles: new Map(), eventErrorFiles: new Map() };
  let isDirectory = false;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) {
    sink.error(root, 1, 1, 'the YAML root is not a directory');
    return { corpus, diagnostics: sink.errors, warnings: sink.warnings };
  }
  const files = findFiles(root);
  corpus.errorFiles = loadErrorFiles(root, files, 'errors', sink);
  corpus.eventErrorFiles = loadErrorFiles(root, files, 'events', sink);

  const interfaceFiles = new Map<string, FoundFile>();
  const badlyNamed = new Map<string, () => void>();
  for (const found of files.filter((f) => f.kind === 'interface')) {
    const problem = fileNameProblem(found);
    if (problem) {
      const report = (): void => sink.error(join(root, found.relative), 1, 1, `invalid interface file name ${show(found.relative)}: ${problem}`);
      // Only complain about files we were asked to read (or all of them by default).
      if (options.interfaces) badlyNamed.set(found.name, report);
      else report();
      continue;
    }
    interfaceFiles.set(found.name, found);
  }
  const relativeFile = (name: string, suffix: string): string => `${name.split('.').join('/')}${suffix}`;

  const parsed = new Map<string, ParsedInterface>();
  const unreadable = new Set<string>();
  const queue: string[] = [];
  const queued = new Set<string>();
  const enqueue = (name: string): void => {
    if (!queued.has(name)) {
      queued.add(name);
      queue.push(name);
    }
  };
  if (options.interfaces) {
    for (const name of options.interfaces) {
      if (interfaceFiles.has(name)) {
        enqueue(name);
        continue;
      }
      const badName = badlyNamed.get(name);
      if (badName) {
        badName();
        continue;
      }
      const file = join(root, ...relativeFile(name, '.interface.yaml').split('/'));
      sink.error(file, 1, 1, `cannot load interface ${show(name)}: there is no file ${relativeFile(name, '.interface.yaml')} under the root`);
    }
  } else {
    for (const name of [...interfaceFiles.keys()].sort()) enqueue(name);
  }

  // Load breadth-first, following enum references into other interfaces.
  while (queue.length > 0) {
    const name = queue.shift()!;
    const found = interfaceFiles.get(name)!;
    const file = join(root, found.relative);
    const source: SourceFile = readYamlFile(file, sink);
    if (!source.root) {
      unreadable.add(name);
      continue;
    }
    const reader = new FileReader(file, sink, source.lines);
    const result = readInterface(source as SourceFile & { root: YNode }, name, reader);
    parsed.set(name, result);
    for (const other of referencedInterfaces(result)) if (interfaceFiles.has(other)) enqueue(other);
  }

  for (const name of [...parsed.keys()].sort()) corpus.interfaces.set(name, parsed.get(name)!.def);
  const ctx = { corpus, parsed, unreadable, relativeFile };
  for (const name of corpus.interfaces.keys()) resolveInterface(ctx, parsed.get(name)!);

  const order = (a: Diagnostic, b: Diagnostic): number =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
  return { corpus, diagnostics: [...sink.errors].sort(order), warnings: [...sink.warnings].sort(order) };
}
