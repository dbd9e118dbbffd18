// How long generating the whole phosphor-dbus-interfaces corpus takes
// (server + client + docs for 348 interfaces), in this process and as a
// user would run it: a fresh `pdi-tsgen generate` process. Target < 30 s.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { corpusRoot, generateCorpusTo, repoRoot, requireCorpus, runtimeEntry, scratchDir, typeCheck } from '../test/codegen/corpus/corpus-helpers.js';
import { median, type Row } from './row.js';

const TARGET_S = 30;

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function runCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'codegen', 'src', 'cli.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`pdi-tsgen exited ${code}: ${stderr.trim()}`))));
  });
}

const targetRow = (name: string, value: number): Row => ({ name, value, unit: 's', target: `< ${TARGET_S} s`, pass: value < TARGET_S });

export async function run(): Promise<Row[]> {
  requireCorpus();
  const rows: Row[] = [];

  // First run in this process: module loading and JIT warm-up included.
  let dir = scratchDir('bench-codegen/in-process');
  let start = process.hrtime.bigint();
  const files = generateCorpusTo(dir).files.length;
  rows.push(targetRow(`codegen: corpus in-process, first run (${files} files)`, seconds(start)));

  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    dir = scratchDir('bench-codegen/in-process');
    start = process.hrtime.bigint();
    generateCorpusTo(dir);
    warm.push(seconds(start));
  }
  rows.push(targetRow('codegen: corpus in-process, warm (median of 3)', median(warm)));

  const cliTimes: number[] = [];
  for (let i = 0; i < 2; i++) {
    const out = scratchDir('bench-codegen/cli');
    start = process.hrtime.bigint();
    await runCli(['generate', '--root', corpusRoot, '--out', out, '--docs', join(out, 'docs'), '--runtime', runtimeEntry]);
    cliTimes.push(seconds(start));
  }
  rows.push(targetRow('codegen: corpus via fresh pdi-tsgen process (median of 2)', median(cliTimes)));

  start = process.hrtime.bigint();
  const checked = await typeCheck(dir);
  if (checked.code !== 0) throw new Error(`generated corpus does not type-check:\n${checked.output.slice(0, 2000)}`);
  rows.push({ name: 'codegen: tsc --strict over the generated corpus', value: seconds(start), unit: 's' });
  return rows;
}
