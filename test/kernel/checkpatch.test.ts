// Kernel style: scripts/checkpatch.pl from the Debian 6.12 source, in its
// --strict mode, must find nothing in the patch.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PATCH_FILE } from './kernel-inputs.js';
import { runCommand } from './run-command.js';
import { sourceSubset } from './source-files.js';
import { requireCommand } from '../support/require-command.js';

/**
 * checkpatch message types (as printed with --show-types) that are accepted,
 * each with the reason. Empty: the patch is clean.
 */
const JUSTIFIED: ReadonlyMap<string, string> = new Map();

interface CheckpatchResult {
  errors: number;
  warnings: number;
  checks: number;
  /** e.g. ["WARNING:LONG_LINE", ...] */
  types: string[];
  output: string;
}

async function checkpatch(): Promise<CheckpatchResult> {
  requireCommand('perl', 'perl');
  const subset = await sourceSubset('6.12');
  // --no-tree: only the files it needs (spelling.txt, const_structs.checkpatch) are extracted.
  const result = await runCommand(
    'perl',
    [join(subset.dir, 'scripts/checkpatch.pl'), '--no-tree', '--strict', '--show-types', '--color=never', PATCH_FILE],
    { allowFailure: true, env: { ...process.env, LC_ALL: 'C' } },
  );
  const output = result.stdout + result.stderr;
  const total = /total: (\d+) errors, (\d+) warnings, (?:(\d+) checks, )?\d+ lines checked/.exec(output);
  if (!total) throw new Error(`unexpected checkpatch output:\n${output}`);
  const types = [...output.matchAll(/^(ERROR|WARNING|CHECK):([A-Z0-9_]+):/gm)].map((m) => `${m[1]}:${m[2]}`);
  return { errors: Number(total[1]), warnings: Number(total[2]), checks: Number(total[3] ?? 0), types, output };
}

describe('kernel: stats patch style', function () {
  this.timeout(5 * 60 * 1000);

  it('checkpatch.pl --strict reports no errors, warnings or checks beyond the justified ones', async function () {
    const result = await checkpatch();
    const unjustified = result.types.filter((type) => !JUSTIFIED.has(type.split(':')[1] as string));
    assert.deepEqual(unjustified, [], result.output);
    assert.equal(result.errors + result.warnings + result.checks, result.types.length, result.output);
  });
});
