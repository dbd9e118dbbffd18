// sdbus++ reads PDI files with PyYAML's safe_load (YAML 1.1). Our scalar
// reading must agree with it exactly: which plain scalars are booleans,
// integers (and their exact values), floats, nulls, dates or strings. This
// compares the two on random scalar-like text, asking PyYAML's own resolver
// and constructor through one python3 process.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { resolvePlainScalar, type ScalarValue } from '../../../codegen/src/parse/scalars.js';
import { requireCommand } from '../../support/require-command.js';

const PYTHON_RESOLVE = `
import json, sys, yaml
loader = yaml.SafeLoader('')
out = []
for text in json.load(sys.stdin):
    tag = loader.resolve(yaml.ScalarNode, text, (True, False))
    try:
        value = loader.construct_object(yaml.ScalarNode(tag, text))
    except Exception:
        out.append(['error', tag])
        continue
    if isinstance(value, bool): out.append(['bool', value])
    elif isinstance(value, int): out.append(['int', str(value)])
    elif isinstance(value, float): out.append(['float', repr(value)])
    elif value is None: out.append(['null'])
    elif isinstance(value, str): out.append(['string', value])
    else: out.append(['timestamp'])
json.dump(out, sys.stdout)
`;

type PyResult = ['bool', boolean] | ['int', string] | ['float', string] | ['null'] | ['string', string] | ['timestamp'] | ['error', string];

function pyyamlResolve(python: string, texts: string[]): PyResult[] {
  const run = spawnSync(python, ['-c', PYTHON_RESOLVE], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    if (/No module named .?yaml/.test(run.stderr)) throw new Error("PyYAML is not installed: install the Debian package 'python3-yaml' (npm run bootstrap does this)");
    throw new Error(`python3 failed: ${run.stderr}`);
  }
  return JSON.parse(run.stdout) as PyResult[];
}

function agrees(ours: ScalarValue, theirs: PyResult): boolean {
  switch (theirs[0]) {
    case 'bool':
      return ours.kind === 'bool' && ours.value === theirs[1];
    case 'int':
      return ours.kind === 'int' && ours.value.toString() === theirs[1];
    case 'float': {
      if (ours.kind !== 'float') return false;
      const repr = theirs[1];
      if (repr === 'nan') return Number.isNaN(ours.value);
      if (repr === 'inf' || repr === '-inf') return ours.value === (repr === 'inf' ? Infinity : -Infinity);
      return ours.value === Number(repr);
    }
    case 'null':
      return ours.kind === 'null';
    case 'string':
      return ours.kind === 'string' && ours.value === theirs[1];
    case 'timestamp':
      return ours.kind === 'timestamp';
    case 'error':
      // PyYAML matched a pattern but could not build the value (e.g. `=`,
      // `0b_`, 2001-13-45): we must not silently read it as something else.
      return ours.kind === 'invalid' || ours.kind === 'timestamp';
  }
}

function mismatchesOf(texts: string[], theirs: PyResult[]): string[] {
  const bigints = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);
  return texts
    .map((text, i) => ({ text, ours: resolvePlainScalar(text), py: theirs[i]! }))
    .filter(({ ours, py }) => !agrees(ours, py))
    .map(({ text, ours, py }) => `${JSON.stringify(text)}: ours ${JSON.stringify(ours, bigints)}, PyYAML ${JSON.stringify(py)}`);
}

/** Pieces that make scalars sitting on the edges of YAML 1.1's patterns. */
const PIECES = [
  '0', '1', '7', '8', '9', '12', '_', '.', '-', '+', ':', '30', '59', '60', 'e', 'E', 'e+', 'e-', '5', 'x', 'X', 'b', 'o', '0x', '0b', '0o',
  'inf', 'Inf', 'INF', 'nan', 'NaN', 'y', 'Y', 'n', 'yes', 'Yes', 'YES', 'no', 'No', 'on', 'On', 'ON', 'off', 'Off', 'OFF',
  'true', 'True', 'TRUE', 'false', 'null', 'Null', 'NULL', '~', '=', '<<', 'T', 't', ' ', 'Z', '2001', '-12', '-14', 'E810', 'maxint',
];

describe('codegen parse: YAML 1.1 scalars agree with PyYAML (what sdbus++ uses)', function () {
  this.timeout(60_000);

  it('known corner cases', function () {
    const python = requireCommand('python3', 'python3-yaml');
    const texts = ['E810', '1e5', '1.0e+5', '1.0e5', 'y', 'n', 'On', 'off', '0x1F', '017', '0b101', '1:30', '190:20:30.15', '.inf', '-.Inf', '.NaN',
      'NaN', 'nan', 'Infinity', '18446744073709551616', '-9223372036854775809', '1_000', '0.', '.5', '+12', '~', 'null', '', '2001-12-14',
      '2001-12-14t21:59:43.10-05:00', '=', '0b_', '0x_', '00', '-0', '0_', '08', '1__0'];
    assert.deepEqual(mismatchesOf(texts, pyyamlResolve(python, texts)), []);
  });

  it('random scalar-like text', function () {
    const python = requireCommand('python3', 'python3-yaml');
    const samples = fc.sample(fc.string({ unit: fc.constantFrom(...PIECES), minLength: 1, maxLength: 6 }), { numRuns: 20_000, seed: 20261121 });
    const texts = [...new Set(samples.map((s) => s.trim()))];
    const mismatches = mismatchesOf(texts, pyyamlResolve(python, texts));
    assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${texts.length} differ`);
  });
});
