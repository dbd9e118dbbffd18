// Runs pdi-tsgen the way a user does: a fresh node process on
// codegen/src/cli.ts (through tsx), arguments as an array, no shell.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../corpus/corpus-helpers.js';

export const cliPath = join(repoRoot, 'codegen', 'src', 'cli.ts');
/** The installed command (package.json "bin"): runs dist/ when built, else the sources through tsx. */
export const binPath = join(repoRoot, 'codegen', 'bin', 'pdi-tsgen.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; closeStdout?: boolean; viaBin?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = options.viaBin ? [binPath, ...args] : ['--import', 'tsx', cliPath, ...args];
    const child = spawn(process.execPath, argv, {
      cwd: options.cwd ?? repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Like `pdi-tsgen list | head -0`: the reader is gone before the first line.
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
