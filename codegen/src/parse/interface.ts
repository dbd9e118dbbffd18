// One *.interface.yaml file -> InterfaceDef. References to other files (enum
// types, error names) and defaults (which need the enums) are recorded here
// and checked by resolve.ts once every needed file is loaded.

import type {
  Arg, EnumDef, InterfaceDef, MethodDef, MethodFlag, PropertyDef, PropertyFlag, SignalDef, TypeNode,
} from '../model.js';
import { show } from './diagnostics.js';
import { checkAssociations, readPaths, readServiceNames } from './paths.js';
import { FileReader, type CheckedMap } from './reader.js';
import { parseType } from './types.js';
import type { SourceFile, YNode, YScalar } from './yaml-source.js';

export const INTERFACE_KEYS = ['description', 'methods', 'properties', 'signals', 'enumerations', 'paths', 'service_names', 'associations'] as const;
export const METHOD_KEYS = ['name', 'description', 'parameters', 'returns', 'errors', 'flags'] as const;
export const PROPERTY_KEYS = ['name', 'type', 'description', 'default', 'flags', 'errors'] as const;
export const SIGNAL_KEYS = ['name', 'description', 'properties', 'flags'] as const;
export const ENUM_KEYS = ['name', 'description', 'values'] as const;
export const METHOD_FLAGS: readonly MethodFlag[] = ['deprecated', 'hidden', 'unprivileged', 'no_reply'];
export const PROPERTY_FLAGS: readonly PropertyFlag[] = ['const', 'readonly', 'emits_change', 'emits_invalidation', 'explicit', 'deprecated', 'hidden', 'unprivileged'];
/** sd-bus signal vtable entries take only these. */
export const SIGNAL_FLAGS: readonly MethodFlag[] = ['deprecated', 'hidden'];
/** sd-bus accepts at most one of these on a property. */
const EXCLUSIVE_PROPERTY_FLAGS: readonly PropertyFlag[] = ['const', 'emits_change', 'emits_invalidation'];

export interface TypeUse {
  type: TypeNode;
  node: YScalar;
  text: string;
}

/** An error name in an `errors:` list, split into where it should be defined. */
export interface ErrorUse {
  written: string;
  fullName: string;
  /** `errors`: <namespace>.Error.<name> from <namespace>.errors.yaml; `events`: <namespace>.<name> from <namespace>.events.yaml. */
  source: 'errors' | 'events';
  namespace: string;
  name: string;
  node: YNode;
}

export interface DefaultUse {
  node: YNode;
  type: TypeNode;
  target: PropertyDef | Arg;
}

export interface ParsedInterface {
  def: InterfaceDef;
  reader: FileReader;
  typeUses: TypeUse[];
  errorUses: ErrorUse[];
  defaultUses: DefaultUse[];
}

/** Where a member name was first defined, to report duplicates. */
type Seen = Map<string, { what: string; line: number }>;

class InterfaceParser {
  readonly typeUses: TypeUse[] = [];
  readonly errorUses: ErrorUse[] = [];
  readonly defaultUses: DefaultUse[] = [];

  constructor(readonly reader: FileReader, readonly interfaceName: string) {}

  private unique(seen: Seen, name: string, what: string, node: YNode, scope: string): boolean {
    const first = seen.get(name);
    if (first) {
      this.reader.error(node, `duplicate ${scope} name ${show(name)}: already used by the ${first.what} at line ${first.line}`);
      return false;
    }
    seen.set(name, { what, line: node.line });
    return true;
  }

  readType(map: CheckedMap, owner: string): { type: TypeNode; text: string } | undefined {
    const node = map.get('type');
    if (node === undefined) return undefined; // reported as a missing key
    const text = this.reader.string(node, `the type of ${owner}`);
    if (text === undefined || node.kind !== 'scalar') return undefined;
    const result = parseType(text, this.interfaceName);
    if (result.error) {
      this.reader.errorInScalar(node, text, result.error.offset, `bad type ${show(text)} for ${owner}: ${result.error.message} (at character ${result.error.offset + 1})`);
      return undefined;
    }
    this.typeUses.push({ type: result.type, node, text });
    return { type: result.type, text };
  }

  readErrors(node: YNode | undefined, owner: string): string[] {
    const names: string[] = [];
    for (const item of this.reader.list(node, `the errors of ${owner}`)) {
      const written = this.reader.string(item, `an error name of ${owner}`);
      if (written === undefined) continue;
      const use = this.splitErrorName(written, item, owner);
      if (!use) continue;
      if (names.includes(use.fullName)) {
        this.reader.error(item, `error ${show(written)} is listed twice for ${owner}`);
        continue;
      }
      names.push(use.fullName);
      this.errorUses.push(use);
    }
    return names;
  }

