// YAML 1.1 scalar resolution exactly as PyYAML's SafeLoader does it, because
// sdbus++ reads PDI files with yaml.safe_load. The `yaml` package's own 1.1
// schema differs in corners that matter here (it reads `E810` as NaN and
// `y`/`n` as booleans; PyYAML reads both as strings, and reads `1e5` as a
// string because its float pattern needs a dot), so we parse with the
// failsafe schema (every scalar a string) and resolve plain scalars here.

export type ScalarValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'null' }
  /** PyYAML makes a date or datetime of these; nothing in PDI wants one. */
  | { kind: 'timestamp'; text: string }
  /** A plain scalar PyYAML matches but cannot construct (`=`, `0b_`). */
  | { kind: 'invalid'; text: string; reason: string };

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const TRUE_WORDS = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/;

/** Resolve a plain (unquoted, non-block) scalar's text the way PyYAML does. */
export function resolvePlainScalar(text: string): ScalarValue {
  // PyYAML tries resolvers in registration order: bool, float, int, merge,
  // null, timestamp, value. Merge (`<<`) is handled by the mapping reader.
  if (BOOL.test(text)) return { kind: 'bool', value: TRUE_WORDS.has(text) };
  if (FLOAT.test(text)) return constructFloat(text);
  if (INT.test(text)) return constructInt(text);
  if (text === '<<') return { kind: 'invalid', text, reason: 'PyYAML reads a lone << as a merge key, which only works as a mapping key; quote it' };
  if (NULL.test(text)) return { kind: 'null' };
  if (TIMESTAMP.test(text)) return { kind: 'timestamp', text };
  if (text === '=') return { kind: 'invalid', text, reason: 'PyYAML reads a lone `=` as the YAML "value" tag and cannot load it; quote it' };
  return { kind: 'string', value: text };
}

/** Resolve a scalar carrying an explicit standard tag (`!!int "5"`). */
export function resolveTaggedScalar(tag: string, text: string): ScalarValue {
  switch (tag) {
    case 'tag:yaml.org,2002:str':
      return { kind: 'string', value: text };
    case 'tag:yaml.org,2002:bool':
      return BOOL.test(text) ? { kind: 'bool', value: TRUE_WORDS.has(text) } : bad(text, 'not a YAML 1.1 boolean');
    case 'tag:yaml.org,2002:int':
      return INT.test(text) ? constructInt(text) : bad(text, 'not a YAML 1.1 integer');
    case 'tag:yaml.org,2002:float':
      if (FLOAT.test(text)) return constructFloat(text);
      return INT.test(text) ? toFloat(constructInt(text), text) : bad(text, 'not a YAML 1.1 float');
    case 'tag:yaml.org,2002:null':
      return { kind: 'null' };
    default:
      return bad(text, `the tag ${tag} is not supported here`);
  }
}

function bad(text: string, reason: string): ScalarValue {
  return { kind: 'invalid', text, reason };
}

function toFloat(v: ScalarValue, text: string): ScalarValue {
  return v.kind === 'int' ? { kind: 'float', value: Number(v.value) } : bad(text, 'not a number');
}

function constructInt(text: string): ScalarValue {
  let digits = text.replace(/_/g, '');
  let sign = 1n;
  if (digits.startsWith('-')) sign = -1n;
  if (digits.startsWith('-') || digits.startsWith('+')) digits = digits.slice(1);
  const withPrefix = (prefix: string): bigint | undefined => {
    const body = digits.slice(2);
    return body === '' ? undefined : BigInt(`${prefix}${body}`);
  };
  let value: bigint | undefined;
  if (digits === '0') value = 0n;
  else if (digits.startsWith('0b')) value = withPrefix('0b');
  else if (digits.startsWith('0x')) value = withPrefix('0x');
  else if (digits.startsWith('0')) value = BigInt(`0o${digits.slice(1)}`);
  else if (digits.includes(':')) {
    // Sexagesimal: 1:30 is 90.
    value = 0n;
    for (const part of digits.split(':')) value = value * 60n + BigInt(part);
  } else value = BigInt(digits);
  if (value === undefined) return bad(text, 'an integer prefix with no digits after it');
  return { kind: 'int', value: sign * value };
}

function constructFloat(text: string): ScalarValue {
  let body = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (body.startsWith('-')) sign = -1;
  if (body.startsWith('-') || body.startsWith('+')) body = body.slice(1);
  if (body === '.inf') return { kind: 'float', value: sign * Infinity };
  if (body === '.nan') return { kind: 'float', value: NaN };
  if (body.includes(':')) {
    let value = 0;
    for (const part of body.split(':')) value = value * 60 + Number(part);
    return { kind: 'float', value: sign * value };
  }
  return { kind: 'float', value: sign * Number(body) };
}
