// Runs a program with an argument array (never through a shell) and returns
// its output; a failure carries the command and the end of its output, which
// is where compilers and make put the reason.
import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit status; only non-zero when allowFailure is set. */
  code: number;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Return a non-zero exit status instead of throwing. */
  allowFailure?: boolean;
  /** Text written to the program's standard input. */
  input?: string;
}

const OUTPUT_TAIL = 4000;

function tail(text: string): string {
  return text.length > OUTPUT_TAIL ? `...${text.slice(-OUTPUT_TAIL)}` : text;
}

export function runCommand(command: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (error && (!options.allowFailure || typeof error.code !== 'number')) {
          reject(
            new Error(
              `${command} ${args.join(' ')} failed (${error.code ?? error.signal ?? error.message})` +
                `${options.cwd ? ` in ${options.cwd}` : ''}:\n${tail(stdout)}\n${tail(stderr)}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
