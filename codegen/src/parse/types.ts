// Parser for PDI type expressions such as
// `dict[string, variant[int64, enum[self.Unit]]]`. sdbus++ reads these by
// turning them into YAML flow lists, so whitespace between tokens is allowed;
// we parse them directly to say exactly where a bad one goes wrong.

import type { PrimitiveName, TypeNode } from '../model.js';
import { closest } from './names.js';

export const PRIMITIVE_NAMES: readonly PrimitiveName[] = [
  'byte', 'boolean', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'double', 'unixfd', 'string', 'object_path', 'signature', 'size', 'ssize',
];
const PRIMITIVES = new Set<string>(PRIMITIVE_NAMES);
const CONTAINERS = ['array', 'set', 'dict', 'struct', 'variant', 'enum'] as const;
type ContainerName = (typeof CONTAINERS)[number];
const ALL_TYPE_WORDS = [...PRIMITIVE_NAMES, ...CONTAINERS.map((c) => `${c}[...]`)];

/** D-Bus limits nesting to 32 arrays and 32 structs (dict entries count as both). */
const MAX_NESTING = 32;

export interface TypeParseError {
  message: string;
  /** 0-based offset into the type string where the problem is. */
  offset: number;
}

export type TypeParseResult = { type: TypeNode; error?: undefined } | { type?: undefined; error: TypeParseError };

interface Token {
  kind: 'word' | '[' | ']' | ',' | 'end';
  text: string;
  offset: number;
}

class TypeSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '[' || c === ']' || c === ',') {
      tokens.push({ kind: c, text: c, offset: i });
      i++;
    } else if (/[A-Za-z0-9_.]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_.]/.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), offset: start });
    } else {
      throw new TypeSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    }
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Parser {
  private next = 0;
  private arrays = 0;
  private structs = 0;

  constructor(private readonly tokens: Token[], private readonly selfInterface: string) {}

  parseWhole(): TypeNode {
    const type = this.parseType();
    const after = this.peek();
    if (after.kind !== 'end') throw new TypeSyntaxError(`unexpected ${describe(after)} after the complete type`, after.offset);
    return type;
  }

  private peek(): Token {
    return this.tokens[this.next]!;
  }

  private take(): Token {
    const token = this.tokens[this.next]!;
    if (token.kind !== 'end') this.next++;
    return token;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const token = this.take();
    if (token.kind !== kind) throw new TypeSyntaxError(`expected ${what}, found ${describe(token)}`, token.offset);
    return token;
  }

  private parseType(): TypeNode {
    const word = this.take();
    if (word.kind !== 'word') {
      throw new TypeSyntaxError(`expected a type (${ALL_TYPE_WORDS.join(', ')}), found ${describe(word)}`, word.offset);
    }
    if (PRIMITIVES.has(word.text)) {
      const after = this.peek();
      if (after.kind === '[') throw new TypeSyntaxError(`${word.text} takes no type parameters`, after.offset);
      return { kind: 'primitive', name: word.text as PrimitiveName };
    }
    if (!(CONTAINERS as readonly string[]).includes(word.text)) {
      const hint = closest(word.text, [...PRIMITIVE_NAMES, ...CONTAINERS]);
      const didYouMean = hint ? ` (did you mean ${JSON.stringify(hint)}?)` : '';
      throw new TypeSyntaxError(`unknown type ${JSON.stringify(word.text)}${didYouMean}; expected one of ${ALL_TYPE_WORDS.join(', ')}`, word.offset);
    }
    const container = word.text as ContainerName;
    this.expect('[', `'[' after ${container}`);
    if (container === 'enum') return this.parseEnumReference(word);
    const countsAsArray = container === 'array' || container === 'set' || container === 'dict';
    const countsAsStruct = container === 'struct' || container === 'dict';
    if (countsAsArray) this.arrays++;
    if (countsAsStruct) this.structs++;
    if (this.arrays > MAX_NESTING || this.structs > MAX_NESTING) {
      throw new TypeSyntaxError(`types nest too deeply: D-Bus allows at most ${MAX_NESTING} nested arrays and ${MAX_NESTING} nested structs`, word.offset);
    }
    const params = this.parseParameters(container);
    if (countsAsArray) this.arrays--;
    if (countsAsStruct) this.structs--;
    return this.build(container, params, word);
  }

  private parseParameters(container: ContainerName): { type: TypeNode; offset: number }[] {
    const params: { type: TypeNode; offset: number }[] = [];
    if (this.peek().kind === ']') {
      throw new TypeSyntaxError(`${container}[] needs at least one type inside the brackets`, this.peek().offset);
    }
    for (;;) {
      const offset = this.peek().offset;
      params.push({ type: this.parseType(), offset });
      const sep = this.take();
      if (sep.kind === ']') return params;
      if (sep.kind !== ',') throw new TypeSyntaxError(`expected ',' or ']' in ${container}[...], found ${describe(sep)}`, sep.offset);
    }
  }

  private build(container: Exclude<ContainerName, 'enum'>, params: { type: TypeNode; offset: number }[], word: Token): TypeNode {
    const exactly = (n: number): void => {
      if (params.length !== n) {
        throw new TypeSyntaxError(`${container} takes exactly ${n} type${n === 1 ? '' : 's'}, found ${params.length}`, word.offset);
      }
    };
    switch (container) {
      case 'array':
        exactly(1);
        return { kind: 'array', element: params[0]!.type };
      case 'set':
        exactly(1);
        return { kind: 'set', element: params[0]!.type };
      case 'dict': {
        exactly(2);
        const key = params[0]!;
        if (key.type.kind !== 'primitive' && key.type.kind !== 'enum') {
          throw new TypeSyntaxError(`a dict key must be a basic D-Bus type (${PRIMITIVE_NAMES.join(', ')}) or an enum, not ${typeToString(key.type)}`, key.offset);
        }
        return { kind: 'dict', key: key.type, value: params[1]!.type };
      }
      case 'struct':
        return { kind: 'struct', members: params.map((p) => p.type) };
      case 'variant':
        return { kind: 'variant', alternatives: params.map((p) => p.type) };
    }
  }

  private parseEnumReference(enumWord: Token): TypeNode {
    const ref = this.take();
    if (ref.kind !== 'word') {
      throw new TypeSyntaxError(`expected an enum reference (self.<Enum> or <interface>.<Enum>) inside enum[...], found ${describe(ref)}`, ref.offset);
    }
    this.expect(']', `']' after the enum reference`);
    const parts = ref.text.split('.');
    const bad = parts.findIndex((p) => !IDENTIFIER.test(p));
    if (bad >= 0) {
      throw new TypeSyntaxError(`bad enum reference ${JSON.stringify(ref.text)}: ${JSON.stringify(parts[bad])} is not a valid name`, ref.offset);
    }
    if (parts[0] === 'self') {
      if (parts.length !== 2) {
        throw new TypeSyntaxError(`bad enum reference ${JSON.stringify(ref.text)}: expected self.<Enum>`, ref.offset);
      }
      return { kind: 'enum', interface: this.selfInterface, name: parts[1]! };
    }
    if (parts.length < 3) {
      throw new TypeSyntaxError(
        `bad enum reference ${JSON.stringify(ref.text)} in ${enumWord.text}[...]: expected self.<Enum> or a fully qualified <interface>.<Enum> such as xyz.openbmc_project.State.Host.Transition`,
        ref.offset,
      );
    }
    return { kind: 'enum', interface: parts.slice(0, -1).join('.'), name: parts[parts.length - 1]! };
  }
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the type' : JSON.stringify(token.text);
}

