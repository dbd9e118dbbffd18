// Applies the kernel patch with GNU patch (as OpenEmbedded's quilt/patch
// step does) and with git apply, and reports offsets and fuzz so tests can
// insist on a clean fit.
import { runCommand } from './run-command.js';
import { requireCommand } from '../support/require-command.js';

export interface HunkOffset {
  file: string;
  hunk: number;
  offset: number;
}

export interface PatchReport {
  output: string;
  offsets: HunkOffset[];
  /** Lines that mention fuzz; with --fuzz=0 patch refuses instead, so this stays empty. */
  fuzz: string[];
}

/** Parses GNU patch's messages ("Hunk #2 succeeded at 700 (offset -1 lines)."). */
export function parsePatchOutput(output: string): PatchReport {
  const offsets: HunkOffset[] = [];
  const fuzz: string[] = [];
  let file = '';
  for (const line of output.split('\n')) {
    const fileMatch = /^(?:patching|checking) file (.+)$/.exec(line);
    if (fileMatch?.[1]) file = fileMatch[1];
    const offsetMatch = /^Hunk #(\d+) succeeded at \d+.*\(offset (-?\d+) lines?\)/.exec(line);
    if (offsetMatch) offsets.push({ file, hunk: Number(offsetMatch[1]), offset: Number(offsetMatch[2]) });
    if (/fuzz/i.test(line)) fuzz.push(`${file}: ${line}`);
  }
  return { output, offsets, fuzz };
}

/** GNU patch -p1 with fuzz forbidden; throws (with patch's output) if any hunk does not apply. */
export async function applyWithPatch(treeDir: string, patchFile: string): Promise<PatchReport> {
  requireCommand('patch', 'patch');
  const result = await runCommand(
    'patch',
    ['-p1', '--batch', '--forward', '--fuzz=0', '--no-backup-if-mismatch', '-i', patchFile],
    { cwd: treeDir, env: { ...process.env, LC_ALL: 'C' } },
  );
  return parsePatchOutput(result.stdout + result.stderr);
}

/**
 * git apply outside any repository (the ceiling keeps git from finding the
 * project's own repository above a cache directory). Throws if it does not apply.
 */
export async function applyWithGit(treeDir: string, patchFile: string): Promise<string> {
  requireCommand('git', 'git');
  const env = { ...process.env, LC_ALL: 'C', GIT_CEILING_DIRECTORIES: treeDir.replace(/\/[^/]+\/?$/, '') };
  await runCommand('git', ['apply', '--check', patchFile], { cwd: treeDir, env });
  const result = await runCommand('git', ['apply', '-v', patchFile], { cwd: treeDir, env });
  return result.stdout + result.stderr;
}
