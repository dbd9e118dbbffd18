// How each PDI type appears in generated code: its D-Bus signature (which
// depends on the target ABI for size/ssize), its TypeScript type, the runtime
// codec expression that converts it, and its zero value.
import type { PrimitiveName, TypeNode } from '../model.js';
import { INTEGER_RANGES } from '../integer-ranges.js';

/** lp64: 64-bit targets (size = t); ilp32: 32-bit ARM BMCs (size = u). */
export type Abi = 'lp64' | 'ilp32';

/** Resolves an enum reference to how the current file names it (local or imported). */
export interface EnumNamer {
  /** TypeScript type name, e.g. `Unit` or `Sensor_Value.Unit`. */
  typeName(iface: string, name: string): string;
  /** Codec expression, e.g. `UnitCodec` or `Sensor_Value.UnitCodec`. */
  codecName(iface: string, name: string): string;
}

const SIGNATURES: Record<Exclude<PrimitiveName, 'size' | 'ssize'>, string> = {
  byte: 'y',
  boolean: 'b',
  int16: 'n',
  uint16: 'q',
  int32: 'i',
  uint32: 'u',
  int64: 'x',
  uint64: 't',
  double: 'd',
  unixfd: 'h',
  string: 's',
  object_path: 'o',
  signature: 'g',
};

/** size/ssize become the fixed-width type of the target ABI. */
function concrete(name: PrimitiveName, abi: Abi): Exclude<PrimitiveName, 'size' | 'ssize'> {
  if (name === 'size') return abi === 'lp64' ? 'uint64' : 'uint32';
  if (name === 'ssize') return abi === 'lp64' ? 'int64' : 'int32';
  return name;
}

export function dbusSignature(t: TypeNode, abi: Abi): string {
  switch (t.kind) {
    case 'primitive':
      return SIGNATURES[concrete(t.name, abi)];
    case 'array':
    case 'set':
      return `a${dbusSignature(t.element, abi)}`;
    case 'dict':
      return `a{${dbusSignature(t.key, abi)}${dbusSignature(t.value, abi)}}`;
    case 'struct':
      return `(${t.members.map((m) => dbusSignature(m, abi)).join('')})`;
    case 'variant':
      return 'v';
    case 'enum':
      return 's';
  }
}

const isByte = (t: TypeNode) => t.kind === 'primitive' && t.name === 'byte';

export function tsType(t: TypeNode, abi: Abi, enums: EnumNamer): string {
  switch (t.kind) {
    case 'primitive': {
      const c = concrete(t.name, abi);
      if (c === 'boolean') return 'boolean';
      if (c === 'int64' || c === 'uint64') return 'bigint';
      if (c === 'string' || c === 'object_path' || c === 'signature') return 'string';
      return 'number';
    }
    case 'array':
      if (isByte(t.element)) return 'Uint8Array';
      return `${wrapForArray(tsType(t.element, abi, enums))}[]`;
    case 'set':
      return `Set<${tsType(t.element, abi, enums)}>`;
    case 'dict':
      return `Map<${tsType(t.key, abi, enums)}, ${tsType(t.value, abi, enums)}>`;
    case 'struct':
      return `[${t.members.map((m) => tsType(m, abi, enums)).join(', ')}]`;
    case 'variant':
      return variantTags(t.alternatives, abi)
        .map(([tag, alt]) => `{ type: '${tag}'; value: ${tsType(alt, abi, enums)} }`)
        .join(' | ');
    case 'enum':
      return enums.typeName(t.interface, t.name);
  }
}

function wrapForArray(type: string): string {
  return /[|&]/.test(type) && !type.startsWith('[') ? `(${type})` : type;
}

const CODECS: Record<Exclude<PrimitiveName, 'size' | 'ssize'>, string> = {
  byte: 'rt.byte',
  boolean: 'rt.boolean',
  int16: 'rt.int16',
  uint16: 'rt.uint16',
  int32: 'rt.int32',
  uint32: 'rt.uint32',
  int64: 'rt.int64',
  uint64: 'rt.uint64',
  double: 'rt.double',
  unixfd: 'rt.unixfd',
  string: 'rt.string',
  object_path: 'rt.objectPath',
  signature: 'rt.signature',
};

