// index.ts of every generated folder, so that a namespace reads like its
// D-Bus name: `import * as xyz from './gen/xyz/index.js'` gives
// `xyz.openbmc_project.State.Host.HostClient`, `…State.Host.HostState` (an
// enum) and `…State.Host.Error.BMCNotReady` (its errors file). An interface
// folder's index re-exports its common, client and server modules; every
// folder exports its sub-folders as namespaces under their own names.
//
// Leaf names repeat across namespaces (nine interfaces are called Create):
// each lives in its own folder, so the namespaces keep them apart; a module
// importing two imports them through their namespaces, or renames one
// (`import { CreateClient as DumpCreateClient } from '…/Dump/Create/index.js'`).
import { GENERATED_BANNER } from './context.js';

export interface IndexInput {
  /** Full names of the generated interfaces (a.b.C). */
  interfaces: Iterable<string>;
  /** Namespaces of the generated errors files (a.b.C → a/b/C/error.ts). */
  errorNamespaces: Iterable<string>;
  /** Names an interface module exports, to catch a sub-folder of the same name. */
  exportedNames?: ReadonlyMap<string, ReadonlySet<string>>;
}

interface Folder {
  isInterface: boolean;
  hasErrors: boolean;
  children: Set<string>;
}

/** One `a/b/index.ts` per folder holding generated modules; path → content. */
export function emitIndexModules(input: IndexInput): Map<string, string> {
  const folders = new Map<string, Folder>();
  const folder = (parts: string[]): Folder => {
    const key = parts.join('/');
    let f = folders.get(key);
    if (!f) {
      f = { isInterface: false, hasErrors: false, children: new Set() };
      folders.set(key, f);
      if (parts.length > 1) folder(parts.slice(0, -1)).children.add(parts[parts.length - 1]!);
    }
    return f;
  };
  for (const name of input.interfaces) folder(name.split('.')).isInterface = true;
  for (const ns of input.errorNamespaces) folder(ns.split('.')).hasErrors = true;

  const out = new Map<string, string>();
  for (const [key, f] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
    const dotted = key.split('/').join('.');
    const taken = new Set<string>(input.exportedNames?.get(dotted) ?? []);
    const lines = [GENERATED_BANNER(`the ${dotted} namespace`)];
    if (f.isInterface) lines.push("export * from './common.js';", "export * from './client.js';", "export * from './server.js';");
    if (f.hasErrors) {
      if (taken.has('Error')) throw new Error(`${dotted}: the interface exports a member called Error, which the namespace index needs for its errors`);
      lines.push("export * as Error from './error.js';");
    }
    for (const child of [...f.children].sort()) {
      if (taken.has(child)) throw new Error(`${dotted}.${child}: the namespace's index cannot export it, the interface ${dotted} exports a member of that name`);
      lines.push(`export * as ${child} from './${child}/index.js';`);
    }
    out.set(`${key}/index.ts`, `${lines.join('\n')}\n`);
  }
  return out;
}
