// File operations with configfs' rules. On configfs, mkdir creates the
// attribute files, attributes must be written in one write(2), and
// directories are removed with rmdir even though their attributes are still
// "in" them. In a test's temp tree the attribute files are real, so removal
// falls back to deleting them first; on configfs the first rmdir succeeds and
// the fallback never runs.
import { mkdirSync, readdirSync, rmdirSync, unlinkSync, writeFileSync, lstatSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';

export function writeAttribute(path: string, value: string): void {
  writeFileSync(path, value);
}

export function readAttribute(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function makeGroup(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** Removes a configfs group (directory); a missing one is fine. */
export function removeGroup(path: string): void {
  try {
    rmdirSync(path);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
  for (const entry of readdirSync(path)) {
    const child = posix.join(path, entry);
    const st = lstatSync(child);
    if (st.isDirectory()) removeGroup(child);
    else unlinkSync(child);
  }
  rmdirSync(path);
}

export function removeLink(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