  private splitErrorName(written: string, node: YNode, owner: string): ErrorUse | undefined {
    // sdbus++ replaces `self.` with the interface's own name.
    const fullName = written.startsWith('self.') ? `${this.interfaceName}.${written.slice(5)}` : written;
    const parts = fullName.split('.');
    const bad = parts.find((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p));
    const errorAt = parts.lastIndexOf('Error');
    if (bad !== undefined || parts.length < 3 || errorAt === 0 || (errorAt > 0 && errorAt !== parts.length - 2)) {
      this.reader.error(node, `bad error name ${show(written)} for ${owner}: expected <namespace>.Error.<Name> (defined in <namespace>.errors.yaml), <namespace>.<Name> (an error in <namespace>.events.yaml), or self.Error.<Name>`);
      return undefined;
    }
    if (errorAt > 0) {
      return { written, fullName, source: 'errors', namespace: parts.slice(0, errorAt).join('.'), name: parts[parts.length - 1]!, node };
    }
    return { written, fullName, source: 'events', namespace: parts.slice(0, -1).join('.'), name: parts[parts.length - 1]!, node };
  }

  readArgs(node: YNode | undefined, what: string, owner: string, allowDefault: boolean): Arg[] {
    const args: Arg[] = [];
    const seen: Seen = new Map();
    const keys = allowDefault ? ['name', 'type', 'description', 'default'] : ['name', 'type', 'description'];
    for (const item of this.reader.list(node, `the ${what}s of ${owner}`)) {
      const map = this.reader.map(item, `a ${what}`, keys, ['name', 'type']);
      if (!map) continue;
      const name = this.reader.name(map, 'name', `${what} name`);
      const isUnique = name !== undefined && this.unique(seen, name.name, what, name.node, what);
      const label = `${what} ${name ? show(name.name) : '(unnamed)'} of ${owner}`;
      const type = this.readType(map, label);
      const description = this.reader.optionalString(map, 'description', `the description of ${label}`);
      if (!name || !type || !isUnique) continue;
      const arg: Arg = { name: name.name, type: type.type, typeText: type.text, description, pos: this.reader.pos(item) };
      const defaultNode = map.get('default');
      if (defaultNode !== undefined && !isNull(defaultNode)) this.defaultUses.push({ node: defaultNode, type: type.type, target: arg });
      args.push(arg);
    }
    return args;
  }

  readMethod(item: YNode, members: Seen): MethodDef | undefined {
    const map = this.reader.map(item, 'a method', METHOD_KEYS, ['name']);
    if (!map) return undefined;
    const name = this.reader.name(map, 'name', 'method name');
    const owner = `method ${name ? show(name.name) : '(unnamed)'}`;
    const method: MethodDef = {
      name: name?.name ?? '',
      description: this.reader.optionalString(map, 'description', `the description of ${owner}`),
      parameters: this.readArgs(map.get('parameters'), 'parameter', owner, true),
      returns: this.readArgs(map.get('returns'), 'return value', owner, false),
      errors: this.readErrors(map.get('errors'), owner),
      flags: this.reader.flags(map.get('flags'), owner, METHOD_FLAGS),
      pos: this.reader.pos(item),
    };
    if (!name || !this.unique(members, name.name, 'method', name.node, 'member')) return undefined;
    return method;
  }

  readProperty(item: YNode, members: Seen): PropertyDef | undefined {
    const map = this.reader.map(item, 'a property', PROPERTY_KEYS, ['name', 'type']);
    if (!map) return undefined;
    const name = this.reader.name(map, 'name', 'property name');
    const isUnique = name !== undefined && this.unique(members, name.name, 'property', name.node, 'member');
    const owner = `property ${name ? show(name.name) : '(unnamed)'}`;
    const type = this.readType(map, owner);
    const description = this.reader.optionalString(map, 'description', `the description of ${owner}`);
    const flags = this.reader.flags(map.get('flags'), owner, PROPERTY_FLAGS);
    const exclusive = flags.filter((f) => EXCLUSIVE_PROPERTY_FLAGS.includes(f));
    if (exclusive.length > 1) {
      this.reader.error(map.get('flags')!, `${owner} has the flags ${exclusive.join(' and ')}, but sd-bus allows only one of const, emits_change and emits_invalidation`);
    }
    const errors = this.readErrors(map.get('errors'), owner);
    if (!name || !type || !isUnique) return undefined;
    const property: PropertyDef = { name: name.name, type: type.type, typeText: type.text, description, flags, errors, pos: this.reader.pos(item) };
    const defaultNode = map.get('default');
    if (defaultNode !== undefined && !isNull(defaultNode)) this.defaultUses.push({ node: defaultNode, type: type.type, target: property });
    return property;
  }

