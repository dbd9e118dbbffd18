// One small broken input per class of error: each must be reported with the
// exact position and a message that says what was expected.

import assert from 'node:assert/strict';
import { loadCorpus } from '../../../codegen/src/parse/index.js';
import { formatAll, makeRoot } from './helpers.js';

interface Case {
  title: string;
  files: Record<string, string>;
  /** `file:line:column: message fragment` each must be matched by a diagnostic. */
  expect: string[];
  /** Load only these interfaces (default: all). */
  interfaces?: string[];
}

/** An interface file a/b/C with the given body, plus a small errors file. */
function iface(body: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'a/b/C.interface.yaml': body, 'a/b/C.errors.yaml': '- name: Busy\n  description: busy\n', ...extra };
}

const cases: Case[] = [
  {
    title: 'unknown key, with a did-you-mean and the allowed keys',
    files: iface('properties:\n    - name: Size\n      type: uint32\n      flgas: [readonly]\n'),
    expect: ['a/b/C.interface.yaml:4:7: unknown key "flgas" in a property (did you mean "flags"?); allowed keys are name, type, description, default, flags, errors'],
  },
  {
    title: 'unknown top-level key',
    files: iface('description: x\nmethod:\n    - name: Go\n'),
    expect: ['a/b/C.interface.yaml:2:1: unknown key "method" in an interface (did you mean "methods"?)'],
  },
  {
    title: 'YAML 1.1 boolean used as a key',
    files: iface('description: x\non: 1\n'),
    expect: ['a/b/C.interface.yaml:2:1: unknown key "on" (YAML 1.1 reads this unquoted key as the boolean true) in an interface'],
  },
  {
    title: 'missing required key: property without type',
    files: iface('properties:\n    - name: Size\n      description: no type\n'),
    expect: ['a/b/C.interface.yaml:2:7: a property is missing the required key "type"'],
  },
  {
    title: 'missing required key: method without name',
    files: iface('methods:\n    - description: nameless\n'),
    expect: ['a/b/C.interface.yaml:2:7: a method is missing the required key "name"'],
  },
  {
    title: 'wrong value kind: a string where a list is expected',
    files: iface('methods:\n    - name: Go\n      parameters: none\n'),
    expect: ['a/b/C.interface.yaml:3:19: expected the parameters of method "Go" as a list, found the string "none"'],
  },
  {
    title: 'wrong value kind: a list where a mapping is expected',
    files: iface('properties:\n    - [name, Size]\n'),
    expect: ['a/b/C.interface.yaml:2:7: expected a property as a mapping with keys name, type, description, default, flags, errors, found a list'],
  },
  {
    title: 'wrong value kind: description that YAML 1.1 reads as a boolean',
    files: iface('description: Yes\n'),
    expect: ['a/b/C.interface.yaml:1:14: expected the interface description as a string, found the boolean true (YAML 1.1 reads unquoted Yes as a boolean; write "Yes" to mean the text)'],
  },
  {
    title: 'bad type string: unclosed bracket, reported at the end of the type',
    files: iface('properties:\n    - name: Values\n      type: array[int32\n'),
    expect: ['a/b/C.interface.yaml:3:24: bad type "array[int32" for property "Values": expected \',\' or \']\' in array[...], found the end of the type (at character 12)'],
  },
  {
    title: 'bad type string: unknown type name, reported at the name',
    files: iface('properties:\n    - name: Values\n      type: "dict[string, uint128]"\n'),
    expect: ['a/b/C.interface.yaml:3:27: bad type "dict[string, uint128]" for property "Values": unknown type "uint128"'],
  },
  {
    title: 'bad type string: dict key that is not a basic type',
    files: iface('properties:\n    - name: Values\n      type: dict[struct[int32], string]\n'),
    expect: ['a/b/C.interface.yaml:3:18: bad type "dict[struct[int32], string]" for property "Values": a dict key must be a basic D-Bus type'],
  },
  {
    title: 'bad type string: wrong parameter count',
    files: iface('methods:\n    - name: Go\n      parameters:\n          - name: Pairs\n            type: dict[string]\n'),
    expect: ['a/b/C.interface.yaml:5:19: bad type "dict[string]" for parameter "Pairs" of method "Go": dict takes exactly 2 types, found 1'],
  },
  {
    title: 'unknown enum reference in the same interface',
    files: iface('properties:\n    - name: Mode\n      type: array[enum[self.Mood]]\nenumerations:\n    - name: Mode\n      values:\n          - name: Fast\n'),
    expect: ['a/b/C.interface.yaml:3:24: unknown enum self.Mood in type "array[enum[self.Mood]]": this interface has no enumeration "Mood" (did you mean "Mode"?); its enumerations are Mode'],
  },
  {
    title: 'unknown enum reference in another interface',
    files: iface('properties:\n    - name: Mode\n      type: enum[x.y.Z.Mode]\n'),
    expect: ['a/b/C.interface.yaml:3:18: unknown enum x.y.Z.Mode in type "enum[x.y.Z.Mode]": there is no interface x.y.Z (no file x/y/Z.interface.yaml under the root)'],
  },
  {
    title: 'unknown error reference (self.Error form)',
    files: iface('methods:\n    - name: Go\n      errors:\n          - self.Error.Bussy\n'),
    expect: ['a/b/C.interface.yaml:4:13: unknown error "self.Error.Bussy": a/b/C.errors.yaml defines no error "Bussy" (did you mean "Busy"?)'],
  },
  {
    title: 'unknown error reference (missing errors file)',
    files: iface('properties:\n    - name: P\n      type: string\n      errors:\n          - xyz.None.Error.Nope\n'),
    expect: ['a/b/C.interface.yaml:5:13: unknown error "xyz.None.Error.Nope": there is no xyz/None.errors.yaml under the root'],
  },
  {
    title: 'bad default: integer out of range',
    files: iface('properties:\n    - name: Level\n      type: byte\n      default: 256\n'),
    expect: ['a/b/C.interface.yaml:4:16: bad default 256 for type byte: 256 is out of range: byte holds 0 to 255'],
  },
  {
    title: 'bad default: 64-bit bounds are exact',
    files: iface('properties:\n    - name: A\n      type: uint64\n      default: 18446744073709551615\n    - name: B\n      type: int64\n      default: -9223372036854775809\n'),
    expect: ['a/b/C.interface.yaml:7:16: bad default -9223372036854775809 for type int64: -9223372036854775809 is out of range: int64 holds -9223372036854775808 to 9223372036854775807'],
  },
  {
    title: 'bad default: unquoted Off for an enum (YAML 1.1 boolean)',
    files: iface('properties:\n    - name: Power\n      type: enum[self.State]\n      default: Off\nenumerations:\n    - name: State\n      values:\n          - name: "On"\n          - name: "Off"\n'),
    expect: ['a/b/C.interface.yaml:4:16: bad default Off for type enum[a.b.C.State]: expected the bare name of a value of a.b.C.State (YAML 1.1 reads unquoted Off as a boolean; write "Off" to mean the text)'],
  },
  {
    title: 'bad default: enum value that does not exist',
    files: iface('properties:\n    - name: Power\n      type: enum[self.State]\n      default: Dim\nenumerations:\n    - name: State\n      values:\n          - name: Bright\n          - name: Dark\n'),
    expect: ['a/b/C.interface.yaml:4:16: bad default Dim for type enum[a.b.C.State]: a.b.C.State has no value "Dim"; its values are Bright or Dark'],
  },
  {
    title: 'bad default: special name on the wrong type',
    files: iface('properties:\n    - name: Count\n      type: uint32\n      default: NaN\n'),
    expect: ['a/b/C.interface.yaml:4:16: bad default NaN for type uint32: expected an integer from 0 to 4294967295, maxint or minint'],
  },
  {
    title: "bad default: YAML's .inf, which sdbus++ cannot spell in C++",
    files: iface('properties:\n    - name: Max\n      type: double\n      default: .inf\n'),
    expect: ['a/b/C.interface.yaml:4:16: bad default .inf for type double: sdbus++ cannot turn YAML\'s .inf into C++; write Infinity'],
  },
  {
    title: 'bad default: brace list element of the wrong type, reported inside the string',
    files: iface("properties:\n    - name: Names\n      type: array[string]\n      default: '{\"a\", 5}'\n"),
    expect: ['a/b/C.interface.yaml:4:23: bad default \'{"a", 5}\' for type array[string]: this element is not a string'],
  },
  {
    title: 'bad flag',
    files: iface('properties:\n    - name: P\n      type: string\n      flags:\n          - readonly\n          - emit_change\n'),
    expect: ['a/b/C.interface.yaml:6:13: unknown flag "emit_change" on property "P" (did you mean "emits_change"?); allowed flags are const, readonly, emits_change, emits_invalidation, explicit, deprecated, hidden, unprivileged'],
  },
  {
    title: 'bad flag on a method',
    files: iface('methods:\n    - name: Go\n      flags: [noreply]\n'),
    expect: ['a/b/C.interface.yaml:3:15: unknown flag "noreply" on method "Go" (did you mean "no_reply"?); allowed flags are deprecated, hidden, unprivileged, no_reply'],
  },
  {
    title: 'contradictory property flags',
    files: iface('properties:\n    - name: P\n      type: string\n      flags: [const, emits_change]\n'),
    expect: ['a/b/C.interface.yaml:4:14: property "P" has the flags const and emits_change, but sd-bus allows only one of const, emits_change and emits_invalidation'],
  },
  {
    title: 'duplicate member names across properties and methods',
    files: iface('properties:\n    - name: Go\n      type: string\nmethods:\n    - name: Go\n'),
    expect: ['a/b/C.interface.yaml:5:13: duplicate member name "Go": already used by the property at line 2'],
  },
  {
    title: 'duplicate enum values and parameter names',
    files: iface('methods:\n    - name: Go\n      parameters:\n          - name: X\n            type: int32\n          - name: X\n            type: int32\nenumerations:\n    - name: E\n      values:\n          - name: A\n          - name: A\n'),
    expect: [
      'a/b/C.interface.yaml:6:19: duplicate parameter name "X": already used by the parameter at line 4',
      'a/b/C.interface.yaml:12:19: duplicate value name "A": already used by the value at line 11',
    ],
  },
  {
    title: 'invalid D-Bus member names',
    files: iface('methods:\n    - name: Get-Thing\nsignals:\n    - name: 2Fast\n'),
    expect: [
      'a/b/C.interface.yaml:2:13: invalid method name "Get-Thing": it contains "-"; only letters, digits and _ are allowed',
      'a/b/C.interface.yaml:4:13: invalid signal name "2Fast": it starts with a digit',
    ],
  },
  {
    title: 'YAML syntax error, with the position the yaml library gives',
    files: iface('description: x\nmethods:\n    - name: Go\n     description: bad indent\n'),
    expect: ['a/b/C.interface.yaml:4:1: YAML syntax error: Sequence item without - indicator'],
  },
  {
    title: 'YAML duplicate key',
    files: iface('description: x\ndescription: y\n'),
    expect: ['a/b/C.interface.yaml:2:1: YAML syntax error: Map keys must be unique'],
  },
  {
    title: 'more than one YAML document',
    files: iface('description: x\n---\ndescription: y\n'),
    expect: ['a/b/C.interface.yaml:2:1: expected a single YAML document, found more than one'],
  },
  {
    title: 'invalid interface file names',
    files: { 'a/b-c/D.interface.yaml': 'description: x\n', 'Top.interface.yaml': 'description: x\n', 'a/9b/E.interface.yaml': 'description: x\n' },
    expect: [
      'a/b-c/D.interface.yaml:1:1: invalid interface file name "a/b-c/D.interface.yaml": "b-c" cannot be part of a D-Bus name: it contains "-"',
      'Top.interface.yaml:1:1: invalid interface file name "Top.interface.yaml": an interface file must be at least one directory deep',
      'a/9b/E.interface.yaml:1:1: invalid interface file name "a/9b/E.interface.yaml": "9b" cannot be part of a D-Bus name: it starts with a digit',
    ],
  },
  {
    title: 'requested interface that does not exist',
    files: iface('description: x\n'),
    interfaces: ['a.b.Nope'],
    expect: ['a/b/Nope.interface.yaml:1:1: cannot load interface "a.b.Nope": there is no file a/b/Nope.interface.yaml under the root'],
  },
  {
    title: 'requested interface whose file name is not a valid D-Bus name',
    files: { 'a/b-c/D.interface.yaml': 'description: x\n' },
    interfaces: ['a.b-c.D'],
    expect: ['a/b-c/D.interface.yaml:1:1: invalid interface file name "a/b-c/D.interface.yaml": "b-c" cannot be part of a D-Bus name'],
  },
  {
    title: 'errors file that is not a list',
    files: iface('description: x\n', { 'a/b/C.errors.yaml': 'name: Busy\n' }),
    expect: ['a/b/C.errors.yaml:1:1: expected an errors file to be a list of errors'],
  },
  {
    title: 'invalid paths and service names',
    files: iface('paths:\n    - namespace: /xyz//state\n    - instance: xyz/thing\nservice_names:\n    - default: xyz.9lives\n'),
    expect: [
      'a/b/C.interface.yaml:2:18: invalid namespace path "/xyz//state": it has an empty element',
      'a/b/C.interface.yaml:3:17: invalid instance path "xyz/thing": a path must start with /',
      'a/b/C.interface.yaml:5:16: invalid service name "xyz.9lives": the element "9lives" starts with a digit',
    ],
  },
];

describe('codegen parse: error reports', function () {
  for (const c of cases) {
    it(c.title, function () {
      const { root, cleanup } = makeRoot(c.files);
      try {
        const result = loadCorpus({ root, ...(c.interfaces ? { interfaces: c.interfaces } : {}) });
        const got = formatAll(result.diagnostics, root);
        for (const expected of c.expect) {
          assert.ok(got.some((line) => line.startsWith(expected)), `expected a diagnostic starting with\n  ${expected}\ngot:\n  ${got.join('\n  ')}`);
        }
      } finally {
        cleanup();
      }
    });
  }

  it('an unquoted on is the boolean true for a boolean default (YAML 1.1)', function () {
    const { root, cleanup } = makeRoot(iface('properties:\n    - name: Enabled\n      type: boolean\n      default: on\n    - name: Quiet\n      type: boolean\n      default: No\n'));
    try {
      const result = loadCorpus({ root });
      assert.deepEqual(result.diagnostics, []);
      const props = result.corpus.interfaces.get('a.b.C')!.properties;
      assert.deepEqual(props.map((p) => p.default), [{ kind: 'boolean', value: true }, { kind: 'boolean', value: false }]);
    } finally {
      cleanup();
    }
  });
});
