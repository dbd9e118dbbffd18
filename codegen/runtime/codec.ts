// Codecs convert between the typed values generated code exposes and the
// values dbus-next marshals. Each knows its D-Bus signature. toWire checks
// its input and names the offending argument, so a bad call fails here with
// a clear message instead of deep inside the marshaller.
import { DBusError, Variant } from './dbus-next.js';
import { InvalidEnumStringError, StandardError } from './errors.js';

export interface Codec<T, W = unknown> {
  readonly signature: string;
  /** Typed value → wire value; throws TypeError naming `where` when `value` does not fit. */
  toWire(value: T, where: string): W;
  /**
   * Wire value → typed value; throws a DBusError for values D-Bus typing
   * cannot rule out (variants, and enum strings the YAML does not know unless
   * `unknownEnums` is 'keep').
   */
  fromWire(wire: W, unknownEnums?: UnknownEnums): T;
}

/**
 * What decoding does with an enum string the YAML does not know. 'reject'
 * (servers decoding what callers send, as sdbusplus): the error
 * xyz.openbmc_project.sdbusplus.Error.InvalidEnumString. 'keep' (clients
 * decoding what a service sends, which may be newer than their YAML): the
 * value arrives as an UnknownEnumValue and nothing else is lost.
 */
export type UnknownEnums = 'reject' | 'keep';

/**
 * An enum value the YAML this code was generated from does not know, as a
 * client received it (a newer service added it). Enum-typed values a client
 * receives are `KnownValue | UnknownEnumValue`: compare with the known names
 * as usual, and test `v instanceof UnknownEnumValue` (or isUnknownEnumValue)
 * for the rest. `wire` is the string as sent, e.g.
 * 'xyz.openbmc_project.State.Host.HostState.Standby'.
 */
export class UnknownEnumValue {
  constructor(
    /** The enum's full name, e.g. `xyz.openbmc_project.State.Host.HostState`. */
    readonly enumName: string,
    /** The string on the wire. */
    readonly wire: string,
  ) {}
  /** The value's name after the enum's prefix (or the whole wire string when it has another prefix). */
  get name(): string {
    return this.wire.startsWith(`${this.enumName}.`) ? this.wire.slice(this.enumName.length + 1) : this.wire;
  }
  toString(): string {
    return this.wire;
  }
  toJSON(): string {
    return this.wire;
  }
}

export function isUnknownEnumValue(value: unknown): value is UnknownEnumValue {
  return value instanceof UnknownEnumValue;
}

export type TypeOf<C> = C extends Codec<infer T, unknown> ? T : never;

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (value instanceof Map) return 'a Map';
  if (value instanceof Set) return 'a Set';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function fail(where: string, expected: string, value: unknown): never {
  throw new TypeError(`${where}: expected ${expected}, got ${describe(value)}`);
}

function integer(signature: string, min: number, max: number, name: string): Codec<number, number> {
  return {
    signature,
    toWire(value, where) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(where, `${name} (integer ${min}..${max})`, value);
      }
      return value;
    },
    fromWire: (wire) => wire as number,
  };
}

function bigInteger(signature: string, min: bigint, max: bigint, name: string): Codec<bigint> {
  return {
    signature,
    toWire(value, where) {
      const v = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
      if (typeof v !== 'bigint' || v < min || v > max) fail(where, `${name} (bigint ${min}..${max})`, value);
      return v;
    },
    fromWire: (wire) => BigInt(wire as bigint),
  };
}

function stringLike(signature: string, name: string, valid: (s: string) => boolean): Codec<string> {
  return {
    signature,
    toWire(value, where) {
      if (typeof value !== 'string' || !valid(value)) fail(where, name, value);
      return value;
    },
    fromWire: (wire) => wire as string,
  };
}

const OBJECT_PATH = /^\/$|^(\/[A-Za-z0-9_]+)+$/;
const SIGNATURE = /^[ybnqiuxtdsoghva(){}]*$/;

