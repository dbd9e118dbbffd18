// File operations with configfs' rules. On configfs, mkdir creates the
// attribute files, attributes must be written in one write(2), and
// directories are removed with rmdir even though their attributes are still
// "in" them. In a test's temp tree the attribute files are real, so removal
// falls back to deleting them first; on configfs the first rmdir succeeds and
// the fallback never runs.
//
// Every operation is asynchronous and takes the operation's AbortSignal: a
// write the kernel never completes (a UDC that does not answer) ties up one
// libuv worker thread, not the daemon, and the watchdog can abandon it.
import { lstat, mkdir, readdir, readFile, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { raceAbort } from '../util/abortable.js';

export function writeAttribute(path: string, value: string, signal?: AbortSignal): Promise<void> {
  return raceAbort(writeFile(path, value), signal);
}

export async function readAttribute(path: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return (await raceAbort(readFile(path, 'utf8'), signal)).trim();
  } catch (e) {
    if (signal?.aborted) throw e;
    return undefined;
  }
}

/** Whether `path` exists; other errors than ENOENT are thrown. */
export async function exists(path: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await raceAbort(lstat(path), signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The entries of a configfs group; none when it is missing or unreadable (an abort still throws). */
export async function listGroup(path: string, signal?: AbortSignal): Promise<string[]> {
  try {
    return await raceAbort(readdir(path), signal);
  } catch (e) {
    if (signal?.aborted) throw e;
    return [];
  }
}

export async function makeGroup(path: string, signal?: AbortSignal): Promise<void> {
  await raceAbort(mkdir(path, { recursive: true }), signal);
}

export function makeLink(target: string, path: string, signal?: AbortSignal): Promise<void> {
  return raceAbort(symlink(target, path), signal);
}

/** Removes a configfs group (directory); a missing one is fine. */
export async function removeGroup(path: string, signal?: AbortSignal): Promise<void> {
  try {
    await raceAbort(rmdir(path), signal);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
  for (const entry of await raceAbort(readdir(path), signal)) {
    const child = posix.join(path, entry);
    const st = await raceAbort(lstat(child), signal);
    if (st.isDirectory()) await removeGroup(child, signal);
    else await raceAbort(unlink(child), signal);
  }
  await raceAbort(rmdir(path), signal);
}

export async function removeLink(path: string, signal?: AbortSignal): Promise<void> {
  try {
    await raceAbort(unlink(path), signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
