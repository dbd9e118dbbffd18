// Pieces shared by the server and client emitters.
import type { Arg, InterfaceDef, TypeNode } from '../model.js';
import { docText, runtimeImportFor, type EmitOptions, type ForeignEnums } from './context.js';
import { parameterName, shortName } from './layout.js';
import type { FileContent } from './printer.js';

/** Imports of server.ts/client.ts: the runtime, this interface's common.ts, other interfaces' enums. */
export function bindingImports(iface: InterfaceDef, enums: ForeignEnums, options: EmitOptions, file: string, extra: string[] = []): FileContent['imports'] {
  const short = shortName(iface.name);
  const localNamed = [`${short}Spec`, 'interfaceName', `type ${short}Properties`, ...extra, ...[...enums.localUsed].sort().map((e) => `type ${e}`)];
  return [
    { namespace: 'rt', specifier: runtimeImportFor(options, file) },
    { named: localNamed, specifier: './common.js' },
    ...enums.imports().map((i) => ({ namespace: i.alias, specifier: i.specifier })),
  ];
}

export function argDocs(args: readonly Arg[]): string[] {
  return args.map((a) => `@param ${parameterName(a.name)} - ${docText(a.description).replace(/\n/g, ' ') || a.name}`);
}

/** The TypeScript result of a method: void, the single value, or a tuple. */
export function resultType(returns: readonly Arg[], type: (t: TypeNode) => string): string {
  if (returns.length === 0) return 'void';
  if (returns.length === 1) return type(returns[0]!.type);
  return `[${returns.map((r) => type(r.type)).join(', ')}]`;
}

const SERVER_RESERVED = new Set(['getProperty', 'setProperty', 'flushPropertiesChanged', 'onPropertySet', 'emitSignal', 'log', 'interfaceName']);
const CLIENT_RESERVED = new Set(['get', 'set', 'getAll', 'onPropertiesChanged', 'callMethod', 'subscribeSignal', 'decodeProperties', 'connection', 'service', 'path', 'interfaceName']);

/**
 * Generated members must not shadow the base class's. D-Bus names are
 * PascalCase by convention, so this only fires on unusual YAML; it names the
 * member instead of emitting code that silently breaks.
 */
export function checkMemberNames(iface: InterfaceDef, side: 'server' | 'client'): void {
  const names =
    side === 'server'
      ? [...iface.properties.map((p) => p.name), ...iface.methods.map((m) => m.name), ...iface.signals.map((s) => `emit${s.name}`)]
      : [...iface.methods.map((m) => m.name), ...iface.signals.map((s) => `on${s.name}`)];
  const reserved = side === 'server' ? SERVER_RESERVED : CLIENT_RESERVED;
  const seen = new Set<string>();
  for (const n of names) {
    if (reserved.has(n) || n.startsWith('$')) throw new Error(`${iface.name}: member '${n}' clashes with the generated ${side} base class`);
    if (seen.has(n)) throw new Error(`${iface.name}: two members would both be called '${n}' in the ${side} class`);
    seen.add(n);
  }
}
