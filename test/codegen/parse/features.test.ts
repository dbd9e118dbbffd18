// Corners of the format the upstream corpus does not exercise but sdbus++
// accepts (or rejects) in a way we must match.

import assert from 'node:assert/strict';
import type { InterfaceDef } from '../../../codegen/src/model.js';
import { loadCorpus, parseTypeExpression, type LoadResult } from '../../../codegen/src/parse/index.js';
import { formatAll, makeRoot } from './helpers.js';

function load(files: Record<string, string>): LoadResult & { messages: string[] } {
  const { root, cleanup } = makeRoot(files);
  try {
    const result = loadCorpus({ root });
    return { ...result, messages: formatAll(result.diagnostics, root) };
  } finally {
    cleanup();
  }
}

function only(result: LoadResult, name = 'a.b.C'): InterfaceDef {
  return result.corpus.interfaces.get(name)!;
}

describe('codegen parse: format corners', function () {
  it('defaults written the many ways sdbus++ accepts', function () {
    const result = load({
      'a/b/C.interface.yaml': `properties:
    - name: Hex
      type: uint16
      default: 0x1F
    - name: HexText
      type: uint32
      default: "0x10"
    - name: Sexagesimal
      type: int32
      default: 1:30
    - name: Exponent
      type: double
      default: 1e5
    - name: Epsilon
      type: double
      default: epsilon
    - name: Min
      type: int16
      default: MININT
    - name: Nothing
      type: string
      default:
    - name: BoolText
      type: boolean
      default: "false"
    - name: Nested
      type: array[array[int32]]
      default: '{{1, 2}, {}, {-3}}'
    - name: Either
      type: set[variant[int64, boolean]]
      default: '{true, 5}'
`,
    });
    assert.deepEqual(result.messages, []);
    const defaults = Object.fromEntries(only(result).properties.map((p) => [p.name, p.default]));
    assert.deepEqual(defaults, {
      Hex: { kind: 'integer', value: 31n },
      HexText: { kind: 'integer', value: 16n },
      Sexagesimal: { kind: 'integer', value: 90n },
      Exponent: { kind: 'double', value: 100000 },
      Epsilon: { kind: 'special', name: 'Epsilon' },
      Min: { kind: 'special', name: 'minint' },
      Nothing: undefined,
      BoolText: { kind: 'boolean', value: false },
      Nested: {
        kind: 'array',
        elements: [
          { kind: 'array', elements: [{ kind: 'integer', value: 1n }, { kind: 'integer', value: 2n }] },
          { kind: 'array', elements: [] },
          { kind: 'array', elements: [{ kind: 'integer', value: -3n }] },
        ],
      },
      Either: {
        kind: 'array',
        elements: [
          { kind: 'variant', alternative: 1, value: { kind: 'boolean', value: true } },
          { kind: 'variant', alternative: 0, value: { kind: 'integer', value: 5n } },
        ],
      },
    });
  });

  it('a byte-order mark and CRLF line ends do not shift positions', function () {
    const result = load({ 'a/b/C.interface.yaml': '\uFEFFproperties:\r\n    - name: P\r\n      type: uint33\r\n' });
    assert.deepEqual(result.messages.map((m) => m.split(': bad type')[0]), ['a/b/C.interface.yaml:3:13']);
  });

  it('a fully qualified enum default gets a hint to write the bare name', function () {
    const result = load({
      'a/b/C.interface.yaml': 'properties:\n    - name: S\n      type: enum[self.State]\n      default: a.b.C.State.Up\nenumerations:\n    - name: State\n      values:\n          - name: Up\n',
    });
    assert.deepEqual(result.messages, ['a/b/C.interface.yaml:4:16: bad default a.b.C.State.Up for type enum[a.b.C.State]: sdbus++ wants the bare value name here; write "Up"']);
  });

  it('YAML anchors, aliases and merge keys work as in PyYAML', function () {
    const result = load({
      'a/b/C.interface.yaml': `description: &text Shared words.
properties:
    - &base
      name: First
      type: uint32
      description: *text
    - <<: *base
      name: Second
`,
    });
    assert.deepEqual(result.messages, []);
    assert.deepEqual(only(result).properties.map((p) => [p.name, p.typeText, p.description]), [
      ['First', 'uint32', 'Shared words.'],
      ['Second', 'uint32', 'Shared words.'],
    ]);
  });

  it('an alias bomb is refused with a position instead of eating memory', function () {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 7; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    const result = load({ 'a/b/C.interface.yaml': `${levels.join('\n')}\n` });
    assert.ok(result.messages.some((m) => /^a\/b\/C\.interface\.yaml:\d+:\d+: the document expands to more than \d+ nodes through aliases$/.test(m)), result.messages.join('\n'));
  });

  it('path segments without a value take their name in snake_case, as in sdbus++', function () {
    const result = load({
      'a/b/C.interface.yaml': 'paths:\n    - namespace: /xyz/openbmc_project/things\n      segments:\n          - name: PCIeSlotItem\n          - name: Fan\n            value: fan0\n',
    });
    assert.deepEqual(result.messages, []);
    const path = only(result).paths[0]!;
    assert.ok(path.kind === 'namespace');
    assert.deepEqual(path.segments.map((s) => s.value), ['pc_ie_slot_item', 'fan0']);
  });

  it('errors from events files, including self.<Name>', function () {
    const result = load({
      'a/b/C.interface.yaml': 'methods:\n    - name: Go\n      errors:\n          - self.Exploded\n          - a.b.C.Error.Busy\n',
      'a/b/C.events.yaml': 'version: 1.0.0\nerrors:\n    - name: Exploded\n      errno: EPIPE\n      en:\n          description: It blew up.\n          message: Boom.\n',
      'a/b/C.errors.yaml': '- name: Busy\n  errno: EBUSY\n',
    });
    assert.deepEqual(result.messages, []);
    assert.deepEqual(only(result).methods[0]!.errors, ['a.b.C.Exploded', 'a.b.C.Error.Busy']);
    assert.deepEqual(result.corpus.eventErrorFiles.get('a.b.C')!.errors.map((e) => [e.fullName, e.errno, e.description]), [['a.b.C.Exploded', 'EPIPE', 'It blew up.']]);
    assert.equal(result.corpus.errorFiles.get('a.b.C')!.errors[0]!.errno, 'EBUSY');
  });

  it('type expressions tolerate whitespace and resolve self', function () {
    assert.deepEqual(parseTypeExpression(' dict [ string ,variant[ int64, enum [self.Unit] ] ] ', 'a.b.C'), {
      type: {
        kind: 'dict',
        key: { kind: 'primitive', name: 'string' },
        value: { kind: 'variant', alternatives: [{ kind: 'primitive', name: 'int64' }, { kind: 'enum', interface: 'a.b.C', name: 'Unit' }] },
      },
    });
    assert.deepEqual(parseTypeExpression('struct[]', 'a.b.C'), { error: 'struct[] needs at least one type inside the brackets (at character 8)' });
    assert.deepEqual(parseTypeExpression('enum[Unit]', 'a.b.C').error?.startsWith('bad enum reference "Unit" in enum[...]: expected self.<Enum> or a fully qualified'), true);
    assert.match(parseTypeExpression(`${'array['.repeat(33)}byte${']'.repeat(33)}`, 'a.b.C').error!, /D-Bus allows at most 32 nested arrays/);
  });
});