export function parseType(text: string, selfInterface: string): TypeParseResult {
  try {
    const tokens = tokenize(text);
    if (tokens.length === 1) return { error: { message: 'the type is empty', offset: 0 } };
    return { type: new Parser(tokens, selfInterface).parseWhole() };
  } catch (e) {
    if (e instanceof TypeSyntaxError) return { error: { message: e.message, offset: e.offset } };
    throw e;
  }
}

/** The canonical spelling of a type, for messages. */
export function typeToString(type: TypeNode): string {
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'array':
    case 'set':
      return `${type.kind}[${typeToString(type.element)}]`;
    case 'dict':
      return `dict[${typeToString(type.key)}, ${typeToString(type.value)}]`;
    case 'struct':
      return `struct[${type.members.map(typeToString).join(', ')}]`;
    case 'variant':
      return `variant[${type.alternatives.map(typeToString).join(', ')}]`;
    case 'enum':
      return `enum[${type.interface}.${type.name}]`;
  }
}

/** Every enum a type mentions, for resolving references. */
export function enumsIn(type: TypeNode, out: { interface: string; name: string }[] = []): { interface: string; name: string }[] {
  switch (type.kind) {
    case 'enum':
      out.push({ interface: type.interface, name: type.name });
      break;
    case 'array':
    case 'set':
      enumsIn(type.element, out);
      break;
    case 'dict':
      enumsIn(type.key, out);
      enumsIn(type.value, out);
      break;
    case 'struct':
      type.members.forEach((m) => enumsIn(m, out));
      break;
    case 'variant':
      type.alternatives.forEach((a) => enumsIn(a, out));
      break;
    case 'primitive':
      break;
  }
  return out;
}
