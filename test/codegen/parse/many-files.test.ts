// Problems in several files are all reported in one run, each against its
// own file, and the good files still load.

import assert from 'node:assert/strict';
import { loadCorpus } from '../../../codegen/src/parse/index.js';
import { formatAll, makeRoot } from './helpers.js';

describe('codegen parse: many problems in many files', function () {
  it('reports every problem of every file in one run, sorted by file and position', function () {
    const { root, cleanup } = makeRoot({
      'a/b/Good.interface.yaml': 'description: fine\nproperties:\n    - name: Mode\n      type: enum[a.b.Enums.Mode]\n      default: Fast\n',
      'a/b/Enums.interface.yaml': 'enumerations:\n    - name: Mode\n      values:\n          - name: Fast\n          - name: Slow\n',
      'a/b/One.interface.yaml': 'properties:\n    - name: P\n      type: int33\n    - name: Q\n      type: string\n      flags: [writable]\n',
      'a/b/Two.interface.yaml': 'methods:\n    - name: Go\n      errors: [a.b.Error.Nope]\n    - name: Go\n',
      'a/b/Three.interface.yaml': 'methods: [\n',
      'a/b.errors.yaml': '- name: Fine\n- nam: Typo\n',
    });
    try {
      const result = loadCorpus({ root });
      assert.deepEqual(formatAll(result.diagnostics, root), [
        'a/b.errors.yaml:2:3: unknown key "nam" in an error (did you mean "name"?); allowed keys are name, description, errno',
        'a/b.errors.yaml:2:3: an error is missing the required key "name"',
        'a/b/One.interface.yaml:3:13: bad type "int33" for property "P": unknown type "int33" (did you mean "int32"?); expected one of byte, boolean, int16, uint16, int32, uint32, int64, uint64, double, unixfd, string, object_path, signature, size, ssize, array[...], set[...], dict[...], struct[...], variant[...], enum[...] (at character 1)',
        'a/b/One.interface.yaml:6:15: unknown flag "writable" on property "Q"; allowed flags are const, readonly, emits_change, emits_invalidation, explicit, deprecated, hidden, unprivileged',
        'a/b/Three.interface.yaml:2:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
        'a/b/Two.interface.yaml:3:16: unknown error "a.b.Error.Nope": a/b.errors.yaml defines no error "Nope"',
        'a/b/Two.interface.yaml:4:13: duplicate member name "Go": already used by the method at line 2',
      ]);
      // The files without problems are all there; the broken-YAML one is not.
      assert.deepEqual([...result.corpus.interfaces.keys()], ['a.b.Enums', 'a.b.Good', 'a.b.One', 'a.b.Two']);
      const good = result.corpus.interfaces.get('a.b.Good')!;
      assert.deepEqual(good.properties[0]!.default, { kind: 'enum', enumInterface: 'a.b.Enums', enumName: 'Mode', value: 'Fast' });
    } finally {
      cleanup();
    }
  });
});
