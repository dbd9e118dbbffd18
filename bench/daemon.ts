// The daemon's footprint, side by side with a bare node process in the same
// run: idle RSS of the production bundle serving 4 mount points vs a bare
// node idling, and time from spawn to owning the bus name vs a bare node
// start (spawn to its first output). Interleaved rounds, medians.
// Targets: RSS <= 1.3x, start <= 1.5x.
//
// The target rows compare with a bare node running an empty ES module: the
// daemon ships as an .mjs (the layer's contract), and Node's ES module loader
// alone costs about 2 MiB and some milliseconds over `node -e`. The `node -e`
// comparison is printed too, as information.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as rt from '../codegen/runtime/index.js';
import { bundleDaemon } from '../daemon/build/bundle.js';
import { startPrivateBus } from '../test/support/private-bus.js';
import { FakeKernel } from '../test/daemon/support/fake-kernel.js';
import { daemonEnvironment, fakeConfig } from '../test/daemon/support/daemon-process.js';
import { median, type Row } from './row.js';

const ROUNDS = Number(process.env.BENCH_DAEMON_ROUNDS ?? 7);
const IDLE_MS = Number(process.env.BENCH_DAEMON_IDLE_MS ?? 3000);
const SERVICE = 'xyz.openbmc_project.VirtualMedia';

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

const IDLE_SOURCE = "process.stderr.write('ready\\n'); setInterval(() => {}, 1 << 30);\n";

/** Spawn to first stderr byte of a bare node that then idles: `node FILE.mjs`, or `node -e` without a file. */
async function bareNode(esmFile?: string): Promise<{ startMs: number; rss: number }> {
  const t0 = performance.now();
  const args = esmFile ? [esmFile] : ['-e', IDLE_SOURCE];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((r) => child.stderr!.once('data', r));
  const startMs = performance.now() - t0;
  await sleep(IDLE_MS);
  const rss = rssKiB(child.pid!);
  await stop(child);
  return { startMs, rss };
}

async function daemon(bundle: string, configFile: string, address: string, watcher: rt.Connection): Promise<{ startMs: number; rss: number }> {
  let owned: () => void = () => {};
  const ownedNow = new Promise<void>((r) => (owned = r));
  const sub = await watcher.subscribe({ sender: 'org.freedesktop.DBus', interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' }, (msg) => {
    const [name, , owner] = msg.body as string[];
    if (name === SERVICE && owner) owned();
  });
  const t0 = performance.now();
  // BENCH_DAEMON_NODE_FLAGS: try node/V8 flags on the daemon only (experiments).
  const flags = (process.env.BENCH_DAEMON_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  // With the shipped unit's environment (its libuv thread pool size), as systemd starts it.
  const child = spawn(process.execPath, [...flags, bundle, '--config', configFile, '--address', address], { stdio: ['ignore', 'ignore', 'pipe'], env: daemonEnvironment() });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((_, reject) => child.once('exit', (c) => reject(new Error(`daemon exited (${c}): ${stderr}`))));
  await Promise.race([ownedNow, exited]);
  const startMs = performance.now() - t0;
  await sub.unsubscribe();
  await sleep(IDLE_MS);
  const rss = rssKiB(child.pid!);
  await stop(child);
  return { startMs, rss };
}

export async function run(): Promise<Row[]> {
  const work = resolve('.cache/bench/daemon');
  mkdirSync(work, { recursive: true });
  // The bundle beside a node_modules holding the unix-fd addon, as installed on the BMC.
  const built = await bundleDaemon(join('.cache/bench/daemon', 'virtual-mediad.mjs'));
  if (!existsSync(join(work, 'node_modules'))) symlinkSync(resolve('node_modules'), join(work, 'node_modules'));
  const bus = await startPrivateBus();
  const kernel = new FakeKernel();
  const watcher = await rt.Connection.open({ address: bus.address });
  try {
    const mountPoints = {
      Slot_0: { EndpointId: '/nbd/0', Mode: 0 as const, NBDDevice: 'nbd0', UnixSocket: join(kernel.run, 'nbd0.sock') },
      Slot_1: { EndpointId: '/nbd/1', Mode: 0 as const, NBDDevice: 'nbd1', UnixSocket: join(kernel.run, 'nbd1.sock') },
      Slot_2: { Mode: 1 as const, NBDDevice: 'nbd2', UnixSocket: join(kernel.run, 'nbd2.sock') },
      Slot_3: { Mode: 1 as const, NBDDevice: 'nbd3', UnixSocket: join(kernel.run, 'nbd3.sock') },
    };
    const configFile = join(kernel.root, 'config.json');
    writeFileSync(configFile, JSON.stringify(fakeConfig(kernel, mountPoints)));
    const emptyModule = join(work, 'idle.mjs');
    writeFileSync(emptyModule, IDLE_SOURCE);
    const d: { startMs: number; rss: number }[] = [];
    const b: { startMs: number; rss: number }[] = [];
    const e: { startMs: number; rss: number }[] = [];
    // Warm the page cache for all three before measuring.
    await bareNode(emptyModule);
    await bareNode();
    await daemon(built.outfile, configFile, bus.address, watcher);
    for (let i = 0; i < ROUNDS; i++) {
      b.push(await bareNode(emptyModule));
      d.push(await daemon(built.outfile, configFile, bus.address, watcher));
      e.push(await bareNode());
    }
    const rss = median(d.map((x) => x.rss)) / 1024;
    const rssBase = median(b.map((x) => x.rss)) / 1024;
    const rssEval = median(e.map((x) => x.rss)) / 1024;
    const start = median(d.map((x) => x.startMs));
    const startBase = median(b.map((x) => x.startMs));
    const startEval = median(e.map((x) => x.startMs));
    return [
      { name: 'daemon: idle RSS, 4 mount points (bundle) vs bare node (empty .mjs)', value: rss, unit: 'MiB', baseline: rssBase, ratio: rss / rssBase, target: '<= 1.3x', pass: rss / rssBase <= 1.3 },
      { name: 'daemon: spawn to bus name vs bare node start (empty .mjs)', value: start, unit: 'ms', baseline: startBase, ratio: start / startBase, target: '<= 1.5x', pass: start / startBase <= 1.5 },
      { name: 'daemon: idle RSS vs node -e (information)', value: rss, unit: 'MiB', baseline: rssEval, ratio: rss / rssEval },
      { name: 'daemon: spawn to bus name vs node -e start (information)', value: start, unit: 'ms', baseline: startEval, ratio: start / startEval },
      { name: 'daemon: bundle size (gzip in baseline column)', value: built.bytes / 1024, unit: 'KiB', baseline: built.gzipBytes / 1024 },
    ];
  } finally {
    await watcher.close();
    await bus.stop();
    kernel.remove();
  }
}
