// Starts the daemon the way its systemd unit does, but from a staging root
// (the recipe's ${D}) and against a private bus instead of the system bus.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { read, unitFile } from './layer-files.js';
import { requireCommand } from '../../support/require-command.js';

const execFileAsync = promisify(execFile);

/** ExecStart= of the unit, split into words (the unit uses no quoting). */
export function unitExecStart(): string[] {
  const line = read(unitFile).split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error('the unit has no ExecStart=');
  return line.slice('ExecStart='.length).trim().split(/\s+/);
}

/** The unit's command with every absolute path moved into the staging root; /usr/bin/node is this Node. */
export function stagedCommand(stageRoot: string): string[] {
  return unitExecStart().map((word, i) => {
    if (i === 0 && word === '/usr/bin/node') return process.execPath;
    if (word.startsWith('/')) {
      const staged = join(stageRoot, word);
      if (!existsSync(staged)) throw new Error(`the unit names ${word} but the recipe's do_install did not install it`);
      return staged;
    }
    return word;
  });
}

export interface StagedDaemon {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startStagedDaemon(stageRoot: string, busAddress: string): StagedDaemon {
  const [cmd, ...args] = stagedCommand(stageRoot);
  const child = spawn(cmd!, args, {
    env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `name` has an owner on the bus; fails early if the daemon exits. */
export async function waitForName(busAddress: string, name: string, daemon: StagedDaemon, timeoutMs: number): Promise<void> {
  requireCommand('busctl', 'systemd');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
      throw new Error(`the daemon exited (${daemon.child.exitCode ?? daemon.child.signalCode}) before owning ${name}:\n${daemon.output()}`);
    }
    const { stdout } = await execFileAsync('busctl', [`--address=${busAddress}`, 'list', '--no-pager', '--no-legend', '--acquired']);
    if (stdout.split('\n').some((l) => l.split(/\s+/)[0] === name)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not appear on the bus within ${timeoutMs} ms; daemon output:\n${daemon.output()}`);
}
