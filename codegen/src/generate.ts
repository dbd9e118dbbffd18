// Turns a YAML root into generated files: typed bindings for every loaded
// interface and errors file, plus docs and introspection XML. Pure: returns
// the files; writing and checking them is the caller's business.
import type { Diagnostic, ErrorsFileDef, InterfaceDef } from './model.js';
import { loadCorpus } from './parse/index.js';
import { emitClient } from './emit/client.js';
import { emitCommon } from './emit/common.js';
import { emitDocs } from './emit/docs.js';
import { emitErrors } from './emit/errors.js';
import { emitIntrospection } from './emit/introspection-xml.js';
import { moduleFile } from './emit/layout.js';
import { emitServer } from './emit/server.js';
import { emitIndexModules } from './emit/index-module.js';
import { shortName } from './emit/layout.js';
import type { RuntimeImport } from './emit/layout.js';
import type { Abi } from './emit/type-mapping.js';

export interface GenerateOptions {
  root: string;
  /** Interfaces to generate (full names); default every one under root. Interfaces they take enums from come along. */
  interfaces?: string[];
  abi?: Abi;
  runtime?: RuntimeImport;
  /** Also produce markdown and introspection XML (files under `docs/`). */
  docs?: boolean;
  /** Modules an earlier run left in the output folder, listed in the namespace index modules too. */
  alreadyGenerated?: { interfaces: Iterable<string>; errorNamespaces: Iterable<string> };
}

export interface GeneratedFile {
  /** `code` files go to the output folder, `docs` files to the docs folder. */
  target: 'code' | 'docs';
  path: string;
  content: string;
}

export interface GenerateResult {
  files: GeneratedFile[];
  diagnostics: Diagnostic[];
}

/** Generated code imports the runtime package by this name unless told otherwise (--runtime). */
export const DEFAULT_RUNTIME = { specifier: 'openbmc-dbus-runtime' } as const satisfies RuntimeImport;

export function generate(options: GenerateOptions): GenerateResult {
  const { corpus, diagnostics } = loadCorpus({ root: options.root, ...(options.interfaces ? { interfaces: options.interfaces } : {}) });
  if (diagnostics.length > 0) return { files: [], diagnostics };
  const emit = { abi: options.abi ?? 'lp64', runtime: options.runtime ?? DEFAULT_RUNTIME };
  const files: GeneratedFile[] = [];
  // The whole root brings all its errors files; a subset of interfaces only
  // the errors files those interfaces declare errors from.
  const errorModules = options.interfaces ? referencedErrorModules([...corpus.interfaces.values()], corpus.errorFiles) : new Set(corpus.errorFiles.keys());
  const problems: Diagnostic[] = [];

  for (const errors of [...corpus.errorFiles.values()].filter((e) => errorModules.has(e.namespace)).sort((a, b) => a.namespace.localeCompare(b.namespace))) {
    files.push({ target: 'code', path: moduleFile(errors.namespace, 'error'), content: emitErrors(errors, emit) });
  }
  for (const iface of [...corpus.interfaces.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      files.push({ target: 'code', path: moduleFile(iface.name, 'common'), content: emitCommon(iface, corpus, emit) });
      files.push({ target: 'code', path: moduleFile(iface.name, 'server'), content: emitServer(iface, emit) });
      files.push({ target: 'code', path: moduleFile(iface.name, 'client'), content: emitClient(iface, emit, errorModules) });
      if (options.docs) {
        files.push({ target: 'docs', path: `${iface.name}.md`, content: emitDocs(iface, emit.abi) });
        files.push({ target: 'docs', path: `${iface.name}.xml`, content: emitIntrospection(iface, emit.abi) });
      }
    } catch (e) {
      problems.push({ file: iface.file, line: 1, column: 1, message: (e as Error).message });
    }
  }
  if (problems.length) return { files: [], diagnostics: problems };
  try {
    const indexes = emitIndexModules({
      interfaces: new Set([...corpus.interfaces.keys(), ...(options.alreadyGenerated?.interfaces ?? [])]),
      errorNamespaces: new Set([...errorModules, ...(options.alreadyGenerated?.errorNamespaces ?? [])]),
      exportedNames: new Map([...corpus.interfaces.values()].map((i) => [i.name, exportedNames(i)])),
    });
    for (const [path, content] of indexes) files.push({ target: 'code', path, content });
  } catch (e) {
    return { files: [], diagnostics: [{ file: options.root, line: 1, column: 1, message: (e as Error).message }] };
  }
  return { files, diagnostics: [] };
}

/** The errors files (namespaces) that define errors the interfaces' methods and properties declare. */
export function referencedErrorModules(interfaces: readonly InterfaceDef[], errorFiles: ReadonlyMap<string, ErrorsFileDef>): Set<string> {
  const declared = interfaces.flatMap((i) => [...i.methods.flatMap((m) => m.errors), ...i.properties.flatMap((p) => p.errors)]);
  const modules = new Set<string>();
  for (const name of declared) {
    const namespace = name.slice(0, name.lastIndexOf('.Error.'));
    if (errorFiles.has(namespace)) modules.add(namespace);
  }
  return modules;
}

/** The names an interface's index module re-exports (common, client and server modules). */
function exportedNames(i: InterfaceDef): Set<string> {
  const short = shortName(i.name);
  return new Set([
    'interfaceName', 'PropertyNames', 'MethodNames', 'SignalNames', 'serviceNames', 'defaultService', 'paths', 'instancePath',
    `${short}Properties`, `${short}ReceivedProperties`, `${short}WritableProperty`, `${short}Spec`, `${short}Client`, `${short}Server`,
    ...i.enumerations.flatMap((e) => [e.name, `${e.name}Codec`]),
  ]);
}
