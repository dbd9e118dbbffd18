// Every program the daemon runs goes through here: an argument array (no
// shell), stdout/stderr turned into log lines, and an exit promise that a
// supervisor can watch. Each child leads its own process group, so stopping
// it also stops what it started (mount.cifs under mount, curl helpers...).
// Nothing secret is ever passed in argv or env: secrets travel on extra pipes
// (`secretFds`) or in 0600 files.
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../util/logger.js';

export interface Exit {
  /** Exit status, or 128 + signal number when killed by a signal (as a shell reports it). */
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildOptions {
  /** Name used in log lines, e.g. `nbdkit`. */
  readonly label: string;
  readonly log: Logger;
  /** Data written to extra pipes, numbered from fd 3 up, then closed. */
  readonly secretFds?: readonly Buffer[];
  /** Gets every line of stdout and stderr instead of the debug log (a probe parsing `nbdkit --dump-plugin` logs its own summary). */
  readonly onLine?: (line: string) => void;
}

// child_process is loaded on the first spawn, not at start: an idle daemon
// with nothing inserted never needs it (about 2 MiB of resident memory).
const loadBuiltin = createRequire(import.meta.url);
let childProcess: typeof import('node:child_process') | undefined;
function spawnChild(command: string, args: readonly string[], options: import('node:child_process').SpawnOptions): ChildProcess {
  childProcess ??= loadBuiltin('node:child_process') as typeof import('node:child_process');
  return childProcess.spawn(command, args, options);
}

/** Calls `onLine` for each complete line of `stream` (readline costs more memory than this needs). */
function eachLine(stream: Readable, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
  });
}

export class Child {
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  readonly #process: ChildProcess;

  constructor(command: string, args: readonly string[], readonly options: ChildOptions) {
    const extra = (options.secretFds ?? []).map(() => 'pipe' as const);
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...extra];
    // detached: a new session and process group (no terminal is involved).
    this.#process = spawnChild(command, args, { stdio, detached: true, env: childEnvironment() });
    const { label, log } = options;
    for (const stream of [this.#process.stdout, this.#process.stderr]) {
      if (!stream) continue;
      const onLine = options.onLine ?? ((line: string) => log.debug(`${label}: ${line}`));
      eachLine(stream as Readable, onLine);
    }
    (options.secretFds ?? []).forEach((data, i) => {
      const pipe = this.#process.stdio[3 + i] as Writable | null;
      // EPIPE when the child exits before reading is its failure to report, not ours.
      pipe?.on('error', () => undefined);
      pipe?.end(data);
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.#process.once('error', (e: NodeJS.ErrnoException) => {
        log.error(`${label}: cannot run ${command}: ${e.code ?? e.message}`);
        this.#exit = { code: 127, signal: null };
        resolve(this.#exit);
      });
      this.#process.once('exit', (code, signal) => {
        this.#exit = { code: code ?? 128 + signalNumber(signal), signal };
        resolve(this.#exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** SIGTERM, then SIGKILL after `graceMs` (0: SIGKILL at once), to the whole group; resolves when the child is gone. */
  async stop(graceMs = 3000): Promise<Exit> {
    if (this.#exit) return this.#exit;
    if (graceMs <= 0) {
      this.kill('SIGKILL');
      return this.exited;
    }
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Sends `signal` to the child's process group (the child and what it started). */
  kill(signal: NodeJS.Signals): void {
    const pid = this.#process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already; the child itself may still need reaping
      this.#process.kill(signal);
    }
  }
}

/**
 * Children get a small, known environment: mount.cifs would take a user name
 * from USER and a password from PASSWD, and curl a proxy from https_proxy, if
 * the daemon's environment happened to carry them.
 */
export function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return env;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}

/**
 * Runs a short-lived command to completion; resolves with its exit. After
 * `timeoutMs`, or at once when `signal` aborts, its process group is killed
 * (SIGKILL: a hung mount.cifs ignores politer signals).
 */
export function runToCompletion(command: string, args: readonly string[], options: ChildOptions, timeoutMs: number, signal?: AbortSignal): Promise<Exit> {
  const child = new Child(command, args, options);
  const kill = (why: string) => {
    if (!child.running) return;
    options.log.warning(`${options.label}: ${why}, killing it`);
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill(`no exit after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => kill('the operation was abandoned');
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return child.exited.finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  });
}

/** What Process.ExitCode says of an exit: the status, or minus the signal number that ended it. */
export function exitCodeProperty(exit: Exit): number {
  return exit.signal ? -signalNumber(exit.signal) : exit.code;
}
