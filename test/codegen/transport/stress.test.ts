// The D-Bus transport under load and process churn: stress-child.ts runs in
// a node process of its own beside two CPU-bound processes; it must exit
// normally (an abort or a crash is its exit signal) with as many fds open
// as before the stress. usocket, which this transport replaced, aborted in
// every run of this stress (codegen/runtime/README.md).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireCommand } from '../../support/require-command.js';

const CHILD = fileURLToPath(new URL('./stress-child.ts', import.meta.url));
const ROUNDS = 100;

function busyLoop(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

describe('transport stress: connections, handshake drops, fd passing, child processes and forced GCs under CPU load', function () {
  this.timeout(300_000); // a hang guard only

  it(`${ROUNDS} rounds of each at once: no abort, no crash, no leaked fd`, async () => {
    requireCommand('dbus-daemon', 'dbus');
    const load = [busyLoop(), busyLoop()];
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', CHILD, String(ROUNDS)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
      assert.equal(signal, null, `the stress process died of ${signal}:\n${stderr}`);
      assert.equal(code, 0, `the stress process exited with ${code}:\n${stderr}`);
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
      for (const key of ['connections', 'handshakeDrops', 'fdCalls', 'spawned']) assert.equal(result[key], ROUNDS, `${key}: ${stdout}`);
      assert.ok(result.gcs! > 0, 'garbage collections were forced');
      assert.ok(result.fdsAfter! <= result.fdsBefore!, `fds open grew from ${result.fdsBefore} to ${result.fdsAfter}`);
    } finally {
      for (const p of load) p.kill('SIGKILL');
    }
  });
});