export const byte = integer('y', 0, 0xff, 'byte');
export const int16 = integer('n', -0x8000, 0x7fff, 'int16');
export const uint16 = integer('q', 0, 0xffff, 'uint16');
export const int32 = integer('i', -0x80000000, 0x7fffffff, 'int32');
export const uint32 = integer('u', 0, 0xffffffff, 'uint32');
export const unixfd = integer('h', 0, 0x7fffffff, 'unixfd (an open file descriptor number)');
export const int64 = bigInteger('x', -(2n ** 63n), 2n ** 63n - 1n, 'int64');
export const uint64 = bigInteger('t', 0n, 2n ** 64n - 1n, 'uint64');
export const double: Codec<number> = {
  signature: 'd',
  toWire(value, where) {
    if (typeof value !== 'number') fail(where, 'double (number)', value);
    return value;
  },
  fromWire: (wire) => wire as number,
};
export const boolean: Codec<boolean> = {
  signature: 'b',
  toWire(value, where) {
    if (typeof value !== 'boolean') fail(where, 'boolean', value);
    return value;
  },
  fromWire: (wire) => Boolean(wire),
};
export const string = stringLike('s', 'string (without NUL)', (s) => !s.includes('\0'));
export const objectPath = stringLike('o', 'object path (e.g. /a/b_c)', (s) => OBJECT_PATH.test(s));
export const signature = stringLike('g', 'D-Bus type signature', (s) => SIGNATURE.test(s) && s.length < 256);

/** array[byte]: Uint8Array on our side (dbus-next hands over a Buffer). */
export const byteArray: Codec<Uint8Array> = {
  signature: 'ay',
  toWire(value, where) {
    if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (Array.isArray(value)) return Buffer.from((value as unknown[]).map((b, i): number => byte.toWire(b as number, `${where}[${i}]`)));
    fail(where, 'Uint8Array (array[byte])', value);
  },
  fromWire: (wire) => wire as Uint8Array,
};

export function array<T>(element: Codec<T>): Codec<T[]> {
  return {
    signature: `a${element.signature}`,
    toWire(value, where) {
      if (!Array.isArray(value)) fail(where, `array of ${element.signature}`, value);
      return value.map((v, i) => element.toWire(v, `${where}[${i}]`));
    },
    fromWire: (wire, unknownEnums) => (wire as unknown[]).map((w) => element.fromWire(w, unknownEnums)),
  };
}

export function set<T>(element: Codec<T>): Codec<Set<T>> {
  return {
    signature: `a${element.signature}`,
    toWire(value, where) {
      if (!(value instanceof Set)) fail(where, `Set of ${element.signature}`, value);
      return [...value].map((v, i) => element.toWire(v, `${where}[${i}]`));
    },
    fromWire: (wire, unknownEnums) => new Set((wire as unknown[]).map((w) => element.fromWire(w, unknownEnums))),
  };
}

/** Dict keys travel as object keys through dbus-next: strings both ways. */
function keyFromString<K>(key: Codec<K>, text: string, unknownEnums: UnknownEnums | undefined): K {
  switch (key.signature) {
    case 'x':
    case 't':
      return key.fromWire(BigInt(text));
    case 'b':
      return key.fromWire(text === 'true');
    case 'y':
    case 'n':
    case 'q':
    case 'i':
    case 'u':
    case 'h':
    case 'd':
      return key.fromWire(Number(text));
    default:
      return key.fromWire(text, unknownEnums);
  }
}

export function dict<K, V>(key: Codec<K>, value: Codec<V>): Codec<Map<K, V>> {
  return {
    signature: `a{${key.signature}${value.signature}}`,
    toWire(map, where) {
      if (!(map instanceof Map)) fail(where, `Map for a{${key.signature}${value.signature}}`, map);
      const wire: Record<string, unknown> = {};
      for (const [k, v] of map) {
        const wk = key.toWire(k, `${where} key`);
        wire[String(wk)] = value.toWire(v, `${where}[${describe(k)}]`);
      }
      return wire;
    },
    fromWire(wire, unknownEnums) {
      const map = new Map<K, V>();
      for (const [k, v] of Object.entries(wire as Record<string, unknown>)) map.set(keyFromString(key, k, unknownEnums), value.fromWire(v, unknownEnums));
      return map;
    },
  };
}

type Tuple<Cs extends readonly Codec<unknown>[]> = { -readonly [I in keyof Cs]: TypeOf<Cs[I]> };

export function struct<Cs extends readonly Codec<any>[]>(...members: Cs): Codec<Tuple<Cs>> {
  return {
    signature: `(${members.map((m) => m.signature).join('')})`,
    toWire(value, where) {
      if (!Array.isArray(value) || value.length !== members.length) fail(where, `a tuple of ${members.length} (${this.signature})`, value);
      return members.map((m, i) => m.toWire(value[i], `${where}[${i}]`));
    },
    fromWire: (wire, unknownEnums) => members.map((m, i) => m.fromWire((wire as unknown[])[i], unknownEnums)) as Tuple<Cs>,
  };
}

