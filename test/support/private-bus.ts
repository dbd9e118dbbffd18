// A private dbus-daemon for tests: real bus, no system state touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { requireCommand } from './require-command.js';

export interface PrivateBus {
  /** The bus address, e.g. `unix:path=/tmp/…/bus`. */
  address: string;
  stop(): Promise<void>;
}

/** Session-style bus config with a unix socket path (so fds can pass: the runtime's UnixFdSocket). */
function busConfig(dir: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${dir}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

export async function startPrivateBus(): Promise<PrivateBus> {
  requireCommand('dbus-daemon', 'dbus');
  const dir = mkdtempSync(join(tmpdir(), 'vm-bus-'));
  const configFile = join(dir, 'bus.conf');
  writeFileSync(configFile, busConfig(dir));
  const child: ChildProcess = spawn('dbus-daemon', ['--config-file', configFile, '--print-address', '--nofork'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // dbus-daemon complains about fd limits it cannot raise as a non-system bus: keep its
  // stderr for the error message only.
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(line.trim()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited early with code ${code}: ${stderr.trim()}`)));
  });
  return {
    address,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
