// Property (and method parameter) defaults, checked against their type the
// way sdbus++ would turn them into C++: booleans, integers in range, doubles,
// strings, the special names sdbus++ translates (case-insensitively), bare
// enum value names, and C++ brace lists for arrays and sets.

import type { DefaultValue, EnumDef, PrimitiveName, TypeNode } from '../model.js';
import { BraceSyntaxError, parseBraceList, type BraceItem } from './brace-list.js';
import { listWords, show } from './diagnostics.js';
import { describeNode, quoteHint, type FileReader } from './reader.js';
import { typeToString } from './types.js';
import { INTEGER_RANGES as FIXED_INTEGER_RANGES } from '../integer-ranges.js';
import type { YNode, YScalar } from './yaml-source.js';

type IntegerName = 'byte' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'size' | 'ssize';

/**
 * Ranges. size/ssize follow the C ABI, which is 32 bits on the ARM BMCs, so a
 * default must fit 32 bits to mean the same everywhere.
 */
const INTEGER_RANGES: Record<IntegerName, readonly [bigint, bigint]> = {
  ...FIXED_INTEGER_RANGES,
  size: FIXED_INTEGER_RANGES.uint32,
  ssize: FIXED_INTEGER_RANGES.int32,
};

const DOUBLE_SPECIALS = { nan: 'NaN', infinity: 'Infinity', '-infinity': '-Infinity', epsilon: 'Epsilon' } as const;
const INTEGER_SPECIALS = { maxint: 'maxint', minint: 'minint' } as const;

