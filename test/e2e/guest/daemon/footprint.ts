// Bench (bench/vm.ts): how long the shipped daemon takes to own its name when
// systemd starts it from the layer's unit (systemd's own count, fork to name,
// sandbox set-up included), next to a bare `node -e` in the same VM (spawn to
// its first output), alternating; and its RSS serving 4 mount points.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type * as rt from '../../../../codegen/runtime/index.js';
import type { SystemdDaemon } from './fixtures.js';
import { sleep } from './kernel-view.js';
import type { Measures } from './scenarios.js';

const IDLE_MS = 3000;

/** The daemon's node is the host's /usr/bin/node, as the unit's ExecStart says. */
async function bareNodeStartMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/node', ['-e', "process.stderr.write('ready\\n'); setInterval(() => {}, 1 << 30);"], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    child.stderr.once('data', resolve);
    child.once('error', reject);
  });
  const ms = performance.now() - t0;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
  return ms;
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

export async function footprint(daemon: SystemdDaemon, connection: rt.Connection, fourMountPoints: object, rounds: number): Promise<Measures> {
  const bundle: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareNodeStartMs());
    bundle.push((await daemon.start(fourMountPoints, connection)).startToNameMs);
  }
  await sleep(IDLE_MS);
  const rss = rssKiB(await daemon.pid());
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return {
    startToNameMs: median(bundle),
    bareNodeStartMs: median(bare),
    startToNameRounds: bundle.map(Math.round),
    bareNodeRounds: bare.map(Math.round),
    rssKiB4MountPoints: rss,
  };
}
