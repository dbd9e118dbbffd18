// The transport stress, run in its own node process by stress.test.ts (so
// that an abort is an exit status the test can see): on a private
// dbus-daemon, at the same time,
//   - bus connections opened and closed, with and without fd passing,
//   - connections dropped before the socket connects and mid-handshake,
//   - fds passing both ways through the generated client and server,
//   - child processes spawned,
//   - garbage collections forced between a close and the end of the event
//     loop iteration (the window in which usocket freed live libuv memory).
// Prints one JSON line: what it did and the fd counts before and after.
// Usage: node --import tsx --expose-gc stress-child.ts [rounds]
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as rt from '../../../codegen/runtime/index.js';
import { closeBus, openBus } from '../../../codegen/runtime/transport.js';
import { startFixture } from '../roundtrip/everything-service.js';

const rounds = Number(process.argv[2] ?? 60);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const openFds = () => readdirSync('/proc/self/fd').length;
const done = { connections: 0, handshakeDrops: 0, fdCalls: 0, spawned: 0, gcs: 0 };

/** Forces a collection in every loop iteration's check phase: after I/O callbacks (where sockets close), before close callbacks. */
function gcEveryIteration(): () => void {
  let running = true;
  const tick = () => {
    if (!running) return;
    gc!();
    done.gcs++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return () => void (running = false);
}

async function churnConnections(address: string): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const c = await rt.Connection.open({ address, negotiateUnixFd: i % 2 === 0, callTimeoutMs: 20_000 });
    await c.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetId' });
    // Every other one closed with a call still pending.
    if (i % 4 === 1) void c.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'ListNames' }).catch(() => undefined);
    await c.close();
    done.connections++;
  }
}

/** Buses dropped before their socket connects, as it connects (mid-handshake), and a few ms in. */
async function dropMidHandshake(address: string): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const bus = openBus({ address, negotiateUnixFd: i % 2 === 0 });
    bus.on('error', () => undefined);
    const stream = (bus as unknown as { _connection: { stream: NodeJS.EventEmitter } })._connection.stream;
    const closed = new Promise((resolve) => stream.once('close', resolve));
    switch (i % 3) {
      case 0:
        closeBus(bus);
        break;
      case 1:
        stream.once('connect', () => closeBus(bus));
        break;
      default:
        await sleep(i % 5);
        closeBus(bus);
    }
    await closed;
    done.handshakeDrops++;
  }
}

async function passFds(client: Awaited<ReturnType<typeof startFixture>>['client'], file: string, count = rounds): Promise<void> {
  for (let i = 0; i < count; i++) {
    const fd = openSync(file, 'r');
    try {
      // to the server (h), and a new one back in the reply
      const [content, copy] = await client.PassFd(fd);
      if (content !== 'stress') throw new Error(`PassFd read ${JSON.stringify(content)}`);
      if (readFileSync(`/proc/self/fd/${copy}`, 'utf8') !== 'stress') throw new Error('the returned fd does not read the file');
      closeSync(copy);
      // inside a variant
      if ((await client.PassFdVariant({ type: 'unixfd', value: fd })) !== 'stress') throw new Error('PassFdVariant');
    } finally {
      closeSync(fd);
    }
    done.fdCalls++;
  }
}

async function spawnChildren(): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('true', [], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    done.spawned++;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'vm-stress-'));
const file = join(dir, 'file');
writeFileSync(file, 'stress');
const f = await startFixture();
try {
  // Warm up once (lazy loads, the addon included) before counting.
  await passFds(f.client, file, 1);
  done.fdCalls = 0;
  await sleep(1200); // the fixture's PassFd closes its reply copy after 1 s
  gc();
  const before = openFds();

  const stopGc = gcEveryIteration();
  await Promise.all([churnConnections(f.bus.address), dropMidHandshake(f.bus.address), passFds(f.client, file), spawnChildren()]);
  stopGc();

  await sleep(1200);
  gc();
  const after = openFds();
  process.stdout.write(JSON.stringify({ ...done, fdsBefore: before, fdsAfter: after }) + '\n');
} finally {
  await f.stop();
  rmSync(dir, { recursive: true, force: true });
}