  readSignal(item: YNode, members: Seen): SignalDef | undefined {
    const map = this.reader.map(item, 'a signal', SIGNAL_KEYS, ['name']);
    if (!map) return undefined;
    const name = this.reader.name(map, 'name', 'signal name');
    const owner = `signal ${name ? show(name.name) : '(unnamed)'}`;
    const signal: SignalDef = {
      name: name?.name ?? '',
      description: this.reader.optionalString(map, 'description', `the description of ${owner}`),
      properties: this.readArgs(map.get('properties'), 'signal argument', owner, false),
      flags: this.reader.flags(map.get('flags'), owner, SIGNAL_FLAGS),
      pos: this.reader.pos(item),
    };
    if (!name || !this.unique(members, name.name, 'signal', name.node, 'member')) return undefined;
    return signal;
  }

  readEnum(item: YNode, enums: Seen): EnumDef | undefined {
    const map = this.reader.map(item, 'an enumeration', ENUM_KEYS, ['name']);
    if (!map) return undefined;
    const name = this.reader.name(map, 'name', 'enumeration name');
    const owner = `enumeration ${name ? show(name.name) : '(unnamed)'}`;
    const values: EnumDef['values'] = [];
    const seen: Seen = new Map();
    for (const valueItem of this.reader.list(map.get('values'), `the values of ${owner}`)) {
      const valueMap = this.reader.map(valueItem, 'an enumeration value', ['name', 'description'], ['name']);
      if (!valueMap) continue;
      const valueName = this.reader.name(valueMap, 'name', `value name in ${owner}`);
      const description = this.reader.optionalString(valueMap, 'description', `the description of a value of ${owner}`);
      if (!valueName || !this.unique(seen, valueName.name, 'value', valueName.node, `value`)) continue;
      values.push({ name: valueName.name, description, pos: this.reader.pos(valueItem) });
    }
    const description = this.reader.optionalString(map, 'description', `the description of ${owner}`);
    if (!name || !this.unique(enums, name.name, 'enumeration', name.node, 'enumeration')) return undefined;
    return { name: name.name, description, values, pos: this.reader.pos(item) };
  }
}

/** sdbus++ treats `default:` with nothing (YAML null) as no default. */
function isNull(node: YNode): boolean {
  return node.kind === 'scalar' && node.value.kind === 'null';
}

function collect<T>(reader: FileReader, node: YNode | undefined, what: string, read: (item: YNode) => T | undefined): T[] {
  const out: T[] = [];
  for (const item of reader.list(node, what)) {
    const value = read(item);
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** Read an interface file that has already been parsed as YAML. */
export function readInterface(source: SourceFile & { root: YNode }, interfaceName: string, reader: FileReader): ParsedInterface {
  const parser = new InterfaceParser(reader, interfaceName);
  const def: InterfaceDef = {
    name: interfaceName,
    file: source.file,
    description: '',
    methods: [],
    properties: [],
    signals: [],
    enumerations: [],
    paths: [],
    serviceNames: [],
  };
  const map = reader.map(source.root, 'an interface', INTERFACE_KEYS);
  if (map) {
    def.description = reader.optionalString(map, 'description', 'the interface description');
    const members: Seen = new Map();
    const enums: Seen = new Map();
    def.properties = collect(reader, map.get('properties'), 'properties', (i) => parser.readProperty(i, members));
    def.methods = collect(reader, map.get('methods'), 'methods', (i) => parser.readMethod(i, members));
    def.signals = collect(reader, map.get('signals'), 'signals', (i) => parser.readSignal(i, members));
    def.enumerations = collect(reader, map.get('enumerations'), 'enumerations', (i) => parser.readEnum(i, enums));
    def.paths = readPaths(reader, map.get('paths'));
    def.serviceNames = readServiceNames(reader, map.get('service_names'));
    checkAssociations(reader, map.get('associations'));
  }
  return { def, reader, typeUses: parser.typeUses, errorUses: parser.errorUses, defaultUses: parser.defaultUses };
}