export function codecExpression(t: TypeNode, abi: Abi, enums: EnumNamer): string {
  switch (t.kind) {
    case 'primitive':
      return CODECS[concrete(t.name, abi)];
    case 'array':
      return isByte(t.element) ? 'rt.byteArray' : `rt.array(${codecExpression(t.element, abi, enums)})`;
    case 'set':
      return `rt.set(${codecExpression(t.element, abi, enums)})`;
    case 'dict':
      return `rt.dict(${codecExpression(t.key, abi, enums)}, ${codecExpression(t.value, abi, enums)})`;
    case 'struct':
      return `rt.struct(${t.members.map((m) => codecExpression(m, abi, enums)).join(', ')})`;
    case 'variant':
      return `rt.variant(${variantTags(t.alternatives, abi)
        .map(([tag, alt]) => `['${tag}', ${codecExpression(alt, abi, enums)}]`)
        .join(', ')})`;
    case 'enum':
      return enums.codecName(t.interface, t.name);
  }
}

/** The PDI spelling of a type, with enums fully qualified: used as variant tags and in docs. */
export function typeText(t: TypeNode, abi: Abi): string {
  switch (t.kind) {
    case 'primitive':
      return concrete(t.name, abi);
    case 'array':
    case 'set':
      return `${t.kind}[${typeText(t.element, abi)}]`;
    case 'dict':
      return `dict[${typeText(t.key, abi)}, ${typeText(t.value, abi)}]`;
    case 'struct':
      return `struct[${t.members.map((m) => typeText(m, abi)).join(', ')}]`;
    case 'variant':
      return `variant[${t.alternatives.map((m) => typeText(m, abi)).join(', ')}]`;
    case 'enum':
      return `enum[${t.interface}.${t.name}]`;
  }
}

/**
 * Tags naming each alternative of a variant in the typed union: the PDI type
 * text (`int32`, `array[string]`), or the bare enum name (`Unit`) unless two
 * enums of the same name meet in one variant.
 */
export function variantTags(alternatives: readonly TypeNode[], abi: Abi): [string, TypeNode][] {
  const enumNames = alternatives.filter((a) => a.kind === 'enum').map((a) => (a as { name: string }).name);
  return alternatives.map((alt) => {
    if (alt.kind === 'enum' && enumNames.filter((n) => n === alt.name).length === 1) return [alt.name, alt];
    return [typeText(alt, abi), alt];
  });
}

/** The value a property without a default starts with (what a default-constructed C++ value would be). */
export function zeroValue(t: TypeNode, abi: Abi, enumFirstValue: (iface: string, name: string) => string): string {
  switch (t.kind) {
    case 'primitive': {
      const c = concrete(t.name, abi);
      if (c === 'boolean') return 'false';
      if (c === 'int64' || c === 'uint64') return '0n';
      if (c === 'string' || c === 'signature') return "''";
      if (c === 'object_path') return "'/'";
      return '0';
    }
    case 'array':
      return isByte(t.element) ? 'new Uint8Array(0)' : '[]';
    case 'set':
      return 'new Set()';
    case 'dict':
      return 'new Map()';
    case 'struct':
      return `[${t.members.map((m) => zeroValue(m, abi, enumFirstValue)).join(', ')}]`;
    case 'variant': {
      const [tag, first] = variantTags(t.alternatives, abi)[0]!;
      return `{ type: '${tag}', value: ${zeroValue(first, abi, enumFirstValue)} }`;
    }
    case 'enum':
      return `'${enumFirstValue(t.interface, t.name)}'`;
  }
}

/** Whether values of this type are bigint in TypeScript (for default literals). */
export function isBigIntType(t: TypeNode, abi: Abi): boolean {
  return t.kind === 'primitive' && ['int64', 'uint64'].includes(concrete(t.name, abi));
}

export function integerLimits(t: TypeNode, abi: Abi): { min: bigint; max: bigint } | undefined {
  if (t.kind !== 'primitive') return undefined;
  const name = concrete(t.name, abi);
  const l = name === 'unixfd' ? INTEGER_RANGES.int32 : (INTEGER_RANGES as Partial<Record<string, readonly [bigint, bigint]>>)[name];
  return l ? { min: l[0], max: l[1] } : undefined;
}
