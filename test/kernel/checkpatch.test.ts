// Kernel style: scripts/checkpatch.pl from the Debian 6.12 source, in its
// --strict mode, must find nothing in the patch.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

async function checkpatch(patchFile: string): Promise<CheckpatchResult> {
  requireCommand('perl', 'perl');
  const subset = await sourceSubset('6.12');
  // --no-tree: only the files it needs (spelling.txt, const_structs.checkpatch) are extracted.
  // Run outside the project's git work tree: checkpatch treats an argument
  // that `git ls-files` knows as a source file (-f), not as a patch.
  const result = await runCommand(
    'perl',
    [join(subset.dir, 'scripts/checkpatch.pl'), '--no-tree', '--strict', '--show-types', '--color=never', patchFile],
    { cwd: tmpdir(), allowFailure: true, env: { ...process.env, LC_ALL: 'C', GIT_CEILING_DIRECTORIES: tmpdir() } },
  );
  const output = result.stdout + result.stderr;
  // In file mode it would name the .patch itself as the file with problems.
  if (/^#\d+: FILE: \S+\.patch:/m.test(output)) throw new Error(`checkpatch read the patch as a source file:\n${output}`);
  const total = /total: (\d+) errors, (\d+) warnings, (?:(\d+) checks, )?\d+ lines checked/.exec(output);
  if (!total) throw new Error(`unexpected checkpatch output:\n${output}`);
  const types = [...output.matchAll(/^(ERROR|WARNING|CHECK):([A-Z0-9_]+):/gm)].map((m) => `${m[1]}:${m[2]}`);
  return { errors: Number(total[1]), warnings: Number(total[2]), checks: Number(total[3] ?? 0), types, output };
}

describe('kernel: stats patch style', function () {
  this.timeout(5 * 60 * 1000);

  it('checkpatch.pl --strict reports no errors, warnings or checks beyond the justified ones', async function () {
    const result = await checkpatch(PATCH_FILE);
    const unjustified = result.types.filter((type) => !JUSTIFIED.has(type.split(':')[1] as string));
    assert.deepEqual(unjustified, [], result.output);
    assert.equal(result.errors + result.warnings + result.checks, result.types.length, result.output);
  });

  it('the check itself notices a style error (a copy of the patch with trailing whitespace)', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'mvm-checkpatch-'));
    try {
      const broken = join(dir, 'broken.patch');
      const text = readFileSync(PATCH_FILE, 'utf8');
      writeFileSync(broken, text.replace('+\tatomic64_inc(&curlun->stats.read_commands);', '+\tatomic64_inc(&curlun->stats.read_commands); '));
      const result = await checkpatch(broken);
      assert.ok(result.types.includes('ERROR:TRAILING_WHITESPACE'), result.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
