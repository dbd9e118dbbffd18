// npm run bench: runs every bench module and prints one table.
// BENCH_ONLY=a,b picks modules. A module whose file is absent (bench/daemon.ts is written separately) is
// skipped with a line saying so; one that throws is reported as failed.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Row } from './row.js';

const here = dirname(fileURLToPath(import.meta.url));
const ALL = ['codegen', 'calls', 'daemon', 'nbdkit', 'vm', 'nbd'];
// BENCH_ONLY=calls,daemon runs a subset.
const MODULES = process.env.BENCH_ONLY ? ALL.filter((m) => process.env.BENCH_ONLY!.split(',').includes(m)) : ALL;

function format(n: number | undefined, digits = 3): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  return Math.abs(n) >= 1000 ? n.toFixed(0) : n.toPrecision(digits);
}

function printTable(rows: Row[]): void {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'target', 'verdict'];
  const cells = rows.map((r) => [
    r.name,
    format(r.value),
    r.unit,
    format(r.baseline),
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(3)}x`,
    r.target ?? '-',
    r.pass === undefined ? 'info' : r.pass ? 'ok' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 || i === 2 || i === 5 || i === 6 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

const rows: Row[] = [];
for (const name of MODULES) {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    console.log(`bench/${name}.ts does not exist: skipped`);
    continue;
  }
  console.log(`bench/${name}.ts: running…`);
  const started = Date.now();
  try {
    const mod = (await import(pathToFileURL(file).href)) as { run(): Promise<Row[]> };
    const got = await mod.run();
    rows.push(...got);
    console.log(`bench/${name}.ts: ${got.length} result(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.log(`bench/${name}.ts failed: ${(e as Error).stack ?? e}`);
    rows.push({ name: `${name}: run failed`, value: NaN, unit: '-', target: 'runs', pass: false });
  }
}
console.log('');
printTable(rows);
const missed = rows.filter((r) => r.pass === false);
if (missed.length) {
  console.log(`\n${missed.length} target(s) missed`);
  process.exitCode = 1;
}
// Bench modules may leave handles (bus connections) behind; do not wait for them.
process.exit(process.exitCode ?? 0);