/** An enumeration travelling as `<interface>.<Enum>.<Value>`; typed values are the bare value names. */
export interface EnumCodec<E extends string> extends Codec<E, string> {
  readonly prefix: string;
  readonly values: readonly E[];
  /** True when `wire` is one of this enum's strings (used to decode variants). */
  accepts(wire: string): boolean;
}

export function enumeration<E extends string>(fullName: string, values: readonly E[]): EnumCodec<E> {
  const prefix = `${fullName}.`;
  const byWire = new Map(values.map((v) => [prefix + v, v]));
  const known = new Set<string>(values);
  return {
    signature: 's',
    prefix,
    values,
    accepts: (wire) => byWire.has(wire),
    toWire(value, where) {
      if (!known.has(value)) fail(where, `one of ${fullName} {${values.join(', ')}}`, value);
      return prefix + value;
    },
    fromWire(wire, unknownEnums) {
      const v = byWire.get(wire);
      if (v !== undefined) return v;
      if (unknownEnums === 'keep' && typeof wire === 'string') return new UnknownEnumValue(fullName, wire) as unknown as E;
      throw new InvalidEnumStringError(`'${String(wire).slice(0, 200)}' is not a value of ${fullName}`);
    },
  };
}

/** One alternative of a variant: its tag in the typed union and its codec. */
export type Alternative = readonly [tag: string, codec: Codec<any>];

type VariantOf<As extends readonly Alternative[]> = {
  [I in keyof As]: As[I] extends readonly [infer Tag, Codec<infer T>] ? { type: Tag; value: T } : never;
}[number];

function isEnumCodec(c: Codec<unknown>): c is EnumCodec<string> {
  return typeof (c as EnumCodec<string>).accepts === 'function';
}

/**
 * variant[A, B, …] as a tagged union `{ type: 'A', value }`. Decoding follows
 * sdbusplus: alternatives whose signature matches, enums first in declared
 * order (a string that is one of the enum's values), then plain strings.
 */
export function variant<const As extends readonly Alternative[]>(...alternatives: As): Codec<VariantOf<As>> {
  const byTag = new Map(alternatives.map(([tag, codec]) => [tag, codec]));
  const sigs = alternatives.map(([, c]) => c.signature);
  return {
    signature: 'v',
    toWire(value, where) {
      const v = value as { type?: unknown; value?: unknown } | null;
      const codec = typeof v?.type === 'string' ? byTag.get(v.type) : undefined;
      if (!codec) fail(where, `{ type, value } with type one of ${[...byTag.keys()].join(', ')}`, value);
      return new Variant(codec.signature, codec.toWire(v!.value, `${where}.value`));
    },
    fromWire(wire, unknownEnums) {
      const w = wire as Variant;
      const candidates = alternatives.filter(([, c]) => c.signature === w.signature);
      const enums = candidates.filter(([, c]) => isEnumCodec(c));
      for (const [tag, codec] of enums) {
        if ((codec as EnumCodec<string>).accepts(w.value as string)) return { type: tag, value: codec.fromWire(w.value) } as VariantOf<As>;
      }
      const plain = candidates.find(([, c]) => !isEnumCodec(c));
      if (plain) return { type: plain[0], value: plain[1].fromWire(w.value, unknownEnums) } as VariantOf<As>;
      if (enums.length > 0) return { type: enums[0]![0], value: enums[0]![1].fromWire(w.value, unknownEnums) } as VariantOf<As>;
      throw new DBusError(StandardError.InvalidArgs, `variant holds type '${w.signature}', expected one of ${sigs.join(', ')}`);
    },
  };
}

/** Builds the wire body of a call or signal from typed arguments. */
export function encodeArgs(codecs: readonly Codec<any>[], names: readonly string[], args: readonly unknown[], where: string): unknown[] {
  if (args.length !== codecs.length) throw new TypeError(`${where}: expected ${codecs.length} argument(s), got ${args.length}`);
  const out = new Array(codecs.length);
  for (let i = 0; i < codecs.length; i++) {
    try {
      out[i] = codecs[i]!.toWire(args[i], '');
    } catch {
      codecs[i]!.toWire(args[i], `${where}: argument ${names[i]}`); // again, for the message naming the argument
    }
  }
  return out;
}

export function decodeArgs(codecs: readonly Codec<any>[], body: readonly unknown[], unknownEnums?: UnknownEnums): unknown[] {
  const out = new Array(codecs.length);
  for (let i = 0; i < codecs.length; i++) out[i] = codecs[i]!.fromWire(body[i], unknownEnums);
  return out;
}
