// Reads modules.dep so the initramfs can carry just the modules it needs to
// reach the 9p root, inserted in dependency order by busybox insmod.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Kernel module names treat '-' and '_' alike. */
export function moduleNameOf(path: string): string {
  return basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export interface ModuleDeps {
  /** module name -> path relative to the modules dir */
  pathOf: Map<string, string>;
  /** module name -> direct dependency names */
  depsOf: Map<string, string[]>;
}

export function readModuleDeps(modulesDir: string): ModuleDeps {
  const pathOf = new Map<string, string>();
  const depsOf = new Map<string, string[]>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    const name = moduleNameOf(path);
    pathOf.set(name, path);
    depsOf.set(name, deps.map(moduleNameOf));
  }
  return { pathOf, depsOf };
}

/** The modules to insert, dependencies first, each once. Throws on an unknown name. */
export function loadOrder(deps: ModuleDeps, wanted: string[]): string[] {
  const order: string[] = [];
  const visit = (name: string, chain: string[]): void => {
    const key = name.replace(/-/g, '_');
    if (order.includes(key)) return;
    if (chain.includes(key)) throw new Error(`module dependency cycle: ${[...chain, key].join(' -> ')}`);
    const direct = deps.depsOf.get(key);
    if (direct === undefined) throw new Error(`kernel module '${name}' not found in modules.dep`);
    for (const dep of direct) visit(dep, [...chain, key]);
    order.push(key);
  };
  for (const name of wanted) visit(name, []);
  return order;
}