const C_INTEGER = /^([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const C_FLOAT = /^[-+]?(?:[0-9]+\.?[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)$/;

export interface DefaultContext {
  reader: FileReader;
  findEnum(interfaceName: string, enumName: string): EnumDef | undefined;
}

function isInteger(name: PrimitiveName): name is IntegerName {
  return name in INTEGER_RANGES;
}

function parseCInteger(text: string): bigint | undefined {
  const m = C_INTEGER.exec(text);
  if (!m) return undefined;
  const body = m[2]!;
  let value: bigint;
  if (/^0[xXbB]/.test(body)) value = BigInt(body.toLowerCase());
  else if (body.length > 1 && body.startsWith('0')) value = BigInt(`0o${body.slice(1)}`);
  else value = BigInt(body);
  return m[1] === '-' ? -value : value;
}

/** Read the default `node` for a value of `type`; reports and returns undefined when it is unusable. */
export function readDefault(node: YNode, type: TypeNode, ctx: DefaultContext): DefaultValue | undefined {
  const fail = (message: string): undefined => {
    ctx.reader.error(node, `bad default ${describeDefault(node)} for type ${typeToString(type)}: ${message}`);
    return undefined;
  };
  if (node.kind !== 'scalar') {
    if (type.kind === 'array' || type.kind === 'set') {
      return fail(`sdbus++ pastes defaults into C++ as written, so write a brace list as a string, e.g. '{"a", "b"}'`);
    }
    return fail('expected a single value');
  }
  const v = node.value;
  if (v.kind === 'invalid') return fail(`YAML cannot load this value: ${v.reason}`);
  switch (type.kind) {
    case 'primitive':
      return readPrimitive(node, type.name, fail);
    case 'enum':
      return readEnum(node, type, ctx, fail);
    case 'array':
    case 'set': {
      if (v.kind !== 'string') return fail(`expected a C++ brace list written as a string, e.g. '{"a", "b"}'${quoteHint(node)}`);
      let list: BraceItem;
      try {
        list = parseBraceList(v.value);
      } catch (e) {
        if (!(e instanceof BraceSyntaxError)) throw e;
        ctx.reader.errorInScalar(node, v.value, e.offset, `bad default ${describeDefault(node)} for type ${typeToString(type)}: ${e.message} at character ${e.offset + 1} of the brace list`);
        return undefined;
      }
      return braceValue(list, type, (offset, message) => {
        ctx.reader.errorInScalar(node, v.value, offset, `bad default ${describeDefault(node)} for type ${typeToString(type)}: ${message}`);
      });
    }
    default:
      return fail(`defaults are supported for basic types, enums, arrays and sets, not for ${type.kind} types`);
  }
}

function describeDefault(node: YNode): string {
  if (node.kind !== 'scalar') return node.kind === 'seq' ? '(a list)' : '(a mapping)';
  return node.raw === '' ? '(empty)' : node.raw.length > 60 ? `${node.raw.slice(0, 57)}...` : node.raw;
}

function readPrimitive(node: YScalar, name: PrimitiveName, fail: (m: string) => undefined): DefaultValue | undefined {
  const v = node.value;
  if (name === 'boolean') {
    if (v.kind === 'bool') return { kind: 'boolean', value: v.value };
    if (v.kind === 'int' && (v.value === 0n || v.value === 1n)) return { kind: 'boolean', value: v.value === 1n };
    if (v.kind === 'string' && (v.value === 'true' || v.value === 'false')) return { kind: 'boolean', value: v.value === 'true' };
    return fail('expected true or false (YAML 1.1 also reads yes/no/on/off), or 0 or 1');
  }
  if (isInteger(name)) {
    const [min, max] = INTEGER_RANGES[name];
    let value: bigint | undefined;
    if (v.kind === 'int') value = v.value;
    else if (v.kind === 'string') {
      const special = INTEGER_SPECIALS[v.value.toLowerCase() as keyof typeof INTEGER_SPECIALS];
      if (special) return { kind: 'special', name: special };
      value = parseCInteger(v.value.trim());
    }
    if (value === undefined) return fail(`expected an integer from ${min} to ${max}, maxint or minint`);
    if (value < min || value > max) {
      const why = name === 'size' || name === 'ssize' ? ` (${name} is 32 bits wide on the ARM BMCs)` : '';
      return fail(`${value} is out of range: ${name} holds ${min} to ${max}${why}`);
    }
    return { kind: 'integer', value };
  }
  if (name === 'double') {
    if (v.kind === 'int') return { kind: 'double', value: Number(v.value) };
    if (v.kind === 'float') {
      if (!Number.isFinite(v.value)) {
        return fail(`sdbus++ cannot turn YAML's ${node.raw} into C++; write ${Number.isNaN(v.value) ? 'NaN' : v.value > 0 ? 'Infinity' : '-Infinity'}`);
      }
      return { kind: 'double', value: v.value };
    }
    if (v.kind === 'string') {
      const special = DOUBLE_SPECIALS[v.value.toLowerCase() as keyof typeof DOUBLE_SPECIALS];
      if (special) return { kind: 'special', name: special };
      if (C_FLOAT.test(v.value.trim())) return { kind: 'double', value: Number(v.value.trim()) };
    }
    return fail(`expected a number or one of ${listWords(Object.values(DOUBLE_SPECIALS))}`);
  }
  if (name === 'string' || name === 'object_path' || name === 'signature') {
    if (v.kind === 'string') return { kind: 'string', value: v.value };
    return fail(`expected a string${quoteHint(node)}`);
  }
  return fail(`a ${name} cannot have a default`);
}

function readEnum(node: YScalar, type: Extract<TypeNode, { kind: 'enum' }>, ctx: DefaultContext, fail: (m: string) => undefined): DefaultValue | undefined {
  const v = node.value;
  if (v.kind !== 'string') return fail(`expected the bare name of a value of ${type.interface}.${type.name}${quoteHint(node)}`);
  const def = ctx.findEnum(type.interface, type.name);
  if (!def) return undefined; // the unknown enum is reported where the type is checked
  const names = def.values.map((x) => x.name);
  if (names.includes(v.value)) return { kind: 'enum', enumInterface: type.interface, enumName: type.name, value: v.value };
  const prefix = `${type.interface}.${type.name}.`;
  if (v.value.startsWith(prefix) && names.includes(v.value.slice(prefix.length))) {
    return fail(`sdbus++ wants the bare value name here; write ${show(v.value.slice(prefix.length))}`);
  }
  return fail(`${type.interface}.${type.name} has no value ${show(v.value)}; its values are ${listWords(names)}`);
}

/** Check a parsed brace list against an array/set type. */
function braceValue(item: BraceItem, type: TypeNode, report: (offset: number, message: string) => void): DefaultValue | undefined {
  if (type.kind === 'array' || type.kind === 'set') {
    if (item.kind !== 'list') {
      report(item.offset, `expected a brace list for ${typeToString(type)}`);
      return undefined;
    }
    const elements: DefaultValue[] = [];
    for (const element of item.items) {
      const value = braceValue(element, type.element, report);
      if (value === undefined) return undefined;
      elements.push(value);
    }
    return { kind: 'array', elements };
  }
  if (type.kind === 'variant') {
    // C++ picks the alternative the literal converts to: a string literal
    // becomes std::string, true/false bool, a number the one numeric type.
    const fits = type.alternatives
      .map((alt, index) => ({ alt, index }))
      .filter(({ alt }) => alt.kind === 'primitive' && literalFits(item, alt.name));
    const stringFirst = fits.find(({ alt }) => alt.kind === 'primitive' && alt.name === 'string');
    const chosen = stringFirst ?? (fits.length === 1 ? fits[0] : undefined);
    if (!chosen) {
      report(item.offset, fits.length === 0 ? `no alternative of ${typeToString(type)} takes this value` : `the value fits several alternatives of ${typeToString(type)}`);
      return undefined;
    }
    const value = braceValue(item, chosen.alt, report);
    return value && { kind: 'variant', alternative: chosen.index, value };
  }
  if (type.kind === 'primitive') {
    if (!literalFits(item, type.name)) {
      report(item.offset, `this element is not a ${type.name}`);
      return undefined;
    }
    if (item.kind === 'string') return { kind: 'string', value: item.value };
    if (item.kind === 'bool') return { kind: 'boolean', value: item.value };
    if (item.kind === 'number') {
      if (type.name === 'double') return { kind: 'double', value: Number(item.text) };
      const value = parseCInteger(item.text)!;
      const [min, max] = INTEGER_RANGES[type.name as IntegerName];
      if (value < min || value > max) {
        report(item.offset, `${value} is out of range: ${type.name} holds ${min} to ${max}`);
        return undefined;
      }
      return { kind: 'integer', value };
    }
  }
  report(item.offset, `brace-list defaults cannot hold ${typeToString(type)} values`);
  return undefined;
}

function literalFits(item: BraceItem, name: PrimitiveName): boolean {
  switch (item.kind) {
    case 'string':
      return name === 'string' || name === 'object_path' || name === 'signature';
    case 'bool':
      return name === 'boolean';
    case 'number':
      if (name === 'double') return C_FLOAT.test(item.text);
      return isInteger(name) && parseCInteger(item.text) !== undefined;
    case 'list':
      return false;
  }
}
