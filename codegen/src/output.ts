// Writing generated files, and checking that files on disk are what the
// generator would write (for `--check` in CI and before commits).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { GeneratedFile } from './generate.js';

export interface OutputDirs {
  code: string;
  docs?: string;
}

function targetPath(dirs: OutputDirs, f: GeneratedFile): string | undefined {
  const base = f.target === 'code' ? dirs.code : dirs.docs;
  return base ? join(base, f.path) : undefined;
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Files in an output folder the generator does not produce any more (removed interfaces). */
function strays(dirs: OutputDirs, files: GeneratedFile[]): string[] {
  const expected = new Set(files.map((f) => targetPath(dirs, f)).filter(Boolean));
  const found = [...walk(dirs.code).filter((p) => p.endsWith('.ts')), ...(dirs.docs ? walk(dirs.docs).filter((p) => /\.(md|xml)$/.test(p)) : [])];
  return found.filter((p) => !expected.has(p));
}

export function writeOutput(dirs: OutputDirs, files: GeneratedFile[]): { written: number; removed: number } {
  let written = 0;
  for (const f of files) {
    const p = targetPath(dirs, f);
    if (!p) continue;
    if (existsSync(p) && readFileSync(p, 'utf8') === f.content) continue;
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    written++;
  }
  const stale = strays(dirs, files);
  for (const p of stale) rmSync(p);
  return { written, removed: stale.length };
}

/** Human-readable differences between the folders and what would be generated; empty when up to date. */
export function checkOutput(dirs: OutputDirs, files: GeneratedFile[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    const p = targetPath(dirs, f);
    if (!p) continue;
    if (!existsSync(p)) problems.push(`missing: ${p}`);
    else if (readFileSync(p, 'utf8') !== f.content) problems.push(`out of date: ${p}`);
  }
  for (const p of strays(dirs, files)) problems.push(`not generated any more: ${relative(process.cwd(), p)}`);
  return problems;
}
