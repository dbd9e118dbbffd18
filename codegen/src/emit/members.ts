// Pieces shared by the server and client emitters.
import type { Arg, InterfaceDef, TypeNode } from '../model.js';
import { docText } from './context.js';
import { parameterName } from './layout.js';

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
