// Robustness: whatever bytes are in the YAML files, loading never throws and
// every diagnostic points at a real place in a real file. Inputs are random
// text, and random mutations of a valid interface that uses most features.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Diagnostic } from '../../../codegen/src/model.js';
import { loadCorpus, parseTypeExpression, typeToString } from '../../../codegen/src/parse/index.js';
import { makeRoot } from './helpers.js';

const VALID_INTERFACE = `description: >
    A test interface using most of the format.
methods:
    - name: Mount
      description: Mount an image.
      parameters:
          - name: ImageURL
            type: string
            description: Where.
          - name: FileDescriptor
            type: variant[int32,unixfd]
          - name: Token
            type: uint32
            default: 0
      returns:
          - name: Status
            type: boolean
      errors:
          - self.Error.Busy
          - xyz.openbmc_project.Common.Error.InternalFailure
      flags:
          - unprivileged
properties:
    - name: Mode
      type: enum[self.Mode]
      default: "Off"
      flags: [readonly]
    - name: Limits
      type: dict[string, struct[uint64, double]]
    - name: Max
      type: double
      default: Infinity
    - name: Count
      type: uint64
      default: 18446744073709551615
    - name: Names
      type: array[string]
      default: '{"a", "b"}'
    - name: Enabled
      type: boolean
      default: on
signals:
    - name: Changed
      properties:
          - name: Mode
            type: enum[self.Mode]
enumerations:
    - name: Mode
      description: Modes.
      values:
          - name: "On"
          - name: "Off"
paths:
    - namespace: /xyz/openbmc_project/test
      segments:
          - name: Item
            value: item
service_names:
    - default: xyz.openbmc_project.Test
`;

const FILES = {
  'a/b/C.interface.yaml': VALID_INTERFACE,
  'a/b/C.errors.yaml': '- name: Busy\n  description: Busy.\n',
  'xyz/openbmc_project/Common.errors.yaml': '- name: InternalFailure\n  description: Failed.\n',
};

/** Snippets likely to upset a YAML reader or the checks behind it. */
const NASTY = [
  ':', ': ', '-', '- ', '[', ']', '{', '}', ',', '"', "'", '\n', '  ', '    ', '\t', '#', '&a ', '*a', '<<: *a', '!!int ', '!!str ', '? ',
  '|', '>', '---\n', '...', 'on', 'Off', 'yes', '~', 'null', '0x1F', '0b2', '1:30', '.inf', '.nan', '2001-12-14', '=', '1e5', '-1',
  '18446744073709551616', 'enum[self.Mode]', 'enum[x.y.Z.E]', 'dict[array[byte],int32]', 'struct[]', 'variant[', 'name: ', 'type: ',
  'default: ', 'flags: [const, emits_change]', 'errors: [self.Error.Nope]', '\u00e9', '\u0000', '\uFEFF', '\r\n',
];

/** A text edit: delete, insert a nasty snippet, or duplicate a line. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...NASTY) }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, edits: Mutation[]): string {
  for (const edit of edits) {
    const at = text.length === 0 ? 0 : edit.at % text.length;
    if (edit.kind === 'delete') text = text.slice(0, at) + text.slice(at + edit.length);
    else if (edit.kind === 'insert') text = text.slice(0, at) + edit.text + text.slice(at);
    else {
      const lines = text.split('\n');
      const i = edit.at % lines.length;
      lines.splice(i, 0, lines[i]!);
      text = lines.join('\n');
    }
  }
  return text;
}

/** Every diagnostic names a file of the root (or the root) and a line:column inside it. */
function assertPositionsValid(diagnostics: Diagnostic[], root: string): void {
  for (const d of diagnostics) {
    assert.ok(d.message.length > 0, 'empty message');
    assert.ok(Number.isInteger(d.line) && d.line >= 1, `bad line in ${JSON.stringify(d)}`);
    assert.ok(Number.isInteger(d.column) && d.column >= 1, `bad column in ${JSON.stringify(d)}`);
    assert.ok(d.file.startsWith(root), `diagnostic for a file outside the root: ${d.file}`);
    let text: string;
    try {
      text = readFileSync(d.file, 'utf8');
    } catch {
      continue; // e.g. "no file a/b/X.interface.yaml": points at where it should be
    }
    const lines = text.split(/\r\n|\r|\n/);
    assert.ok(d.line <= lines.length, `line ${d.line} beyond the ${lines.length} lines of ${d.file}: ${d.message}`);
    assert.ok(d.column <= lines[d.line - 1]!.length + 1, `column ${d.column} beyond line ${d.line} of ${d.file}: ${d.message}`);
  }
}

function loadWith(files: Record<string, string>): void {
  const { root, cleanup } = makeRoot(files);
  try {
    const result = loadCorpus({ root });
    assertPositionsValid(result.diagnostics, root);
    assertPositionsValid(result.warnings, root);
  } finally {
    cleanup();
  }
}

describe('codegen parse: never throws, always points somewhere real', function () {
  this.timeout(600_000); // a hang guard only: hundreds of parses are minutes on a loaded machine

  it('the seed interface is valid', function () {
    const { root, cleanup } = makeRoot(FILES);
    try {
      const result = loadCorpus({ root });
      assert.deepEqual(result.diagnostics, []);
      assert.equal(result.corpus.interfaces.get('a.b.C')!.properties.length, 6);
    } finally {
      cleanup();
    }
  });

  it('a bare CR is a line break, as in YAML and editors (a case fast-check found)', function () {
    loadWith({ ...FILES, 'a/b/C.errors.yaml': '- name\r:\n- name\r:\n: Busy\n  description: Busy.\n  description: Busy.\n' });
  });

  it('random mutations of a valid interface', function () {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (edits) => {
        loadWith({ ...FILES, 'a/b/C.interface.yaml': mutate(VALID_INTERFACE, edits) });
      }),
      { numRuns: 300 },
    );
  });

  it('random mutations of an errors file', function () {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (edits) => {
        loadWith({ ...FILES, 'a/b/C.errors.yaml': mutate(FILES['a/b/C.errors.yaml'], edits) });
      }),
      { numRuns: 150 },
    );
  });

  it('random text as interface and errors files', function () {
    const yamlish = fc.string({ unit: fc.constantFrom(...NASTY, 'a', 'b', 'name', 'type', 'x'), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), yamlish), yamlish, (interfaceText, errorsText) => {
        loadWith({ 'a/b/C.interface.yaml': interfaceText, 'a/b/C.errors.yaml': errorsText });
      }),
      { numRuns: 200 },
    );
  });

  it('type expressions: garbage is an error with an offset inside the text, valid ones round-trip', function () {
    const typeWords = fc.constantFrom('array', 'set', 'dict', 'struct', 'variant', 'enum', 'int32', 'string', 'self.E', 'a.b.C.E', '[', ']', ',', ' ', 'x', '@');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: typeWords, maxLength: 12 })), (text) => {
        const result = parseTypeExpression(text, 'a.b.C');
        if (result.type) {
          const again = parseTypeExpression(typeToString(result.type), 'a.b.C');
          assert.deepEqual(again.type, result.type);
        } else {
          assert.match(result.error!, /\(at character \d+\)$/);
          const at = Number(/at character (\d+)\)$/.exec(result.error!)![1]);
          assert.ok(at >= 1 && at <= text.length + 1, `offset ${at} outside ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
