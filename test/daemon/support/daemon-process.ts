// Runs the daemon (daemon/src/main.ts through tsx) as a child process on a
// private bus against a fake kernel tree, as the tests need it: config
// written from parts, stderr kept, bus name awaited.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../../../codegen/runtime/index.js';
import { FAKE_MOUNT, FAKE_NBD_CLIENT, type FakeKernel } from './fake-kernel.js';
import { unitEnvironment } from './unit-environment.js';

export const SERVICE = 'xyz.openbmc_project.VirtualMedia';
export const MAIN = 'daemon/src/main.ts';

export interface MountPointJson {
  EndpointId?: string;
  Mode: 0 | 1;
  NBDDevice: string;
  UnixSocket?: string;
  Timeout?: number;
  BlockSize?: number;
}

export function fakeConfig(kernel: FakeKernel, mountPoints: Record<string, MountPointJson>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    InactivityTimeout: 1800,
    MountPoints: mountPoints,
    Paths: { Sys: kernel.sys, ConfigFs: kernel.configfs, Dev: kernel.dev, Run: kernel.run, MountInfo: kernel.mountInfo },
    Commands: { NbdClient: FAKE_NBD_CLIENT, Mount: FAKE_MOUNT, Umount: FAKE_MOUNT },
    ...extra,
  };
}

export class DaemonProcess {
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      this.stderr.push(...lines);
      if (process.env.VMD_VERBOSE) for (const l of lines) process.stderr.write(`[daemon] ${l}\n`);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  log(): string {
    return this.stderr.join('\n');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** The environment the daemon runs with: this process's, plus what the shipped unit sets. */
export const daemonEnvironment = (): NodeJS.ProcessEnv => ({ ...process.env, ...unitEnvironment() });

/** Runs the daemon from its sources (through tsx) or, given `bundle`, the production bundle. */
export function spawnDaemon(args: string[], env: NodeJS.ProcessEnv = daemonEnvironment(), bundle?: string): DaemonProcess {
  const nodeArgs = bundle ? [bundle, ...args] : ['--import', 'tsx', MAIN, ...args];
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'ignore', 'pipe'], env });
  return new DaemonProcess(child);
}

/** Writes the config next to the tree and starts the daemon; resolves once it owns its bus name. */
export async function startDaemon(kernel: FakeKernel, busAddress: string, config: Record<string, unknown>, client: rt.Connection, bundle?: string): Promise<DaemonProcess> {
  const file = join(kernel.root, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const daemon = spawnDaemon(['--config', file, '--address', busAddress, '--debug'], daemonEnvironment(), bundle);
  await waitForName(client, daemon, 20_000);
  return daemon;
}

export async function waitForName(client: rt.Connection, daemon: DaemonProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let exitCode: number | null | undefined;
  void daemon.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the daemon exited (${exitCode}) before taking its name:\n${daemon.log()}`);
    const reply = await client.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'NameHasOwner', signature: 's', body: [SERVICE] });
    if (reply!.body[0] === true) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the daemon did not take ${SERVICE} within ${ms} ms:\n${daemon.log()}`);
}

/** Resolves when predicate holds, polling; fails with `what` after ms. */
export async function eventually(what: string, predicate: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
}
